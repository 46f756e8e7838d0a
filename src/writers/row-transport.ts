// The main thread's half of the parallel timeline writer: each event becomes a compact binary record in a chunk
// that is handed (transferred, not copied) to the encoder thread (encoder-worker.ts), which prints the CSV and
// JSON rows. The main thread is the busier one (parsing and merging run there), so it does only what needs the
// event's JS values: it encodes the text fields to UTF-8 (a text whose UTF-8 cannot carry it exactly, one with a
// lone surrogate, is sent as its final CSV and JSON cells instead), and it interns what repeats: an artifact's
// fields (host, source, timestamp_desc, path, container id and name, inode, and the event id hash state after
// them) and attrs are sent once as definitions and then named by number. Everything else happens on the other
// core: quoting, escaping, times, ids, numbers. (Deciding there, not here, whether a text needs quoting at all
// saved 0.3 µs per event on this thread, measured.)
//
// Record layout (little-endian; `str` = u32 byte length + bytes):
//   DEFINE_GROUP  u8 kind, u32 id, u32 prefixHi, u32 prefixLo, u8 inodeQuoted,
//                 str csvFields, str csvPath, str jsonFields, str inodeText
//   DEFINE_ATTRS  u8 kind, u32 id, str csv, str json
//   CLEAR         u8 kind (forget every group and attrs definition)
//   EVENT         u8 kind, u32 group, u32 attrs (0 = none), u8 flags (EventFlag),
//                 SLOW_TIME ? (str datetime, str micros) : (f64 seconds, u32 nanoseconds),
//                 [LINE f64], [OFFSET f64], [ID str],
//                 MESSAGE_SLOW ? (str csvCell, str jsonString) : str utf8,  same for raw_time (RAW_SLOW),
//                 raw_time absent when RAW_IS_DATETIME
// The decoder is row-transport-decode.ts; both sides are tested together against the reference encoders.

import type { TimelineEvent } from '../events/event.js';
import { computeEventId, eventIdPrefix } from '../events/event-id.js';
import { floorSeconds, formatIsoNano, NS_PER_SECOND, toMicros } from '../events/time.js';
import { utf8Write } from './bytes.js';
import { csvTextCell } from './csv.js';
import { compactAttrs, jsonString, jsonValue } from './json.js';
import { attrOutputKey } from './jsonl.js';
import { isWellFormed } from '../events/unicode.js';

export const RecordKind = { event: 1, defineGroup: 2, defineAttrs: 3, clear: 4 } as const;
export const EventFlag = {
  line: 1,
  offset: 2,
  slowTime: 4,
  id: 8,
  messageSlow: 16,
  rawSlow: 32,
  /** raw_time is exactly the row's datetime (Docker's json-file times nearly always are): not sent. */
  rawIsDatetime: 64,
} as const;

/** Where records go: a buffer with room for n more bytes at `pos` after `ensure(n)` (records never split). */
export interface RecordTarget {
  buf: Buffer;
  pos: number;
  ensure(n: number): void;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/**
 * Definitions (artifact field groups and attrs) kept on both sides before they are all forgotten: bounded memory
 * (about 1 KB each on the encoder thread). Every live log is one group (one per rotated file as it is read), so
 * the limit must exceed the number of containers merged at once (up to 4096): at 2048 a 2000-container host
 * forgot them every few events and redefined a group for nearly every row.
 */
export const MAX_TRANSPORT_DEFINITIONS = 16_384;
/** attrs texts longer than this are defined per event instead of kept. */
const MAX_CACHED_ATTRS_CHARS = 256;

/** Encoded bytes of a repeating part of the row, for CSV and for JSON. */
interface PartBytes {
  csv: Buffer;
  json: Buffer;
}

/**
 * The fields every event of one artifact shares. CSV: the timestamp_desc, source, host, container id and name
 * cells with their commas, and the path cell (it comes after the message); JSON: their `,"key":value` members and
 * the path's, which follow one another.
 */
function groupParts(ev: TimelineEvent): PartBytes & { csvPath: Buffer } {
  const csv =
    csvTextCell(ev.timestamp_desc) +
    ',' +
    csvTextCell(ev.source) +
    ',' +
    csvTextCell(ev.host) +
    ',' +
    (ev.container_id === undefined ? '' : csvTextCell(ev.container_id)) +
    ',' +
    (ev.container_name === undefined ? '' : csvTextCell(ev.container_name));
  const json =
    ',"timestamp_desc":' +
    jsonString(ev.timestamp_desc) +
    ',"source":' +
    jsonString(ev.source) +
    ',"host":' +
    jsonString(ev.host) +
    (ev.container_id === undefined ? '' : ',"container_id":' + jsonString(ev.container_id)) +
    (ev.container_name === undefined ? '' : ',"container_name":' + jsonString(ev.container_name)) +
    ',"path":' +
    jsonString(ev.path);
  return {
    csv: Buffer.from(csv, 'utf8'),
    csvPath: Buffer.from(csvTextCell(ev.path), 'utf8'),
    json: Buffer.from(json, 'utf8'),
  };
}

/** The CSV `extra` cell and the JSON members of attrs whose compact JSON is `compact`. */
function attrsParts(attrs: Record<string, unknown>, compact: string): PartBytes {
  let tail = '';
  for (const key of Object.keys(attrs)) {
    const enc = jsonValue(attrs[key]);
    if (enc === undefined) continue;
    tail += ',' + jsonString(attrOutputKey(key)) + ':' + enc;
  }
  return { csv: Buffer.from(csvTextCell(compact), 'utf8'), json: Buffer.from(tail, 'utf8') };
}

interface GroupEntry {
  id: number;
  desc: string;
  source: string;
  host: string;
  cid: string | undefined;
  cname: string | undefined;
  inode: bigint | undefined;
}

function putU32(b: Buffer, p: number, v: number): number {
  b[p] = v;
  b[p + 1] = v >>> 8;
  b[p + 2] = v >>> 16;
  b[p + 3] = v >>> 24;
  return p + 4;
}

/** `str`: u32 length, then the UTF-8 of s. */
function putStr(b: Buffer, p: number, s: string): number {
  const n = utf8Write(b, s, p + 4);
  putU32(b, p, n);
  return p + 4 + n;
}

function putBytes(b: Buffer, p: number, bytes: Buffer): number {
  putU32(b, p, bytes.length);
  b.set(bytes, p + 4);
  return p + 4 + bytes.length;
}

export class RowTransportEncoder {
  private readonly groups = new Map<string, GroupEntry>();
  private readonly attrsByText = new Map<string, number>();
  private attrsByObject = new WeakMap<object, number>();
  private nextId = 1;
  private definitions = 0;
  // The second of the last event: [lo, hi), its whole seconds as a number (0 = outside the fast range).
  private lo = 1n;
  private hi = 0n;
  private secs = 0;
  // The character codes of that second's datetime up to its fraction digits (`…SS.`), and the datetime's length.
  private secondPrefix: number[] = [];
  private datetimeLength = 0;

  /** Appends the records of one event (definitions first when something is new). */
  append(ev: TimelineEvent, out: RecordTarget): void {
    if (this.definitions >= MAX_TRANSPORT_DEFINITIONS) this.clear(out);
    const group = this.groupOf(ev, out);
    const attrs = ev.attrs === undefined ? 0 : this.attrsOf(ev.attrs, out);
    const ns = ev.time;
    if (!(ns >= this.lo && ns < this.hi)) this.newSecond(ns);
    const fast = this.secs > 0;
    let flags = 0;
    if (ev.line !== undefined) flags |= EventFlag.line;
    if (ev.offset !== undefined) flags |= EventFlag.offset;
    if (!fast) flags |= EventFlag.slowTime;
    // The encoder thread hashes the id itself from the group's prefix state, the position and the time digits;
    // a preset id, an id keyed by the message (no position) or an odd time is sent ready-made.
    let idText: string | undefined = ev.event_id;
    if (idText === undefined && (!fast || (ev.line === undefined && ev.offset === undefined))) idText = computeEventId(ev);
    if (idText !== undefined) flags |= EventFlag.id;
    const message = ev.message;
    const messageSlow = !isWellFormed(message);
    if (messageSlow) flags |= EventFlag.messageSlow;
    const frac = fast ? Number(ns - this.lo) : 0;
    let raw = ev.raw_time;
    let rawSlow = false;
    if (fast && this.isDatetime(raw, frac)) {
      flags |= EventFlag.rawIsDatetime;
      raw = '';
    } else {
      rawSlow = !isWellFormed(raw);
      if (rawSlow) flags |= EventFlag.rawSlow;
    }
    // UTF-8 takes at most 3 bytes per UTF-16 code unit; slow texts are sent twice, escaped (<= 6 bytes each).
    out.ensure(64 + 3 * (idText?.length ?? 0) + (messageSlow ? 13 : 3) * message.length + (rawSlow ? 13 : 3) * raw.length + 96);
    const b = out.buf;
    let p = out.pos;
    b[p++] = RecordKind.event;
    p = putU32(b, p, group);
    p = putU32(b, p, attrs);
    b[p++] = flags;
    if (fast) {
      b.writeDoubleLE(this.secs, p);
      p = putU32(b, p + 8, frac);
    } else {
      p = putStr(b, p, formatIsoNano(ns));
      p = putStr(b, p, toMicros(ns).toString());
    }
    if (ev.line !== undefined) p = b.writeDoubleLE(ev.line, p);
    if (ev.offset !== undefined) p = b.writeDoubleLE(ev.offset, p);
    if (idText !== undefined) p = putStr(b, p, idText);
    if (messageSlow) {
      p = putStr(b, p, csvTextCell(message));
      p = putStr(b, p, jsonString(message));
    } else p = putStr(b, p, message);
    if (rawSlow) {
      p = putStr(b, p, csvTextCell(raw));
      p = putStr(b, p, jsonString(raw));
    } else if ((flags & EventFlag.rawIsDatetime) === 0) p = putStr(b, p, raw);
    out.pos = p;
  }

  /**
   * Is `raw` the datetime the row prints (this second's prefix, then the nine digits of frac and `Z`)? Only a
   * four-digit year qualifies: `+10000-…` would need the CSV formula guard, which the encoder then skips.
   */
  private isDatetime(raw: string, frac: number): boolean {
    const n = this.datetimeLength;
    const c0 = raw.charCodeAt(0);
    if (raw.length !== n || c0 < 48 || c0 > 57 || raw.charCodeAt(n - 1) !== 90) return false;
    // A loop of inlined charCodeAt beats String#startsWith (a builtin call) on these short strings.
    const prefix = this.secondPrefix;
    for (let i = prefix.length - 1; i >= 0; i--) if (raw.charCodeAt(i) !== prefix[i]) return false;
    let digits = 0;
    for (let i = n - 10; i < n - 1; i++) {
      const d = raw.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return false;
      digits = digits * 10 + d;
    }
    return digits === frac;
  }

  private newSecond(ns: bigint): void {
    const secs = floorSeconds(ns);
    const lo = secs * NS_PER_SECOND;
    this.lo = lo;
    this.hi = lo + NS_PER_SECOND;
    // Seconds that are not a positive safe integer (before 1970-01-01T00:00:01, or absurdly far) go the slow way.
    this.secs = secs > 0n && secs <= MAX_SAFE ? Number(secs) : 0;
    if (this.secs > 0) {
      const datetime = formatIsoNano(lo); // …SS.000000000Z
      this.datetimeLength = datetime.length;
      this.secondPrefix = Array.from(datetime.slice(0, datetime.length - 10), (c) => c.charCodeAt(0));
    }
  }

  private groupOf(ev: TimelineEvent, out: RecordTarget): number {
    const g = this.groups.get(ev.path);
    if (
      g !== undefined &&
      g.desc === ev.timestamp_desc &&
      g.source === ev.source &&
      g.host === ev.host &&
      g.cid === ev.container_id &&
      g.cname === ev.container_name &&
      g.inode === ev.inode
    ) {
      return g.id;
    }
    const id = this.nextId++;
    this.definitions++;
    this.groups.set(ev.path, {
      id,
      desc: ev.timestamp_desc,
      source: ev.source,
      host: ev.host,
      cid: ev.container_id,
      cname: ev.container_name,
      inode: ev.inode,
    });
    const parts = groupParts(ev);
    const prefix = eventIdPrefix(ev);
    const inodeText = ev.inode === undefined ? '' : ev.inode.toString();
    out.ensure(32 + parts.csv.length + parts.csvPath.length + parts.json.length + inodeText.length);
    const b = out.buf;
    let p = out.pos;
    b[p++] = RecordKind.defineGroup;
    p = putU32(b, p, id);
    p = putU32(b, p, prefix.hi);
    p = putU32(b, p, prefix.lo);
    b[p++] = ev.inode !== undefined && (ev.inode > MAX_SAFE || ev.inode < -MAX_SAFE) ? 1 : 0;
    p = putBytes(b, p, parts.csv);
    p = putBytes(b, p, parts.csvPath);
    p = putBytes(b, p, parts.json);
    p = putStr(b, p, inodeText);
    out.pos = p;
    return id;
  }

  private attrsOf(attrs: Record<string, unknown>, out: RecordTarget): number {
    const frozen = Object.isFrozen(attrs);
    if (frozen) {
      const known = this.attrsByObject.get(attrs);
      if (known !== undefined) return known;
    }
    const compact = compactAttrs(attrs);
    let id = this.attrsByText.get(compact);
    if (id === undefined) {
      id = this.nextId++;
      this.definitions++;
      const parts = attrsParts(attrs, compact);
      out.ensure(16 + parts.csv.length + parts.json.length);
      const b = out.buf;
      let p = out.pos;
      b[p++] = RecordKind.defineAttrs;
      p = putU32(b, p, id);
      p = putBytes(b, p, parts.csv);
      p = putBytes(b, p, parts.json);
      out.pos = p;
      // Long attrs texts are defined per event rather than kept (bounded memory on both sides).
      if (compact.length <= MAX_CACHED_ATTRS_CHARS) this.attrsByText.set(compact, id);
    }
    if (frozen && compact.length <= MAX_CACHED_ATTRS_CHARS) this.attrsByObject.set(attrs, id);
    return id;
  }

  /** Forgets every definition on both sides (bounded memory however many artifacts and attrs there are). */
  private clear(out: RecordTarget): void {
    this.groups.clear();
    this.attrsByText.clear();
    this.attrsByObject = new WeakMap();
    this.definitions = 0;
    out.ensure(1);
    out.buf[out.pos++] = RecordKind.clear;
  }
}
