// Benchmark of the journald reader: builds a journal of about N MB (default 512) with systemd-journal-remote from
// generated export text (kept under .bench/journald/, never committed), then reads it with flotsam's reader in a
// fresh child process (entries/s, wall time, peak RSS) and with `journalctl --file X -o json > /dev/null`.
// Usage: npm run build && node dist/scripts/bench-journald.js [MB ...] [--compress=no] [--compact=0]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProblemLog } from '../src/events/event.js';
import { HostDirVfs } from '../src/fs/host-dir/host-dir.js';
import { readJournalFile } from '../src/collectors/journald/index.js';

const JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote';
const here = path.dirname(fileURLToPath(import.meta.url));

/** Export text for `n` entries, written in chunks (the text is about twice the journal's size). */
function writeExport(file: string, n: number): void {
  const fd = fs.openSync(file, 'w');
  const t0 = 1714558830_000000n;
  const words = ['GET', 'POST', '/api/v1/items', '/healthz', '200', '404', '500', 'user=alice', 'user=bob', 'latency_ms='];
  let chunk = '';
  for (let i = 0; i < n; i++) {
    const boot = i < n / 2 ? '0123456789abcdef0123456789abcdef' : 'fedcba9876543210fedcba9876543210';
    let msg = `request ${i}`;
    for (let k = 0; k < 8; k++) msg += ' ' + words[(i * 7 + k * 13) % words.length] + ((i * 31 + k) % 1000);
    chunk +=
      `__REALTIME_TIMESTAMP=${t0 + BigInt(i) * 1000n}\n__MONOTONIC_TIMESTAMP=${1000000 + i * 1000}\n_BOOT_ID=${boot}\n` +
      `MESSAGE=${msg}\nPRIORITY=${i % 8}\n_HOSTNAME=bench-host\nSYSLOG_IDENTIFIER=${i % 3 ? 'dockerd' : 'app'}\n` +
      `_PID=${1000 + (i % 50)}\n_UID=0\n_COMM=${i % 3 ? 'dockerd' : 'app'}\n_TRANSPORT=journal\n` +
      (i % 4 === 0
        ? `CONTAINER_ID=a1b2c3d4e5f6\nCONTAINER_ID_FULL=a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2\nCONTAINER_NAME=web-${i % 10}\nIMAGE_NAME=nginx:1.25\n`
        : '') +
      (i % 100 === 0 ? `STACK=${'trace line '.repeat(120)}\n` : '') +
      (i % 10 === 0 ? `_SOURCE_REALTIME_TIMESTAMP=${t0 + BigInt(i) * 1000n - 7n}\n` : '') +
      '\n';
    if (chunk.length > 1 << 22) {
      fs.writeSync(fd, chunk);
      chunk = '';
    }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}

/** Builds the journal set; returns its files (systemd-journal-remote 252 rotates a file at 128 MB,
 *  DEFAULT_MAX_SIZE_UPPER, or when its data hash table is 75% full, so N MB become several files). */
function build(dir: string, mb: number, args: string[]): string[] {
  const tag = args.join('').replace(/[^a-z0-9]/gi, '');
  const base = `bench-${mb}mb${tag ? '-' + tag : ''}`;
  const file = path.join(dir, `${base}.journal`);
  const set = (): string[] => fs.readdirSync(dir).filter((f) => f.startsWith(base + '.journal') || f.startsWith(base + '@')).sort().map((f) => path.join(dir, f));
  if (fs.existsSync(file)) return set();
  // ~330 bytes of journal per entry (compact + zstd, measured); the file is sized by the entries, not exactly.
  const n = Math.round((mb * 1024 * 1024) / 250);
  const exp = path.join(dir, `bench-${mb}mb.export`);
  console.error(`generating ${n} entries of export text ...`);
  writeExport(exp, n);
  console.error(`systemd-journal-remote ${args.join(' ')} ...`);
  const env = { ...process.env, ...(args.includes('--compact=0') ? { SYSTEMD_JOURNAL_COMPACT: '0' } : {}) };
  const remoteArgs = [`--output=${file}`, '--split-mode=none', ...args.filter((a) => a.startsWith('--compress')), exp];
  const r = spawnSync(JOURNAL_REMOTE, remoteArgs, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`systemd-journal-remote failed: ${r.stderr}`);
  fs.rmSync(exp);
  return set();
}

/** Child mode: read one file, print a JSON line with the counts and peak RSS. */
async function child(files: string[]): Promise<void> {
  const vfs = new HostDirVfs(path.dirname(files[0]));
  const problems = new ProblemLog();
  const start = process.hrtime.bigint();
  let entries = 0;
  let bytes = 0;
  for (const file of files) {
    for await (const batch of readJournalFile({ vfs, host: 'bench', problems }, '/' + path.basename(file))) {
      entries += batch.length;
      for (const e of batch) bytes += e.message.length;
    }
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(JSON.stringify({ entries, secs, messageChars: bytes, problems: problems.problems.length, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv.slice(3));
  const sizes = process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number);
  const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
  const dir = path.resolve(here, '..', '..', '.bench', 'journald');
  fs.mkdirSync(dir, { recursive: true });
  for (const mb of sizes.length ? sizes : [512]) {
    const files = build(dir, mb, flags);
    const size = files.reduce((a, f) => a + fs.statSync(f).size, 0);
    const largest = Math.max(...files.map((f) => fs.statSync(f).size));
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', ...files], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(r.stderr);
    const ours = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { entries: number; secs: number; maxRssMB: number; problems: number };
    const t = process.hrtime.bigint();
    const fileArgs = files.map((f) => `--file '${f}'`).join(' ');
    execFileSync('bash', ['-c', `journalctl ${fileArgs} -o json --all --no-pager > /dev/null`]);
    const jsecs = Number(process.hrtime.bigint() - t) / 1e9;
    const line = {
      files: files.length,
      totalMB: +(size / 1048576).toFixed(1),
      largestFileMB: +(largest / 1048576).toFixed(1),
      entries: ours.entries,
      flotsamSecs: +ours.secs.toFixed(2),
      flotsamEntriesPerSec: Math.round(ours.entries / ours.secs),
      flotsamPeakRssMB: +ours.maxRssMB.toFixed(0),
      journalctlJsonSecs: +jsecs.toFixed(2),
      journalctlEntriesPerSec: Math.round(ours.entries / jsecs),
      problems: ours.problems,
    };
    console.log(JSON.stringify(line));
  }
}

await main();
