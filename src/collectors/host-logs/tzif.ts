// Time zones from the evidence: the TZif binary format (/etc/localtime, /usr/share/zoneinfo/*), the POSIX TZ
// string of its footer, and a deterministic local-time -> UTC conversion.
//
// References: RFC 8536 "The Time Zone Information Format (TZif)" (sections 3.1 header, 3.2 data block, 3.3
// footer; versions 1-4); POSIX.1-2017 Base Definitions 8.3 (the TZ variable: std offset dst [offset]
// [,start[/time],end[/time]], Jn / n / Mm.w.d rules); tzcode `localtime.c` (tzparse, getrule) for the v3
// extensions (rule times from -167 to 167 hours). docs/formats/tzif.md.
//
// This module parses the TZif binary format; POSIX TZ strings are in posix-tz.ts and zones (local -> UTC, with the
// choices for DST overlaps and gaps) in tz-zones.ts. It re-exports both, so the time zone library has one entry point.
import { MAX_TZ_STRING } from './posix-tz.js';

export {
  MAX_TZ_STRING,
  type PosixTz,
  type TzRule,
  type TzRuleDate,
  parsePosixTz,
  posixTzTypeAt,
} from './posix-tz.js';
export { FixedZone, IntlZone, type LocalToUtc, PosixZone, TzifZone, Zone, intlKnowsZone } from './tz-zones.js';

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
