// A small, bounded protobuf decoder for the one message the Docker `local` log driver writes: LogEntry.
// Hand-rolled on purpose (STYLE.md: no generated parsers): every length and varint read from the file is checked
// against the bytes that remain, and a varint longer than 10 bytes is an error, so no input can loop or over-read.
//
// References:
//  - moby/moby `api/types/plugins/logdriver/entry.proto` (proto3):
//      message LogEntry { string source = 1; int64 time_nano = 2; bytes line = 3; bool partial = 4;
//                         PartialLogEntryMetadata partial_log_metadata = 5; }
//      message PartialLogEntryMetadata { bool last = 1; string id = 2; int32 ordinal = 3; }
//    newer moby (daemon/logger/internal/logdriver) adds `repeated LogAttr attrs = 6` with LogAttr { key = 1; value = 2 }.
//  - Protocol Buffers encoding guide (protobuf.dev/programming-guides/encoding): wire types 0 varint, 1 I64,
//    2 LEN, 5 I32 (3/4 deprecated groups); int64 negative values are 10-byte two's-complement varints.

export class ProtoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtoError';
  }
}

export interface PartialLogMetadata {
  last: boolean;
  id: string;
  ordinal: number;
}

export interface LogEntry {
  source: string;
  /** Nanoseconds since the epoch (int64). */
  timeNano: bigint;
  /** True when the record carried field 2 at all (proto3 omits a zero value). */
  hasTime: boolean;
  line: Uint8Array;
  partial: boolean;
  partialMetadata?: PartialLogMetadata;
  /** `--log-opt labels/env/tag` attributes (field 6 of newer Docker versions). */
  attrs?: Array<[string, string]>;
}

/** Longest varint: 10 bytes for 64 bits. */
const MAX_VARINT_BYTES = 10;
/** Attributes kept per record (a hostile record may repeat field 6 many times). */
export const MAX_LOG_ENTRY_ATTRS = 256;

const utf8 = new TextDecoder('utf-8');

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.pos >= this.end) throw new ProtoError(`varint runs past the end of the message at byte ${this.pos}`);
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new ProtoError(`varint longer than ${MAX_VARINT_BYTES} bytes at byte ${this.pos - MAX_VARINT_BYTES}`);
  }

  /** A small varint (tags, lengths): must fit in a safe integer. */
  smallVarint(what: string): number {
    const v = this.varint();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtoError(`${what} ${v} is too large`);
    return Number(v);
  }

  bytes(): Uint8Array {
    const len = this.smallVarint('length');
    if (len > this.end - this.pos) {
      throw new ProtoError(`length ${len} at byte ${this.pos} exceeds the ${this.end - this.pos} bytes left`);
    }
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wireType: number, field: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8, field);
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.advance(4, field);
        return;
      default:
        throw new ProtoError(`field ${field}: unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number, field: number): void {
    if (this.end - this.pos < n) throw new ProtoError(`field ${field}: fixed value runs past the end`);
    this.pos += n;
  }
}

function expectWire(field: number, got: number, want: number): void {
  if (got !== want) throw new ProtoError(`field ${field}: wire type ${got}, expected ${want}`);
}

function readTag(r: Reader): [number, number] {
  const tag = r.smallVarint('tag');
  const field = Math.floor(tag / 8);
  if (field === 0) throw new ProtoError(`field number 0 at byte ${r.pos}`);
  return [field, tag & 7];
}

function decodeMetadata(buf: Uint8Array): PartialLogMetadata {
  const r = new Reader(buf, 0, buf.length);
  const md: PartialLogMetadata = { last: false, id: '', ordinal: 0 };
  while (r.pos < r.end) {
    const [field, wt] = readTag(r);
    if (field === 1) {
      expectWire(field, wt, 0);
      md.last = r.varint() !== 0n;
    } else if (field === 2) {
      expectWire(field, wt, 2);
      md.id = utf8.decode(r.bytes());
    } else if (field === 3) {
      expectWire(field, wt, 0);
      md.ordinal = Number(BigInt.asIntN(32, r.varint()));
    } else r.skip(wt, field);
  }
  return md;
}

function decodeAttr(buf: Uint8Array): [string, string] {
  const r = new Reader(buf, 0, buf.length);
  let key = '';
  let value = '';
  while (r.pos < r.end) {
    const [field, wt] = readTag(r);
    if (field === 1 && wt === 2) key = utf8.decode(r.bytes());
    else if (field === 2 && wt === 2) value = utf8.decode(r.bytes());
    else r.skip(wt, field);
  }
  return [key, value];
}

/** Decodes one LogEntry from `buf[start, end)`; throws ProtoError on anything malformed. */
export function decodeLogEntry(buf: Uint8Array, start = 0, end = buf.length): LogEntry {
  const r = new Reader(buf, start, end);
  const e: LogEntry = { source: '', timeNano: 0n, hasTime: false, line: new Uint8Array(0), partial: false };
  while (r.pos < r.end) {
    const [field, wt] = readTag(r);
    switch (field) {
      case 1:
        expectWire(field, wt, 2);
        e.source = utf8.decode(r.bytes());
        break;
      case 2:
        expectWire(field, wt, 0);
        e.timeNano = BigInt.asIntN(64, r.varint());
        e.hasTime = true;
        break;
      case 3:
        expectWire(field, wt, 2);
        e.line = r.bytes();
        break;
      case 4:
        expectWire(field, wt, 0);
        e.partial = r.varint() !== 0n;
        break;
      case 5:
        expectWire(field, wt, 2);
        e.partialMetadata = decodeMetadata(r.bytes());
        break;
      case 6: {
        expectWire(field, wt, 2);
        const a = decodeAttr(r.bytes());
        e.attrs ??= [];
        if (e.attrs.length < MAX_LOG_ENTRY_ATTRS) e.attrs.push(a);
        break;
      }
      default:
        r.skip(wt, field);
    }
  }
  return e;
}

// ---------------------------------------------------------------------------------------------- encoder (tests)

function varintBytes(v: bigint): number[] {
  let x = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x !== 0n) b |= 0x80;
    out.push(b);
  } while (x !== 0n);
  return out;
}

function lenField(field: number, data: Uint8Array): number[] {
  return [...varintBytes(BigInt(field * 8 + 2)), ...varintBytes(BigInt(data.length)), ...data];
}

/** Encodes a LogEntry the way Docker does (proto3: zero values omitted). For tests and fixtures. */
export function encodeLogEntry(e: Partial<LogEntry> & { line?: Uint8Array | string }): Uint8Array {
  const enc = new TextEncoder();
  const out: number[] = [];
  if (e.source) out.push(...lenField(1, enc.encode(e.source)));
  if (e.timeNano !== undefined && e.timeNano !== 0n) out.push(...varintBytes(16n), ...varintBytes(e.timeNano));
  const line = typeof e.line === 'string' ? enc.encode(e.line) : e.line;
  if (line && line.length > 0) out.push(...lenField(3, line));
  if (e.partial) out.push(32, 1);
  if (e.partialMetadata) {
    const md: number[] = [];
    if (e.partialMetadata.last) md.push(8, 1);
    if (e.partialMetadata.id) md.push(...lenField(2, enc.encode(e.partialMetadata.id)));
    if (e.partialMetadata.ordinal) md.push(24, ...varintBytes(BigInt(e.partialMetadata.ordinal)));
    out.push(...lenField(5, Uint8Array.from(md)));
  }
  for (const [k, v] of e.attrs ?? []) {
    out.push(...lenField(6, Uint8Array.from([...lenField(1, enc.encode(k)), ...lenField(2, enc.encode(v))])));
  }
  return Uint8Array.from(out);
}

/** Frames an encoded LogEntry as the local driver writes it: uint32be length, message, uint32be length. */
export function frameRecord(msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(msg.length + 8);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, msg.length);
  out.set(msg, 4);
  dv.setUint32(4 + msg.length, msg.length);
  return out;
}
