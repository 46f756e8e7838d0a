// Test helper: builds the disk images of make-disk-images.sh once per script version into the OS temp dir, and wraps
// the independent oracles (sleuthkit fls/istat/icat/mmls, e2fsprogs debugfs) the differential tests compare with.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, 'make-disk-images.sh');

/** Directory holding the images; built at most once per script content (atomic rename, safe across test workers). */
export function diskImages(): string {
  const tag = createHash('sha256').update(fs.readFileSync(script)).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `flotsam-disk-fixtures-${tag}`);
  if (fs.existsSync(path.join(dir, '.done'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const r = spawnSync('bash', [script, tmp], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  if (r.status !== 0) throw new Error(`make-disk-images.sh failed (${r.status}): ${r.stderr}`);
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another worker won the race
  }
  if (!fs.existsSync(path.join(dir, '.done'))) throw new Error(`fixtures missing in ${dir}`);
  return dir;
}

export function run(cmd: string, args: string[], maxBuffer = 256 * 1024 * 1024): string {
  return execFileSync(cmd, args, { encoding: 'latin1', maxBuffer, env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function runBytes(cmd: string, args: string[]): Buffer {
  return execFileSync(cmd, args, { maxBuffer: 512 * 1024 * 1024, env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface FlsEntry {
  path: string;
  ino: number;
  type: string;
}

/** `fls -r -p -u` (allocated names only), without sleuthkit's virtual entries ($OrphanFiles etc.). */
export function fls(image: string, offsetSectors?: number): FlsEntry[] {
  const args = ['-r', '-p', '-u'];
  if (offsetSectors !== undefined) args.push('-o', String(offsetSectors));
  const out: FlsEntry[] = [];
  for (const line of run('fls', [...args, image]).split('\n')) {
    const m = /^(\S)\/(\S) (?:\* )?(\d+)(?:\(realloc\))?:\t(.*)$/.exec(line);
    if (!m) continue;
    if (m[4]!.startsWith('$')) continue;
    out.push({ type: m[2]!, ino: Number(m[3]), path: '/' + m[4] });
  }
  return out;
}

/** sleuthkit meta-type letters to flotsam file types. */
export const TSK_TYPES: Record<string, string> = { r: 'file', d: 'dir', l: 'symlink', c: 'char', b: 'block', p: 'fifo', h: 'socket' };

export interface DebugfsStat {
  ino: number;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: bigint;
  links: number;
  /** name -> { secondsFromDateString, extraHex } */
  times: Record<string, { seconds: bigint; extra?: number }>;
  rdev?: { major: number; minor: number };
  fastLink?: string;
  xattrs: Map<string, { length: number; text?: string }>;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Seconds since the epoch from debugfs's `Thu Jan  1 00:00:00 1970` (TZ=UTC), pre-1970 and post-2038 included. */
export function parseDebugfsDate(s: string): bigint {
  const m = /^\w{3} (\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) (\d+)$/.exec(s.trim());
  if (!m) throw new Error(`bad debugfs date ${s}`);
  const ms = Date.UTC(Number(m[6]), MONTHS.indexOf(m[1]!), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
  // Date.UTC maps years 0..99 to 1900+; not an issue for 1901..2446
  return BigInt(ms / 1000);
}

/** Runs `stat <N>` for every inode in one debugfs process and parses the answers. */
export function debugfsStats(image: string, inos: number[]): Map<number, DebugfsStat> {
  const cmdFile = path.join(os.tmpdir(), `flotsam-debugfs-${process.pid}-${randomBytes(4).toString('hex')}.cmd`);
  fs.writeFileSync(cmdFile, inos.map((i) => `stat <${i}>`).join('\n') + '\n');
  let text: string;
  try {
    text = run('debugfs', ['-f', cmdFile, image]);
  } finally {
    fs.rmSync(cmdFile, { force: true });
  }
  const out = new Map<number, DebugfsStat>();
  for (const block of text.split(/^debugfs: /m).slice(1)) {
    const lines = block.split('\n');
    const head = /^Inode: (\d+)\s+Type: (.+?)\s+Mode:\s+(\d+)/.exec(lines[1] ?? '');
    if (!head) continue;
    const st: DebugfsStat = {
      ino: Number(head[1]),
      type: head[2]!,
      mode: parseInt(head[3]!, 8),
      uid: 0,
      gid: 0,
      size: 0n,
      links: 0,
      times: {},
      xattrs: new Map(),
    };
    let inX = false;
    for (const line of lines) {
      let m: RegExpExecArray | null;
      if ((m = /^User:\s+(\d+)\s+Group:\s+(\d+).*Size: (\d+)/.exec(line))) {
        st.uid = Number(m[1]);
        st.gid = Number(m[2]);
        st.size = BigInt(m[3]!);
      }
      if ((m = /^Links: (\d+)/.exec(line))) st.links = Number(m[1]);
      if ((m = /^\s*(ctime|atime|mtime|crtime|dtime): 0x([0-9a-f]+)(?::([0-9a-f]+))? -- (.*)$/.exec(line))) {
        st.times[m[1]!] = { seconds: parseDebugfsDate(m[4]!), extra: m[3] !== undefined ? parseInt(m[3], 16) : undefined };
      }
      if ((m = /Device major\/minor number: (\d+):(\d+)/.exec(line))) st.rdev = { major: Number(m[1]), minor: Number(m[2]) };
      if ((m = /^Fast link dest: "(.*)"$/.exec(line))) st.fastLink = m[1];
      if (/^Extended attributes:/.test(line)) {
        inX = true;
        continue;
      }
      if (inX) {
        if ((m = /^ {2}(\S+) \((\d+)\)(?: = "(.*)")?/.exec(line))) st.xattrs.set(m[1]!, { length: Number(m[2]), text: m[3] });
        else inX = false;
      }
    }
    out.set(st.ino, st);
  }
  return out;
}

const LS_MODE_TYPES: Record<string, string> = { '04': 'dir', '10': 'file', '12': 'symlink', '02': 'char', '06': 'block', '01': 'fifo', '14': 'socket' };

/** `ls -p` of every directory in one debugfs process: `path ino type` lines, "." and ".." left out. */
export function debugfsList(image: string, dirs: string[]): string[] {
  const cmdFile = path.join(os.tmpdir(), `flotsam-debugfs-${process.pid}-${randomBytes(4).toString('hex')}.cmd`);
  fs.writeFileSync(cmdFile, dirs.map((d) => `ls -p "${d}"`).join('\n') + '\n');
  let text: string;
  try {
    text = run('debugfs', ['-f', cmdFile, image]);
  } finally {
    fs.rmSync(cmdFile, { force: true });
  }
  const out: string[] = [];
  for (const block of text.split(/^debugfs: /m).slice(1)) {
    const dir = /^ls -p "(.*)"/.exec(block)![1]!;
    for (const line of block.split('\n').slice(1)) {
      const m = /^\/(\d+)\/(\d{6})\/\d*\/\d*\/(.*)\/\d*\/$/.exec(line);
      if (!m || m[1] === '0' || m[3] === '.' || m[3] === '..') continue; // ino 0: empty slot
      out.push(`${dir === '/' ? '' : dir}/${m[3]} ${m[1]} ${LS_MODE_TYPES[m[2]!.slice(0, 2)]}`);
    }
  }
  return out;
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export function sha256File(p: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(p, 'r');
  const buf = Buffer.alloc(1 << 22);
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** Copies an image to a temp file (sparse-friendly) for corruption tests. */
export function tempCopy(src: string, tag: string): string {
  const dst = path.join(os.tmpdir(), `flotsam-corrupt-${tag}-${process.pid}-${randomBytes(3).toString('hex')}.img`);
  execFileSync('cp', ['--sparse=always', src, dst]);
  return dst;
}

export function patch(file: string, offset: number, bytes: Uint8Array | number[]): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, Uint8Array.from(bytes), 0, bytes.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

export function readAt(file: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(length);
    fs.readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    fs.closeSync(fd);
  }
}
