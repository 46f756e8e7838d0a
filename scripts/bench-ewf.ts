// Benchmark of the EWF reader: sequential read throughput of a 1 GiB disk as E01 (deflate), inflating on the calling
// thread vs with a worker pool, random 4 KiB reads per second, and peak RSS (which must not grow with the image).
// Usage: node dist/scripts/bench-ewf.js [WORKDIR] [--mib N]   (needs ewf-tools and python3; builds the image once)
// Each measurement runs in a fresh child process so its peak RSS is its own.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EwfSource } from '../src/io/ewf/ewf-source.js';
import { verifyImage } from '../src/io/ewf/verify.js';

const args = process.argv.slice(2);
const self = fileURLToPath(import.meta.url);

function child(mode: string, image: string, extra: string): Record<string, number> {
  const r = spawnSync(process.execPath, [self, '--child', mode, image, extra], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, number>;
}

async function runChild(mode: string, image: string, extra: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  const secs = () => Number(process.hrtime.bigint() - t0) / 1e9;
  const out: Record<string, number> = {};
  if (mode === 'seq') {
    const src = EwfSource.open(image, { inflateWorkers: Number(extra) });
    const buf = new Uint8Array(4 << 20);
    let pos = 0;
    const size = Number(src.size);
    while (pos < size) pos += src.read(buf, 0, buf.length, pos);
    out.seconds = secs();
    out.mbPerSec = size / 1e6 / out.seconds;
    out.problems = src.problemCount;
    src.close();
  } else if (mode === 'random') {
    const src = EwfSource.open(image, { inflateWorkers: 0 });
    const buf = new Uint8Array(4096);
    const size = Number(src.size);
    let seed = 12345;
    const n = Number(extra);
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const p = Math.floor(((seed / 2147483648) * (size - 4096)) / 4096) * 4096;
      src.read(buf, 0, 4096, p);
    }
    out.seconds = secs();
    out.readsPerSec = n / out.seconds;
    src.close();
  } else if (mode === 'verify') {
    const r = await verifyImage(image, undefined, { inflateWorkers: Number(extra) });
    out.seconds = secs();
    out.mbPerSec = Number(r.size) / 1e6 / out.seconds;
    out.match = r.verdict === 'match' ? 1 : 0;
  }
  out.maxRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify(out) + '\n');
}

function buildImage(dir: string, mib: number): string {
  const e01 = path.join(dir, `bench-${mib}.E01`);
  if (fs.existsSync(e01)) return e01;
  fs.mkdirSync(dir, { recursive: true });
  const raw = path.join(dir, `bench-${mib}.raw`);
  // Content per 1 MiB region: 40 % zeros (unused disk), 35 % text-like (logs, configs), 25 % random (compressed files).
  execFileSync('python3', ['-c', `
import random, sys
random.seed(9)
words = [b'container', b'docker', b'overlay2', b'2024-05-01T12:00:00.123456789Z', b'INFO', b'GET /health 200', b'{"log":"', b'stream', b'stdout']
with open(sys.argv[1], 'wb') as f:
    for i in range(${mib}):
        r = (i * 37) % 100
        if r < 40: f.write(bytes(1 << 20))
        elif r < 75:
            out = bytearray()
            while len(out) < (1 << 20):
                out += b' '.join(random.choice(words) for _ in range(12)) + b' %d\\n' % random.randint(0, 10**9)
            f.write(bytes(out[: 1 << 20]))
        else: f.write(random.randbytes(1 << 20))
`, raw]);
  execFileSync('ewfacquire', ['-u', '-q', '-t', e01.replace(/\.E01$/, ''), '-f', 'encase6', '-c', 'deflate:fast', '-d', 'sha1', '-S', '7GiB', raw], { stdio: 'ignore' });
  fs.rmSync(raw);
  return e01;
}

async function main(): Promise<void> {
  if (args[0] === '--child') return runChild(args[1] as string, args[2] as string, args[3] as string);
  const mibAt = args.indexOf('--mib');
  const mib = mibAt >= 0 ? Number(args[mibAt + 1]) : 1024;
  const dir = path.resolve(args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--mib') ?? '.bench/ewf');
  const big = buildImage(dir, mib);
  const small = buildImage(dir, 16);
  console.log(`image: ${big} (${mib} MiB media, ${(fs.statSync(big).size / 1e6).toFixed(0)} MB E01, deflate fast, 32 KiB chunks)`);
  for (const w of [0, 1, 2]) {
    const r = child('seq', big, String(w));
    console.log(`sequential 4 MiB reads, ${w} inflate workers: ${r.mbPerSec!.toFixed(0)} MB/s (${r.seconds!.toFixed(2)} s), peak RSS ${r.maxRssMiB!.toFixed(0)} MiB`);
  }
  const rs = child('seq', small, '0');
  console.log(`sequential, 16 MiB image, 0 workers: peak RSS ${rs.maxRssMiB!.toFixed(0)} MiB (flat-memory check)`);
  const rnd = child('random', big, '20000');
  console.log(`random 4 KiB reads: ${rnd.readsPerSec!.toFixed(0)} reads/s, peak RSS ${rnd.maxRssMiB!.toFixed(0)} MiB`);
  const v = child('verify', big, '0');
  console.log(`verify (MD5 + SHA-1, inline inflate): ${v.mbPerSec!.toFixed(0)} MB/s, ${v.match ? 'match' : 'MISMATCH'}, peak RSS ${v.maxRssMiB!.toFixed(0)} MiB`);
  const t0 = Date.now();
  const ev = spawnSync('ewfverify', ['-q', '-d', 'sha1', big], { encoding: 'utf8' });
  console.log(`ewfverify -d sha1 (reference): ${((Date.now() - t0) / 1000).toFixed(2)} s, ${/SUCCESS/.test(ev.stdout) ? 'SUCCESS' : 'FAILURE'}`);
}

await main();
