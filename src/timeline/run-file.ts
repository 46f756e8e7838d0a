// Run files of the external sort (spill.ts, and the group pre-merge of build.ts): a private binary format, written
// and read back by this process only, never an output. JSON lines cost about 10 µs per event to write and read
// back; here the strings that repeat from event to event (timestamp_desc, source, host, container id and name,
// path, and frozen shared attrs) are written once per run and then named by number, times and numbers are
// fixed-width, and the free text is raw UTF-8. A string that is not well-formed Unicode (a lone surrogate from a
// JSON escape) is written as UTF-16, so every JS string round-trips exactly.
//
// Record: u32 length of what follows, u8 kind, body (all little-endian).
//   Kind.string  the next string id (1, 2, ...): text
//   Kind.attrs   the next attrs id: u8 has-bigint, text (JSON; bigints as {"$flotsam_bigint": "<n>"})
//   Kind.event   u16 flags, time (i64, or text when out of range), u32 ids of timestamp_desc, source, host,
//                [container_id], [container_name], path; [inode (u64, or text)], [line f64], [offset f64],
//                text message, text raw_time, [attrs: u32 id, or u8 has-bigint + text JSON]
//   Kind.reset   forget every string and attrs id (keeps both tables bounded on runs of unique paths)
// text = u8 encoding (0 UTF-8, 1 UTF-16LE), u32 byte length, bytes.

import { Buffer } from 'node:buffer';
import { open } from 'node:fs/promises';
import type { TimelineEvent } from '../events/event.js';
import { isWellFormed } from '../events/unicode.js';
import { bigintReplacer, Flag, Kind, MAX_RUN_TABLE_ENTRIES, RUN_WRITE_CHUNK } from './run-file-format.js';

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

/** attrs as JSON, and whether bigints had to be tagged. */
function attrsJson(attrs: Record<string, unknown>): { json: string; bigint: boolean } {
  try {
    return { json: JSON.stringify(attrs), bigint: false };
  } catch {
    return { json: JSON.stringify(attrs, bigintReplacer), bigint: true };
  }
}

/**
 * Bytes of one event's records beyond its text (which bound() counts at 3 bytes per UTF-16 unit, UTF-8's worst):
 * the event (length 4, kind 1, flags 2, time 8, six ids 24, inode 8, line 8, offset 8, two text headers 10,
 * attrs 6) 79, six string definitions (length 4, kind 1, text header 5) 60, a reset 5: 144, rounded up.
 */
const FIXED_BOUND_BYTES = 192;

/** Encodes events into a byte buffer that writeRun flushes: bound(ev), make room, encode(ev). Exported for tests. */
export class RunEncoder {
  buf = Buffer.allocUnsafe(RUN_WRITE_CHUNK);
  pos = 0;
  private readonly strings = new Map<string, number>();
  private readonly attrsIds = new Map<object, number>();
  private nextString = 1;
  private nextAttrs = 1;
  // JSON of the current event's attrs, computed by bound() for encode().
  private pendingAttrs: { json: string; bigint: boolean } | undefined;
  // bound() cleared the tables: encode() writes Kind.reset first.
  private resetPending = false;

  /** An upper bound of the bytes encode(ev) writes, string and attrs definitions included. */
  bound(ev: TimelineEvent): number {
    if (this.strings.size + this.attrsIds.size >= MAX_RUN_TABLE_ENTRIES) {
      this.strings.clear();
      this.attrsIds.clear();
      this.nextString = 1;
      this.nextAttrs = 1;
      this.lastId.fill(0);
      this.resetPending = true;
    }
    let n = FIXED_BOUND_BYTES + 3 * (ev.message.length + ev.raw_time.length + ev.timestamp_desc.length + ev.source.length);
    n += 3 * (ev.host.length + ev.path.length + (ev.container_id?.length ?? 0) + (ev.container_name?.length ?? 0));
    if (ev.time < I64_MIN || ev.time > I64_MAX) n += ev.time.toString().length;
    if (ev.inode !== undefined && (ev.inode < 0n || ev.inode > U64_MAX)) n += ev.inode.toString().length;
    this.pendingAttrs = undefined;
    const attrs = ev.attrs;
    if (attrs !== undefined && !(Object.isFrozen(attrs) && this.attrsIds.has(attrs))) {
      this.pendingAttrs = attrsJson(attrs);
      n += 16 + 3 * this.pendingAttrs.json.length;
    }
    return n;
  }

  /** Makes room for `n` more bytes after a flush (pos = 0). */
  grow(n: number): void {
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  /** Shrinks back after an oversized record was flushed. */
  settle(): void {
    if (this.buf.length > RUN_WRITE_CHUNK) this.buf = Buffer.allocUnsafe(RUN_WRITE_CHUNK);
  }

  private text(s: string): void {
    const buf = this.buf;
    const at = this.pos;
    let n: number;
    if (isWellFormed(s)) {
      buf[at] = 0;
      n = buf.write(s, at + 5, 'utf8');
    } else {
      buf[at] = 1;
      n = buf.write(s, at + 5, 'utf16le');
    }
    buf.writeUInt32LE(n, at + 1);
    this.pos = at + 5 + n;
  }

  /** Starts a record of `kind`; returns where its length goes. */
  private begin(kind: number): number {
    const at = this.pos;
    this.buf[at + 4] = kind;
    this.pos = at + 5;
    return at;
  }

  private end(at: number): void {
    this.buf.writeUInt32LE(this.pos - at - 4, at);
  }

  // The last string and id of each interned field: most events repeat their neighbour's (a Map lookup hashes).
  private readonly lastString: string[] = ['', '', '', '', '', ''];
  private readonly lastId: number[] = [0, 0, 0, 0, 0, 0];

  private fieldId(field: number, s: string): number {
    if (this.lastId[field] !== 0 && this.lastString[field] === s) return this.lastId[field];
    const id = this.stringId(s);
    this.lastString[field] = s;
    this.lastId[field] = id;
    return id;
  }

  private stringId(s: string): number {
    let id = this.strings.get(s);
    if (id === undefined) {
      id = this.nextString++;
      this.strings.set(s, id);
      const at = this.begin(Kind.string);
      this.text(s);
      this.end(at);
    }
    return id;
  }

  private u32(v: number): void {
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }

  /** Writes one event, right after bound(ev) (room for that many bytes must be there). */
  encode(ev: TimelineEvent): void {
    if (this.resetPending) {
      this.resetPending = false;
      this.end(this.begin(Kind.reset));
    }
    // Definitions first: they are records of their own.
    const desc = this.fieldId(0, ev.timestamp_desc);
    const source = this.fieldId(1, ev.source);
    const host = this.fieldId(2, ev.host);
    const cid = ev.container_id === undefined ? 0 : this.fieldId(3, ev.container_id);
    const cname = ev.container_name === undefined ? 0 : this.fieldId(4, ev.container_name);
    const path = this.fieldId(5, ev.path);
    const attrs = ev.attrs;
    let attrsId = 0;
    let inline: { json: string; bigint: boolean } | undefined;
    if (attrs !== undefined) {
      if (Object.isFrozen(attrs)) {
        const known = this.attrsIds.get(attrs);
        if (known !== undefined) attrsId = known;
        else {
          const j = this.pendingAttrs ?? attrsJson(attrs);
          attrsId = this.nextAttrs++;
          this.attrsIds.set(attrs, attrsId);
          const at = this.begin(Kind.attrs);
          this.buf[this.pos++] = j.bigint ? 1 : 0;
          this.text(j.json);
          this.end(at);
        }
      } else inline = this.pendingAttrs ?? attrsJson(attrs);
    }
    this.pendingAttrs = undefined;

    const time = ev.time;
    const timeFits = time >= I64_MIN && time <= I64_MAX;
    const inode = ev.inode;
    const inodeFits = inode === undefined || (inode >= 0n && inode <= U64_MAX);
    let flags = 0;
    if (!timeFits) flags |= Flag.timeText;
    if (cid !== 0) flags |= Flag.containerId;
    if (cname !== 0) flags |= Flag.containerName;
    if (inode !== undefined) flags |= inodeFits ? Flag.inode : Flag.inodeText;
    if (ev.line !== undefined) flags |= Flag.line;
    if (ev.offset !== undefined) flags |= Flag.offset;
    if (attrsId !== 0) flags |= Flag.attrsId;
    else if (inline !== undefined) flags |= Flag.attrsInline;

    const at = this.begin(Kind.event);
    const buf = this.buf;
    buf.writeUInt16LE(flags, this.pos);
    this.pos += 2;
    if (timeFits) {
      buf.writeBigInt64LE(time, this.pos);
      this.pos += 8;
    } else this.text(time.toString());
    this.u32(desc);
    this.u32(source);
    this.u32(host);
    if (cid !== 0) this.u32(cid);
    if (cname !== 0) this.u32(cname);
    this.u32(path);
    if (inode !== undefined) {
      if (inodeFits) {
        buf.writeBigUInt64LE(inode, this.pos);
        this.pos += 8;
      } else this.text(inode.toString());
    }
    if (ev.line !== undefined) this.pos = buf.writeDoubleLE(ev.line, this.pos);
    if (ev.offset !== undefined) this.pos = buf.writeDoubleLE(ev.offset, this.pos);
    this.text(ev.message);
    this.text(ev.raw_time);
    if (attrsId !== 0) this.u32(attrsId);
    else if (inline !== undefined) {
      buf[this.pos++] = inline.bigint ? 1 : 0;
      this.text(inline.json);
    }
    this.end(at);
  }
}

/** Writes sorted events (in any number of batches) to a new run file. */
export async function writeRun(path: string, batches: AsyncIterable<TimelineEvent[]> | Iterable<TimelineEvent[]>): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    const enc = new RunEncoder();
    for await (const batch of batches) {
      for (let i = 0; i < batch.length; i++) {
        const ev = batch[i];
        const need = enc.bound(ev);
        if (enc.pos + need > enc.buf.length) {
          if (enc.pos > 0) await fh.write(enc.buf, 0, enc.pos);
          enc.pos = 0;
          enc.settle();
          enc.grow(need);
        }
        enc.encode(ev);
      }
    }
    if (enc.pos > 0) await fh.write(enc.buf, 0, enc.pos);
  } finally {
    await fh.close();
  }
}

export { readRun } from './run-file-read.js';
export {
  MAX_RUN_TABLE_ENTRIES,
  MIN_RUN_BATCH,
  MIN_RUN_READ_CHUNK,
  RUN_BATCH,
  RUN_MERGE_BUDGET_BYTES,
  RUN_MERGE_BUDGET_EVENTS,
  RUN_READ_CHUNK,
  RUN_WRITE_CHUNK,
  RunFileError,
  runReadFor,
} from './run-file-format.js';
export type { RunReadShare } from './run-file-format.js';
