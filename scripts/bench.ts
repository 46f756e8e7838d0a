// `npm run bench`: a synthetic Docker host (200 containers, ~1 GB of json-file logs, some rotated and gzipped)
// triaged to a sorted CSV + JSONL; prints wall time, MB/s and peak RSS. A benchmark, not a test: nothing here
// passes or fails on time. Options: --containers N, --mb M (total log MB), --formats csv,jsonl, --keep,
// --no-floor (skip the write floor: the time this machine takes to write as many ready-made bytes as triage wrote,
// into the same folder, which bounds any implementation that writes this output on this machine).
// The host is generated once under .bench/ and reused while its parameters stay the same.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
};

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const benchDir = path.join(repo, '.bench');

if (args[0] === '--run-child') {
  // Child mode: triage only, so peak RSS covers triage and nothing else.
  const { triage, tuneHeapForStreaming } = await import(path.join(repo, 'dist/src/index.js'));
  tuneHeapForStreaming(); // as the CLI does
  const t0 = performance.now();
  const result = await triage({ sources: [args[1]], out: args[2], formats: args[3].split(','), jobs: 1 });
  const ms = performance.now() - t0;
  process.stdout.write(
    JSON.stringify({ ms, events: result.manifest.events, maxRssKb: process.resourceUsage().maxRSS, cpu: process.cpuUsage() }) + '\n',
  );
  process.exit(0);
}

if (args[0] === '--write-floor') {
  // Child mode: write files of the sizes in args[2] (comma-separated) into the folder args[1], side by side, from
  // a ready-made 1 MiB block, through the timeline's own file writer (O_DIRECT where it can, as triage writes).
  const { ByteFileWriter } = await import(path.join(repo, 'dist/src/writers/byte-file-writer.js'));
  const sizes = args[2].split(',').map(Number);
  const block = Buffer.alloc(1 << 20, 'flotsam,write,floor\n');
  const t0 = performance.now();
  const writers = sizes.map((_, i) => new ByteFileWriter(path.join(args[1], `write-floor-${i}.bin`)));
  for (let written = 0; written < Math.max(...sizes); written += block.length) {
    for (const [i, writer] of writers.entries()) {
      const n = Math.min(block.length, sizes[i] - written);
      if (n <= 0) continue;
      writer.ensure(n);
      block.copy(writer.buf, writer.pos, 0, n);
      writer.pos += n;
      await writer.drain();
    }
  }
  for (const writer of writers) await writer.close();
  process.stdout.write(JSON.stringify({ ms: performance.now() - t0, cpu: process.cpuUsage() }) + '\n');
  process.exit(0);
}

/** Best effort: start each measurement with no dirty pages left over from the one before. */
function flushPageCache(): void {
  spawnSync('sync', { stdio: 'ignore' });
}

/** Runs this script in one of its child modes and returns the JSON line it prints. */
function runChild<T>(childArgs: string[]): T {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...childArgs], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (child.status !== 0) {
    process.stderr.write(`bench: ${childArgs[0]} failed (exit ${child.status})\n`);
    process.exit(1);
  }
  return JSON.parse(child.stdout.trim().split('\n').pop() as string) as T;
}

const containers = Number(opt('containers', '200'));
const totalMb = Number(opt('mb', '1024'));
const formats = opt('formats', 'csv,jsonl');
const hostDir = path.join(benchDir, `host-${containers}c-${totalMb}mb`);

/** Deterministic PRNG (mulberry32) so the generated host is the same every time. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MESSAGES = [
  (r: () => number) => `10.0.${Math.floor(r() * 255)}.${Math.floor(r() * 255)} - - "GET /api/v1/items/${Math.floor(r() * 1e6)} HTTP/1.1" 200 ${Math.floor(r() * 5000)} "-" "curl/8.1"`,
  (r: () => number) => JSON.stringify({ level: 'info', msg: 'request served', latency_ms: Math.floor(r() * 900), path: '/health' }),
  (r: () => number) => `worker ${Math.floor(r() * 16)}: processed batch ${Math.floor(r() * 1e5)} in ${(r() * 3).toFixed(3)}s`,
  (r: () => number) => `WARN connection reset by peer (attempt ${Math.floor(r() * 5)}) — retrying ✓`,
];

function isoNano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().slice(0, 19) + '.' + frac + 'Z';
}

function generate(): void {
  if (fs.existsSync(path.join(hostDir, '.complete'))) return;
  fs.rmSync(hostDir, { recursive: true, force: true });
  const t0 = performance.now();
  fs.mkdirSync(path.join(hostDir, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(hostDir, 'etc/hostname'), 'bench-host\n');
  fs.writeFileSync(path.join(hostDir, 'etc/os-release'), 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n');
  const perContainer = Math.floor((totalMb * 1024 * 1024) / containers);
  const r = rng(42);
  const start = 1_714_557_600_000_000_000n; // 2024-05-01T10:00:00Z
  for (let c = 0; c < containers; c++) {
    const id = (c.toString(16).padStart(8, '0') + 'ab'.repeat(28)).slice(0, 64);
    const dir = path.join(hostDir, 'var/lib/docker/containers', id);
    fs.mkdirSync(dir, { recursive: true });
    const created = start + BigInt(c) * 1_000_000_000n;
    const config = {
      ID: id,
      Created: isoNano(created),
      Name: `/svc-${c}`,
      Path: 'sh',
      Args: ['-c', 'serve'],
      Config: { Image: 'bench/app:1.0', Hostname: id.slice(0, 12), Env: ['PATH=/usr/bin'], Labels: {} },
      Image: 'sha256:' + 'cd'.repeat(32),
      State: {
        Running: c % 3 === 0,
        Pid: 0,
        ExitCode: c % 3 === 0 ? 0 : c % 7,
        StartedAt: isoNano(created + 500_000_000n),
        FinishedAt: c % 3 === 0 ? '0001-01-01T00:00:00Z' : isoNano(created + 3_600_000_000_000n),
      },
      LogPath: `/var/lib/docker/containers/${id}/${id}-json.log`,
      Driver: 'overlay2',
    };
    fs.writeFileSync(path.join(dir, 'config.v2.json'), JSON.stringify(config));
    fs.writeFileSync(
      path.join(dir, 'hostconfig.json'),
      JSON.stringify({ LogConfig: { Type: 'json-file', Config: {} }, RestartPolicy: { Name: 'no' } }),
    );
    // Lines in time order; stdout/stderr interleave with occasional small inversions as dockerd's copiers do.
    const parts: string[] = [];
    let size = 0;
    let t = created + 600_000_000n;
    const rotate = c % 4 === 0;
    const fileChunks: string[][] = [[]];
    const rotateAt = perContainer / 3;
    while (size < perContainer) {
      t += BigInt(Math.floor(r() * 2_000_000));
      const stream = r() < 0.15 ? 'stderr' : 'stdout';
      const jitter = stream === 'stderr' && r() < 0.3 ? -BigInt(Math.floor(r() * 500_000)) : 0n;
      const line = JSON.stringify({ log: MESSAGES[Math.floor(r() * MESSAGES.length)](r) + '\n', stream, time: isoNano(t + jitter) }) + '\n';
      size += line.length;
      fileChunks[fileChunks.length - 1].push(line);
      if (rotate && size > rotateAt * fileChunks.length && fileChunks.length < 3) fileChunks.push([]);
    }
    parts.length = 0;
    const base = path.join(dir, `${id}-json.log`);
    if (!rotate) {
      fs.writeFileSync(base, fileChunks[0].join(''));
    } else {
      // oldest = .2.gz, then .1 (uncompressed), then current
      fs.writeFileSync(base + '.2.gz', zlib.gzipSync(fileChunks[0].join(''), { level: 1 }));
      fs.writeFileSync(base + '.1', fileChunks[1]?.join('') ?? '');
      fs.writeFileSync(base, fileChunks[2]?.join('') ?? '');
    }
  }
  fs.writeFileSync(path.join(hostDir, '.complete'), '');
  process.stderr.write(`generated ${hostDir} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

function logBytes(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/-json\.log(\.\d+)?$/.test(e.name)) total += fs.statSync(p).size;
      else if (/-json\.log\.\d+\.gz$/.test(e.name)) total += zlib.gunzipSync(fs.readFileSync(p)).length;
    }
  };
  walk(dir);
  return total;
}

generate();
const bytes = logBytes(hostDir);
const outDir = path.join(benchDir, 'out');
fs.rmSync(outDir, { recursive: true, force: true });
flushPageCache();
const res = runChild<{ ms: number; events: number; maxRssKb: number; cpu: { user: number; system: number } }>([
  '--run-child',
  hostDir,
  outDir,
  formats,
]);
const mb = bytes / 1024 / 1024;
const outputSizes = fs
  .readdirSync(outDir)
  .map((f) => fs.statSync(path.join(outDir, f)))
  .filter((st) => st.isFile())
  .map((st) => st.size);
const outBytes = outputSizes.reduce((n, size) => n + size, 0);
process.stdout.write(
  [
    `host:        ${containers} containers, ${mb.toFixed(0)} MB of json-file logs (uncompressed)`,
    `formats:     ${formats}`,
    `events:      ${res.events}`,
    `wall time:   ${(res.ms / 1000).toFixed(2)} s`,
    `throughput:  ${(mb / (res.ms / 1000)).toFixed(1)} MB/s of logs, ${Math.round(res.events / (res.ms / 1000))} events/s`,
    `peak RSS:    ${(res.maxRssKb / 1024).toFixed(0)} MB`,
    `CPU:         ${(res.cpu.user / 1e6).toFixed(1)} s user + ${(res.cpu.system / 1e6).toFixed(1)} s system (all threads)`,
    `output:      ${(outBytes / 1024 / 1024).toFixed(0)} MB in ${outDir}`,
  ].join('\n') + '\n',
);
if (!args.includes('--no-floor')) {
  // Measured after triage, under the same conditions: the output is deleted first unless --keep.
  if (!args.includes('--keep')) fs.rmSync(outDir, { recursive: true, force: true });
  const floorDir = fs.mkdtempSync(path.join(benchDir, 'write-floor-'));
  flushPageCache();
  // The files triage wrote of 1 MiB or more, side by side as triage writes them; the small ones do not matter.
  const bigSizes = outputSizes.filter((size) => size >= 1 << 20);
  const floor = runChild<{ ms: number; cpu: { user: number; system: number } }>(['--write-floor', floorDir, bigSizes.join(',')]);
  fs.rmSync(floorDir, { recursive: true, force: true });
  process.stdout.write(
    `write floor: ${(floor.ms / 1000).toFixed(2)} s to write ${bigSizes.length} files of the same sizes from ready-made ` +
      `bytes in ${benchDir} (${(floor.cpu.system / 1e6).toFixed(1)} s system CPU), with no reading, parsing or sorting\n`,
  );
}
if (!args.includes('--keep')) fs.rmSync(outDir, { recursive: true, force: true });
