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

/** The deterministic id of one timeline event (16 hex digits). */
export function computeEventId(ev: EventKey): string {
  const p = prefixState(ev);
  // Without a position in a file, the message tells apart the several events one artifact yields at one time
  // (findings, writable-layer changes, config fields).
  const pos = ev.offset !== undefined ? `o${ev.offset}` : ev.line !== undefined ? `l${ev.line}` : `m${ev.message}`;
  const [hi, lo] = fnvContinue(p.hi, p.lo, `${pos}\u0000${ev.time}`);
  return hex8(hi) + hex8(lo);
}

/** The event's id, computed once and kept on the event (writers of several formats share it). */
export function eventIdOf(ev: TimelineEvent): string {
  return (ev.event_id ??= computeEventId(ev));
}
