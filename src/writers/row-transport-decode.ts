// The row printer of the timeline files: reads the records of row-transport.ts and prints the same CSV and JSON
// rows as the reference sinks (tested byte for byte), from bytes:
// text arrives as UTF-8 and is quoted or escaped in place, times are printed from a per-second cache, and the
// event id is hashed from the group's prefix state, the position and the time digits.

import { eventIdFromPrefix, eventIdResult } from '../events/event-id.js';
import { formatIsoNano } from '../events/time.js';
import type { ByteFileWriter } from './byte-file-writer.js';
import { putBuffer, putCsvCellFromBytes, putHex8, putJsonStringFromBytes, putNumber, putSlice } from './bytes.js';
import { EventFlag, RecordKind } from './row-transport.js';

interface Group {
  prefixHi: number;
  prefixLo: number;
  /** CSV: the timestamp_desc, source, host, container id and name cells and the comma after them. */
  csvHead: Buffer;
  /** CSV: `,` path `,` inode `,` (the cells between the message and the line). */
  csvMid: Buffer;
  /** JSON: the members after the timestamp (timestamp_desc … path, then inode when known). */
  jsonMid: Buffer;
}

interface Attrs {
  csv: Buffer;
  json: Buffer;
}

const EMPTY: Buffer = Buffer.alloc(0);
const EMPTY_VIEW = new Uint8Array(0);
const COMMA = Buffer.from(',', 'latin1');
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
  // Per-second time cache: the time cells of the current second, printed once; each event fills in the digits.
  private secs = -1;
  private secsText = '';
  /** CSV `datetime,timestamp,`; the nine fraction digits start at csvFracAt, the timestamp ends at csvMicrosEnd. */
  private csvTime: Buffer = EMPTY;
  private csvFracAt = 0;
  private csvMicrosEnd = 0;
  /** JSON `,"datetime":"…","timestamp":…`; the fraction digits start at jsonFracAt, the timestamp ends it. */
  private jsonTime: Buffer = EMPTY;
  private jsonFracAt = 0;
  /** Views of the datetime inside csvTime and, quoted, inside jsonTime: the raw_time cells when it equals it. */
  private csvDatetime: Uint8Array = EMPTY_VIEW;
  private jsonDatetime: Uint8Array = EMPTY_VIEW;
  private readonly id = Buffer.alloc(16);

  // The chunk being decoded (as a Buffer, a plain byte view for copies, a DataView for numbers) and the position.
  private src: Buffer = EMPTY;
  private view: Uint8Array = EMPTY_VIEW;
  private data: DataView<ArrayBufferLike> = new DataView(EMPTY_VIEW.buffer);
  private p = 0;

  private u32(): number {
    const b = this.src;
    const p = this.p;
    this.p = p + 4;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }

  private f64(): number {
    const v = this.data.getFloat64(this.p, true);
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
    this.view = new Uint8Array(chunk.buffer, chunk.byteOffset, length);
    this.data = new DataView(chunk.buffer, chunk.byteOffset, length);
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
    this.view = EMPTY_VIEW;
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
    const inodeJson = inode === '' ? '' : inodeQuoted ? `,"inode":"${inode}"` : `,"inode":${inode}`;
    this.groups.set(id, {
      prefixHi,
      prefixLo,
      csvHead: Buffer.concat([csv, COMMA]),
      csvMid: Buffer.concat([COMMA, csvPath, COMMA, Buffer.from(inode, 'latin1'), COMMA]),
      jsonMid: Buffer.concat([json, Buffer.from(inodeJson, 'latin1')]),
    });
  }

  private newSecond(secs: number): void {
    this.secs = secs;
    this.secsText = String(secs);
    const datetime = formatIsoNano(BigInt(secs) * 1_000_000_000n); // …SS.000000000Z
    const micros = this.secsText + '000000';
    this.csvTime = Buffer.from(`${datetime},${micros},`, 'latin1');
    this.csvFracAt = datetime.length - 10;
    this.csvMicrosEnd = datetime.length + 1 + micros.length;
    this.jsonTime = Buffer.from(`,"datetime":"${datetime}","timestamp":${micros}`, 'latin1');
    this.jsonFracAt = K_DATETIME.length + datetime.length - 10;
    this.csvDatetime = this.csvTime.subarray(0, datetime.length);
    this.jsonDatetime = this.jsonTime.subarray(K_DATETIME.length - 1, K_DATETIME.length + datetime.length + 1);
  }

  /** The nine nanosecond digits of `frac` into both time cells, and the first six into both timestamps. */
  private fillTime(frac: number): void {
    const c = this.csvTime;
    const j = this.jsonTime;
    let f = frac; // < 1e9 < 2^31: int32 arithmetic
    let ca = this.csvFracAt + 8;
    let ja = this.jsonFracAt + 8;
    for (let k = 0; k < 3; k++) {
      const q = (f / 10) | 0;
      const d = 48 + f - q * 10;
      c[ca--] = d;
      j[ja--] = d;
      f = q;
    }
    let cm = this.csvMicrosEnd - 1;
    let jm = j.length - 1;
    for (let k = 0; k < 6; k++) {
      const q = (f / 10) | 0;
      const d = 48 + f - q * 10;
      c[ca--] = d;
      j[ja--] = d;
      c[cm--] = d;
      j[jm--] = d;
      f = q;
    }
  }

  private event(out: RowOutputs): void {
    const src = this.src;
    const view = this.view;
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
      this.fillTime(this.u32());
    }
    const line = (flags & EventFlag.line) !== 0 ? this.f64() : undefined;
    const offset = (flags & EventFlag.offset) !== 0 ? this.f64() : undefined;
    let idStart = 0;
    let idEnd = 0;
    if ((flags & EventFlag.id) !== 0) {
      idStart = this.str();
      idEnd = this.p;
    } else {
      eventIdFromPrefix(group.prefixHi, group.prefixLo, offset, line, '', this.secsText, this.csvTime, this.csvFracAt);
      putHex8(this.id, 0, eventIdResult.hi);
      putHex8(this.id, 8, eventIdResult.lo);
    }
    const msgSlow = (flags & EventFlag.messageSlow) !== 0;
    const msgStart = this.str();
    const msgEnd = this.p;
    const msgJsonStart = msgSlow ? this.str() : 0;
    const msgJsonEnd = this.p;
    const rawSlow = (flags & EventFlag.rawSlow) !== 0;
    const rawIsDatetime = (flags & EventFlag.rawIsDatetime) !== 0;
    const rawStart = rawIsDatetime ? this.p : this.str();
    const rawEnd = this.p;
    const rawJsonStart = rawSlow ? this.str() : 0;
    const rawJsonEnd = this.p;

    const text = 6 * (msgJsonEnd - msgStart + rawJsonEnd - rawStart) + 2 * (dtEnd - dtStart + mcEnd - mcStart) + 2 * (idEnd - idStart) + 512;
    const attrsCsv = attrs?.csv ?? EMPTY;
    const attrsJson = attrs?.json ?? EMPTY;
    if (out.csv) {
      const w = out.csv;
      w.ensure(text + group.csvHead.length + group.csvMid.length + attrsCsv.length);
      const b = w.buf;
      let p = w.pos;
      if (slowTime) {
        if (src[dtStart] === 45) b[p++] = 39; // a negative year starts with `-`
        p = putSlice(b, p, view, dtStart, dtEnd);
        b[p++] = 44;
        p = putSlice(b, p, view, mcStart, mcEnd);
        b[p++] = 44;
      } else p = putBuffer(b, p, this.csvTime);
      p = putBuffer(b, p, group.csvHead);
      if (msgSlow) {
        p = putSlice(b, p, view, msgStart, msgEnd);
      } else p = putCsvCellFromBytes(b, p, view, msgStart, msgEnd);
      p = putBuffer(b, p, group.csvMid);
      if (line !== undefined) p = putNumber(b, p, line, false);
      b[p++] = 44;
      if (offset !== undefined) p = putNumber(b, p, offset, false);
      b[p++] = 44;
      if (rawIsDatetime) {
        p = putBuffer(b, p, this.csvDatetime);
      } else if (rawSlow) {
        p = putSlice(b, p, view, rawStart, rawEnd);
      } else p = putCsvCellFromBytes(b, p, view, rawStart, rawEnd);
      b[p++] = 44;
      p = this.putId(b, p, idStart, idEnd);
      b[p++] = 44;
      p = putBuffer(b, p, attrsCsv);
      b[p++] = 10;
      w.pos = p;
    }
    const target = out.jsonl ?? out.json;
    if (target === undefined) return;
    const bound = text + group.jsonMid.length + attrsJson.length + 256;
    target.ensure(bound + 2);
    if (target === out.json && this.jsonCount++ > 0) target.buf[target.pos++] = 44;
    if (target === out.json) target.buf[target.pos++] = 10;
    const b = target.buf;
    const rowStart = target.pos;
    let p = putBuffer(b, rowStart, K_MESSAGE);
    if (msgSlow) {
      p = putSlice(b, p, view, msgJsonStart, msgJsonEnd);
    } else p = putJsonStringFromBytes(b, p, view, msgStart, msgEnd);
    if (slowTime) {
      p = putBuffer(b, p, K_DATETIME);
      p = putSlice(b, p, view, dtStart, dtEnd);
      p = putBuffer(b, p, K_TIMESTAMP);
      p = putSlice(b, p, view, mcStart, mcEnd);
    } else p = putBuffer(b, p, this.jsonTime);
    p = putBuffer(b, p, group.jsonMid);
    if (line !== undefined) {
      p = putBuffer(b, p, K_LINE);
      p = putNumber(b, p, line, true);
    }
    if (offset !== undefined) {
      p = putBuffer(b, p, K_OFFSET);
      p = putNumber(b, p, offset, true);
    }
    p = putBuffer(b, p, K_RAW_TIME);
    if (rawIsDatetime) {
      p = putBuffer(b, p, this.jsonDatetime);
    } else if (rawSlow) {
      p = putSlice(b, p, view, rawJsonStart, rawJsonEnd);
    } else p = putJsonStringFromBytes(b, p, view, rawStart, rawEnd);
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
      return putSlice(b, p, this.view, start, end);
    }
    return putBuffer(b, p, this.id);
  }
}
