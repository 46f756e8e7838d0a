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
//
// This module decodes each line, with a fast path for Docker's exact layout; the line framing it extends (carry,
// NUL runs, over-long lines, per-file problem cap) is in json-log-lines.ts, so the hot path stays one object.
// Cold parts live beside it, their exports re-exported here: the named limits and file info (json-log-limits.ts),
// the JSON.parse path (json-log-slow.ts) and partial-chain rejoining (json-log-partial.ts). The byte helpers of
// the fast path stay in this module: module-local functions measured about 1% faster than imported ones.
import { Buffer } from 'node:buffer';
import { TimeDesc, type TimelineEvent } from '../../events/event.js';
import { JSON_LOG_SOURCE, type JsonLogFileInfo, type JsonLogLimits, recordAttrs } from './json-log-limits.js';
import { JsonLogLines } from './json-log-lines.js';
import { type Chain, PartialChains } from './json-log-partial.js';
import { decodeJsonRecord } from './json-log-slow.js';
import { DockerTimeParser } from './json-log-time.js';

export {
  DEFAULT_JSON_LOG_LIMITS,
  DOCKER_PARTIAL_CHUNK_BYTES,
  JSON_LOG_SOURCE,
  MAX_LOG_LINE_BYTES,
  MAX_OPEN_PARTIAL_CHAINS,
  MAX_PARTIAL_CHAIN_BYTES,
  MAX_PARTIAL_CHAIN_CHUNKS,
  MAX_PROBLEMS_PER_FILE,
} from './json-log-limits.js';
export type { JsonLogFileInfo, JsonLogLimits } from './json-log-limits.js';
export type { PartialChainInfo } from './json-log-partial.js';

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

/** Does `key` occur in `buf` at `at`? */
function matchAt(buf: Uint8Array, at: number, key: Uint8Array): boolean {
  if (at + key.length > buf.length) return false;
  for (let i = 0; i < key.length; i++) if (buf[at + i] !== key[i]) return false;
  return true;
}

const NONE = Number.MAX_SAFE_INTEGER;
const NO_ATTRS = undefined;

// `,"stream":"` and `,"time":"` and `,"attrs":` as bytes.
const STREAM_KEY = Buffer.from(',"stream":"', 'latin1');
const STREAM_KEY_Q = Buffer.from('","stream":"', 'latin1');
const TIME_KEY = Buffer.from(',"time":"', 'latin1');
const ATTRS_KEY = Buffer.from(',"attrs":', 'latin1');

/**
 * Parses one file's bytes, fed in chunks of any size, into events (in `events`, drained by the caller with
 * `take()`), reporting problems through `report`. Never throws on bad input; memory is bounded by the limits.
 */
export class JsonLogParser extends JsonLogLines {
  /** Events parsed so far and not yet taken. */
  events: TimelineEvent[] = [];
  private readonly time = new DockerTimeParser();
  // Open partial chains (one per stream).
  private readonly partials: PartialChains;
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
    report: (reason: string) => void,
    limits: Partial<JsonLogLimits> = {},
  ) {
    super(report, limits);
    this.partials = new PartialChains(
      info,
      this.limits,
      (reason) => this.problem(reason),
      (time, message, rawTime, line, offset, attrs) => this.emit(time, message, rawTime, line, offset, attrs),
    );
  }

  /** Returns and clears the parsed events. */
  take(): TimelineEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  /** Call once after the last byte: reports an unterminated last line and flushes cut partial chains. */
  finish(): void {
    this.finishLines();
    this.partials.flush();
    this.finishProblems();
  }

  protected bytesChanged(): void {
    this.scanBuf = undefined;
  }

  /** Parses one record; returns undefined when it was used, else why it was skipped. */
  protected parseLine(buf: Buffer, s: number, e: number, offset: number): string | undefined {
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

  /** Any valid JSON record: JSON.parse, then check the fields (json-log-slow.ts). */
  private parseSlow(buf: Buffer, s: number, e: number, offset: number): string | undefined {
    const r = decodeJsonRecord(buf, s, e, utf8Slice(buf, s, e), this.time);
    if (typeof r === 'string') return r;
    this.record(r.stream, r.text, r.endsNewline, r.rawTime, r.time, r.attrs, offset, e - s);
    return undefined;
  }

  /**
   * attrs of a whole record, one frozen object shared by every record with the same stream and Docker attrs: it
   * saves an allocation per line, and lets the writers encode it once (they cache by frozen object).
   */
  private sharedAttrsFor(stream: string, dockerAttrs: unknown): Readonly<Record<string, unknown>> {
    const hit = this.sharedAttrs.get(stream);
    if (hit !== undefined && hit.docker === dockerAttrs) return hit.attrs;
    const attrs = Object.freeze(recordAttrs(this.info, stream, dockerAttrs));
    if (this.sharedAttrs.size >= 8) this.sharedAttrs.clear(); // hostile logs may invent stream names
    this.sharedAttrs.set(stream, { docker: dockerAttrs, attrs });
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

  /** One decoded record: a whole message, or a link of a partial chain (json-log-partial.ts). */
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
    const chains = this.partials.open;
    let chain: Chain | undefined;
    for (let i = 0; i < chains.length; i++) if (chains[i].stream === stream) chain = chains[i];
    if (chain === undefined && endsNewline) {
      this.emit(time, text, rawTime, this.lineNo, offset, this.sharedAttrsFor(stream, dockerAttrs));
      return;
    }
    this.partials.add(chain, stream, text, endsNewline, rawTime, time, dockerAttrs, offset, bytes, this.lineNo);
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
