// Benchmark for the Docker json-file reader: writes ~200 MB (BENCH_MB) of realistic json-file lines into a temp
// dir, then reads them through jsonLogSource over HostDirVfs and prints MB/s and events/s.
// Run: npx tsc -p tsconfig.json && node dist/scripts/bench-json-log.js [MB] [--slow] [--gz]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ProblemLog } from '../src/events/event.js';
import { HostDirVfs } from '../src/fs/host-dir/host-dir.js';
import { type JsonLogFileRef, jsonLogSource } from '../src/collectors/docker/json-log.js';

const args = process.argv.slice(2);
const targetMb = Number(args.find((a) => /^\d+$/.test(a)) ?? process.env.BENCH_MB ?? 200);
const slow = args.includes('--slow');
const withGz = args.includes('--gz');

function jsonString(s: string): string {
  // Go's encoder escapes <, >, & as \u003c etc.; JSON.stringify does not, so add that.
  return JSON.stringify(s).replace(/[<>&]/g, (c) => '\\u00' + c.charCodeAt(0).toString(16));
}

function makeLines(targetBytes: number): string {
  const parts: string[] = [];
  let size = 0;
  let t = Date.UTC(2024, 4, 1, 10, 0, 0) * 1e6; // ns as a double: fine for a benchmark
  let i = 0;
  const words = ['GET', 'POST', '/api/v1/items', 'user=alice', 'latency_ms=12', 'status=200', 'ok', 'cache miss'];
  while (size < targetBytes) {
    t += 1000 + (i % 977) * 1000;
    const ms = Math.floor(t / 1e6);
    const frac = String(Math.floor(t % 1e9)).padStart(9, '0').replace(/0+$/, '');
    const iso = new Date(ms).toISOString().slice(0, 19) + (frac ? '.' + frac : '') + 'Z';
    let msg: string;
    switch (i % 4) {
      case 0: msg = `10.0.0.${i % 255} - - "${words[i % 8]} /x/${i} HTTP/1.1" 200 ${i % 5000} "-" "curl/8.0"`; break;
      case 1: msg = JSON.stringify({ level: 'info', ts: iso, msg: 'request done', id: i, path: '/a?b=c&d=<e>' }); break;
      case 2: msg = `worker ${i % 16}: processed job ${i} in ${i % 100} ms — ok ✓`; break;
      default: msg = `${words[i % 8]} ${words[(i + 3) % 8]} ${'x'.repeat(i % 200)}`;
    }
    const line = `{"log":${jsonString(msg + '\n')},"stream":"${i % 7 === 0 ? 'stderr' : 'stdout'}","time":"${iso}"}\n`;
    parts.push(line);
    size += Buffer.byteLength(line);
    i++;
  }
  return parts.join('');
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flotsam-bench-json-log-'));
  try {
    const logDir = path.join(dir, 'var/lib/docker/containers/abc');
    fs.mkdirSync(logDir, { recursive: true });
    const block = makeLines(8 * 1024 * 1024);
    const blocks = Math.max(1, Math.round(targetMb / 8));
    const file = path.join(logDir, 'abc-json.log');
    const fd = fs.openSync(file, 'w');
    for (let i = 0; i < blocks; i++) fs.writeSync(fd, block);
    fs.closeSync(fd);
    const files: JsonLogFileRef[] = [];
    if (withGz) {
      fs.writeFileSync(path.join(logDir, 'abc-json.log.1.gz'), gzipSync(Buffer.from(block.repeat(Math.max(1, blocks >> 2)))));
      files.push({ path: '/var/lib/docker/containers/abc/abc-json.log.1.gz', containerId: 'abc' });
    }
    files.push({ path: '/var/lib/docker/containers/abc/abc-json.log', containerId: 'abc', containerName: 'web' });
    let bytes = 0;
    for (const f of files) {
      const hostPath = path.join(dir, f.path);
      bytes += f.path.endsWith('.gz') ? Buffer.byteLength(block) * Math.max(1, blocks >> 2) : fs.statSync(hostPath).size;
    }
    const vfs = new HostDirVfs(dir);
    const problems = new ProblemLog();
    for (let run = 0; run < 3; run++) {
      const src = jsonLogSource({ vfs, host: 'bench', problems }, files, { disableFastPath: slow });
      const t0 = process.hrtime.bigint();
      let events = 0;
      let batches = 0;
      for await (const b of src.open()) {
        events += b.length;
        batches++;
      }
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const mb = bytes / 1e6;
      console.log(
        `run ${run + 1}${slow ? ' (JSON.parse only)' : ''}${withGz ? ' (+gz)' : ''}: ${mb.toFixed(0)} MB, ` +
          `${events} events in ${batches} batches, ${secs.toFixed(3)} s: ${(mb / secs).toFixed(0)} MB/s, ` +
          `${(events / secs / 1e6).toFixed(2)} M events/s, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`,
      );
    }
    if (problems.problems.length > 0) console.log('problems:', problems.problems.slice(0, 5));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
