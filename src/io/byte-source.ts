// A read-only, random-access source of bytes: a raw image file, a set of split segments, a window over another
// source (a partition). Every evidence reader above sits on one of these, never on a path.
// Reads are synchronous and positional (STYLE.md); a read past the end returns short (0 at or after the end), never
// garbage and never an exception, so parsers see truncation as "fewer bytes" and decide what that means.

/** Raised for I/O problems below the parsers: missing segments, a source used after close, bad arguments. */
export class ByteSourceError extends Error {
  constructor(
    readonly code: 'ENOENT' | 'EIO' | 'EINVAL' | 'ECLOSED' | 'EFORMAT',
    readonly where: string,
    detail: string,
  ) {
    super(`${where}: ${detail}`);
    this.name = 'ByteSourceError';
  }
}

export interface ByteSource {
  /** Total size in bytes. */
  readonly size: bigint;
  /** Human-readable origin, for manifests and error messages (e.g. `disk.img`, `disk.img[p2 @1048576+...]`). */
  readonly description: string;
  /**
   * Reads up to `length` bytes at `position` into `buf[bufOffset..]`; returns the bytes read. Short (possibly 0) at or
   * past the end of the source; never reads past the end of `buf`.
   */
  read(buf: Uint8Array, bufOffset: number, length: number, position: number | bigint): number;
  close(): void;
}

/** Checks and clamps the arguments every `read` implementation shares; returns the byte count to deliver. */
export function clampRead(
  src: { size: bigint; description: string },
  buf: Uint8Array,
  bufOffset: number,
  length: number,
  position: number | bigint,
): number {
  if (!Number.isSafeInteger(bufOffset) || bufOffset < 0 || bufOffset > buf.length) {
    throw new ByteSourceError('EINVAL', src.description, `buffer offset ${bufOffset} outside buffer of ${buf.length}`);
  }
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new ByteSourceError('EINVAL', src.description, `read length ${length} is not a non-negative integer`);
  }
  const pos = BigInt(position);
  if (pos < 0n) throw new ByteSourceError('EINVAL', src.description, `read position ${pos} is negative`);
  if (pos >= src.size) return 0;
  const avail = src.size - pos;
  let n = Math.min(length, buf.length - bufOffset);
  if (BigInt(n) > avail) n = Number(avail);
  return n;
}

/** Reads exactly `length` bytes or returns fewer only at the end of the source (loops over short reads). */
export function readFully(src: ByteSource, buf: Uint8Array, bufOffset: number, length: number, position: number | bigint): number {
  let got = 0;
  let pos = BigInt(position);
  while (got < length) {
    const n = src.read(buf, bufOffset + got, length - got, pos);
    if (n <= 0) break;
    got += n;
    pos += BigInt(n);
  }
  return got;
}

/** Reads `length` bytes at `position` into a new array; the result is shorter only at the end of the source. */
export function readBytes(src: ByteSource, position: number | bigint, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  const n = readFully(src, buf, 0, length, position);
  return n === length ? buf : buf.subarray(0, n);
}

/** An in-memory source: tests, and small evidence already in memory. */
export class MemorySource implements ByteSource {
  readonly size: bigint;
  constructor(
    private readonly data: Uint8Array,
    readonly description = 'memory',
  ) {
    this.size = BigInt(data.length);
  }
  read(buf: Uint8Array, bufOffset: number, length: number, position: number | bigint): number {
    const n = clampRead(this, buf, bufOffset, length, position);
    if (n === 0) return 0;
    const p = Number(position);
    buf.set(this.data.subarray(p, p + n), bufOffset);
    return n;
  }
  close(): void {}
}

/** A window `[offset, offset+length)` over another source, e.g. one partition. Does not own the parent. */
export class SliceSource implements ByteSource {
  readonly size: bigint;
  readonly description: string;
  constructor(
    private readonly parent: ByteSource,
    readonly offset: bigint,
    length: bigint,
    label?: string,
  ) {
    if (offset < 0n || length < 0n) {
      throw new ByteSourceError('EINVAL', parent.description, `slice offset ${offset} / length ${length} is negative`);
    }
    // A slice that runs past the parent is clamped: a partition table may claim more than the image holds.
    const avail = offset >= parent.size ? 0n : parent.size - offset;
    this.size = length < avail ? length : avail;
    this.description = `${parent.description}[${label ? label + ' ' : ''}@${offset}+${length}]`;
  }
  read(buf: Uint8Array, bufOffset: number, length: number, position: number | bigint): number {
    const n = clampRead(this, buf, bufOffset, length, position);
    if (n === 0) return 0;
    return this.parent.read(buf, bufOffset, n, this.offset + BigInt(position));
  }
  close(): void {}
}
