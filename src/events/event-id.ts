// Deterministic ids of timeline events, so a lifecycle transition can name the events that prove it and a
// reader can find them in timeline.jsonl. The id depends only on where the event came from and when it says it
// happened, never on attrs or on the order of collection: the same evidence always gives the same ids.
//
// Key: host, source, path, container id, then position in the file (byte offset when known, else line number,
// else the message), timestamp_desc and time (ns). The first four repeat from event to event, so the hash state after them is cached
// and each event hashes only its short tail: every output row carries its id at little cost. Events read twice through different readers (a json-file record seen by the
// lifecycle pre-pass from a tail window and by the full timeline read) share the key because both carry the
// record's byte offset. Hash: FNV-1a 64-bit over the UTF-16 code units of the key, 16 hex digits. Not a
// cryptographic hash: ids name events, they do not protect them.

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

// The cached prefix (host, source, path, container id) and the hash state after it.
let cHost: string | undefined;
let cSource: string | undefined;
let cPath: string | undefined;
let cCid: string | undefined;
let cHi = 0;
let cLo = 0;

/** The deterministic id of one timeline event (16 hex digits). */
export function computeEventId(ev: EventKey): string {
  const cid = ev.container_id ?? '';
  if (ev.host !== cHost || ev.source !== cSource || ev.path !== cPath || cid !== cCid) {
    [cHi, cLo] = fnvContinue(FNV_OFFSET_HI, FNV_OFFSET_LO, `${ev.host}\u0000${ev.source}\u0000${ev.path}\u0000${cid}\u0000`);
    cHost = ev.host;
    cSource = ev.source;
    cPath = ev.path;
    cCid = cid;
  }
  // Without a position in a file, the message tells apart the several events one artifact yields at one time
  // (findings, writable-layer changes, config fields).
  const pos = ev.offset !== undefined ? `o${ev.offset}` : ev.line !== undefined ? `l${ev.line}` : `m${ev.message}`;
  const [hi, lo] = fnvContinue(cHi, cLo, `${pos}\u0000${ev.timestamp_desc}\u0000${ev.time}`);
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}
