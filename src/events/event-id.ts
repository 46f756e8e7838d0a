// Deterministic ids of timeline events, so a lifecycle transition can name the events that prove it and a
// reader can find them in timeline.jsonl. The id depends only on where the event came from and when it says it
// happened, never on attrs or on the order of collection: the same evidence always gives the same ids.
//
// Key: host, source, path, container id, timestamp_desc, then position in the file (byte offset when known, else
// line number, else the message) and time (ns). The first four repeat from event to event, so the hash state after them is cached
// and each event hashes only its short tail: every output row carries its id at little cost. Events read twice through different readers (a json-file record seen by the
// lifecycle pre-pass from a tail window and by the full timeline read) share the key because both carry the
// record's byte offset. Hash: FNV-1a 64-bit over the UTF-16 code units of the key, 16 hex digits. Not a
// cryptographic hash: ids name events, they do not protect them.

import type { TimelineEvent } from './event.js';

const FNV_OFFSET_HI = 0xcbf29ce4;
const FNV_OFFSET_LO = 0x84222325;

/** The identifying fields of an event (a TimelineEvent has them all). */
export interface EventKey {
  host: string;
  source: string;
  path: string;
  offset?: number;
  line?: number;
  timestamp_desc: string;
  time: bigint;
  container_id?: string;
  message: string;
}

/** FNV-1a 64 of a string, as 16 lowercase hex digits (two 32-bit halves, no BigInt in the loop). */
export function fnv1a64(s: string): string {
  const [hi, lo] = fnvContinue(FNV_OFFSET_HI, FNV_OFFSET_LO, s);
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** FNV-1a 64 state after a prefix, continued over `s`. */
function fnvContinue(hi0: number, lo0: number, s: string): [number, number] {
  let hi = hi0;
  let lo = lo0;
  for (let i = 0; i < s.length; i++) {
    lo = (lo ^ s.charCodeAt(i)) >>> 0;
    const loMul = lo * 0x1b3;
    const newLo = loMul >>> 0;
    const carry = Math.floor(loMul / 0x100000000);
    hi = (Math.imul(hi, 0x1b3) + carry + ((lo << 8) >>> 0)) >>> 0;
    lo = newLo;
  }
  return [hi, lo];
}

interface PrefixState {
  host: string;
  source: string;
  cid: string;
  desc: string;
  hi: number;
  lo: number;
}

/**
 * Hash states after the prefix (host, source, path, container id, timestamp_desc), by path. The merged timeline interleaves
 * events of many files, so one "last prefix" would miss on almost every event; a bounded map keeps one entry per
 * artifact path (cleared when full).
 */
const prefixes = new Map<string, PrefixState>();
const MAX_CACHED_PREFIXES = 16_384;

function prefixState(ev: EventKey): PrefixState {
  const cid = ev.container_id ?? '';
  const p = prefixes.get(ev.path);
  if (p !== undefined && p.host === ev.host && p.source === ev.source && p.cid === cid && p.desc === ev.timestamp_desc) {
    return p;
  }
  const key = `${ev.host}\u0000${ev.source}\u0000${ev.path}\u0000${cid}\u0000${ev.timestamp_desc}\u0000`;
  const [hi, lo] = fnvContinue(FNV_OFFSET_HI, FNV_OFFSET_LO, key);
  const state = { host: ev.host, source: ev.source, cid, desc: ev.timestamp_desc, hi, lo };
  if (prefixes.size >= MAX_CACHED_PREFIXES) prefixes.clear();
  prefixes.set(ev.path, state);
  return state;
}

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

/** Scratch for the decimal digits of a position, least significant first (2^53 has 16 digits). */
const POSITION_DIGITS = new Uint8Array(16);

/** The two 32-bit halves of the last id computed by `eventIdHalves` (read right after the call). */
export const eventIdResult = { hi: 0, lo: 0 };

/**
 * The id of `ev` as two 32-bit halves in `eventIdResult`, without building the key string: the writers print the
 * hex digits straight into their byte buffers. The time's decimal digits are `timeHead` followed, when `fracDigits`
 * is given, by the nine ASCII digits at fracDigits[fracAt..fracAt+9): `ev.time.toString()`, or its whole seconds
 * and the nanosecond digits a writer has already printed (saving a bigint-to-string conversion per event).
 *
 * The loop keeps the 64-bit state in four 16-bit limbs so every step is small-integer arithmetic (FNV's prime is
 * 2^40 + 0x1b3: multiply each limb by 0x1b3, add the low two limbs shifted by 40 bits, carry); the result equals
 * fnvContinue's.
 */
export function eventIdHalves(ev: EventKey, timeHead: string, fracDigits?: Uint8Array, fracAt = 0): void {
  const p = prefixState(ev);
  eventIdFromPrefix(p.hi, p.lo, ev.offset, ev.line, ev.message, timeHead, fracDigits, fracAt);
}

/** The hash state after an event's prefix (host, source, path, container id, timestamp_desc), as two halves. */
export function eventIdPrefix(ev: EventKey): { hi: number; lo: number } {
  const p = prefixState(ev);
  return { hi: p.hi, lo: p.lo };
}

/**
 * eventIdHalves from a prefix state computed elsewhere (eventIdPrefix): what a writer thread that receives the
 * prefix once per artifact needs. `message` is hashed only when there is neither offset nor line.
 */
export function eventIdFromPrefix(
  prefixHi: number,
  prefixLo: number,
  offset: number | undefined,
  line: number | undefined,
  message: string,
  timeHead: string,
  fracDigits?: Uint8Array,
  fracAt = 0,
): void {
  let h0 = prefixLo & 0xffff;
  let h1 = prefixLo >>> 16;
  let h2 = prefixHi & 0xffff;
  let h3 = prefixHi >>> 16;
  // Same key as computeEventId: `o<offset>` | `l<line>` | `m<message>`, NUL, time digits. A position that is a
  // non-negative safe integer (nearly always) is hashed from its digits without String().
  const n = offset !== undefined ? offset : line;
  let digitCount = 0;
  let pos = '';
  if (n !== undefined && n >= 0 && Number.isSafeInteger(n)) {
    let x = n;
    do {
      const q = Math.floor(x / 10);
      POSITION_DIGITS[digitCount++] = 48 + (x - q * 10);
      x = q;
    } while (x > 0);
  } else {
    pos = n !== undefined ? String(n) : message;
  }
  const tag = offset !== undefined ? 0x6f : line !== undefined ? 0x6c : 0x6d; // 'o' | 'l' | 'm'
  const posLen = digitCount > 0 ? digitCount : pos.length;
  const headLen = posLen + 2 + timeHead.length;
  const total = headLen + (fracDigits === undefined ? 0 : 9);
  for (let k = 0; k < total; k++) {
    let c: number;
    if (k === 0) c = tag;
    else if (k <= posLen) c = digitCount > 0 ? POSITION_DIGITS[digitCount - k] : pos.charCodeAt(k - 1);
    else if (k === posLen + 1) c = 0;
    else if (k < headLen) c = timeHead.charCodeAt(k - posLen - 2);
    else c = (fracDigits as Uint8Array)[fracAt + k - headLen];
    h0 ^= c; // a UTF-16 code unit (< 2^16) only touches the lowest limb
    const t0 = h0 * 0x1b3;
    let t1 = h1 * 0x1b3;
    let t2 = h2 * 0x1b3 + (h0 << 8);
    const t3 = h3 * 0x1b3 + (h1 << 8);
    t1 += t0 >>> 16;
    h0 = t0 & 0xffff;
    t2 += t1 >>> 16;
    h1 = t1 & 0xffff;
    h3 = (t3 + (t2 >>> 16)) & 0xffff;
    h2 = t2 & 0xffff;
  }
  eventIdResult.hi = ((h3 << 16) | h2) >>> 0;
  eventIdResult.lo = ((h1 << 16) | h0) >>> 0;
}

/** The deterministic id of one timeline event (16 hex digits). */
export function computeEventId(ev: EventKey): string {
  // Without a position in a file, the message tells apart the several events one artifact yields at one time
  // (findings, writable-layer changes, config fields).
  eventIdHalves(ev, ev.time.toString());
  return hex8(eventIdResult.hi) + hex8(eventIdResult.lo);
}

/** The event's id, computed once and kept on the event (writers of several formats share it). */
export function eventIdOf(ev: TimelineEvent): string {
  return (ev.event_id ??= computeEventId(ev));
}
