// The synchronous core of the Docker json-file log reader: bytes in (any chunking), TimelineEvents out.
// It knows nothing about files, gzip or the VFS (json-log.ts reads those), so every guard is testable from a
// literal Uint8Array.
//
// One record per line: `{"log":"text\n","stream":"stdout","attrs":{...},"time":"<RFC3339Nano UTC>"}\n`.
// Docker writes the fields in exactly that order, omits `log`/`stream` when empty and `attrs` when there are
// none, escapes `"`, `\`, `<`, `>`, `&`, U+2028/9 and control bytes, and replaces invalid UTF-8 with \ufffd.
// Messages longer than 16 KiB arrive as several records; only the last one's `log` ends in "\n".
// References: moby/moby daemon/logger/jsonfilelog/jsonfilelog.go (marshalMessage),
// daemon/logger/jsonfilelog/jsonlog/jsonlogbytes.go (MarshalJSONBuf, ffjsonWriteJSONBytesAsString),
// daemon/logger/copier.go (16 KiB partial messages), RFC 8259 section 7 (string escapes).
import { Buffer } from 'node:buffer';
import { TimeDesc, type TimelineEvent } from '../../events/event.js';
import { DockerTimeParser } from './json-log-time.js';

/** Longest line we buffer; Docker's own lines are about 16 KiB of message plus JSON escaping (<= ~100 KiB). */
export const MAX_LOG_LINE_BYTES = 8 * 1024 * 1024;
/** Largest rejoined partial message (summed record bytes); beyond it the event is emitted truncated. */
export const MAX_PARTIAL_CHAIN_BYTES = 64 * 1024 * 1024;
/** Most records in one partial chain (tiny hostile chunks would otherwise grow the per-chunk arrays). */
export const MAX_PARTIAL_CHAIN_CHUNKS = 16384;
/** Partial chains open at once (Docker has two: stdout and stderr; a hostile file may invent streams). */
export const MAX_OPEN_PARTIAL_CHAINS = 4;
/** Problems listed per file; the rest are counted in one summary problem. */
export const MAX_PROBLEMS_PER_FILE = 100;
/** Docker's copier buffer: a line longer than this is split into partial records (moby daemon/logger/copier.go). */
export const DOCKER_PARTIAL_CHUNK_BYTES = 16 * 1024;

export interface JsonLogLimits {
  maxLineBytes: number;
  maxPartialChainBytes: number;
  maxPartialChainChunks: number;
  maxOpenPartialChains: number;
  maxProblemsPerFile: number;
}

export const DEFAULT_JSON_LOG_LIMITS: Readonly<JsonLogLimits> = Object.freeze({
  maxLineBytes: MAX_LOG_LINE_BYTES,
  maxPartialChainBytes: MAX_PARTIAL_CHAIN_BYTES,
  maxPartialChainChunks: MAX_PARTIAL_CHAIN_CHUNKS,
  maxOpenPartialChains: MAX_OPEN_PARTIAL_CHAINS,
  maxProblemsPerFile: MAX_PROBLEMS_PER_FILE,
});

/** What every event of one file carries. */
export interface JsonLogFileInfo {
  path: string;
  host: string;
  containerId: string;
  containerName?: string;
  inode?: bigint;
  /** The bytes were inflated from a .gz file (offsets are then offsets in the inflated stream). */
  compressed: boolean;
}

export const JSON_LOG_SOURCE = 'docker:json-log';

/** attrs.partial of an event rejoined from Docker's partial records. */
export interface PartialChainInfo {
  /** Records joined. */
  chunks: number;
  /** False when the chain was cut (end of file or rotation) before its last record (the one ending in "\n"). */
  complete: boolean;
  /** True when the chain passed a limit and later records were dropped. */
  truncated?: boolean;
  times: string[];
  offsets: number[];
  lines: number[];
}

interface Chain {
  stream: string;
  parts: string[];
  bytes: number;
  time: bigint;
  rawTime: string;
  line: number;
  offset: number;
  dockerAttrs: unknown;
  times: string[];
  offsets: number[];
  lines: number[];
  /** After a limit cut: the event is out; drop records until the chain's last one. */
  discarding: boolean;
  discarded: number;
}

const NONE = Number.MAX_SAFE_INTEGER;
const NO_ATTRS = undefined;

// `,"stream":"` and `,"time":"` and `,"attrs":` as bytes.
const STREAM_KEY = Buffer.from(',"stream":"', 'latin1');
const STREAM_KEY_Q = Buffer.from('","stream":"', 'latin1');
const TIME_KEY = Buffer.from(',"time":"', 'latin1');
const ATTRS_KEY = Buffer.from(',"attrs":', 'latin1');

// Node's Buffer#utf8Slice/latin1Slice (what toString calls after checking its arguments) are about twice as fast
// as toString for short ranges; both replace invalid UTF-8 with U+FFFD. Fall back to toString if they go away.
interface SliceBuffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}
const HAS_SLICES =
  typeof (Buffer.prototype as unknown as Partial<SliceBuffer>).utf8Slice === 'function' &&
  typeof (Buffer.prototype as unknown as Partial<SliceBuffer>).latin1Slice === 'function';
const utf8Slice: (b: Buffer, s: number, e: number) => string = HAS_SLICES
  ? (b, s, e) => (b as unknown as SliceBuffer).utf8Slice(s, e)
  : (b, s, e) => b.toString('utf8', s, e);
const latin1Slice: (b: Buffer, s: number, e: number) => string = HAS_SLICES
  ? (b, s, e) => (b as unknown as SliceBuffer).latin1Slice(s, e)
  : (b, s, e) => b.toString('latin1', s, e);

function matchAt(buf: Uint8Array, at: number, key: Uint8Array): boolean {
  if (at + key.length > buf.length) return false;
  for (let i = 0; i < key.length; i++) if (buf[at + i] !== key[i]) return false;
  return true;
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** A short, printable excerpt of a bad line for a problem message. */
function excerpt(buf: Buffer, s: number, e: number): string {
  const text = buf.toString('utf8', s, Math.min(e, s + 60));
  return JSON.stringify(e - s > 60 ? text + '…' : text);
}

/**
 * Parses one file's bytes, fed in chunks of any size, into events (in `events`, drained by the caller with
 * `take()`), reporting problems through `report`. Never throws on bad input; memory is bounded by the limits.
 */
export class JsonLogParser {
  /** Events parsed so far and not yet taken. */
  events: TimelineEvent[] = [];
  private readonly limits: JsonLogLimits;
  private readonly time = new DockerTimeParser();
  /** Bytes fed so far = offset of the next byte. */
  private fed = 0;
  /** 1-based number of the line being read. */
  private lineNo = 1;
  // The unfinished line carried over from the previous chunk.
  private carry: Buffer = Buffer.alloc(0);
  private carryLen = 0;
  private carryStart = 0;
  // A line over maxLineBytes being skipped.
  private skipping = false;
  private skipLine = 0;
  private skipStart = 0;
  private skipped = 0;
  // A run of NUL bytes being skipped.
  private inNul = false;
  private nulStart = 0;
  private nulLen = 0;
  // Open partial chains (one per stream).
  private chains: Chain[] = [];
  // Problems.
  private problemCount = 0;
  // Positions of the next `","stream":"` and `\` in the buffer being parsed (NONE: no more; -1: unknown).
  private scanBuf: Buffer | undefined;
  private nextStreamKey = -1;
  private nextQuote = -1;
  private nextBackslash = -1;
  // Last `attrs` JSON text and its parsed value (every record of a container carries the same attrs).
  private lastAttrsText = '';
  private lastAttrs: unknown = undefined;
  private readonly sharedAttrs = new Map<string, { docker: unknown; attrs: Readonly<Record<string, unknown>> }>();
  /** For benchmarks and tests: force JSON.parse for every line. */
  disableFastPath = false;

  constructor(
    private readonly info: JsonLogFileInfo,
    private readonly report: (reason: string) => void,
    limits: Partial<JsonLogLimits> = {},
  ) {
    this.limits = { ...DEFAULT_JSON_LOG_LIMITS, ...limits };
  }

  /** Returns and clears the parsed events. */
  take(): TimelineEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  /** Bytes fed so far. */
  get bytesFed(): number {
    return this.fed;
  }

  private problem(reason: string): void {
    this.problemCount++;
    if (this.problemCount <= this.limits.maxProblemsPerFile) this.report(reason);
  }

  /** Feeds the next bytes of the file; `chunk` may be reused by the caller afterwards. */
  feed(chunk: Uint8Array): void {
    const buf = asBuffer(chunk);
    const n = buf.length;
    const base = this.fed;
    this.fed += n;
    this.scanBuf = undefined;
    let pos = 0;
    let nextNul = buf.indexOf(0);
    while (pos < n) {
      if (this.inNul) {
        let p = pos;
        while (p < n && buf[p] === 0) p++;
        this.nulLen += p - pos;
        pos = p;
        if (pos >= n) return;
        this.endNulRun();
      }
      if (this.skipping) {
        const nl = buf.indexOf(10, pos);
        if (nl < 0) {
          this.skipped += n - pos;
          return;
        }
        this.skipped += nl - pos;
        this.endSkip();
        pos = nl + 1;
        this.lineNo++;
        continue;
      }
      if (nextNul >= 0 && nextNul < pos) nextNul = buf.indexOf(0, pos);
      const nl = buf.indexOf(10, pos);
      const stop = nl < 0 ? n : nl;
      if (nextNul >= 0 && nextNul < stop) {
        // A record cut by a NUL-filled region (a crash left preallocated zeros): the bytes before it are a
        // fragment; skip the NULs and carry on with whatever follows them.
        this.segment(buf, pos, nextNul, base, false);
        this.inNul = true;
        this.nulStart = base + nextNul;
        this.nulLen = 0;
        pos = nextNul;
        continue;
      }
      if (nl < 0) {
        this.appendCarry(buf, pos, n, base);
        return;
      }
      this.segment(buf, pos, nl, base, true);
      pos = nl + 1;
      this.lineNo++;
    }
  }

  /** Call once after the last byte: reports an unterminated last line and flushes cut partial chains. */
  finish(): void {
    if (this.inNul) this.endNulRun();
    if (this.skipping) this.endSkip();
    if (this.carryLen > 0) {
      const len = this.carryLen;
      this.carryLen = 0;
      this.scanBuf = undefined;
      const failed = this.parseLine(this.carry, 0, len, this.carryStart);
      this.problem(
        failed === undefined
          ? `line ${this.lineNo}: last line has no newline (${len} bytes; record kept)`
          : `line ${this.lineNo}: truncated last line without newline (${len} bytes; ${failed}), skipped`,
      );
    }
    for (const c of this.chains) this.emitChain(c, false, false);
    this.chains = [];
    const hidden = this.problemCount - this.limits.maxProblemsPerFile;
    if (hidden > 0) this.report(`${hidden} more problems in this file not listed (limit ${this.limits.maxProblemsPerFile})`);
    this.problemCount = 0;
  }

  private endNulRun(): void {
    this.inNul = false;
    this.problem(`line ${this.lineNo}: skipped ${this.nulLen} NUL bytes at offset ${this.nulStart}`);
  }

  private endSkip(): void {
    this.skipping = false;
    this.problem(
      `line ${this.skipLine}: longer than ${this.limits.maxLineBytes} bytes (MAX_LOG_LINE_BYTES), ` +
        `skipped ${this.skipped} bytes at offset ${this.skipStart}`,
    );
  }

  private startSkip(skipStart: number, bytes: number): void {
    this.skipping = true;
    this.skipLine = this.lineNo;
    this.skipStart = skipStart;
    this.skipped = bytes;
    this.carryLen = 0;
    this.shrinkCarry();
  }

  private shrinkCarry(): void {
    if (this.carry.length > 1 << 20) this.carry = Buffer.alloc(0);
  }

  private appendCarry(buf: Buffer, s: number, e: number, base: number): void {
    const len = e - s;
    if (this.carryLen === 0) this.carryStart = base + s;
    const need = this.carryLen + len;
    if (need > this.limits.maxLineBytes) {
      this.startSkip(this.carryStart, need);
      return;
    }
    if (need > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.limits.maxLineBytes, Math.max(need, this.carry.length * 2, 16384)));
      this.carry.copy(grown, 0, 0, this.carryLen);
      this.carry = grown;
    }
    buf.copy(this.carry, this.carryLen, s, e);
    this.carryLen = need;
  }

  /** A line (terminated by "\n", or by a NUL run when `newline` is false) in buf[s, e), plus any carry. */
  private segment(buf: Buffer, s: number, e: number, base: number, newline: boolean): void {
    if (this.carryLen > 0) {
      this.appendCarry(buf, s, e, base);
      if (this.skipping) {
        // appendCarry found the line too long; its bytes up to the line end are already counted.
        this.endSkip();
        return;
      }
      const len = this.carryLen;
      this.carryLen = 0;
      this.scanBuf = undefined;
      const failed = this.parseLine(this.carry, 0, len, this.carryStart);
      this.scanBuf = undefined;
      this.shrinkCarry();
      if (failed !== undefined) this.problem(`line ${this.lineNo}: ${failed}`);
      return;
    }
    if (e === s) {
      if (newline) this.problem(`line ${this.lineNo}: empty line`);
      return;
    }
    if (e - s > this.limits.maxLineBytes) {
      this.problem(
        `line ${this.lineNo}: longer than ${this.limits.maxLineBytes} bytes (MAX_LOG_LINE_BYTES), ` +
          `skipped ${e - s} bytes at offset ${base + s}`,
      );
      return;
    }
    const failed = this.parseLine(buf, s, e, base + s);
    if (failed !== undefined) this.problem(`line ${this.lineNo}: ${failed}`);
  }

  /** Parses one record; returns undefined when it was used, else why it was skipped. */
  private parseLine(buf: Buffer, s: number, e: number, offset: number): string | undefined {
    if (
      !this.disableFastPath && e - s > 8 && buf[s] === 0x7b && buf[s + 1] === 0x22 && buf[s + 2] === 0x6c &&
      buf[s + 3] === 0x6f && buf[s + 4] === 0x67 && buf[s + 5] === 0x22 && buf[s + 6] === 0x3a && buf[s + 7] === 0x22
    ) {
      if (this.parseFast(buf, s, e, offset)) return undefined;
    }
    return this.parseSlow(buf, s, e, offset);
  }

  private quoteFrom(buf: Buffer, p: number): number {
    if (this.nextQuote < p) {
      const i = buf.indexOf(0x22, p);
      this.nextQuote = i < 0 ? NONE : i;
    }
    return this.nextQuote;
  }

  /** Position of the `"` of the next `","stream":"` at or after p. */
  private streamKeyFrom(buf: Buffer, p: number): number {
    if (this.nextStreamKey < p) {
      const i = buf.indexOf(STREAM_KEY_Q, p);
      this.nextStreamKey = i < 0 ? NONE : i;
    }
    return this.nextStreamKey;
  }

  private backslashFrom(buf: Buffer, p: number): number {
    if (this.nextBackslash < p) {
      const i = buf.indexOf(0x5c, p);
      this.nextBackslash = i < 0 ? NONE : i;
    }
    return this.nextBackslash;
  }

  /**
   * Docker's exact layout `{"log":"…","stream":"stdout|stderr"[,"attrs":{…}],"time":"…Z"}`, decoded without
   * parsing the whole line. Returns false (having changed nothing) for anything else; parseSlow then decides.
   * The "log" string is decoded by one utf8Slice when its only escape is the final `\n` (the usual case), else
   * by JSON.parse of just that string literal, so every escape means exactly what JSON.parse says it means.
   */
  private parseFast(buf: Buffer, s: number, e: number, offset: number): boolean {
    if (this.scanBuf !== buf) {
      this.scanBuf = buf;
      this.nextStreamKey = -1;
      this.nextQuote = -1;
      this.nextBackslash = -1;
    }
    // The "log" string ends at the first `","stream":"`: inside a valid JSON string every `"` follows a
    // backslash, so that sequence cannot occur there; if its quote is escaped the line is not valid JSON
    // (or not in Docker's layout) and parseSlow decides. One native search instead of one per escaped quote.
    // Most lines have no escaped quote, so first try the first quote.
    const textStart = s + 8;
    let q = this.quoteFrom(buf, textStart);
    if (q >= e) return false;
    if (buf[q - 1] === 0x5c) {
      q = this.streamKeyFrom(buf, textStart);
      if (q >= e) return false;
      let bs = q - 1;
      while (buf[bs] === 0x5c) bs--;
      if (((q - 1 - bs) & 1) !== 0) return false;
    }
    const b = this.backslashFrom(buf, textStart);
    let text: string;
    let endsNewline = false;
    if (b >= q) {
      text = utf8Slice(buf, textStart, q);
    } else if (b === q - 2 && buf[q - 1] === 0x6e) {
      // Only escape: the trailing \n.
      text = utf8Slice(buf, textStart, b);
      endsNewline = true;
    } else {
      let decoded: unknown;
      try {
        decoded = JSON.parse(utf8Slice(buf, textStart - 1, q + 1));
      } catch {
        return false;
      }
      text = decoded as string;
      if (text.length > 0 && text.charCodeAt(text.length - 1) === 10) {
        text = text.slice(0, -1);
        endsNewline = true;
      }
    }
    let p = q + 1;
    // `,"stream":"stdout"` or `stderr`.
    if (!matchAt(buf, p, STREAM_KEY)) return false;
    p += STREAM_KEY.length;
    let stream: string;
    if (
      buf[p] === 0x73 && buf[p + 1] === 0x74 && buf[p + 2] === 0x64 && buf[p + 6] === 0x22 && p + 6 < e
    ) {
      if (buf[p + 3] === 0x6f && buf[p + 4] === 0x75 && buf[p + 5] === 0x74) stream = 'stdout';
      else if (buf[p + 3] === 0x65 && buf[p + 4] === 0x72 && buf[p + 5] === 0x72) stream = 'stderr';
      else return false;
    } else {
      return false;
    }
    p += 7;
    // The time is the last field: `,"time":"…"}` at the end of the line.
    if (buf[e - 1] !== 0x7d || buf[e - 2] !== 0x22) return false;
    const tsEnd = e - 2;
    let k = tsEnd - 1;
    const floor = Math.max(p, tsEnd - 40);
    while (k > floor && buf[k] !== 0x22) k--;
    if (buf[k] !== 0x22) return false;
    const keyAt = k - (TIME_KEY.length - 1);
    if (keyAt < p || !matchAt(buf, keyAt, TIME_KEY)) return false;
    let dockerAttrs: unknown = NO_ATTRS;
    if (keyAt !== p) {
      if (!matchAt(buf, p, ATTRS_KEY)) return false;
      const at = p + ATTRS_KEY.length;
      if (buf[at] !== 0x7b || buf[keyAt - 1] !== 0x7d) return false;
      const attrsText = utf8Slice(buf, at, keyAt);
      if (attrsText === this.lastAttrsText) {
        dockerAttrs = this.lastAttrs;
      } else {
        try {
          dockerAttrs = JSON.parse(attrsText);
        } catch {
          return false;
        }
        this.lastAttrsText = attrsText;
        this.lastAttrs = dockerAttrs;
      }
    }
    const rawTime = latin1Slice(buf, k + 1, tsEnd);
    const time = this.time.parseBytes(buf, k + 1, tsEnd) ?? this.time.parse(rawTime);
    if (time === undefined) return false;
    this.record(stream, text, endsNewline, rawTime, time, dockerAttrs, offset, e - s);
    return true;
  }

  /** Any valid JSON record: JSON.parse, then check the fields. */
  private parseSlow(buf: Buffer, s: number, e: number, offset: number): string | undefined {
    let obj: unknown;
    try {
      obj = JSON.parse(utf8Slice(buf, s, e));
    } catch {
      return `not valid JSON: ${excerpt(buf, s, e)}`;
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return `not a JSON object: ${excerpt(buf, s, e)}`;
    const rec = obj as Record<string, unknown>;
    const log = rec.log;
    const rawTime = rec.time;
    if (typeof rawTime !== 'string') return `record has no "time" string: ${excerpt(buf, s, e)}`;
    if (typeof log !== 'string') return `record has no "log" string: ${excerpt(buf, s, e)}`;
    const time = this.time.parse(rawTime);
    if (time === undefined) return `time ${JSON.stringify(rawTime.slice(0, 60))} is not RFC 3339`;
    const stream = typeof rec.stream === 'string' ? rec.stream : '';
    const endsNewline = log.length > 0 && log.charCodeAt(log.length - 1) === 10;
    const text = endsNewline ? log.slice(0, -1) : log;
    this.record(stream, text, endsNewline, rawTime, time, rec.attrs, offset, e - s);
    return undefined;
  }

  /**
   * attrs of a whole record, one frozen object shared by every record with the same stream and Docker attrs: it
   * saves an allocation per line, and lets the writers encode it once (they cache by frozen object).
   */
  private sharedAttrsFor(stream: string, dockerAttrs: unknown): Readonly<Record<string, unknown>> {
    const hit = this.sharedAttrs.get(stream);
    if (hit !== undefined && hit.docker === dockerAttrs) return hit.attrs;
    const attrs = Object.freeze(this.attrsFor(stream, dockerAttrs));
    if (this.sharedAttrs.size >= 8) this.sharedAttrs.clear(); // hostile logs may invent stream names
    this.sharedAttrs.set(stream, { docker: dockerAttrs, attrs });
    return attrs;
  }

  private attrsFor(stream: string, dockerAttrs: unknown): Record<string, unknown> {
    const attrs: Record<string, unknown> = { stream };
    if (dockerAttrs !== undefined) attrs.attrs = dockerAttrs;
    if (this.info.compressed) attrs.compressed = true;
    return attrs;
  }

  private emit(
    time: bigint,
    message: string,
    rawTime: string,
    line: number,
    offset: number,
    attrs: Readonly<Record<string, unknown>>,
  ): void {
    const info = this.info;
    this.events.push({
      time,
      timestamp_desc: TimeDesc.recorded,
      source: JSON_LOG_SOURCE,
      host: info.host,
      container_id: info.containerId,
      container_name: info.containerName,
      message,
      path: info.path,
      inode: info.inode,
      line,
      offset,
      raw_time: rawTime,
      attrs,
    });
  }

  /** One decoded record: a whole message, or a link of a partial chain. */
  private record(
    stream: string,
    text: string,
    endsNewline: boolean,
    rawTime: string,
    time: bigint,
    dockerAttrs: unknown,
    offset: number,
    bytes: number,
  ): void {
    const chains = this.chains;
    let chain: Chain | undefined;
    for (let i = 0; i < chains.length; i++) if (chains[i].stream === stream) chain = chains[i];
    if (chain === undefined) {
      if (endsNewline) {
        this.emit(time, text, rawTime, this.lineNo, offset, this.sharedAttrsFor(stream, dockerAttrs));
        return;
      }
      if (chains.length >= this.limits.maxOpenPartialChains) {
        const oldest = chains.shift() as Chain;
        this.problem(
          `line ${this.lineNo}: more than ${this.limits.maxOpenPartialChains} partial messages open at once ` +
            `(MAX_OPEN_PARTIAL_CHAINS); emitted the one from line ${oldest.line} unfinished`,
        );
        this.emitChain(oldest, false, false);
      }
      chains.push({
        stream,
        parts: [text],
        bytes,
        time,
        rawTime,
        line: this.lineNo,
        offset,
        dockerAttrs,
        times: [rawTime],
        offsets: [offset],
        lines: [this.lineNo],
        discarding: false,
        discarded: 0,
      });
      return;
    }
    if (chain.discarding) {
      chain.discarded++;
      if (endsNewline) {
        this.problem(
          `line ${this.lineNo}: dropped ${chain.discarded} partial records after the message from line ` +
            `${chain.line} passed its limit`,
        );
        chains.splice(chains.indexOf(chain), 1);
      }
      return;
    }
    if (
      chain.bytes + bytes > this.limits.maxPartialChainBytes ||
      chain.parts.length + 1 > this.limits.maxPartialChainChunks
    ) {
      this.problem(
        `line ${this.lineNo}: partial message from line ${chain.line} longer than ` +
          `${this.limits.maxPartialChainBytes} bytes (MAX_PARTIAL_CHAIN_BYTES) or ` +
          `${this.limits.maxPartialChainChunks} records (MAX_PARTIAL_CHAIN_CHUNKS); emitted truncated`,
      );
      this.emitChain(chain, false, true);
      if (endsNewline) {
        chains.splice(chains.indexOf(chain), 1);
      } else {
        chain.discarding = true;
        chain.discarded = 1;
        chain.parts = [];
        chain.times = [];
        chain.offsets = [];
        chain.lines = [];
      }
      return;
    }
    chain.parts.push(text);
    chain.bytes += bytes;
    chain.times.push(rawTime);
    chain.offsets.push(offset);
    chain.lines.push(this.lineNo);
    if (endsNewline) {
      chains.splice(chains.indexOf(chain), 1);
      this.emitChain(chain, true, false);
    }
  }

  private emitChain(c: Chain, complete: boolean, truncated: boolean): void {
    if (c.discarding) return;
    const attrs = this.attrsFor(c.stream, c.dockerAttrs);
    const partial: PartialChainInfo = {
      chunks: c.parts.length,
      complete,
      times: c.times,
      offsets: c.offsets,
      lines: c.lines,
    };
    if (truncated) partial.truncated = true;
    attrs.partial = partial;
    this.emit(c.time, c.parts.join(''), c.rawTime, c.line, c.offset, attrs);
  }
}

/** Parses a whole file's bytes (given as one array or as chunks) into events and problem reasons. */
export function parseJsonLogBytes(
  data: Uint8Array | Iterable<Uint8Array>,
  info: JsonLogFileInfo,
  limits: Partial<JsonLogLimits> = {},
): { events: TimelineEvent[]; problems: string[] } {
  const problems: string[] = [];
  const parser = new JsonLogParser(info, (r) => problems.push(r), limits);
  const events: TimelineEvent[] = [];
  const chunks = data instanceof Uint8Array ? [data] : data;
  for (const c of chunks) {
    parser.feed(c);
    for (const ev of parser.take()) events.push(ev);
  }
  parser.finish();
  for (const ev of parser.take()) events.push(ev);
  return { events, problems };
}
