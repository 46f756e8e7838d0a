// Journal fixtures for test/collectors/journald: real journal files written by systemd-journal-remote (Debian
// package systemd-journal-remote) from journal export text, in the variants systemd 252 can write (zstd + compact by
// default, `--compress=no`, SYSTEMD_JOURNAL_COMPACT=0, SYSTEMD_JOURNAL_KEYED_HASH=0), plus files that no Debian tool
// writes, made by `rebuildJournal()` from a real uncompressed one: DATA payloads recompressed as LZ4 or XZ (systemd's
// own layouts, src/basic/compress.c) and a header cut to an older, shorter header_size. Built once per script
// version into the OS temp dir; nothing here is committed as binary.
// References: systemd/systemd docs/JOURNAL_EXPORT_FORMATS.md (export format), docs/JOURNAL_FILE_FORMAT.md,
// src/libsystemd/sd-journal/journal-def.h.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote';

export interface ExportEntry {
  realtime: bigint;
  monotonic: bigint;
  bootId: string;
  fields: Array<[string, string | Buffer]>;
}

/** Journal export format: `KEY=value\n`, or `KEY\n` + le64 length + bytes + `\n` for values with control bytes. */
export function exportText(entries: ExportEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(Buffer.from(`__REALTIME_TIMESTAMP=${e.realtime}\n__MONOTONIC_TIMESTAMP=${e.monotonic}\n_BOOT_ID=${e.bootId}\n`));
    for (const [k, v] of e.fields) {
      const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
      if (b.some((c) => c < 0x20 && c !== 0x09) || typeof v !== 'string') {
        const len = Buffer.alloc(8);
        len.writeBigUInt64LE(BigInt(b.length));
        parts.push(Buffer.from(`${k}\n`), len, b, Buffer.from('\n'));
      } else {
        parts.push(Buffer.from(`${k}=`), b, Buffer.from('\n'));
      }
    }
    parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

export interface RemoteOptions {
  compress?: boolean;
  compact?: boolean;
  keyedHash?: boolean;
}

/** Writes `out` with systemd-journal-remote from export text. */
export function journalRemote(exportFile: string, out: string, opts: RemoteOptions = {}): void {
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC' };
  if (opts.compact === false) env.SYSTEMD_JOURNAL_COMPACT = '0';
  if (opts.keyedHash === false) env.SYSTEMD_JOURNAL_KEYED_HASH = '0';
  const args = [`--output=${out}`, `--compress=${opts.compress === false ? 'no' : 'yes'}`, '--split-mode=none', exportFile];
  const r = spawnSync(JOURNAL_REMOTE, args, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`systemd-journal-remote failed (${r.status}): ${r.stderr}`);
}

/** `journalctl --file X -o json --all`, one object per entry. */
export function journalctlJson(file: string): Array<Record<string, unknown>> {
  const out = execFileSync('journalctl', ['--file', file, '-o', 'json', '--all', '--no-pager'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: { ...process.env, TZ: 'UTC', SYSTEMD_COLORS: '0' },
  });
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

// ---------------------------------------------------------------------------------------------------------------
// The entries every variant holds.

const BOOT_A = '0123456789abcdef0123456789abcdef';
const BOOT_B = 'fedcba9876543210fedcba9876543210';
export const FIXTURE_T0_US = 1714558830_000000n; // 2024-05-01T10:20:30Z
export const FIXTURE_CONTAINER_FULL = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';

/** Deterministic pseudo-random words: compressible, but different per entry. */
function words(seed: number, n: number): string {
  const w = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
  let x = seed * 2654435761;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out.push(w[x % w.length] + (x % 97));
  }
  return out.join(' ');
}

export function fixtureEntries(n = 300): ExportEntry[] {
  const entries: ExportEntry[] = [];
  for (let i = 0; i < n; i++) {
    const boot = i < n / 2 ? BOOT_A : BOOT_B;
    // One wall-clock step back (a corrected clock) at i = 200.
    const realtime = FIXTURE_T0_US + BigInt(i) * 1_000_003n - (i >= 200 ? 5_000_000n : 0n);
    const monotonic = (i < n / 2 ? 1_000_000n : 2_000n) + BigInt(i) * 1_000_003n;
    const f: Array<[string, string | Buffer]> = [
      ['MESSAGE', i % 10 === 3 ? `multi-line ${i}\n  second line\n\tthird line` : `message ${i} ${words(i, 3)}`],
      ['PRIORITY', String(i % 8)],
      ['_HOSTNAME', 'host1'],
      ['SYSLOG_IDENTIFIER', i % 2 ? 'dockerd' : 'sshd'],
      ['_PID', String(1000 + (i % 17))],
      ['_SOURCE_REALTIME_TIMESTAMP', String(realtime - 17n)],
    ];
    if (i % 7 === 1) f.push(['BIN', Buffer.from([0xff, 0x00, 0x41, 0x0a, i & 0xff, 0xc3])]);
    if (i % 13 === 2) f.push(['BIG', `${i}: ${words(i, 400)}`]); // ~3 KB: over the 512-byte compression threshold
    if (i % 29 === 5) f.push(['HUGE', Buffer.from(`${i} ` + 'abcdefgh'.repeat(40000))]); // 320 KB, multi-block LZ4
    if (i % 5 === 0) {
      f.push(
        ['CONTAINER_ID', FIXTURE_CONTAINER_FULL.slice(0, 12)],
        ['CONTAINER_ID_FULL', FIXTURE_CONTAINER_FULL],
        ['CONTAINER_NAME', 'web-1'],
        ['CONTAINER_TAG', 'a1b2c3d4e5f6'],
        ['IMAGE_NAME', 'nginx:1.25'],
        ['SYSLOG_IDENTIFIER', 'a1b2c3d4e5f6'],
      );
    }
    if (i % 11 === 4) f.push(['TAG', 'a'], ['TAG', 'b'], ['TAG', `c${i}`]);
    if (i === 6) f.push(['MESSAGE', Buffer.from([0xc3, 0x28, 0x62, 0x61, 0x64])]); // a second, invalid UTF-8 MESSAGE
    if (i === 8) f[0] = ['MESSAGE', Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x20, 0x75, 0x74, 0x66])];
    if (i === 9) f.push(['EMPTY', ''], ['UNICODE', 'snowman \u2603 and \u{1F600}']);
    if (i === 12) f.push(['CONTAINER_ID', 'deadbeef0001'], ['CONTAINER_NAME', 'gone'], ['IMAGE_NAME', 'busybox']);
    entries.push({ realtime, monotonic, bootId: boot, fields: f });
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------------------------
// rebuildJournal: re-lays every object of a real journal with new offsets, optionally recompressing DATA payloads
// and/or shortening the header. Every offset field the format has is remapped.

const u64 = (b: Buffer, o: number): number => Number(b.readBigUInt64LE(o));
const w64 = (b: Buffer, o: number, v: number): void => void b.writeBigUInt64LE(BigInt(v), o);

export interface RebuildOptions {
  compress?: 'lz4' | 'xz';
  /** A shorter header (e.g. 208, the pre-187 size); only for regular (non-compact) files. */
  headerSize?: number;
  /** Only payloads at least this long are compressed (systemd's default threshold is 512). */
  threshold?: number;
}

/** systemd's layouts: XZ = an .xz stream without check; LZ4 = le64 size + one raw LZ4 block. The `lz4` CLI (liblz4,
 *  the reference encoder) makes the block: a frame with 4 MiB independent blocks holds the payload as its one block.
 *  (lz4js.compressBlock is not used: its blocks can end in a match, which liblz4's decoder, and so journalctl,
 *  rejects.) Returns the payload unchanged when it does not compress. */
function compressPayload(kind: 'lz4' | 'xz', payload: Buffer): Buffer {
  if (kind === 'xz') return execFileSync('xz', ['--format=xz', '--check=none', '-c', '-6'], { input: payload });
  const frame = execFileSync('lz4', ['-c', '-B7', '-BI', '--no-frame-crc', '--content-size', '-9'], { input: payload });
  if (frame.readUInt32LE(0) !== 0x184d2204) throw new Error('lz4 CLI wrote no LZ4 frame');
  const flg = frame[4];
  let p = 6 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0) + 1; // FLG, BD, [content size], [dict id], HC
  const blockSize = frame.readUInt32LE(p);
  p += 4;
  if (blockSize & 0x80000000) return payload; // stored uncompressed
  if (frame.readUInt32LE(p + blockSize) !== 0) throw new Error('lz4 CLI wrote more than one block');
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(payload.length));
  return Buffer.concat([size, frame.subarray(p, p + blockSize)]);
}

export function rebuildJournal(src: Buffer, opts: RebuildOptions): Buffer {
  const oldHeaderSize = u64(src, 88);
  const incompat = src.readUInt32LE(12);
  const compact = (incompat & 16) !== 0;
  const payloadOff = compact ? 72 : 64;
  const newHeaderSize = opts.headerSize ?? oldHeaderSize;
  const tailObj = u64(src, 136);
  const tailEnd = tailObj + ((u64(src, tailObj + 8) + 7) & ~7);
  // 1. every object, in file order
  const objs: Array<{ old: number; buf: Buffer }> = [];
  for (let p = oldHeaderSize; p < tailEnd; ) {
    const size = u64(src, p + 8);
    if (size < 16) throw new Error(`object at ${p} has size ${size}`);
    objs.push({ old: p, buf: Buffer.from(src.subarray(p, p + size)) });
    p += (size + 7) & ~7;
  }
  // 2. recompress
  let flagBit = 0;
  if (opts.compress) {
    const objFlag = opts.compress === 'xz' ? 1 : 2;
    flagBit = opts.compress === 'xz' ? 1 : 2;
    for (const o of objs) {
      if (o.buf[0] !== 1 || o.buf[1] !== 0) continue;
      const payload = o.buf.subarray(payloadOff);
      if (payload.length < (opts.threshold ?? 64)) continue;
      const c = compressPayload(opts.compress, payload);
      if (c.length >= payload.length) continue;
      const nb = Buffer.concat([o.buf.subarray(0, payloadOff), c]);
      nb[1] = objFlag;
      w64(nb, 8, nb.length);
      o.buf = nb;
    }
  }
  // 3. new offsets
  const map = new Map<number, number>();
  let pos = newHeaderSize;
  for (const o of objs) {
    map.set(o.old, pos);
    pos += (o.buf.length + 7) & ~7;
  }
  const total = pos;
  const m = (old: number): number => {
    if (old === 0) return 0;
    const n = map.get(old);
    if (n === undefined) throw new Error(`offset ${old} is not an object`);
    return n;
  };
  const fix64 = (b: Buffer, o: number): void => w64(b, o, m(u64(b, o)));
  const fix32 = (b: Buffer, o: number): void => b.writeUInt32LE(m(b.readUInt32LE(o)), o);
  // 4. remap every offset field
  for (const o of objs) {
    const b = o.buf;
    const size = b.length;
    switch (b[0]) {
      case 1: // DATA
        for (const f of [24, 32, 40, 48]) fix64(b, f);
        if (compact) fix32(b, 64);
        break;
      case 2: // FIELD
        fix64(b, 24);
        fix64(b, 32);
        break;
      case 3: // ENTRY
        if (compact) for (let p = 64; p + 4 <= size; p += 4) fix32(b, p);
        else for (let p = 64; p + 16 <= size; p += 16) fix64(b, p);
        break;
      case 4: // hash tables
      case 5:
        for (let p = 16; p + 8 <= size; p += 8) fix64(b, p);
        break;
      case 6: // ENTRY_ARRAY
        fix64(b, 16);
        if (compact) for (let p = 24; p + 4 <= size; p += 4) fix32(b, p);
        else for (let p = 24; p + 8 <= size; p += 8) fix64(b, p);
        break;
      default:
        break;
    }
  }
  // 5. header
  const out = Buffer.alloc(total);
  src.copy(out, 0, 0, Math.min(oldHeaderSize, newHeaderSize));
  const hdr = out;
  w64(hdr, 88, newHeaderSize);
  w64(hdr, 96, total - newHeaderSize);
  hdr.writeUInt32LE(incompat | (flagBit === 1 ? 1 : flagBit === 2 ? 2 : 0), 12);
  for (const f of [104, 120]) {
    const v = u64(src, f);
    w64(hdr, f, v === 0 ? 0 : m(v - 16) + 16); // hash table offsets point at the payload, not the object
  }
  w64(hdr, 136, m(tailObj));
  w64(hdr, 176, m(u64(src, 176)));
  if (newHeaderSize >= 264 && oldHeaderSize >= 264) fix32(hdr, 256);
  if (newHeaderSize >= 272 && oldHeaderSize >= 272) fix64(hdr, 264);
  for (const o of objs) o.buf.copy(out, map.get(o.old) as number);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

export const JOURNAL_VARIANTS = [
  'zstd-compact',
  'plain-compact',
  'zstd-regular',
  'plain-regular',
  'plain-unkeyed',
  'lz4-compact',
  'lz4-regular',
  'xz-compact',
  'xz-regular',
  'header208-regular',
] as const;
export type JournalVariant = (typeof JOURNAL_VARIANTS)[number];

const here = path.dirname(fileURLToPath(import.meta.url));

/** Builds every variant (once per script version) and returns the directory: `<variant>.journal`. */
export function journaldFixtures(): string {
  const self = fs.readFileSync(path.join(here, 'journald-make.ts'));
  const tag = createHash('sha256').update(self).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `flotsam-journald-fixtures-${tag}`);
  if (fs.existsSync(path.join(dir, '.done'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  fs.mkdirSync(tmp, { recursive: true });
  const exp = path.join(tmp, 'entries.export');
  fs.writeFileSync(exp, exportText(fixtureEntries()));
  const j = (v: string): string => path.join(tmp, `${v}.journal`);
  journalRemote(exp, j('zstd-compact'));
  journalRemote(exp, j('plain-compact'), { compress: false });
  journalRemote(exp, j('zstd-regular'), { compact: false });
  journalRemote(exp, j('plain-regular'), { compress: false, compact: false });
  journalRemote(exp, j('plain-unkeyed'), { compress: false, compact: false, keyedHash: false });
  const plainCompact = fs.readFileSync(j('plain-compact'));
  const plainRegular = fs.readFileSync(j('plain-regular'));
  fs.writeFileSync(j('lz4-compact'), rebuildJournal(plainCompact, { compress: 'lz4' }));
  fs.writeFileSync(j('lz4-regular'), rebuildJournal(plainRegular, { compress: 'lz4' }));
  fs.writeFileSync(j('xz-compact'), rebuildJournal(plainCompact, { compress: 'xz' }));
  fs.writeFileSync(j('xz-regular'), rebuildJournal(plainRegular, { compress: 'xz' }));
  fs.writeFileSync(j('header208-regular'), rebuildJournal(fs.readFileSync(j('plain-unkeyed')), { headerSize: 208 }));
  fs.writeFileSync(path.join(tmp, '.done'), '');
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another worker won the race
  }
  return dir;
}

/** `tsx test/fixtures-scripts/journald-make.ts` (or via vitest): prints where the fixtures are. */
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  console.log(journaldFixtures());
}

/** What the fixtures need and is missing on this machine (empty when all is there); tests skip loudly on it. */
export function journaldToolsMissing(): string[] {
  const missing: string[] = [];
  if (!fs.existsSync(JOURNAL_REMOTE)) missing.push(`${JOURNAL_REMOTE} (apt-get install systemd-journal-remote)`);
  for (const [cmd, pkg] of [['journalctl', 'systemd'], ['xz', 'xz-utils'], ['lz4', 'lz4']] as const) {
    if (spawnSync(cmd, ['--version'], { stdio: 'ignore' }).error) missing.push(`${cmd} (apt-get install ${pkg})`);
  }
  return missing;
}
