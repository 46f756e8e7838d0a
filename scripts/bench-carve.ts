// Carving throughput over unallocated space (a benchmark, not a test: nothing passes or fails on time).
//   node dist/scripts/bench-carve.js [--mb 1024] [--runs 3] [--plant 200] [--keep]
// Builds an ext4 image of --mb MiB whose free blocks hold random bytes (the file is filled with random data, then
// mkfs.ext4 -E nodiscard writes only its metadata), plants --plant config.v2.json + hostconfig.json + json-file log
// fragments into free blocks at known offsets, then carves it (page cache warm) and reports MB/s of free space
// scanned, next to a plain readSync of the same bytes. Checks every planted object is found at its offset.
// Needs mkfs.ext4. The image lives in $TMPDIR/flotsam-bench-carve.
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { carveRecovery } from '../src/carve/carve.js';
import { ImageRecoverySource } from '../src/carve/evidence.js';
import { Ext4Fs } from '../src/fs/ext4/ext4.js';
import { openEvidenceDetailed } from '../src/fs/open-evidence.js';
import { RawFileSource } from '../src/io/index.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const mb = Number(opt('mb', '1024'));
const runs = Number(opt('runs', '3'));
const plant = Number(opt('plant', '200'));
const keep = args.includes('--keep');
const work = path.join(os.tmpdir(), 'flotsam-bench-carve');
fs.mkdirSync(work, { recursive: true });
const img = path.join(work, `carve-${mb}m.img`);

const hex = (i: number) => i.toString(16).padStart(8, '0').repeat(8);
const config = (i: number) =>
  `{"StreamConfig":{},"State":{"Running":false,"Paused":false,"Restarting":false,"OOMKilled":false,"RemovalInProgress":false,"Dead":false,"Pid":0,"ExitCode":${i % 256},"Error":"","StartedAt":"2024-05-02T08:00:01.25Z","FinishedAt":"2024-05-02T09:30:00.75Z","Health":null},"ID":"${hex(i)}","Created":"2024-05-02T08:00:00.123456789Z","Managed":false,"Path":"/bin/sh","Args":["-c","sleep 1"],"Config":{"Hostname":"h${i}","Image":"alpine:3.19","Env":["PATH=/usr/bin"],"Cmd":["sleep","1"],"Labels":{}},"Image":"sha256:${'5a'.repeat(32)}","Name":"/c${i}","Driver":"overlay2","RestartCount":0,"MountPoints":{}}`;
const hostconfig = (i: number) =>
  `{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"json-file","Config":{}},"NetworkMode":"default","PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":${i}},"Privileged":false}`;
const logs = (i: number) =>
  Array.from({ length: 20 }, (_, k) => `{"log":"container ${i} line ${k}\\n","stream":"stdout","time":"2024-05-02T08:${String(k).padStart(2, '0')}:00.${String(i).padStart(9, '0')}Z"}\n`).join('');

function build(): { planted: number[] } {
  const t0 = performance.now();
  const fd = fs.openSync(img + '.tmp', 'w');
  const chunk = Buffer.allocUnsafe(8 << 20);
  for (let done = 0; done < mb * 1024 * 1024; done += chunk.length) {
    randomFillSync(chunk);
    fs.writeSync(fd, chunk, 0, Math.min(chunk.length, mb * 1024 * 1024 - done), done);
  }
  fs.closeSync(fd);
  execFileSync('mkfs.ext4', ['-q', '-F', '-b', '4096', '-E', 'nodiscard,lazy_itable_init=1', '-O', '64bit,metadata_csum,flex_bg', img + '.tmp'], { stdio: 'ignore' });
  // plant into free blocks, spread over the image
  const src = new RawFileSource(img + '.tmp');
  const ext = Ext4Fs.open(src);
  const free = ext.unallocatedRanges().filter((r) => r.count >= 4n);
  src.close();
  const total = free.reduce((n, r) => n + Number(r.count), 0);
  const planted: number[] = [];
  const wfd = fs.openSync(img + '.tmp', 'r+');
  for (let i = 0; i < plant; i++) {
    let target = Math.floor(((i + 0.5) / plant) * total);
    const r = free.find((x) => (target < Number(x.count) ? true : ((target -= Number(x.count)), false)))!;
    const blk = Number(r.start) + Math.min(target, Number(r.count) - 4);
    const at = blk * 4096;
    fs.writeSync(wfd, Buffer.from(config(i)), 0, undefined, at);
    fs.writeSync(wfd, Buffer.from(hostconfig(i)), 0, undefined, at + 4096);
    fs.writeSync(wfd, Buffer.from(logs(i)), 0, undefined, at + 8192);
    planted.push(at);
  }
  fs.closeSync(wfd);
  fs.renameSync(img + '.tmp', img);
  fs.writeFileSync(img + '.planted.json', JSON.stringify(planted));
  process.stderr.write(`built ${img} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return { planted };
}

const planted: number[] = fs.existsSync(img) && fs.existsSync(img + '.planted.json')
  ? JSON.parse(fs.readFileSync(img + '.planted.json', 'utf8'))
  : build().planted;

// baseline: readSync of the whole image in 8 MiB chunks
{
  const fd = fs.openSync(img, 'r');
  const b = Buffer.allocUnsafe(8 << 20);
  const t0 = performance.now();
  let n = 0;
  for (;;) {
    const k = fs.readSync(fd, b, 0, b.length, n);
    if (k <= 0) break;
    n += k;
  }
  const s = (performance.now() - t0) / 1000;
  fs.closeSync(fd);
  console.log(`readSync baseline: ${(n / 1e6).toFixed(0)} MB in ${s.toFixed(2)} s = ${(n / 1e6 / s).toFixed(0)} MB/s`);
}

const results: number[] = [];
for (let run = 0; run < runs; run++) {
  const opened = openEvidenceDetailed(img);
  try {
    const t0 = performance.now();
    const r = carveRecovery(new ImageRecoverySource(opened.layout!), { mode: 'unallocated', host: 'bench' });
    const s = (performance.now() - t0) / 1000;
    const mbps = r.summary.unallocated_bytes / 1e6 / s;
    results.push(mbps);
    const found = new Set(r.containers.map((c) => Number(c.carve_offset)));
    const missing = planted.filter((at) => !found.has(at)).length;
    const logLines = r.events.filter((e) => e.source === 'carve:json-log').length;
    console.log(
      `run ${run + 1}: ${(r.summary.unallocated_bytes / 1e6).toFixed(0)} MB unallocated carved in ${s.toFixed(2)} s = ` +
        `${mbps.toFixed(0)} MB/s; ${r.containers.length} configs (${missing} planted missing), ` +
        `${r.containers.filter((c) => c.hostconfig_match).length} with hostconfig, ${logLines} log lines, ` +
        `${r.summary.hits} signature hits, ${r.summary.rejected} rejected`,
    );
    if (missing > 0 || logLines !== planted.length * 20) console.log('  WARNING: not every planted object was found');
  } finally {
    opened.vfs.close();
  }
}
results.sort((a, b) => a - b);
console.log(`median: ${results[Math.floor(results.length / 2)]!.toFixed(0)} MB/s over unallocated space (goal >= 500 MB/s)`);
if (!keep) {
  fs.rmSync(img, { force: true });
  fs.rmSync(img + '.planted.json', { force: true });
}
