// The synchronous core of the syslog reader: one file's lines in, events out (syslog.ts streams the files).
//
// Two paths produce the same events:
//   - a byte-level fast path for the usual lines: RFC 3164 `Mmm dd hh:mm:ss[.frac] host tag[pid]: msg` and
//     rsyslog high-precision `YYYY-MM-DDThh:mm:ss[.frac][Z|+hh:mm] host tag[pid]: msg`, header bytes ASCII.
//     Fields are read by byte offsets (no regex, no whole-line string), the message is decoded once with
//     utf8Slice, the host name and program are interned (and the program's daemon / auth classification
//     cached), and the wall-clock -> UTC conversion is cached per minute of the timestamp text;
//   - the reference path (parseSyslogLine on the decoded line) for everything else: `<PRI>` and RFC 5424
//     lines, bare logfmt lines, unusual spacing, non-ASCII tags, invalid fields (which it reports).
// The fast path only ever accepts a line the reference path parses the same way; anything it is unsure of
// is handed over untouched (test/collectors/host-logs/syslog-equivalence.test.ts compares both on a corpus).
// References: RFC 3164, RFC 5424, rsyslog templates; docs/formats/syslog.md.
import { Buffer } from 'node:buffer';
import { TimeDesc, type TimelineEvent } from '../../events/event.js';
import { NS_PER_SECOND, daysFromCivil } from '../../events/time.js';
import { daemonEventFromMessage, isDaemonUnit } from '../daemon-events/daemon-events.js';
import { AUTH_ANY_PROGRAM_PREFIX, authProgramKnown, parseAuthMessage } from './auth-parse.js';
import { type SyslogLine, monthAt, parseSyslogLine, priNames } from './syslog-parse.js';
import { type LineSink, looksBinary } from './text-file.js';
import { type HostZone, LocalTimeConverter } from './timezone.js';

export const SYSLOG_SOURCE = 'syslog';
export const AUTH_SOURCE = 'auth';

/** The month drop (previous month minus this one) from which a line starts a new year. */
export const YEAR_ROLLOVER_MONTH_DROP = 2;

/** Tracks RFC 3164 months line by line; counts roll-overs (identical in the pre-pass and the parse pass). */
export class YearTracker {
  rollovers = 0;
  private prev = 0;
  private lastMonth = 0;
  private lastDay = 0;
  /** The month and day of the last line seen, undefined before the first. */
  get last(): { month: number; day: number } | undefined {
    return this.lastMonth === 0 ? undefined : { month: this.lastMonth, day: this.lastDay };
  }
  /** Feeds the month of the next line; returns the roll-overs so far (0 for the first year). */
  see(month: number, day: number): number {
    if (this.prev !== 0 && this.prev - month >= YEAR_ROLLOVER_MONTH_DROP) this.rollovers++;
    this.prev = month;
    this.lastMonth = month;
    this.lastDay = day;
    return this.rollovers;
  }
}

export interface YearInfo {
  /** Year of the first RFC 3164 line. */
  startYear: number;
  source: 'mtime' | 'ctime' | 'none';
}

export interface SyslogFileInfo {
  path: string;
  host: string;
  inode?: bigint;
  compressed: boolean;
  /** syslog, messages, daemon.log, kern.log, docker.log, containerd.log, auth.log, secure */
  kind: string;
}

// Node's Buffer#utf8Slice/latin1Slice (what toString calls after checking its arguments) are about twice as fast
// as toString for short ranges; utf8Slice replaces invalid UTF-8 with U+FFFD like toString. Fall back to
// toString if they go away (as src/collectors/docker/json-log-parse.ts).
interface SliceBuffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}
const HAS_SLICES =
  typeof (Buffer.prototype as unknown as Partial<SliceBuffer>).utf8Slice === 'function' &&
  typeof (Buffer.prototype as unknown as Partial<SliceBuffer>).latin1Slice === 'function';
const utf8Slice: (b: Buffer, s: number, e: number) => string = HAS_SLICES
  ? (b, s, e) => (b as unknown as SliceBuffer).utf8Slice(s, e)
  : (b, s, e) => b.toString('utf8', s, e);
const latin1Slice: (b: Buffer, s: number, e: number) => string = HAS_SLICES
  ? (b, s, e) => (b as unknown as SliceBuffer).latin1Slice(s, e)
  : (b, s, e) => b.toString('latin1', s, e);

/** What we know of one syslog program name (tag). */
interface ProgramInfo {
  name: string;
  /** isDaemonUnit(name): dockerd / containerd lines become daemon events. */
  daemon: boolean;
  /** authProgramKnown(name): parseAuthMessage may match any of its messages. */
  auth: boolean;
  bytes: Uint8Array;
}

const PROGRAM_SLOTS = 512;

/** Interns ASCII program names by their bytes (a small direct-mapped table; a collision just replaces). */
class ProgramTable {
  private readonly slots: Array<ProgramInfo | undefined> = new Array<ProgramInfo | undefined>(PROGRAM_SLOTS).fill(undefined);

  /** `hash`: (h * 31 + byte) | 0 over the bytes, from 0. */
  lookup(buf: Buffer, s: number, e: number, hash: number): ProgramInfo {
    const len = e - s;
    const h = hash ^ Math.imul(len, 0x9e3779b1);
    const slot = (h ^ (h >>> 9) ^ (h >>> 18)) & (PROGRAM_SLOTS - 1);
    const p = this.slots[slot];
    if (p !== undefined && p.bytes.length === len) {
      const b = p.bytes;
      let i = 0;
      while (i < len && b[i] === buf[s + i]) i++;
      if (i === len) return p;
    }
    const name = latin1Slice(buf, s, e);
    const info: ProgramInfo = { name, daemon: isDaemonUnit(name), auth: authProgramKnown(name), bytes: new Uint8Array(buf.subarray(s, e)) };
    this.slots[slot] = info;
    return info;
  }
}

/** Longest host name kept in the one-entry host name cache. */
const HOST_CACHE_BYTES = 256;

/** Wall-clock seconds of one minute of timestamp text, and its UTC conversion when the zone offset is constant. */
class MinuteCache {
  readonly key = new Uint8Array(32);
  len = 0;
  /** Local seconds (fields as if UTC) at second 0 of the minute. */
  local = 0;
  /** UTC seconds at second 0 when `uniform`. */
  utc = 0;
  /** True when seconds 0..59 of the minute all convert with one offset and no DST flag. */
  uniform = false;
  /** `utc` in ns (when uniform). */
  utcNs = 0n;

  hit(buf: Buffer, s: number, e: number): boolean {
    const n = e - s;
    if (n !== this.len) return false;
    const k = this.key;
    for (let i = 0; i < n; i++) if (k[i] !== buf[s + i]) return false;
    return true;
  }

  store(buf: Buffer, s: number, e: number): void {
    const n = e - s;
    for (let i = 0; i < n; i++) this.key[i] = buf[s + i];
    this.len = n;
  }
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
/** JS `\s` over ASCII: tab, LF, VT, FF, CR, space. */
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** n * 1e9 as BigInts for n = 0..60 (a second of a cached minute). */
const SECOND_NS: bigint[] = Array.from({ length: 61 }, (_, n) => BigInt(n) * NS_PER_SECOND);

const FORMAT_3164 = 'rfc3164';
const FORMAT_ISO = 'iso';

/** The synchronous core: lines in, events out. */
export class SyslogSink implements LineSink {
  events: TimelineEvent[] = [];
  /** Benchmarks and the equivalence test only: false sends every line through the reference path. */
  fastPath = true;
  private readonly years = new YearTracker();
  private readonly source: string;
  private readonly fileUnit: string | undefined;
  private readonly kind: string;
  private readonly compressed: boolean;
  private readonly startYear: number;
  private readonly yearSource: YearInfo['source'];
  private readonly tz: string;
  private readonly tzSource: string;
  private readonly zone: HostZone['zone'];
  private readonly programs = new ProgramTable();
  private readonly unitDaemon = new Map<string, boolean>();
  private readonly m3164 = new MinuteCache();
  private readonly mIso = new MinuteCache();
  private readonly hostKey = new Uint8Array(HOST_CACHE_BYTES);
  private hostLen = -1;
  private host = '';
  // fields of the line being parsed by the fast path
  private hostname = '';
  private program: ProgramInfo | undefined;
  private pid: string | number | undefined;
  private msgStart = 0;
  /** The host name's bytes are ASCII (then byte offsets of the line are string offsets up to the message). */
  private hostAscii = true;
  private hostIsAscii = true;

  constructor(
    private readonly info: SyslogFileInfo,
    private readonly conv: LocalTimeConverter,
    private readonly year: YearInfo | undefined,
    private readonly problem: (reason: string) => void,
  ) {
    this.source = info.kind === 'auth.log' || info.kind === 'secure' ? AUTH_SOURCE : SYSLOG_SOURCE;
    this.fileUnit = info.kind === 'docker.log' ? 'dockerd' : info.kind === 'containerd.log' ? 'containerd' : undefined;
    this.kind = info.kind;
    this.compressed = info.compressed;
    this.startYear = year?.startYear ?? 1970;
    this.yearSource = year?.source ?? 'none';
    this.tz = conv.attrs.tz;
    this.tzSource = conv.attrs.tz_source;
    this.zone = conv.hz.zone;
  }

  readonly line = (buf: Buffer, s: number, e: number, offset: number, lineNo: number): void => {
    if (e === s) return;
    if (this.fastPath) {
      const c = buf[s];
      if (c >= 0x41 && c <= 0x5a) {
        if (this.fast3164(buf, s, e, offset, lineNo)) return;
      } else if (c >= 0x30 && c <= 0x39) {
        if (this.fastIso(buf, s, e, offset, lineNo)) return;
      }
    }
    this.slowLine(buf, s, e, offset, lineNo);
  };

  /** The reference path: the decoded line through parseSyslogLine. */
  private slowLine(buf: Buffer, s: number, e: number, offset: number, lineNo: number): void {
    const text = utf8Slice(buf, s, e);
    if (text.startsWith('time="') || text.startsWith('time=20')) {
      this.daemonLine(text, lineNo, offset);
      return;
    }
    const rec = parseSyslogLine(text);
    if (!rec) {
      if (looksBinary(buf, s, e)) this.problem(`line ${lineNo}: binary data (${e - s} bytes at offset ${offset}); skipped`);
      else if (text.trim() !== '') this.problem(`line ${lineNo}: no syslog timestamp: ${JSON.stringify(text.slice(0, 80))}; skipped`);
      return;
    }
    this.record(rec, lineNo, offset);
  }

  private lastSec = Number.NaN;
  private lastSecNs = 0n;
  /** UTC seconds -> ns, memoised (consecutive lines share their second). */
  private secondsNs(sec: number): bigint {
    if (sec !== this.lastSec) {
      this.lastSec = sec;
      this.lastSecNs = BigInt(sec) * NS_PER_SECOND;
    }
    return this.lastSecNs;
  }

  private isDaemonProgram(program: string): boolean {
    let d = this.unitDaemon.get(program);
    if (d === undefined) {
      d = isDaemonUnit(program);
      if (this.unitDaemon.size < 4096) this.unitDaemon.set(program, d);
    }
    return d;
  }

  private daemonLine(text: string, lineNo: number, offset: number): void {
    const de = daemonEventFromMessage(text, this.fileUnit);
    if (!de || de.time === undefined) {
      this.problem(`line ${lineNo}: logfmt line without a valid time=: ${JSON.stringify(text.slice(0, 80))}; skipped`);
      return;
    }
    const attrs: Record<string, unknown> = { log: this.info.kind, ...de.attrs };
    if (this.info.compressed) attrs.compressed = true;
    this.push(de.time, de.source, text, de.rawTime ?? '', lineNo, offset, attrs, de.container_id);
  }

  private record(rec: SyslogLine, lineNo: number, offset: number): void {
    const attrs: Record<string, unknown> = { log: this.info.kind, format: rec.format };
    let time: bigint;
    if (rec.utoff !== undefined && rec.year !== undefined) {
      const local = daysFromCivil(rec.year, rec.month, rec.day) * 86400 + rec.hour * 3600 + rec.minute * 60 + rec.second;
      time = BigInt(local - rec.utoff) * NS_PER_SECOND + BigInt(rec.nanos);
    } else {
      let year = rec.year;
      if (year === undefined) {
        year = this.startYear + this.years.see(rec.month, rec.day);
        this.m3164.len = 0; // the fast path's minute cache assumes it saw the last month
        attrs.year_inferred = true;
        attrs.year_source = this.yearSource;
      }
      const local = daysFromCivil(year, rec.month, rec.day) * 86400 + rec.hour * 3600 + rec.minute * 60 + rec.second;
      const r = this.conv.toUtc(local);
      time = this.secondsNs(r.utc) + (rec.nanos === 0 ? 0n : BigInt(rec.nanos));
      attrs.tz = this.tz;
      attrs.tz_source = this.tzSource;
      if (r.flag === 'ambiguous') attrs.tz_ambiguous = true;
      else if (r.flag === 'gap') attrs.tz_gap = true;
    }
    if (rec.hostname !== undefined) attrs.hostname = rec.hostname;
    if (rec.program !== undefined) attrs.program = rec.program;
    if (rec.pid !== undefined) attrs.pid = /^\d+$/.test(rec.pid) ? Number(rec.pid) : rec.pid;
    if (rec.pri !== undefined) {
      const p = priNames(rec.pri);
      attrs.facility = p.facility;
      attrs.severity = p.severity;
    }
    if (rec.msgid !== undefined) attrs.msgid = rec.msgid;
    if (rec.structuredData !== undefined) attrs.structured_data = rec.structuredData;
    if (this.info.compressed) attrs.compressed = true;
    const daemon = rec.program !== undefined && this.isDaemonProgram(rec.program);
    const auth = rec.program !== undefined && authProgramKnown(rec.program);
    this.complete(attrs, time, rec.rawTime, rec.program, daemon, auth, rec.message, lineNo, offset);
  }

  /** Daemon events and auth attrs from the message, then the event. */
  private complete(
    attrs: Record<string, unknown>,
    time: bigint,
    syslogTime: string,
    program: string | undefined,
    daemonProgram: boolean,
    authProgram: boolean,
    message: string,
    lineNo: number,
    offset: number,
  ): void {
    let source = this.source;
    let containerId: string | undefined;
    let rawTime = syslogTime;
    if (program !== undefined && (daemonProgram || this.fileUnit) && message.length > 0) {
      const de = daemonEventFromMessage(message, daemonProgram ? program : this.fileUnit);
      if (de) {
        source = de.source;
        containerId = de.container_id;
        const da = de.attrs;
        // Object.assign(attrs, rest-without-pid) of the reference code; the builtin copy is much cheaper than
        // keyed stores one by one, and putting back a pid attrs already holds keeps its place and value.
        if (!('pid' in da)) Object.assign(attrs, da);
        else if (attrs.pid !== undefined) {
          const pid = attrs.pid;
          Object.assign(attrs, da);
          attrs.pid = pid;
        } else {
          for (const k in da) if (k !== 'pid') attrs[k] = da[k];
        }
        if (da.pid !== undefined) attrs.daemon_pid = da.pid;
        if (de.time !== undefined) {
          attrs.syslog_time = syslogTime;
          time = de.time;
          rawTime = de.rawTime ?? rawTime;
        }
      }
    } else if (authProgram || message.startsWith(AUTH_ANY_PROGRAM_PREFIX)) {
      const auth = parseAuthMessage(program, message);
      if (auth) {
        for (const k in auth) attrs[k in attrs ? `auth_${k}` : k] = auth[k];
      }
    }
    this.push(time, source, message, rawTime, lineNo, offset, attrs, containerId);
  }

  /**
   * `host tag[pid]: ` from byte h on (what parseSyslogLine's hostAndTag does on the decoded text): sets
   * hostname, program, pid and msgStart; false (hand the line over) for what the fast path does not take.
   */
  private hostAndTag(buf: Buffer, h: number, e: number): boolean {
    // host name (any bytes but space; usually the same on every line): the cached one first
    let sp = h + this.hostLen;
    let same = this.hostLen > 0 && sp < e && buf[sp] === 0x20;
    if (same) {
      const k = this.hostKey;
      for (let i = 0; i < this.hostLen; i++) {
        if (k[i] !== buf[h + i]) {
          same = false;
          break;
        }
      }
    }
    if (!same) {
      sp = h;
      while (sp < e && buf[sp] !== 0x20) sp++;
      if (sp === h || sp === e) return false; // no host name or nothing after it: rare, the reference path decides
    }
    const hl = sp - h;
    if (!same) {
      this.host = utf8Slice(buf, h, sp);
      let or = 0;
      for (let i = h; i < sp; i++) or |= buf[i];
      this.hostIsAscii = or < 0x80;
      if (hl <= HOST_CACHE_BYTES) {
        for (let i = 0; i < hl; i++) this.hostKey[i] = buf[h + i];
        this.hostLen = hl;
      } else {
        this.hostLen = -1;
      }
    }
    this.hostname = this.host;
    this.hostAscii = this.hostIsAscii;
    // tag: RE_TAG /^([^\s[\]:]{1,128})(?:\[([^\]\s]{0,32})\])?:(?: |$)/ on the text after the host name
    const a = sp + 1;
    let j = a;
    let c = 0;
    let hash = 0;
    while (j < e) {
      c = buf[j];
      if (c >= 0x80) return false; // a non-ASCII tag: \s has Unicode members; the reference path decides
      if (c === 0x3a || c === 0x5b || c === 0x5d || isSpace(c)) break;
      hash = (Math.imul(hash, 31) + c) | 0;
      j++;
    }
    this.program = undefined;
    this.pid = undefined;
    this.msgStart = a;
    const len = j - a;
    if (j === e || len === 0 || len > 128) return true; // no tag: the message is all after the host name
    let colon = j;
    let pidStart = -1;
    if (c === 0x5b) {
      let k = j + 1;
      while (k < e) {
        const d = buf[k];
        if (d >= 0x80) return false;
        if (d === 0x5d || isSpace(d)) break;
        k++;
      }
      if (k === e || buf[k] !== 0x5d || k - (j + 1) > 32) return true;
      pidStart = j + 1;
      colon = k + 1;
    } else if (c !== 0x3a) {
      return true;
    }
    if (colon >= e || buf[colon] !== 0x3a) return true;
    if (colon + 1 < e && buf[colon + 1] !== 0x20) return true;
    this.program = this.programs.lookup(buf, a, j, hash);
    if (pidStart >= 0 && colon - 1 > pidStart) {
      // `/^\d+$/.test(pid) ? Number(pid) : pid`
      const pe = colon - 1;
      let n = 0;
      let digits = true;
      for (let i = pidStart; i < pe; i++) {
        const d = buf[i];
        if (d < 0x30 || d > 0x39) {
          digits = false;
          break;
        }
        n = n * 10 + (d - 0x30);
      }
      this.pid = !digits ? latin1Slice(buf, pidStart, pe) : pe - pidStart <= 15 ? n : Number(latin1Slice(buf, pidStart, pe));
    }
    this.msgStart = colon + 1 < e ? colon + 2 : e;
    return true;
  }

  /** `Mmm dd hh:mm:ss[.fffffffff] host tag[pid]: message`; false hands the line to the reference path. */
  private fast3164(buf: Buffer, s: number, e: number, offset: number, lineNo: number): boolean {
    // RE_3164 /^([A-Z][a-z]{2}) ([ \d]?\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? /
    if (e - s < 16 || buf[s + 3] !== 0x20) return false;
    const b4 = buf[s + 4];
    const b5 = buf[s + 5];
    let day: number;
    let t: number; // start of hh
    if (b4 === 0x20 && isDigit(b5) && buf[s + 6] === 0x20) {
      day = b5 - 0x30;
      t = s + 7;
    } else if (isDigit(b4) && isDigit(b5) && buf[s + 6] === 0x20) {
      day = (b4 - 0x30) * 10 + (b5 - 0x30);
      t = s + 7;
    } else if (isDigit(b4) && b5 === 0x20) {
      day = b4 - 0x30;
      t = s + 6;
    } else {
      return false;
    }
    if (t + 9 > e) return false;
    const h1 = buf[t];
    const h2 = buf[t + 1];
    const m1 = buf[t + 3];
    const m2 = buf[t + 4];
    const s1 = buf[t + 6];
    const s2 = buf[t + 7];
    if (
      !isDigit(h1) || !isDigit(h2) || buf[t + 2] !== 0x3a || !isDigit(m1) || !isDigit(m2) || buf[t + 5] !== 0x3a ||
      !isDigit(s1) || !isDigit(s2)
    ) {
      return false;
    }
    let p = t + 8;
    let nanos = 0;
    if (buf[p] === 0x2e) {
      let q = p + 1;
      let scale = 100_000_000;
      while (q < e && isDigit(buf[q]) && q - p <= 9) {
        nanos += (buf[q] - 0x30) * scale;
        scale /= 10;
        q++;
      }
      if (q === p + 1 || q - p > 9 + 1) return false;
      p = q;
    }
    if (p >= e || buf[p] !== 0x20) return false;
    const second = (s1 - 0x30) * 10 + (s2 - 0x30);
    const hour = (h1 - 0x30) * 10 + (h2 - 0x30);
    const minute = (m1 - 0x30) * 10 + (m2 - 0x30);
    if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
    const mc = this.m3164;
    const minuteEnd = t + 5;
    const hit = mc.hit(buf, s, minuteEnd);
    let month = 0;
    if (!hit) {
      month = monthAt(buf, s);
      if (month === 0) return false; // not a month name (nor [A-Z][a-z]{2}): the reference path reports it
    }
    if (!this.hostAndTag(buf, p + 1, e)) return false;
    // committed: from here on the line is an event
    if (!hit) {
      const year = this.startYear + this.years.see(month, day);
      mc.store(buf, s, minuteEnd);
      this.minute(mc, daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60);
    }
    let time: bigint;
    let flag: 'ambiguous' | 'gap' | undefined;
    if (mc.uniform && second < 60) {
      time = mc.utcNs + SECOND_NS[second];
    } else {
      const r = this.conv.toUtc(mc.local + second);
      time = this.secondsNs(r.utc);
      flag = r.flag;
    }
    if (nanos !== 0) time += BigInt(nanos);
    const prog = this.program;
    const pid = this.pid;
    let attrs: Record<string, unknown>;
    if (flag === undefined && prog !== undefined && pid !== undefined) {
      // the usual line, as one literal (the same keys in the same order as below)
      attrs = {
        log: this.kind,
        format: FORMAT_3164,
        year_inferred: true,
        year_source: this.yearSource,
        tz: this.tz,
        tz_source: this.tzSource,
        hostname: this.hostname,
        program: prog.name,
        pid,
      };
    } else {
      attrs = {
        log: this.kind,
        format: FORMAT_3164,
        year_inferred: true,
        year_source: this.yearSource,
        tz: this.tz,
        tz_source: this.tzSource,
      };
      if (flag === 'ambiguous') attrs.tz_ambiguous = true;
      else if (flag === 'gap') attrs.tz_gap = true;
      this.hostProgramPid(attrs);
    }
    this.tail(buf, s, p, e, attrs, time, offset, lineNo);
    return true;
  }

  /** Sets the minute's local start and, when its offset is constant over seconds 0..59, its UTC start. */
  private minute(mc: MinuteCache, local: number): void {
    mc.local = local;
    const r0 = this.zone.localToUtc(local);
    const r59 = this.zone.localToUtc(local + 59);
    // The zone assumes at most one offset change within a day; equal unflagged offsets at both ends of the
    // minute then hold for every second between.
    mc.uniform = !r0.ambiguous && !r0.gap && !r59.ambiguous && !r59.gap && r59.utc - r0.utc === 59;
    mc.utc = r0.utc;
    if (mc.uniform) mc.utcNs = BigInt(r0.utc) * NS_PER_SECOND;
  }

  /** `YYYY-MM-DD[T ]hh:mm:ss[.,]frac[Z|±hh[:]mm] host tag[pid]: message`; false hands the line over. */
  private fastIso(buf: Buffer, s: number, e: number, offset: number, lineNo: number): boolean {
    // RE_ISO /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9})\d*)?(Z|[+-]\d\d:?\d\d)? /
    if (e - s < 21) return false;
    const sep = buf[s + 10];
    if (
      !isDigit(buf[s + 1]) || !isDigit(buf[s + 2]) || !isDigit(buf[s + 3]) || buf[s + 4] !== 0x2d ||
      !isDigit(buf[s + 5]) || !isDigit(buf[s + 6]) || buf[s + 7] !== 0x2d || !isDigit(buf[s + 8]) || !isDigit(buf[s + 9]) ||
      (sep !== 0x54 && sep !== 0x20) || !isDigit(buf[s + 11]) || !isDigit(buf[s + 12]) || buf[s + 13] !== 0x3a ||
      !isDigit(buf[s + 14]) || !isDigit(buf[s + 15]) || buf[s + 16] !== 0x3a || !isDigit(buf[s + 17]) || !isDigit(buf[s + 18])
    ) {
      return false;
    }
    let p = s + 19;
    let nanos = 0;
    const f = buf[p];
    if (f === 0x2e || f === 0x2c) {
      let q = p + 1;
      let scale = 100_000_000;
      while (q < e && isDigit(buf[q])) {
        if (q - p <= 9) nanos += (buf[q] - 0x30) * scale;
        scale /= 10;
        q++;
      }
      if (q === p + 1) return false;
      p = q;
    }
    let utoff: number | undefined;
    const z = buf[p];
    if (z === 0x5a) {
      utoff = 0;
      p++;
    } else if (z === 0x2b || z === 0x2d) {
      if (p + 5 >= e || !isDigit(buf[p + 1]) || !isDigit(buf[p + 2])) return false;
      let q = p + 3;
      if (buf[q] === 0x3a) q++;
      if (q + 2 > e || !isDigit(buf[q]) || !isDigit(buf[q + 1])) return false;
      const off = ((buf[p + 1] - 0x30) * 10 + (buf[p + 2] - 0x30)) * 3600 + ((buf[q] - 0x30) * 10 + (buf[q + 1] - 0x30)) * 60;
      utoff = z === 0x2d ? -off : off;
      p = q + 2;
    }
    if (p >= e || buf[p] !== 0x20) return false;
    const d2 = (c: number): number => (buf[c] - 0x30) * 10 + (buf[c + 1] - 0x30);
    const month = d2(s + 5);
    const day = d2(s + 8);
    const hour = d2(s + 11);
    const minute = d2(s + 14);
    const second = d2(s + 17);
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
    if (!this.hostAndTag(buf, p + 1, e)) return false;
    // committed
    const mc = this.mIso;
    const minuteEnd = s + 16;
    if (!mc.hit(buf, s, minuteEnd)) {
      const year = (buf[s] - 0x30) * 1000 + (buf[s + 1] - 0x30) * 100 + d2(s + 2);
      mc.store(buf, s, minuteEnd);
      mc.local = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60;
      mc.uniform = false;
      mc.utc = Number.NaN;
    }
    let time: bigint;
    const attrs: Record<string, unknown> = { log: this.kind, format: FORMAT_ISO };
    if (utoff !== undefined) {
      time = this.secondsNs(mc.local + second - utoff);
    } else {
      if (Number.isNaN(mc.utc)) this.minute(mc, mc.local);
      attrs.tz = this.tz;
      attrs.tz_source = this.tzSource;
      if (mc.uniform && second < 60) {
        time = this.secondsNs(mc.utc + second);
      } else {
        const r = this.conv.toUtc(mc.local + second);
        time = this.secondsNs(r.utc);
        if (r.flag === 'ambiguous') attrs.tz_ambiguous = true;
        else if (r.flag === 'gap') attrs.tz_gap = true;
      }
    }
    if (nanos !== 0) time += BigInt(nanos);
    this.hostProgramPid(attrs);
    this.tail(buf, s, p, e, attrs, time, offset, lineNo);
    return true;
  }

  private hostProgramPid(attrs: Record<string, unknown>): void {
    attrs.hostname = this.hostname;
    if (this.program !== undefined) attrs.program = this.program.name;
    if (this.pid !== undefined) attrs.pid = this.pid;
  }

  /** The fast path's raw time [s, te) and message, then complete. */
  private tail(buf: Buffer, s: number, te: number, e: number, attrs: Record<string, unknown>, time: bigint, offset: number, lineNo: number): void {
    if (this.compressed) attrs.compressed = true;
    const ms = this.msgStart;
    let rawTime: string;
    let message: string;
    if (this.hostAscii && ms < e) {
      // one decode: the header is ASCII, so string offsets are byte offsets up to the message
      const text = utf8Slice(buf, s, e);
      rawTime = text.slice(0, te - s);
      message = text.slice(ms - s);
    } else {
      rawTime = latin1Slice(buf, s, te);
      message = ms < e ? utf8Slice(buf, ms, e) : '';
    }
    const prog = this.program;
    if (prog === undefined) this.complete(attrs, time, rawTime, undefined, false, false, message, lineNo, offset);
    else this.complete(attrs, time, rawTime, prog.name, prog.daemon, prog.auth, message, lineNo, offset);
  }

  private push(
    time: bigint,
    source: string,
    message: string,
    rawTime: string,
    line: number,
    offset: number,
    attrs: Record<string, unknown>,
    containerId: string | undefined,
  ): void {
    const ev: TimelineEvent = {
      time,
      timestamp_desc: TimeDesc.recorded,
      source,
      host: this.info.host,
      message,
      path: this.info.path,
      inode: this.info.inode,
      line,
      offset,
      raw_time: rawTime,
      attrs,
    };
    if (containerId) ev.container_id = containerId;
    this.events.push(ev);
  }
}
