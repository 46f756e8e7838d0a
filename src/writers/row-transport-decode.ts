// The row printer of the timeline files: reads the records of row-transport.ts and prints the same CSV and JSON
// rows as the reference sinks (tested byte for byte), from bytes:
// text arrives as UTF-8 and is quoted or escaped in place, times are printed from a per-second cache, and the
// event id is hashed from the group's prefix state, the position and the time digits.

import { eventIdFromPrefix, eventIdResult } from '../events/event-id.js';
import { formatIsoNano } from '../events/time.js';
import type { ByteFileWriter } from './byte-file-writer.js';
import { fillFraction, putBuffer, putCsvCellFromBytes, putHex8, putJsonStringFromBytes, putNumber, putSlice } from './bytes.js';
import { EventFlag, RecordKind } from './row-transport.js';

interface Group {
  prefixHi: number;
  prefixLo: number;
  inodeQuoted: boolean;
  csv: Buffer;
  csvPath: Buffer;
  json: Buffer;
  /** `,"inode":N` or `,"inode":"N"` for JSON; the digits for CSV; empty when there is no inode. */
  inodeCsv: Buffer;
  inodeJson: Buffer;
}

interface Attrs {
  csv: Buffer;
  json: Buffer;
}

const EMPTY: Buffer = Buffer.alloc(0);
// The JSON row's fixed member names.
const K_MESSAGE = Buffer.from('{"message":', 'latin1');
const K_DATETIME = Buffer.from(',"datetime":"', 'latin1');
const K_TIMESTAMP = Buffer.from('","timestamp":', 'latin1');
const K_LINE = Buffer.from(',"line":', 'latin1');
const K_OFFSET = Buffer.from(',"offset":', 'latin1');
const K_RAW_TIME = Buffer.from(',"raw_time":', 'latin1');
const K_EVENT_ID = Buffer.from(',"event_id":"', 'latin1');


/** Where the rows go: any of the three timeline files (absent = not asked for). */
export interface RowOutputs {
  csv?: ByteFileWriter;
  jsonl?: ByteFileWriter;
  json?: ByteFileWriter;
}

export class RowTransportDecoder {
  private readonly groups = new Map<number, Group>();
  private readonly attrs = new Map<number, Attrs>();
  /** JSON rows written to timeline.json so far (for its separators). */
  jsonCount = 0;
  // Per-second time cache.
  private secs = -1;
  private secsText = '';
  private datetime: Buffer = EMPTY;
  private micros: Buffer = EMPTY;
  private readonly id = Buffer.alloc(16);

  // The event being decoded: [start, end) of each text in the chunk.
  private src: Buffer = EMPTY;
  private p = 0;

  private u32(): number {
    const b = this.src;
    const p = this.p;
    this.p = p + 4;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }

  private f64(): number {
    const v = this.src.readDoubleLE(this.p);
    this.p += 8;
    return v;
  }

  /** A `str` field: returns its start; its end is this.p afterwards. */
  private str(): number {
    const n = this.u32();
    const start = this.p;
    this.p += n;
    return start;
  }

  private bytes(): Buffer {
    const start = this.str();
    return Buffer.from(this.src.subarray(start, this.p)); // a copy: the chunk goes back to the main thread
  }

  /** Decodes every record of chunk[0, length) into rows. */
  decode(chunk: Buffer, length: number, out: RowOutputs): void {
    this.src = chunk;
    this.p = 0;
    while (this.p < length) {
      const kind = chunk[this.p++];
      if (kind === RecordKind.event) this.event(out);
      else if (kind === RecordKind.defineGroup) this.defineGroup();
      else if (kind === RecordKind.defineAttrs) {
        const id = this.u32();
        this.attrs.set(id, { csv: this.bytes(), json: this.bytes() });
      } else if (kind === RecordKind.clear) {
        this.groups.clear();
        this.attrs.clear();
      } else throw new Error(`timeline transport: unknown record kind ${kind} at ${this.p - 1}`);
    }
    this.src = EMPTY;
  }

  private defineGroup(): void {
    const id = this.u32();
    const prefixHi = this.u32();
    const prefixLo = this.u32();
    const inodeQuoted = this.src[this.p++] === 1;
    const csv = this.bytes();
    const csvPath = this.bytes();
    const json = this.bytes();
    const inodeStart = this.str();
    const inode = this.src.toString('latin1', inodeStart, this.p);
    const inodeJson = inode === '' ? EMPTY : Buffer.from(inodeQuoted ? `,"inode":"${inode}"` : `,"inode":${inode}`, 'latin1');
    this.groups.set(id, { prefixHi, prefixLo, inodeQuoted, csv, csvPath, json, inodeCsv: Buffer.from(inode, 'latin1'), inodeJson });
  }

  private newSecond(secs: number): void {
    this.secs = secs;
    this.secsText = String(secs);
    this.datetime = Buffer.from(formatIsoNano(BigInt(secs) * 1_000_000_000n), 'latin1');
    this.micros = Buffer.from(this.secsText + '000000', 'latin1');
  }

  private event(out: RowOutputs): void {
    const src = this.src;
    const group = this.groups.get(this.u32());
    const attrsId = this.u32();
    const attrs = attrsId === 0 ? undefined : this.attrs.get(attrsId);
    if (group === undefined || (attrsId !== 0 && attrs === undefined)) throw new Error('timeline transport: event names an undefined group or attrs');
    const flags = src[this.p++];
    let dtStart = 0;
    let dtEnd = 0;
    let mcStart = 0;
    let mcEnd = 0;
    const slowTime = (flags & EventFlag.slowTime) !== 0;
    if (slowTime) {
      dtStart = this.str();
      dtEnd = this.p;
      mcStart = this.str();
      mcEnd = this.p;
    } else {
      const secs = this.f64();
      if (secs !== this.secs) this.newSecond(secs);
      fillFraction(this.datetime, this.micros, this.u32());
    }
    const line = (flags & EventFlag.line) !== 0 ? this.f64() : undefined;
    const offset = (flags & EventFlag.offset) !== 0 ? this.f64() : undefined;
    let idStart = 0;
    let idEnd = 0;
    if ((flags & EventFlag.id) !== 0) {
      idStart = this.str();
      idEnd = this.p;
    } else {
      eventIdFromPrefix(group.prefixHi, group.prefixLo, offset, line, '', this.secsText, this.datetime, this.datetime.length - 10);
      putHex8(this.id, 0, eventIdResult.hi);
      putHex8(this.id, 8, eventIdResult.lo);
    }
    const msgSlow = (flags & EventFlag.messageSlow) !== 0;
    const msgStart = this.str();
    const msgEnd = this.p;
    const msgJsonStart = msgSlow ? this.str() : 0;
    const msgJsonEnd = this.p;
    const rawSlow = (flags & EventFlag.rawSlow) !== 0;
    const rawStart = this.str();
    const rawEnd = this.p;
    const rawJsonStart = rawSlow ? this.str() : 0;
    const rawJsonEnd = this.p;

    const text = 6 * (msgJsonEnd - msgStart + rawJsonEnd - rawStart) + 2 * (dtEnd - dtStart + mcEnd - mcStart) + 2 * (idEnd - idStart) + 512;
    const attrsCsv = attrs?.csv ?? EMPTY;
    const attrsJson = attrs?.json ?? EMPTY;
    if (out.csv) {
      const w = out.csv;
      w.ensure(text + group.csv.length + group.csvPath.length + attrsCsv.length);
      const b = w.buf;
      let p = w.pos;
      if (slowTime) {
        if (src[dtStart] === 45) b[p++] = 39; // a negative year starts with `-`
        p = putSlice(b, p, src, dtStart, dtEnd);
        b[p++] = 44;
        p = putSlice(b, p, src, mcStart, mcEnd);
      } else {
        p = putBuffer(b, p, this.datetime);
        b[p++] = 44;
        p = putBuffer(b, p, this.micros);
      }
      b[p++] = 44;
      p = putBuffer(b, p, group.csv);
      b[p++] = 44;
      if (msgSlow) {
        p = putSlice(b, p, src, msgStart, msgEnd);
      } else p = putCsvCellFromBytes(b, p, src, msgStart, msgEnd);
      b[p++] = 44;
      p = putBuffer(b, p, group.csvPath);
      b[p++] = 44;
      p = putBuffer(b, p, group.inodeCsv);
      b[p++] = 44;
      if (line !== undefined) p = putNumber(b, p, line, false);
      b[p++] = 44;
      if (offset !== undefined) p = putNumber(b, p, offset, false);
      b[p++] = 44;
      if (rawSlow) {
        p = putSlice(b, p, src, rawStart, rawEnd);
      } else p = putCsvCellFromBytes(b, p, src, rawStart, rawEnd);
      b[p++] = 44;
      p = this.putId(b, p, idStart, idEnd);
      b[p++] = 44;
      p = putBuffer(b, p, attrsCsv);
      b[p++] = 10;
      w.pos = p;
    }
    const target = out.jsonl ?? out.json;
    if (target === undefined) return;
    const bound = text + group.json.length + group.inodeJson.length + attrsJson.length + 256;
    target.ensure(bound + 2);
    if (target === out.json && this.jsonCount++ > 0) target.buf[target.pos++] = 44;
    if (target === out.json) target.buf[target.pos++] = 10;
    const b = target.buf;
    const rowStart = target.pos;
    let p = putBuffer(b, rowStart, K_MESSAGE);
    if (msgSlow) {
      p = putSlice(b, p, src, msgJsonStart, msgJsonEnd);
    } else p = putJsonStringFromBytes(b, p, src, msgStart, msgEnd);
    p = putBuffer(b, p, K_DATETIME);
    if (slowTime) {
      p = putSlice(b, p, src, dtStart, dtEnd);
    } else {
      p = putBuffer(b, p, this.datetime);
    }
    p = putBuffer(b, p, K_TIMESTAMP);
    if (slowTime) {
      p = putSlice(b, p, src, mcStart, mcEnd);
    } else {
      p = putBuffer(b, p, this.micros);
    }
    p = putBuffer(b, p, group.json);
    p = putBuffer(b, p, group.inodeJson);
    if (line !== undefined) {
      p = putBuffer(b, p, K_LINE);
      p = putNumber(b, p, line, true);
    }
    if (offset !== undefined) {
      p = putBuffer(b, p, K_OFFSET);
      p = putNumber(b, p, offset, true);
    }
    p = putBuffer(b, p, K_RAW_TIME);
    if (rawSlow) {
      p = putSlice(b, p, src, rawJsonStart, rawJsonEnd);
    } else p = putJsonStringFromBytes(b, p, src, rawStart, rawEnd);
    p = putBuffer(b, p, K_EVENT_ID);
    p = this.putId(b, p, idStart, idEnd);
    b[p++] = 34;
    p = putBuffer(b, p, attrsJson);
    b[p++] = 125; // }
    if (target === out.jsonl) {
      b[p++] = 10;
      target.pos = p;
      const json = out.json;
      if (json !== undefined) {
        // The same object into timeline.json, after its separator.
        const rowLength = p - 1 - rowStart;
        json.ensure(rowLength + 2);
        if (this.jsonCount++ > 0) json.buf[json.pos++] = 44;
        json.buf[json.pos++] = 10;
        json.buf.set(b.subarray(rowStart, p - 1), json.pos);
        json.pos += rowLength;
      }
    } else target.pos = p;
  }

  private putId(b: Buffer, p: number, start: number, end: number): number {
    if (end > start) {
      return putSlice(b, p, this.src, start, end);
    }
    return putBuffer(b, p, this.id);
  }
}
