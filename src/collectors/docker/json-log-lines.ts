// Line framing of the Docker json-file parser: bytes fed in any chunking become lines, with an unfinished line
// carried over to the next chunk, NUL-filled regions (a crash left preallocated zeros) and lines over
// MAX_LOG_LINE_BYTES skipped and reported, and problems capped per file. JsonLogParser (json-log-parse.ts) extends
// it and decodes each line; framing and decoding are two classes but one object, so handing a line on is an
// ordinary method call, with no closure or allocation per line.
// References: moby/moby daemon/logger/jsonfilelog/jsonfilelog.go (one record per "\n"-terminated line),
// STYLE.md habit 5 (named limits, one regression test per guard).
import { Buffer } from 'node:buffer';
import { DEFAULT_JSON_LOG_LIMITS, type JsonLogLimits } from './json-log-limits.js';

/**
 * First size of the buffer holding a line cut by a chunk boundary (it doubles for longer lines). Small: every open
 * log has one, and a host may have thousands of containers (16 KiB each was 64 MB at 4000).
 */
const CARRY_MIN_BYTES = 1024;

/** The same bytes as a Buffer (no copy). */
function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

export abstract class JsonLogLines {
  protected readonly limits: JsonLogLimits;
  /** Bytes fed so far = offset of the next byte. */
  private fed = 0;
  /** 1-based number of the line being read. */
  protected lineNo = 1;
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
  // Problems.
  private problemCount = 0;

  protected constructor(
    private readonly report: (reason: string) => void,
    limits: Partial<JsonLogLimits>,
  ) {
    this.limits = { ...DEFAULT_JSON_LOG_LIMITS, ...limits };
  }

  /** Parses one record in buf[s, e) (no "\n"); returns undefined when it was used, else why it was skipped. */
  protected abstract parseLine(buf: Buffer, s: number, e: number, offset: number): string | undefined;

  /** The bytes of a buffer already handed to parseLine may have changed (chunk or carry reused): forget them. */
  protected abstract bytesChanged(): void;

  /** Bytes fed so far. */
  get bytesFed(): number {
    return this.fed;
  }

  protected problem(reason: string): void {
    this.problemCount++;
    if (this.problemCount <= this.limits.maxProblemsPerFile) this.report(reason);
  }

  /** Feeds the next bytes of the file; `chunk` may be reused by the caller afterwards. */
  feed(chunk: Uint8Array): void {
    const buf = asBuffer(chunk);
    const n = buf.length;
    const base = this.fed;
    this.fed += n;
    this.bytesChanged();
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

  /** After the last byte: reports an open NUL run or over-long line, and parses an unterminated last line. */
  protected finishLines(): void {
    if (this.inNul) this.endNulRun();
    if (this.skipping) this.endSkip();
    if (this.carryLen > 0) {
      const len = this.carryLen;
      this.carryLen = 0;
      this.bytesChanged();
      const failed = this.parseLine(this.carry, 0, len, this.carryStart);
      this.problem(
        failed === undefined
          ? `line ${this.lineNo}: last line has no newline (${len} bytes; record kept)`
          : `line ${this.lineNo}: truncated last line without newline (${len} bytes; ${failed}), skipped`,
      );
    }
  }

  /** After the last problem: reports how many went unlisted, and starts counting afresh. */
  protected finishProblems(): void {
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
      const grown = Buffer.allocUnsafe(Math.min(this.limits.maxLineBytes, Math.max(need, this.carry.length * 2, CARRY_MIN_BYTES)));
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
      this.bytesChanged();
      const failed = this.parseLine(this.carry, 0, len, this.carryStart);
      this.bytesChanged();
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
}
