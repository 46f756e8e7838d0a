// Deterministic ids of timeline events, so a lifecycle transition can name the events that prove it and a
// reader can find them in timeline.jsonl. The id depends only on where the event came from and when it says it
// happened, never on attrs or on the order of collection: the same evidence always gives the same ids.
//
// Key: host, source, path, position in the file (byte offset when known, else line number), timestamp_desc,
// time (ns) and container id. Events read twice through different readers (a json-file record seen by the
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
}

/** FNV-1a 64 of a string, as 16 lowercase hex digits (two 32-bit halves, no BigInt in the loop). */
export function fnv1a64(s: string): string {
  let hi = FNV_OFFSET_HI;
  let lo = FNV_OFFSET_LO;
  for (let i = 0; i < s.length; i++) {
    lo = (lo ^ s.charCodeAt(i)) >>> 0;
    // (hi:lo) * 0x100000001b3 = (hi:lo) * 0x1b3 + (lo << 40)
    const loMul = lo * 0x1b3;
    const newLo = loMul >>> 0;
    const carry = Math.floor(loMul / 0x100000000);
    hi = (Math.imul(hi, 0x1b3) + carry + ((lo << 8) >>> 0)) >>> 0;
    lo = newLo;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** The deterministic id of one timeline event (16 hex digits). */
export function computeEventId(ev: EventKey): string {
  const pos = ev.offset !== undefined ? `o${ev.offset}` : ev.line !== undefined ? `l${ev.line}` : '';
  return fnv1a64(`${ev.host}\u0000${ev.source}\u0000${ev.path}\u0000${pos}\u0000${ev.timestamp_desc}\u0000${ev.time}\u0000${ev.container_id ?? ''}`);
}
