// Time zones from the evidence: the TZif binary format (/etc/localtime, /usr/share/zoneinfo/*), the POSIX TZ
// string of its footer, and a deterministic local-time -> UTC conversion.
//
// References: RFC 8536 "The Time Zone Information Format (TZif)" (sections 3.1 header, 3.2 data block, 3.3
// footer; versions 1-4); POSIX.1-2017 Base Definitions 8.3 (the TZ variable: std offset dst [offset]
// [,start[/time],end[/time]], Jn / n / Mm.w.d rules); tzcode `localtime.c` (tzparse, getrule) for the v3
// extensions (rule times from -167 to 167 hours). docs/formats/tzif.md.
//
// Ambiguous and missing local times (daylight-saving overlaps and gaps) resolve like Temporal's and java.time's
// default ("compatible"): an ambiguous wall time takes the EARLIER instant (the offset in force before the
// change), a wall time inside a gap is read with the offset in force before the gap (so it lands after the
// jump). Both cases are reported to the caller, which marks the event.
import { civilFromDays, daysFromCivil } from '../../events/time.js';

/** TZif files of real zones are a few KiB; a "fat" one with 2037 transitions stays under 64 KiB. */
export const MAX_TZIF_BYTES = 1024 * 1024;
/** Transitions in one data block (zic writes at most a few thousand). */
export const MAX_TZIF_TRANSITIONS = 65536;
/** Local time types: the transition-type index is one byte, so 256 at most (RFC 8536 3.2). */
export const MAX_TZIF_TYPES = 256;
/** Bytes of time zone designations (abbreviations with NULs). */
export const MAX_TZIF_CHARS = 4096;
/** Leap-second records (the "right/" zones hold ~27). */
export const MAX_TZIF_LEAPS = 1024;
/** Longest POSIX TZ footer we parse. */
export const MAX_TZ_STRING = 256;

export class TzifError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TzifError';
  }
}

export interface LocalTimeType {
  /** Seconds east of UTC (RFC 8536 utoff). */
  utoff: number;
  isDst: boolean;
  abbr: string;
}

export interface TzifData {
  /** 1, 2, 3 or 4 (version byte NUL = 1). */
  version: number;
  /** Transition times, seconds since the epoch (UTC), strictly ascending. */
  transitions: number[];
  /** Index into `types` for each transition. */
  transitionTypes: Uint8Array;
  types: LocalTimeType[];
  leapCount: number;
  /** The footer TZ string (v2+), '' when empty or absent. */
  footer: string;
}

// RFC 8536 3.1: the 44-byte header.
//   magic[4] "TZif" | version[1] | unused[15] | isutcnt u32 | isstdcnt u32 | leapcnt u32 | timecnt u32 |
//   typecnt u32 | charcnt u32   (all integers big-endian)
const TZIF_HEADER = {
  magic: 0,
  version: 4,
  tzh_ttisutcnt: 20,
  tzh_ttisstdcnt: 24,
  tzh_leapcnt: 28,
  tzh_timecnt: 32,
  tzh_typecnt: 36,
  tzh_charcnt: 40,
  size: 44,
} as const;
/** RFC 8536 3.2: one local time type record: utoff i32, isdst u8, desigidx u8. */
const TTINFO_SIZE = 6;

interface Header {
  version: number;
  isutcnt: number;
  isstdcnt: number;
  leapcnt: number;
  timecnt: number;
  typecnt: number;
  charcnt: number;
}

function readHeader(dv: DataView, at: number, where: string): Header {
  if (at + TZIF_HEADER.size > dv.byteLength) {
    throw new TzifError(`${where}: header at offset ${at} needs ${TZIF_HEADER.size} bytes, file has ${dv.byteLength - at}`);
  }
  const magic = String.fromCharCode(dv.getUint8(at), dv.getUint8(at + 1), dv.getUint8(at + 2), dv.getUint8(at + 3));
  if (magic !== 'TZif') throw new TzifError(`${where}: magic ${JSON.stringify(magic)} at offset ${at}, expected "TZif"`);
  const vb = dv.getUint8(at + TZIF_HEADER.version);
  const version = vb === 0 ? 1 : vb - 0x30;
  if (version < 1 || version > 9) throw new TzifError(`${where}: version byte 0x${vb.toString(16)}, expected NUL or '2'..'4'`);
  const h: Header = {
    version,
    isutcnt: dv.getUint32(at + TZIF_HEADER.tzh_ttisutcnt),
    isstdcnt: dv.getUint32(at + TZIF_HEADER.tzh_ttisstdcnt),
    leapcnt: dv.getUint32(at + TZIF_HEADER.tzh_leapcnt),
    timecnt: dv.getUint32(at + TZIF_HEADER.tzh_timecnt),
    typecnt: dv.getUint32(at + TZIF_HEADER.tzh_typecnt),
    charcnt: dv.getUint32(at + TZIF_HEADER.tzh_charcnt),
  };
  const limit = (name: string, v: number, max: number): void => {
    if (v > max) throw new TzifError(`${where}: ${name} is ${v}, limit ${max}`);
  };
  limit('timecnt (MAX_TZIF_TRANSITIONS)', h.timecnt, MAX_TZIF_TRANSITIONS);
  limit('typecnt (MAX_TZIF_TYPES)', h.typecnt, MAX_TZIF_TYPES);
  limit('charcnt (MAX_TZIF_CHARS)', h.charcnt, MAX_TZIF_CHARS);
  limit('leapcnt (MAX_TZIF_LEAPS)', h.leapcnt, MAX_TZIF_LEAPS);
  if (h.typecnt === 0) throw new TzifError(`${where}: typecnt is 0, RFC 8536 requires at least one local time type`);
  if (h.isutcnt !== 0 && h.isutcnt !== h.typecnt) throw new TzifError(`${where}: isutcnt ${h.isutcnt}, expected 0 or typecnt ${h.typecnt}`);
  if (h.isstdcnt !== 0 && h.isstdcnt !== h.typecnt) throw new TzifError(`${where}: isstdcnt ${h.isstdcnt}, expected 0 or typecnt ${h.typecnt}`);
  return h;
}

function blockSize(h: Header, timeSize: 4 | 8): number {
  return (
    h.timecnt * timeSize + h.timecnt + h.typecnt * TTINFO_SIZE + h.charcnt + h.leapcnt * (timeSize + 4) + h.isstdcnt + h.isutcnt
  );
}

function readBlock(dv: DataView, at: number, h: Header, timeSize: 4 | 8, where: string): Omit<TzifData, 'version' | 'footer'> {
  const size = blockSize(h, timeSize);
  if (at + size > dv.byteLength) {
    throw new TzifError(`${where}: data block at offset ${at} needs ${size} bytes, file has ${dv.byteLength - at} (truncated)`);
  }
  let p = at;
  const transitions: number[] = new Array(h.timecnt);
  for (let i = 0; i < h.timecnt; i++) {
    transitions[i] = timeSize === 8 ? Number(dv.getBigInt64(p)) : dv.getInt32(p);
    if (i > 0 && transitions[i] <= transitions[i - 1]) {
      throw new TzifError(`${where}: transition ${i} (${transitions[i]}) not after transition ${i - 1} (${transitions[i - 1]})`);
    }
    p += timeSize;
  }
  const transitionTypes = new Uint8Array(h.timecnt);
  for (let i = 0; i < h.timecnt; i++) {
    const t = dv.getUint8(p++);
    if (t >= h.typecnt) throw new TzifError(`${where}: transition ${i} has type ${t}, only ${h.typecnt} types`);
    transitionTypes[i] = t;
  }
  const raw: Array<{ utoff: number; isDst: boolean; idx: number }> = [];
  for (let i = 0; i < h.typecnt; i++) {
    const utoff = dv.getInt32(p);
    const isdst = dv.getUint8(p + 4);
    const idx = dv.getUint8(p + 5);
    // RFC 8536 3.2: utoff SHOULD be in [-89999, 93599]; -2**31 MUST NOT be used.
    if (utoff <= -90000 || utoff >= 93600) throw new TzifError(`${where}: type ${i} utoff ${utoff} outside [-89999, 93599]`);
    if (isdst > 1) throw new TzifError(`${where}: type ${i} isdst ${isdst}, expected 0 or 1`);
    if (idx >= h.charcnt) throw new TzifError(`${where}: type ${i} desigidx ${idx}, charcnt ${h.charcnt}`);
    raw.push({ utoff, isDst: isdst === 1, idx });
    p += TTINFO_SIZE;
  }
  const chars = new Uint8Array(dv.buffer, dv.byteOffset + p, h.charcnt);
  const types = raw.map((r) => {
    let e = r.idx;
    while (e < chars.length && chars[e] !== 0) e++;
    return { utoff: r.utoff, isDst: r.isDst, abbr: String.fromCharCode(...chars.subarray(r.idx, e)) };
  });
  return { transitions, transitionTypes, types, leapCount: h.leapcnt };
}

/** Parses a TZif file (v1 data only for version 1, else the 64-bit v2+ block and the footer). Throws TzifError. */
export function parseTzif(bytes: Uint8Array, where = 'TZif'): TzifData {
  if (bytes.length > MAX_TZIF_BYTES) throw new TzifError(`${where}: ${bytes.length} bytes, limit ${MAX_TZIF_BYTES} (MAX_TZIF_BYTES)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h1 = readHeader(dv, 0, where);
  if (h1.version === 1) {
    return { version: 1, footer: '', ...readBlock(dv, TZIF_HEADER.size, h1, 4, where) };
  }
  const at2 = TZIF_HEADER.size + blockSize(h1, 4);
  const h2 = readHeader(dv, at2, `${where} (v2+ header)`);
  const block = readBlock(dv, at2 + TZIF_HEADER.size, h2, 8, `${where} (v2+ data)`);
  let p = at2 + TZIF_HEADER.size + blockSize(h2, 8);
  let footer = '';
  if (p < bytes.length) {
    if (bytes[p] !== 0x0a) throw new TzifError(`${where}: footer at offset ${p} does not start with a newline`);
    p++;
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) throw new TzifError(`${where}: footer at offset ${p} has no closing newline`);
    if (end - p > MAX_TZ_STRING) throw new TzifError(`${where}: footer TZ string is ${end - p} bytes, limit ${MAX_TZ_STRING}`);
    footer = String.fromCharCode(...bytes.subarray(p, end));
  }
  return { version: h2.version, footer, ...block };
}

// ---------------------------------------------------------------------------------------------------------------
// POSIX TZ strings.

/** A daylight-saving rule date: Julian day without Feb 29, zero-based day with it, or month.week.weekday. */
export type TzRuleDate =
  | { kind: 'J'; day: number }
  | { kind: 'n'; day: number }
  | { kind: 'M'; month: number; week: number; weekday: number };

export interface TzRule {
  date: TzRuleDate;
  /** Local seconds after midnight (may be negative or over 24 h in TZif v3). */
  time: number;
}

export interface PosixTz {
  std: LocalTimeType;
  dst?: LocalTimeType & { start: TzRule; end: TzRule };
}

/** Parses a POSIX TZ string (`CET-1CEST,M3.5.0,M10.5.0/3`); undefined when it is not one. */
export function parsePosixTz(s: string): PosixTz | undefined {
  if (s.length === 0 || s.length > MAX_TZ_STRING) return undefined;
  let p = 0;
  const name = (): string | undefined => {
    if (s[p] === '<') {
      const e = s.indexOf('>', p);
      if (e < 0) return undefined;
      const n = s.slice(p + 1, e);
      p = e + 1;
      return /^[A-Za-z0-9+-]{3,}$/.test(n) ? n : undefined;
    }
    const m = /^[A-Za-z]{3,}/.exec(s.slice(p));
    if (!m) return undefined;
    p += m[0].length;
    return m[0];
  };
  // hh[:mm[:ss]] with optional sign; hours up to `maxH`.
  const hms = (maxH: number): number | undefined => {
    const m = /^([+-])?(\d{1,3})(?::(\d{1,2})(?::(\d{1,2}))?)?/.exec(s.slice(p));
    if (!m) return undefined;
    const h = Number(m[2]);
    const mi = m[3] ? Number(m[3]) : 0;
    const se = m[4] ? Number(m[4]) : 0;
    if (h > maxH || mi > 59 || se > 59) return undefined;
    p += m[0].length;
    return (m[1] === '-' ? -1 : 1) * (h * 3600 + mi * 60 + se);
  };
  const stdName = name();
  if (stdName === undefined) return undefined;
  const stdOff = hms(24);
  if (stdOff === undefined) return undefined;
  const std: LocalTimeType = { utoff: -stdOff || 0, isDst: false, abbr: stdName };
  if (p === s.length) return { std };
  const dstName = name();
  if (dstName === undefined) return undefined;
  let dstUtoff = std.utoff + 3600;
  if (p < s.length && s[p] !== ',') {
    const o = hms(24);
    if (o === undefined) return undefined;
    dstUtoff = -o || 0;
  }
  const rule = (): TzRule | undefined => {
    let date: TzRuleDate;
    let m: RegExpExecArray | null;
    const rest = s.slice(p);
    if ((m = /^M(\d{1,2})\.(\d)\.(\d)/.exec(rest))) {
      const month = Number(m[1]);
      const week = Number(m[2]);
      const weekday = Number(m[3]);
      if (month < 1 || month > 12 || week < 1 || week > 5 || weekday > 6) return undefined;
      date = { kind: 'M', month, week, weekday };
    } else if ((m = /^J(\d{1,3})/.exec(rest))) {
      const day = Number(m[1]);
      if (day < 1 || day > 365) return undefined;
      date = { kind: 'J', day };
    } else if ((m = /^(\d{1,3})/.exec(rest))) {
      const day = Number(m[1]);
      if (day > 365) return undefined;
      date = { kind: 'n', day };
    } else {
      return undefined;
    }
    p += m[0].length;
    let time = 7200;
    if (s[p] === '/') {
      p++;
      const t = hms(167);
      if (t === undefined) return undefined;
      time = t;
    }
    return { date, time };
  };
  let start: TzRule | undefined;
  let end: TzRule | undefined;
  if (p === s.length) {
    // POSIX leaves the default rule to the implementation; tzcode uses the US rules.
    start = { date: { kind: 'M', month: 3, week: 2, weekday: 0 }, time: 7200 };
    end = { date: { kind: 'M', month: 11, week: 1, weekday: 0 }, time: 7200 };
  } else {
    if (s[p] !== ',') return undefined;
    p++;
    start = rule();
    if (!start || s[p] !== ',') return undefined;
    p++;
    end = rule();
    if (!end || p !== s.length) return undefined;
  }
  return { std, dst: { utoff: dstUtoff, isDst: true, abbr: dstName, start, end } };
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function yearOf(sec: number): number {
  return civilFromDays(Math.floor(sec / 86400))[0];
}

/** Local seconds (since the epoch, as if local were UTC) of a rule's moment in `year`. */
function ruleLocalSeconds(rule: TzRule, year: number): number {
  const jan1 = daysFromCivil(year, 1, 1);
  let day: number;
  const d = rule.date;
  if (d.kind === 'J') {
    day = jan1 + d.day - 1 + (isLeap(year) && d.day >= 60 ? 1 : 0);
  } else if (d.kind === 'n') {
    day = jan1 + d.day;
  } else {
    const first = daysFromCivil(year, d.month, 1);
    const firstWeekday = (((first + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    let dom = 1 + ((d.weekday - firstWeekday + 7) % 7) + (d.week - 1) * 7;
    const len = d.month === 2 && isLeap(year) ? 29 : MONTH_DAYS[d.month - 1];
    while (dom > len) dom -= 7;
    day = first + dom - 1;
  }
  return day * 86400 + rule.time;
}

/** The local time type a POSIX TZ gives at UTC second t. */
export function posixTzTypeAt(tz: PosixTz, t: number): LocalTimeType {
  const dst = tz.dst;
  if (!dst) return tz.std;
  const year = yearOf(t + tz.std.utoff);
  for (const y of [year - 1, year, year + 1]) {
    // Is t inside this year's DST period? (start is given in standard time, end in daylight time)
    const s = ruleLocalSeconds(dst.start, y) - tz.std.utoff;
    const e = ruleLocalSeconds(dst.end, y) - dst.utoff;
    if (s < e) {
      if (t >= s && t < e) return dst;
    } else if (y === year) {
      // Southern hemisphere: DST spans the new year.
      return t >= e && t < s ? tz.std : dst;
    }
  }
  return tz.std;
}

// ---------------------------------------------------------------------------------------------------------------
// Zones.

export interface LocalToUtc {
  /** UTC seconds. */
  utc: number;
  /** The offset used (seconds east of UTC). */
  utoff: number;
  /** The wall time occurs twice (DST overlap); the earlier instant was taken. */
  ambiguous?: boolean;
  /** The wall time never occurred (DST gap); read with the offset before the gap. */
  gap?: boolean;
}

/** A time zone: the local time type at any UTC second, and wall time -> UTC. */
export abstract class Zone {
  constructor(readonly name: string) {}
  abstract typeAt(utcSec: number): LocalTimeType;

  utoffAt(utcSec: number): number {
    return this.typeAt(utcSec).utoff;
  }

  /**
   * Wall-clock seconds (local date and time counted as if they were UTC) -> UTC seconds. Deterministic for
   * DST overlaps (earlier instant) and gaps (offset before the gap), as Temporal's "compatible" choice.
   * Assumes at most one offset change within a day of the wall time (true of every tzdb zone).
   */
  localToUtc(local: number): LocalToUtc {
    const before = this.utoffAt(local - 86400);
    const after = this.utoffAt(local + 86400);
    if (before === after && this.utoffAt(local - before) === before) return { utc: local - before, utoff: before };
    const valid: number[] = [];
    for (const o of before === after ? [before] : [before, after]) {
      if (this.utoffAt(local - o) === o) valid.push(o);
    }
    if (valid.length === 1) return { utc: local - valid[0], utoff: valid[0] };
    if (valid.length > 1) {
      const o = Math.max(...valid); // the larger offset is the earlier instant
      return { utc: local - o, utoff: o, ambiguous: true };
    }
    return { utc: local - before, utoff: before, gap: true };
  }
}

export class FixedZone extends Zone {
  private readonly type: LocalTimeType;
  constructor(name: string, utoff = 0, abbr = name) {
    super(name);
    this.type = { utoff, isDst: false, abbr };
  }
  typeAt(): LocalTimeType {
    return this.type;
  }
}

export class PosixZone extends Zone {
  constructor(
    name: string,
    readonly tz: PosixTz,
  ) {
    super(name);
  }
  typeAt(utcSec: number): LocalTimeType {
    return posixTzTypeAt(this.tz, utcSec);
  }
}

/** A zone read from TZif data: transitions, then the footer rule after the last one. */
export class TzifZone extends Zone {
  readonly footerTz: PosixTz | undefined;
  constructor(
    name: string,
    readonly data: TzifData,
  ) {
    super(name);
    this.footerTz = data.footer ? parsePosixTz(data.footer) : undefined;
  }

  typeAt(t: number): LocalTimeType {
    const tr = this.data.transitions;
    const n = tr.length;
    if (n === 0 || t >= tr[n - 1]) {
      if (this.footerTz) return posixTzTypeAt(this.footerTz, t);
      if (n === 0) return this.data.types[0];
      return this.data.types[this.data.transitionTypes[n - 1]];
    }
    if (t < tr[0]) return this.data.types[0];
    let lo = 0;
    let hi = n - 1; // tr[lo] <= t < tr[hi]
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (tr[mid] <= t) lo = mid;
      else hi = mid;
    }
    return this.data.types[this.data.transitionTypes[lo]];
  }
}

/** Intl-backed zone (ICU's tz database), for a zone name when no TZif data is at hand. Cached per 15 minutes. */
export class IntlZone extends Zone {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly cache = new Map<number, number>();
  constructor(name: string) {
    super(name);
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
  }
  typeAt(t: number): LocalTimeType {
    const key = Math.floor(t / 900);
    let off = this.cache.get(key);
    if (off === undefined) {
      const sec = key * 900;
      const parts: Record<string, string> = {};
      for (const p of this.fmt.formatToParts(new Date(sec * 1000))) parts[p.type] = p.value;
      let y = Number(parts.year);
      if (parts.era === 'BC' || parts.era === 'B') y = 1 - y;
      const local = daysFromCivil(y, Number(parts.month), Number(parts.day)) * 86400 +
        Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second);
      off = local - sec;
      if (this.cache.size > 4096) this.cache.clear();
      this.cache.set(key, off);
    }
    return { utoff: off, isDst: false, abbr: '' };
  }
}

/** True when Intl knows the zone name. */
export function intlKnowsZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
