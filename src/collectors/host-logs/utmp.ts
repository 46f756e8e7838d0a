// Login accounting: /var/log/wtmp (logins, logouts, boots, shutdowns, run levels), /var/log/btmp (failed
// logins), /run/utmp (current sessions), and rotated wtmp.1 / btmp.1 / wtmp-YYYYMMDD. Each file is an array of
// 384-byte x86-64 `struct utmp` records, little-endian.
// References: glibc bits/utmp.h (struct utmp, struct exit_status, __WORDSIZE_TIME64_COMPAT32: ut_session and
// ut_tv are 32-bit on x86-64), utmp(5), util-linux login-utils/last.c (reboot = BOOT_TIME with ut_user
// "reboot", shutdown = RUN_LVL with ut_user "shutdown", DEAD_PROCESS ends the session on its ut_line).
// docs/formats/utmp.md.
import { TimeDesc, type TimelineEvent } from '../../events/event.js';
import { NS_PER_MICRO, NS_PER_SECOND } from '../../events/time.js';
import { errorMessage } from '../../events/event.js';
import type { VfsFile } from '../../fs/vfs.js';
import type { HostCollector } from '../registry.js';
import type { CollectorContext, EventSource } from '../types.js';
import { FileProblems, MAX_PROBLEMS_PER_FILE } from './text-file.js';

/**
 * glibc bits/utmp.h, x86-64 (sizeof(struct utmp) == 384):
 *   short int ut_type;              0   (+2 bytes padding)
 *   pid_t ut_pid;                   4
 *   char ut_line[UT_LINESIZE=32];   8
 *   char ut_id[4];                 40
 *   char ut_user[UT_NAMESIZE=32];  44
 *   char ut_host[UT_HOSTSIZE=256]; 76
 *   struct exit_status ut_exit;   332   { short e_termination; short e_exit; }
 *   int32_t ut_session;           336
 *   struct { int32_t tv_sec; int32_t tv_usec; } ut_tv;   340
 *   int32_t ut_addr_v6[4];        348   (network byte order; IPv4 in [0] only)
 *   char __glibc_reserved[20];    364
 */
export const UTMP = {
  ut_type: 0,
  ut_pid: 4,
  ut_line: 8,
  ut_line_size: 32,
  ut_id: 40,
  ut_id_size: 4,
  ut_user: 44,
  ut_user_size: 32,
  ut_host: 76,
  ut_host_size: 256,
  e_termination: 332,
  e_exit: 334,
  ut_session: 336,
  tv_sec: 340,
  tv_usec: 344,
  ut_addr_v6: 348,
  size: 384,
} as const;

/** ut_type values (bits/utmp.h). */
export const UT_TYPES: Record<number, string> = {
  0: 'EMPTY',
  1: 'RUN_LVL',
  2: 'BOOT_TIME',
  3: 'NEW_TIME',
  4: 'OLD_TIME',
  5: 'INIT_PROCESS',
  6: 'LOGIN_PROCESS',
  7: 'USER_PROCESS',
  8: 'DEAD_PROCESS',
  9: 'ACCOUNTING',
};

/** Records read from one file (a 10 GB wtmp is a damaged one). */
export const MAX_UTMP_RECORDS = 50_000_000;
const READ_RECORDS = 2048;
const BATCH = 512;

export interface UtmpRecord {
  type: number;
  typeName: string;
  pid: number;
  line: string;
  id: string;
  user: string;
  host: string;
  termination: number;
  exit: number;
  session: number;
  sec: number;
  usec: number;
  /** IPv4 or IPv6 text, undefined when all zero. */
  addr?: string;
}

const latin = new TextDecoder('utf-8');

function cstr(b: Uint8Array, at: number, size: number): string {
  let e = at;
  const end = at + size;
  while (e < end && b[e] !== 0) e++;
  return latin.decode(b.subarray(at, e));
}

function ipText(b: Uint8Array, at: number): string | undefined {
  let zero = true;
  let rest = true;
  for (let i = 0; i < 16; i++) {
    if (b[at + i] !== 0) {
      zero = false;
      if (i >= 4) rest = false;
    }
  }
  if (zero) return undefined;
  if (rest) return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[at + i] << 8) | b[at + i + 1]).toString(16));
  // RFC 5952: compress the longest run of zero groups (length >= 2)
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}

/** Decodes one 384-byte record at `at`. */
export function parseUtmpRecord(b: Uint8Array, at = 0): UtmpRecord {
  const dv = new DataView(b.buffer, b.byteOffset + at, UTMP.size);
  const type = dv.getInt16(UTMP.ut_type, true);
  return {
    type,
    typeName: UT_TYPES[type] ?? `UNKNOWN(${type})`,
    pid: dv.getInt32(UTMP.ut_pid, true),
    line: cstr(b, at + UTMP.ut_line, UTMP.ut_line_size),
    id: cstr(b, at + UTMP.ut_id, UTMP.ut_id_size),
    user: cstr(b, at + UTMP.ut_user, UTMP.ut_user_size),
    host: cstr(b, at + UTMP.ut_host, UTMP.ut_host_size),
    termination: dv.getInt16(UTMP.e_termination, true),
    exit: dv.getInt16(UTMP.e_exit, true),
    session: dv.getInt32(UTMP.ut_session, true),
    // glibc declares tv_sec int32_t; read unsigned so that post-2038 records (written by newer glibc, which
    // treats it as unsigned) still order correctly. Negative times never occur in real files.
    sec: dv.getUint32(UTMP.tv_sec, true),
    usec: dv.getInt32(UTMP.tv_usec, true),
    addr: ipText(b, at + UTMP.ut_addr_v6),
  };
}

/** What a record means on a timeline (util-linux last's reading). */
export function utmpEventKind(r: UtmpRecord): string {
  switch (r.type) {
    case 2:
      return 'boot';
    case 1:
      return r.user === 'shutdown' ? 'shutdown' : 'runlevel';
    case 7:
      return 'login';
    case 8:
      return 'logout';
    case 6:
      return 'login-process';
    case 5:
      return 'init-process';
    case 3:
      return 'clock-new-time';
    case 4:
      return 'clock-old-time';
    case 0:
      return 'empty';
    default:
      return 'other';
  }
}

export interface UtmpFileInfo {
  path: string;
  host: string;
  inode?: bigint;
  /** wtmp, btmp or utmp */
  kind: 'wtmp' | 'btmp' | 'utmp';
}

function recordEvent(r: UtmpRecord, info: UtmpFileInfo, index: number): TimelineEvent {
  let kind = utmpEventKind(r);
  if (info.kind === 'btmp') kind = 'login-failed';
  const attrs: Record<string, unknown> = {
    event_kind: kind,
    ut_type: r.typeName,
    user: r.user,
    tty: r.line,
    ut_id: r.id,
    pid: r.pid,
  };
  if (r.host) attrs.remote_host = r.host;
  if (r.addr) attrs.src_ip = r.addr;
  if (r.session) attrs.session = r.session;
  if (r.termination || r.exit) {
    attrs.exit_termination = r.termination;
    attrs.exit_status = r.exit;
  }
  const who = r.user || '-';
  let message: string;
  if (kind === 'boot') message = `system boot (${r.host || 'kernel ?'})`;
  else if (kind === 'shutdown') message = `system shutdown (${r.host || 'kernel ?'})`;
  else if (kind === 'runlevel') message = `run level change ${r.pid & 0xff ? String.fromCharCode(r.pid & 0xff) : ''}`.trim();
  else if (kind === 'login-failed') message = `failed login ${who} on ${r.line || '-'}${r.host ? ` from ${r.host}` : ''}`;
  else if (kind === 'login') message = `login ${who} on ${r.line || '-'}${r.host ? ` from ${r.host}` : ''}`;
  else if (kind === 'logout') message = `logout on ${r.line || '-'}${r.user ? ` (${r.user})` : ''}`;
  else message = `${r.typeName} ${who} on ${r.line || '-'}`;
  const time = BigInt(r.sec) * NS_PER_SECOND + BigInt(r.usec >= 0 && r.usec < 1_000_000 ? r.usec : 0) * NS_PER_MICRO;
  return {
    time,
    timestamp_desc: TimeDesc.recorded,
    source: info.kind,
    host: info.host,
    message,
    path: info.path,
    inode: info.inode,
    offset: index * UTMP.size,
    line: index + 1,
    raw_time: `${r.sec}.${String(r.usec).padStart(6, '0')}`,
    attrs,
  };
}

/** Decodes a whole byte array (tests): events, and problems (partial trailing record, bad usec). */
export function parseUtmpBytes(b: Uint8Array, info: UtmpFileInfo): { events: TimelineEvent[]; problems: string[] } {
  const events: TimelineEvent[] = [];
  const problems: string[] = [];
  const n = Math.floor(b.length / UTMP.size);
  for (let i = 0; i < n; i++) {
    const ev = checkedEvent(b, i * UTMP.size, info, i, (r) => problems.push(r));
    if (ev) events.push(ev);
  }
  if (b.length % UTMP.size !== 0) problems.push(partialMessage(b.length));
  return { events, problems };
}

function partialMessage(size: number): string {
  const rest = size % UTMP.size;
  return `size ${size} is not a multiple of ${UTMP.size} (struct utmp): partial trailing record of ${rest} bytes at offset ${size - rest} ignored`;
}

function checkedEvent(
  b: Uint8Array,
  at: number,
  info: UtmpFileInfo,
  index: number,
  problem: (r: string) => void,
): TimelineEvent | undefined {
  const r = parseUtmpRecord(b, at);
  if (r.type === 0 && r.sec === 0) return undefined; // EMPTY slot (utmp)
  if (r.type < 0 || r.type > 9) {
    problem(`record ${index} at offset ${index * UTMP.size}: ut_type ${r.type} is not 0..9; skipped`);
    return undefined;
  }
  if (r.usec < 0 || r.usec >= 1_000_000) problem(`record ${index}: tv_usec ${r.usec} outside 0..999999; used 0`);
  return recordEvent(r, info, index);
}

export function utmpFileSource(ctx: CollectorContext, info: Omit<UtmpFileInfo, 'host' | 'inode'>): EventSource {
  return {
    id: info.path,
    ordered: info.kind !== 'utmp',
    async *open() {
      const problems = new FileProblems(ctx, 'utmp', info.path, MAX_PROBLEMS_PER_FILE);
      let file: VfsFile;
      try {
        file = ctx.vfs.open(info.path);
      } catch (err) {
        problems.add(`cannot open: ${errorMessage(err)}`);
        problems.finish();
        return;
      }
      try {
        const full: UtmpFileInfo = { ...info, host: ctx.host, inode: file.ino };
        const size = Number(file.size);
        let records = Math.floor(size / UTMP.size);
        if (records > MAX_UTMP_RECORDS) {
          problems.add(`${records} records, limit ${MAX_UTMP_RECORDS} (MAX_UTMP_RECORDS); read the first ${MAX_UTMP_RECORDS}`);
          records = MAX_UTMP_RECORDS;
        }
        const buf = new Uint8Array(READ_RECORDS * UTMP.size);
        let batch: TimelineEvent[] = [];
        for (let first = 0; first < records; first += READ_RECORDS) {
          const count = Math.min(READ_RECORDS, records - first);
          let got = 0;
          try {
            while (got < count * UTMP.size) {
              const n = file.read(buf, got, count * UTMP.size - got, first * UTMP.size + got);
              if (n <= 0) break;
              got += n;
            }
          } catch (err) {
            problems.add(`read error at offset ${first * UTMP.size + got}: ${errorMessage(err)}; kept the records before`);
            break;
          }
          const whole = Math.floor(got / UTMP.size);
          for (let i = 0; i < whole; i++) {
            const ev = checkedEvent(buf, i * UTMP.size, full, first + i, problems.add);
            if (ev) batch.push(ev);
          }
          if (batch.length >= BATCH) {
            yield batch;
            batch = [];
          }
          if (whole < count) break;
        }
        if (size % UTMP.size !== 0) problems.add(partialMessage(size));
        if (batch.length > 0) yield batch;
      } finally {
        file.close();
        problems.finish();
      }
    },
  };
}

export const utmpCollector: HostCollector = {
  name: 'utmp',
  collect(ctx) {
    const sources: EventSource[] = [];
    const seen = new Set<string>();
    const add = (path: string, kind: UtmpFileInfo['kind']): void => {
      let real = path;
      try {
        const st = ctx.vfs.stat(path);
        if (st.type !== 'file') return;
        real = ctx.vfs.realpath(path);
      } catch {
        return;
      }
      if (seen.has(real)) return;
      seen.add(real);
      sources.push(utmpFileSource(ctx, { path, kind }));
    };
    let names: string[] = [];
    try {
      names = ctx.vfs.readdir('/var/log').map((d) => d.name);
    } catch {
      // no /var/log
    }
    for (const n of names.sort()) {
      if (/^wtmp(?:\.\d{1,4}|-\d{8})?$/.test(n)) add(`/var/log/${n}`, 'wtmp');
      else if (/^btmp(?:\.\d{1,4}|-\d{8})?$/.test(n)) add(`/var/log/${n}`, 'btmp');
    }
    add('/run/utmp', 'utmp');
    add('/var/run/utmp', 'utmp');
    return { sources };
  },
};
