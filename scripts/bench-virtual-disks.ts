// Benchmark of the virtual-disk readers (issue 4 measures): sequential read throughput over the same 1 GiB disk in
// each format, random 4 KiB reads per second, and peak RSS (each format in its own child process, so RSS is its own).
// Usage: npm run build && node dist/scripts/bench-virtual-disks.js [--size-mib 1024] [--dir DIR]
// Needs qemu-img. Images are built once into DIR (default: $TMPDIR/flotsam-bench-vdisks-<size>), never beside evidence.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ByteSource } from '../src/io/byte-source.js';
import { openQcow2File } from '../src/io/qcow2.js';
import { RawFileSource } from '../src/io/raw.js';
import { openVhdFile } from '../src/io/vhd.js';
import { openVhdxFile } from '../src/io/vhdx.js';
import { openVmdkFile } from '../src/io/vmdk.js';

const FORMATS: { name: string; file: string; make: string[] | null; open: (p: string) => ByteSource }[] = [
  { name: 'raw (baseline)', file: 'disk.raw', make: null, open: (p) => new RawFileSource(p) },
  { name: 'qcow2', file: 'disk.qcow2', make: ['-O', 'qcow2'], open: (p) => openQcow2File(p) },
  { name: 'qcow2 compressed', file: 'disk-c.qcow2', make: ['-O', 'qcow2', '-c'], open: (p) => openQcow2File(p) },
  { name: 'vmdk monolithicSparse', file: 'disk.vmdk', make: ['-O', 'vmdk'], open: (p) => openVmdkFile(p) },
  { name: 'vmdk streamOptimized', file: 'disk-s.vmdk', make: ['-O', 'vmdk', '-o', 'subformat=streamOptimized'], open: (p) => openVmdkFile(p) },
  { name: 'vhd dynamic', file: 'disk.vhd', make: ['-O', 'vpc', '-o', 'force_size=on'], open: (p) => openVhdFile(p) },
  { name: 'vhd fixed', file: 'disk-f.vhd', make: ['-O', 'vpc', '-o', 'subformat=fixed,force_size=on'], open: (p) => openVhdFile(p) },
  { name: 'vhdx dynamic', file: 'disk.vhdx', make: ['-O', 'vhdx'], open: (p) => openVhdxFile(p) },
  { name: 'vhdx fixed', file: 'disk-f.vhdx', make: ['-O', 'vhdx', '-o', 'subformat=fixed'], open: (p) => openVhdxFile(p) },
];

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : dflt;
}

/** A disk that is neither all zeros nor all random: 1/2 random, 1/4 text-like, 1/4 holes, in 4 MiB stripes. */
function makeRaw(p: string, mib: number): void {
  const fd = fs.openSync(p, 'w');
  const stripe = 4 * 1024 * 1024;
  const rnd = new Uint8Array(stripe);
  const text = Buffer.alloc(stripe);
  const line = '2024-05-01T12:00:00.123456789Z stdout F GET /api/v1/items?id=42 200 1532 "curl/8.0"\n';
  for (let i = 0; i < stripe; i += line.length) text.write(line, i, 'latin1');
  for (let s = 0; s < (mib * 1024 * 1024) / stripe; s++) {
    const kind = s % 4;
    if (kind === 0 || kind === 1) {
      for (let i = 0; i < stripe; i += 65536) crypto.getRandomValues(rnd.subarray(i, i + 65536));
      fs.writeSync(fd, rnd, 0, stripe, s * stripe);
    } else if (kind === 2) {
      fs.writeSync(fd, text, 0, stripe, s * stripe);
    }
  }
  fs.ftruncateSync(fd, mib * 1024 * 1024);
  fs.closeSync(fd);
}

function one(formatIndex: number, file: string): void {
  const f = FORMATS[formatIndex]!;
  const buf = new Uint8Array(1 << 20);
  // warm the page cache with one pass over the image file itself
  execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 });
  const src = f.open(file);
  const size = Number(src.size);
  // two sequential passes (the first also warms our caches and the JIT); the faster one is reported
  let seqS = Infinity;
  let t = process.hrtime.bigint();
  for (let pass = 0; pass < 2; pass++) {
    t = process.hrtime.bigint();
    for (let pos = 0; pos < size; pos += buf.length) src.read(buf, 0, Math.min(buf.length, size - pos), pos);
    seqS = Math.min(seqS, Number(process.hrtime.bigint() - t) / 1e9);
  }
  const small = new Uint8Array(4096);
  let seed = 12345;
  const N = 20000;
  t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const pos = (seed % Math.floor(size / 4096)) * 4096;
    src.read(small, 0, 4096, pos);
  }
  const rndS = Number(process.hrtime.bigint() - t) / 1e9;
  src.close();
  const rss = process.resourceUsage().maxRSS / 1024;
  const fileMiB = fs.statSync(file).size / 1048576;
  process.stdout.write(
    JSON.stringify({ format: f.name, fileMiB: Math.round(fileMiB), seqMBs: Math.round(size / 1e6 / seqS), rand4kPerS: Math.round(N / rndS), peakRssMiB: Math.round(rss) }) + '\n',
  );
}

function main(): void {
  if (process.argv[2] === '--one') {
    one(Number(process.argv[3]), process.argv[4] as string);
    return;
  }
  const mib = Number(arg('--size-mib', '1024'));
  const dir = arg('--dir', path.join(os.tmpdir(), `flotsam-bench-vdisks-${mib}`));
  fs.mkdirSync(dir, { recursive: true });
  const raw = path.join(dir, 'disk.raw');
  if (!fs.existsSync(raw) || fs.statSync(raw).size !== mib * 1048576) {
    process.stderr.write(`building ${mib} MiB raw disk in ${dir}\n`);
    makeRaw(raw, mib);
  }
  for (const f of FORMATS) {
    const p = path.join(dir, f.file);
    if (f.make && !fs.existsSync(p)) {
      process.stderr.write(`qemu-img convert ${f.make.join(' ')} -> ${f.file}\n`);
      execFileSync('qemu-img', ['convert', '-f', 'raw', ...f.make, raw, p]);
    }
  }
  const self = fileURLToPath(import.meta.url);
  process.stdout.write(`node ${process.version}, ${os.cpus().length} CPUs, disk ${mib} MiB, page cache warm\n`);
  for (const [i, f] of FORMATS.entries()) {
    const r = spawnSync(process.execPath, [self, '--one', String(i), path.join(dir, f.file)], { encoding: 'utf8' });
    if (r.status !== 0) process.stdout.write(`${f.name}: failed: ${r.stderr}\n`);
    else process.stdout.write(r.stdout);
  }
}

main();
