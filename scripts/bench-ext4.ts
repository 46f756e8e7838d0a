// Measures of the ext4 reader and root assembly (a benchmark, not a test: nothing passes or fails on time).
//   node dist/scripts/bench-ext4.js [--only read,walk,triage] [--files 100000] [--runs 5] [--host DIR] [--keep]
// read:   sequential read throughput of a 1 GiB file inside an ext4 image through Ext4Vfs (page cache warm),
//         next to a plain readSync of the image file with the same buffer size.
// walk:   every inode of an image with --files files (names + lstat of each) vs `fls -r` on the same image; --runs
//         runs of each (median reported, with the reader's CPU time next to its wall time for loaded machines).
// triage: triage of a synthetic host (default .bench/host-50c-256mb from scripts/bench.ts, --host to choose) as an
//         ext4 image vs its directory form.
// Needs mkfs.ext4 (e2fsprogs >= 1.47 for -d), sleuthkit's fls for `walk`. Images live in $TMPDIR/flotsam-bench-ext4.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ext4Vfs } from '../src/fs/ext4/index.js';
import { RawFileSource } from '../src/io/index.js';
import { triage } from '../src/triage/triage.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const only = new Set(opt('only', 'read,walk,triage').split(','));
const keep = args.includes('--keep');
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const work = path.join(os.tmpdir(), 'flotsam-bench-ext4');
fs.mkdirSync(work, { recursive: true });

const ms = (t0: number) => performance.now() - t0;
const q = (cmd: string, a: string[]) => execFileSync(cmd, a, { stdio: ['ignore', 'ignore', 'pipe'] });

function mkfsFromDir(img: string, dir: string, sizeMb: number, extra: string[] = []): void {
  if (fs.existsSync(img)) return;
  const t0 = performance.now();
  q('mkfs.ext4', ['-q', '-F', '-E', 'root_owner=0:0', '-O', '64bit,metadata_csum,flex_bg', ...extra, '-d', dir, img + '.tmp', `${sizeMb}M`]);
  fs.renameSync(img + '.tmp', img);
  process.stderr.write(`built ${img} in ${(ms(t0) / 1000).toFixed(1)} s\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// ------------------------------------------------------------------------------------------------ read
function benchRead(): void {
  const stage = path.join(work, 'read-stage');
  const img = path.join(work, 'read-1g.img');
  if (!fs.existsSync(img)) {
    fs.mkdirSync(stage, { recursive: true });
    q('sh', ['-c', `head -c 1073741824 /dev/urandom > '${path.join(stage, 'big.bin')}'`]);
    mkfsFromDir(img, stage, 1200);
  }
  const src = new RawFileSource(img);
  const vfs = new Ext4Vfs(src, img, true);
  const GiB = 1024 ** 3;
  for (const bufSize of [1 << 20, 4 << 20]) {
    const buf = new Uint8Array(bufSize);
    const times: number[] = [];
    let digest = '';
    for (let run = 0; run < 4; run++) {
      const f = vfs.open('/big.bin');
      const h = run === 0 ? createHash('sha256') : undefined;
      const t0 = performance.now();
      let pos = 0;
      for (;;) {
        const n = f.read(buf, 0, bufSize, pos);
        if (n <= 0) break;
        h?.update(buf.subarray(0, n));
        pos += n;
      }
      if (h) digest = h.digest('hex');
      else times.push(ms(t0));
      if (pos !== GiB) throw new Error(`read ${pos} bytes`);
      f.close();
    }
    // Reference: the same bytes' worth of plain sequential reads of the image file.
    const fd = fs.openSync(img, 'r');
    const ref: number[] = [];
    for (let run = 0; run < 3; run++) {
      const t0 = performance.now();
      for (let pos = 0; pos < GiB; pos += bufSize) fs.readSync(fd, buf, 0, bufSize, pos);
      ref.push(ms(t0));
    }
    fs.closeSync(fd);
    const mbps = (t: number) => ((GiB / (t / 1000)) / 1e9).toFixed(2);
    console.log(
      `read  1 GiB via Ext4Vfs, ${bufSize >> 20} MiB buffer: median ${median(times).toFixed(0)} ms = ${mbps(median(times))} GB/s ` +
        `(plain readSync of the image: ${mbps(median(ref))} GB/s)`,
    );
    if (bufSize === 1 << 20) {
      const want = execFileSync('sha256sum', [path.join(stage, 'big.bin')]).toString().split(' ')[0];
      if (fs.existsSync(path.join(stage, 'big.bin')) && want !== digest) throw new Error('content hash mismatch');
    }
  }
  vfs.close();
}

// ------------------------------------------------------------------------------------------------ walk
function benchWalk(): void {
  const files = Number(opt('files', '100000'));
  const stage = path.join(work, `walk-stage-${files}`);
  const img = path.join(work, `walk-${files}.img`);
  if (!fs.existsSync(img)) {
    fs.rmSync(stage, { recursive: true, force: true });
    const perDir = 1000;
    for (let d = 0; d * perDir < files; d++) {
      const dir = path.join(stage, `d${String(d).padStart(4, '0')}`, 'sub');
      fs.mkdirSync(dir, { recursive: true });
      for (let i = 0; i < perDir && d * perDir + i < files; i++) fs.writeFileSync(path.join(dir, `file-${i}.txt`), `${d}/${i}\n`);
    }
    mkfsFromDir(img, stage, Math.max(256, Math.ceil(files / 100) * 2), ['-N', String(files + 10_000)]);
    if (!keep) fs.rmSync(stage, { recursive: true, force: true });
  }
  const runs = Number(opt('runs', '5'));
  const vfsTimes: number[] = [];
  const inoTimes: number[] = [];
  const vfsCpu: number[] = [];
  const inoCpu: number[] = [];
  const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
  let count = 0;
  for (let run = 0; run < runs; run++) {
    // path-based: what triage does (readdir + lstat of every entry through the VFS)
    const vfs = new Ext4Vfs(new RawFileSource(img), img, true);
    let t0 = performance.now();
    let c0 = process.cpuUsage();
    count = 0;
    const walk = (dir: string): void => {
      for (const e of vfs.readdir(dir)) {
        const p = dir === '/' ? `/${e.name}` : `${dir}/${e.name}`;
        vfs.lstat(p);
        count++;
        if (e.type === 'dir') walk(p);
      }
    };
    walk('/');
    vfsTimes.push(ms(t0));
    vfsCpu.push(cpuMs(process.cpuUsage(c0)));
    vfs.close();
    // inode-based: Ext4Fs.readdir + inode() per entry, as fls does
    const v2 = new Ext4Vfs(new RawFileSource(img), img, true);
    t0 = performance.now();
    c0 = process.cpuUsage();
    let c2 = 0;
    const walkIno = (ino: number): void => {
      for (const e of v2.fs.readdir(ino)) {
        if (e.name === '.' || e.name === '..') continue;
        const inode = v2.fs.inode(e.ino);
        c2++;
        if (v2.fs.isDir(inode)) walkIno(e.ino);
      }
    };
    walkIno(2);
    inoTimes.push(ms(t0));
    inoCpu.push(cpuMs(process.cpuUsage(c0)));
    v2.close();
    if (c2 !== count) throw new Error(`walks disagree: ${count} vs ${c2}`);
  }
  const flsTimes: number[] = [];
  let flsLines = 0;
  for (let run = 0; run < runs; run++) {
    const t0 = performance.now();
    const r = spawnSync('fls', ['-r', img], { maxBuffer: 1 << 30 });
    flsTimes.push(ms(t0));
    if (r.status !== 0) throw new Error(`fls failed: ${r.stderr}`);
    flsLines = r.stdout.toString().split('\n').filter((l) => l !== '').length;
  }
  console.log(
    `walk  ${count} entries: Ext4Vfs readdir+lstat by path ${median(vfsTimes).toFixed(0)} ms (cpu ${median(vfsCpu).toFixed(0)}), ` +
      `Ext4Fs readdir+inode by number ${median(inoTimes).toFixed(0)} ms (cpu ${median(inoCpu).toFixed(0)}), ` +
      `fls -r ${median(flsTimes).toFixed(0)} ms (${flsLines} lines); ` +
      `each on a new reader (cold caches inside it), page cache warm, median of ${runs}`,
  );
}

// ------------------------------------------------------------------------------------------------ triage
async function benchTriage(): Promise<void> {
  const host = opt('host', path.join(repo, '.bench', 'host-50c-256mb'));
  if (!fs.existsSync(host)) {
    console.log(`triage: ${host} missing; generate it with: node dist/scripts/bench.js --containers 50 --mb 256`);
    return;
  }
  const img = path.join(work, `triage-${path.basename(host)}.img`);
  const duKb = Number(execFileSync('du', ['-sk', host]).toString().split('\t')[0]);
  mkfsFromDir(img, host, Math.ceil((duKb / 1024) * 1.3) + 64);
  const out = fs.mkdtempSync(path.join(work, 'out-'));
  const results: Record<string, number[]> = { dir: [], image: [] };
  let events: Record<string, number> = {};
  for (let run = 0; run < 2; run++) {
    for (const [label, src] of [['dir', host], ['image', img]] as const) {
      const o = path.join(out, `${label}-${run}`);
      const t0 = performance.now();
      const r = await triage({ sources: [src], out: o, formats: ['csv', 'jsonl'], jobs: 1 });
      results[label]!.push(ms(t0));
      events = { ...events, [label]: r.manifest.events };
      fs.rmSync(o, { recursive: true, force: true });
    }
  }
  fs.rmSync(out, { recursive: true, force: true });
  console.log(
    `triage ${path.basename(host)}: directory ${Math.min(...results.dir!).toFixed(0)} ms (${events.dir} events), ` +
      `ext4 image ${Math.min(...results.image!).toFixed(0)} ms (${events.image} events); best of 2, page cache warm`,
  );
}

if (only.has('read')) benchRead();
if (only.has('walk')) benchWalk();
if (only.has('triage')) await benchTriage();
if (!keep) fs.rmSync(work, { recursive: true, force: true });
