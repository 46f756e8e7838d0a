// Bytes and lines of host text logs, hardened: plain or gzip (streamed through node:zlib with an inflate limit),
// split into lines with bounded memory. Runs of NUL bytes (what a crash leaves in a file whose size was
// extended before its data was written) end the current line and are skipped with one problem per run; a line
// longer than MAX_LINE_BYTES is skipped to the next newline; invalid UTF-8 becomes U+FFFD (never throws).
// References: gzip RFC 1952; node:zlib createGunzip; the json-file reader (src/collectors/docker/json-log.ts)
// this mirrors.
import { Buffer } from 'node:buffer';
import { type TimelineEvent, errorMessage } from '../../events/event.js';
import type { VfsFile } from '../../fs/vfs.js';
import { inflatedChunks, plainChunks, startsWithGzipMagic } from '../file-bytes.js';
import type { CollectorContext } from '../types.js';

/** Longest text-log line we buffer; rsyslog's default maximum message is 8 KiB, journald forwards up to 64 KiB. */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Inflated bytes read from one .gz before stopping (gzip bomb guard). */
export const MAX_GZ_INFLATED_BYTES = 4 * 1024 * 1024 * 1024;
/** Problems listed per file; the rest are counted in one summary problem. */
export const MAX_PROBLEMS_PER_FILE = 100;
/** Bytes per read from the VFS. */
export const READ_CHUNK_BYTES = 1 << 20;
/** A batch is yielded once it holds this many events. */
export const BATCH_EVENTS = 512;
/** Bytes handed to a LineSplitter at once by streamLines (about BATCH_EVENTS syslog lines). */
export const FEED_BYTES = 64 * 1024;

export interface LogBytes {
  inode: bigint;
  compressed: boolean;
  /** Chunks of the (inflated) file; each is valid only until the next is requested. */
  chunks: AsyncIterable<Buffer>;
}

export interface ReadOptions {
  maxGzInflatedBytes?: number;
  readChunkBytes?: number;
}

/** Opens a log file and streams its bytes (inflating gzip); problems go to `warn`. Undefined if it cannot open. */
export function openLogBytes(
  ctx: CollectorContext,
  path: string,
  warn: (reason: string) => void,
  options: ReadOptions = {},
): LogBytes | undefined {
  let file: VfsFile;
  try {
    file = ctx.vfs.open(path);
  } catch (err) {
    warn(`cannot open: ${errorMessage(err)}`);
    return undefined;
  }
  const gz = startsWithGzipMagic(file);
  if (!gz && path.endsWith('.gz')) warn('named .gz but does not start with the gzip magic 1f 8b; read as text');
  const readChunk = options.readChunkBytes ?? READ_CHUNK_BYTES;
  const bytes = gz
    ? inflatedChunks(file, warn, {
        maxInflated: options.maxGzInflatedBytes ?? MAX_GZ_INFLATED_BYTES,
        limitName: 'MAX_GZ_INFLATED_BYTES',
        readChunkBytes: readChunk,
        outChunkBytes: 256 * 1024,
        kept: 'lines',
      })
    : plainChunks(file, warn, readChunk);
  return { inode: file.ino, compressed: gz, chunks: closingAfter(bytes, file) };
}

/** Closes the file when its chunks are done (or abandoned). */
async function* closingAfter(chunks: AsyncGenerator<Buffer>, file: VfsFile): AsyncGenerator<Buffer> {
  try {
    yield* chunks;
  } finally {
    file.close();
  }
}

/** Called for each line: bytes buf[s, e) (no "\n", a trailing "\r" removed), offset of s in the file, line number. */
export type LineHandler = (buf: Buffer, s: number, e: number, offset: number, line: number) => void;

/**
 * Splits bytes fed in chunks of any size into lines. A NUL run ends the current line (which is passed on) and is
 * skipped with one problem; a line over maxLineBytes is skipped (one problem), memory stays under maxLineBytes.
 */
export class LineSplitter {
  private fed = 0;
  private lineNo = 1;
  private carry: Buffer = Buffer.alloc(0);
  private carryLen = 0;
  private carryStart = 0;
  private skipping = false;
  private skipStart = 0;
  private skipLine = 0;
  private inNul = false;
  private nulStart = 0;
  private nulLen = 0;

  constructor(
    private readonly onLine: LineHandler,
    private readonly problem: (reason: string) => void,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  get bytesFed(): number {
    return this.fed;
  }

  feed(buf: Buffer): void {
    const base = this.fed;
    this.fed += buf.length;
    const n = buf.length;
    let p = 0;
    let nextNul = buf.indexOf(0, 0);
    if (nextNul < 0) nextNul = n;
    while (p < n) {
      if (this.inNul) {
        while (p < n && buf[p] === 0) p++;
        this.nulLen = base + p - this.nulStart;
        if (p === n) return;
        this.endNul();
        nextNul = buf.indexOf(0, p);
        if (nextNul < 0) nextNul = n;
        continue;
      }
      let nl = buf.indexOf(0x0a, p);
      if (nl < 0) nl = n;
      if (nextNul < nl) {
        // a line (part) ends at a NUL run
        this.segment(buf, p, nextNul, base, false);
        this.inNul = true;
        this.nulStart = base + nextNul;
        p = nextNul;
        continue;
      }
      if (nl === n) {
        // no line end in this chunk: carry
        this.appendCarry(buf, p, n, base);
        return;
      }
      if (this.carryLen === 0 && !this.skipping && nl - p <= this.maxLineBytes) {
        // the usual whole line inside this chunk: segment() and emit() inlined
        this.onLine(buf, p, nl > p && buf[nl - 1] === 0x0d ? nl - 1 : nl, base + p, this.lineNo);
      } else {
        this.segment(buf, p, nl, base, true);
      }
      this.lineNo++;
      p = nl + 1;
    }
  }

  finish(): void {
    if (this.inNul) this.endNul();
    if (this.skipping) this.endSkip();
    else if (this.carryLen > 0) {
      const len = this.carryLen;
      this.carryLen = 0;
      this.emit(this.carry, 0, len, this.carryStart);
    }
  }

  private endNul(): void {
    this.inNul = false;
    this.problem(`line ${this.lineNo}: ${this.nulLen} NUL bytes at offset ${this.nulStart} (a crash or power loss?); skipped`);
  }

  private endSkip(): void {
    this.skipping = false;
    this.problem(
      `line ${this.skipLine}: longer than ${this.maxLineBytes} bytes (MAX_LINE_BYTES) at offset ${this.skipStart}; skipped`,
    );
    if (this.carry.length > 1 << 20) this.carry = Buffer.alloc(0);
  }

  private appendCarry(buf: Buffer, s: number, e: number, base: number): void {
    if (this.skipping) return;
    if (this.carryLen === 0) this.carryStart = base + s;
    const need = this.carryLen + (e - s);
    if (need > this.maxLineBytes) {
      this.skipping = true;
      this.skipStart = this.carryStart;
      this.skipLine = this.lineNo;
      this.carryLen = 0;
      return;
    }
    if (need > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxLineBytes, Math.max(need, this.carry.length * 2, 4096)));
      this.carry.copy(grown, 0, 0, this.carryLen);
      this.carry = grown;
    }
    buf.copy(this.carry, this.carryLen, s, e);
    this.carryLen = need;
  }

  private segment(buf: Buffer, s: number, e: number, base: number, newline: boolean): void {
    if (this.skipping) {
      this.endSkip();
      return;
    }
    if (this.carryLen > 0) {
      this.appendCarry(buf, s, e, base);
      if (this.skipping) {
        this.endSkip();
        return;
      }
      const len = this.carryLen;
      this.carryLen = 0;
      this.emit(this.carry, 0, len, this.carryStart);
      if (this.carry.length > 1 << 20) this.carry = Buffer.alloc(0);
      return;
    }
    if (e - s > this.maxLineBytes) {
      this.skipStart = base + s;
      this.skipLine = this.lineNo;
      this.endSkip();
      return;
    }
    if (e > s || newline) this.emit(buf, s, e, base + s);
  }

  private emit(buf: Buffer, s: number, e: number, offset: number): void {
    if (e > s && buf[e - 1] === 0x0d) e--;
    this.onLine(buf, s, e, offset, this.lineNo);
  }
}

/** True when a line looks like binary data rather than text (many control bytes other than tab/ESC). */
export function looksBinary(buf: Buffer, s: number, e: number): boolean {
  let ctl = 0;
  const len = e - s;
  for (let i = s; i < e; i++) {
    const c = buf[i];
    if (c < 0x20 && c !== 0x09 && c !== 0x1b) ctl++;
    else if (c === 0x7f) ctl++;
  }
  return ctl > 0 && ctl * 10 >= len;
}

/** A problem reporter that keeps the first MAX_PROBLEMS_PER_FILE and summarizes the rest. */
export class FileProblems {
  private count = 0;
  constructor(
    private readonly ctx: CollectorContext,
    private readonly component: string,
    private readonly path: string,
    private readonly max = MAX_PROBLEMS_PER_FILE,
  ) {}
  readonly add = (reason: string): void => {
    this.count++;
    if (this.count <= this.max) this.ctx.problems.warn(this.component, this.path, reason, this.ctx.host);
  };
  finish(): void {
    if (this.count > this.max) {
      this.ctx.problems.warn(
        this.component,
        this.path,
        `${this.count - this.max} more problems not listed (MAX_PROBLEMS_PER_FILE ${this.max})`,
        this.ctx.host,
      );
    }
  }
}

/** A line parser of one file: collects events; `finish` flushes whatever it still holds. */
export interface LineSink {
  line: LineHandler;
  finish?(): void;
  events: TimelineEvent[];
}

/**
 * Streams one text log through a LineSplitter into `sink`, yielding event batches.
 */
export async function* streamLines(
  bytes: LogBytes,
  sink: LineSink,
  problem: (reason: string) => void,
  maxLineBytes = MAX_LINE_BYTES,
  batch = BATCH_EVENTS,
): AsyncGenerator<TimelineEvent[]> {
  const splitter = new LineSplitter(sink.line, problem, maxLineBytes);
  for await (const chunk of bytes.chunks) {
    // Fed in slices so a batch is handed on soon after it fills: events then die young (a scavenge) instead of
    // surviving into the old generation while a whole read chunk is parsed.
    for (let i = 0; i < chunk.length; i += FEED_BYTES) {
      splitter.feed(i === 0 && chunk.length <= FEED_BYTES ? chunk : chunk.subarray(i, Math.min(chunk.length, i + FEED_BYTES)));
      if (sink.events.length >= batch) {
        yield sink.events;
        sink.events = [];
      }
    }
  }
  splitter.finish();
  sink.finish?.();
  if (sink.events.length > 0) {
    yield sink.events;
    sink.events = [];
  }
}

/** Rotation order key of a log file name relative to its base (`syslog`): larger = older; undefined = not ours. */
export function rotationAge(base: string, name: string): number | undefined {
  if (name === base) return 0;
  if (!name.startsWith(base)) return undefined;
  const rest = name.slice(base.length);
  let m = /^\.(\d{1,4})(\.gz)?$/.exec(rest);
  if (m) return Number(m[1]);
  // dateext: syslog-20240501(.gz): older dates are older files; map to a large age decreasing with date
  m = /^-(\d{8})(\d{2})?(\.gz)?$/.exec(rest);
  if (m) return 1e9 - Number(m[1]);
  return undefined;
}

/** Files of one log family in a directory, oldest first. */
export function rotatedFamily(names: string[], base: string): string[] {
  const out: Array<[number, string]> = [];
  for (const n of names) {
    const age = rotationAge(base, n);
    if (age !== undefined) out.push([age, n]);
  }
  out.sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? -1 : 1));
  return out.map((x) => x[1]);
}
