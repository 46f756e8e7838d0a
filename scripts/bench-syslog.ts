// Benchmark for the syslog reader: writes ~200 MB (BENCH_MB) of realistic RFC 3164 lines (sshd, sudo, kernel,
// cron, dockerd logfmt) with an Europe/Berlin /etc/localtime into a temp tree, then reads it through the
// syslog collector over HostDirVfs (pre-pass for the year + parse pass) and prints MB/s, events/s, peak RSS.
// Run: npx tsc -p tsconfig.json && node dist/scripts/bench-syslog.js [MB] [--gz] [--keep] [--slow]
// (--slow: every line through the reference parser, SyslogOptions.disableFastPath). The machine is usually
// shared: repeat and take the median.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ProblemLog } from '../src/events/event.js';
import { HostDirVfs } from '../src/fs/host-dir/host-dir.js';
import { syslogFileSource } from '../src/collectors/host-logs/syslog.js';

const args = process.argv.slice(2);
const targetMb = Number(args.find((a) => /^\d+$/.test(a)) ?? process.env.BENCH_MB ?? 200);
const withGz = args.includes('--gz');
const slow = args.includes('--slow');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const ID = 'e4ed0e33ba7720d0abef2a13c4bfb88e70027db866af1ce358b319fdca9820d1';

function writeSyslog(file: string, targetBytes: number): number {
  const fd = fs.openSync(file, 'w');
  let size = 0;
  let t = Date.UTC(2024, 2, 1) / 1000;
  let i = 0;
  const parts: string[] = [];
  let pending = 0;
  while (size < targetBytes) {
    t += 1 + (i % 3);
    const d = new Date(t * 1000);
    const ts = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}`;
    let msg: string;
    switch (i % 6) {
      case 0: msg = `sshd[${1000 + (i % 5000)}]: Accepted publickey for alice from 203.0.113.${i % 250} port ${30000 + (i % 30000)} ssh2: ED25519 SHA256:q2nXgq`; break;
      case 1: msg = `sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/docker ps -a`; break;
      case 2: msg = `kernel: [${(i / 10).toFixed(6)}] docker0: port 1(veth${i % 9999}) entered forwarding state`; break;
      case 3: msg = `CRON[${2000 + (i % 999)}]: (root) CMD (   cd / && run-parts --report /etc/cron.hourly)`; break;
      case 4: msg = `dockerd[812]: time="${d.toISOString().slice(0, 19)}.${String(i % 1e9).padStart(9, '0')}Z" level=info msg="ignoring event" container=${ID} module=libcontainerd namespace=moby topic=/tasks/delete type="*events.TaskDelete"`; break;
      default: msg = `systemd[1]: Started Session ${i} of user alice.`;
    }
    const line = `${ts} bench-host ${msg}\n`;
    parts.push(line);
    pending += line.length;
    size += line.length;
    i++;
    if (pending > 1 << 20) {
      fs.writeSync(fd, parts.join(''));
      parts.length = 0;
      pending = 0;
    }
  }
  fs.writeSync(fd, parts.join(''));
  fs.closeSync(fd);
  return i;
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'flotsam-bench-syslog-'));
  fs.mkdirSync(path.join(root, 'var/log'), { recursive: true });
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  const zi = '/usr/share/zoneinfo/Europe/Berlin';
  if (fs.existsSync(zi)) fs.copyFileSync(zi, path.join(root, 'etc/localtime'));
  fs.writeFileSync(path.join(root, 'etc/timezone'), 'Europe/Berlin\n');
  const file = path.join(root, 'var/log/syslog');
  const lines = writeSyslog(file, targetMb * 1024 * 1024);
  let rel = '/var/log/syslog';
  if (withGz) {
    fs.writeFileSync(`${file}.2.gz`, gzipSync(fs.readFileSync(file), { level: 1 }));
    rel = '/var/log/syslog.2.gz';
  }
  fs.utimesSync(file, Date.UTC(2024, 11, 31) / 1000, Date.UTC(2024, 11, 31) / 1000);
  const bytes = fs.statSync(file).size;
  const ctx = { vfs: new HostDirVfs(root), host: 'bench', problems: new ProblemLog() };
  let peak = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  let events = 0;
  for await (const batch of syslogFileSource(ctx, rel, 'syslog', { disableFastPath: slow }).open()) {
    events += batch.length;
    if ((events & 0xffff) < batch.length) peak = Math.max(peak, process.memoryUsage().rss);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  peak = Math.max(peak, process.memoryUsage().rss);
  console.log(
    JSON.stringify({
      file: rel,
      path: slow ? 'reference' : 'fast',
      mb: +(bytes / 1048576).toFixed(1),
      lines,
      events,
      seconds: +secs.toFixed(2),
      mb_per_s: +(bytes / 1048576 / secs).toFixed(1),
      events_per_s: Math.round(events / secs),
      peak_rss_mb: Math.round(peak / 1048576),
      problems: ctx.problems.problems.length,
    }),
  );
  if (!args.includes('--keep')) fs.rmSync(root, { recursive: true, force: true });
}

void main();
