// Shared by the virtual-disk readers (qcow2, VMDK, VHD, VHDX): the error base class, read-only file opening,
// sibling-file confinement (backing/parent/extent files are only ever looked up beside the image), a bounded LRU
// cache, bounded inflate, and the problem log every virtual disk exposes as `problems`.
// References: Node.js zlib (`maxOutputLength`), STYLE.md habit 5 (hostile values, named limits).
//
// The errors are declared in virtual-disk-errors.ts, file opening and reads in virtual-disk-files.ts, sibling-file
// confinement and chain bounds in virtual-disk-siblings.ts; all are re-exported here, so the readers import every
// shared helper from this one module. This module holds the in-memory helpers and the VirtualDiskSource base.
import * as zlib from 'node:zlib';
import { type ByteSource, ByteSourceError, clampRead } from './byte-source.js';
import type { VirtualDiskErrorClass, VirtualDiskErrorCode } from './virtual-disk-errors.js';
import type { VirtualDiskOpenOptions } from './virtual-disk-files.js';

export {
  type VirtualDiskErrorClass,
  type VirtualDiskErrorCode,
  type VirtualDiskFormat,
  VirtualDiskError,
  failWith,
  virtualDiskErrorClass,
} from './virtual-disk-errors.js';
export {
  type FileOpener,
  type VirtualDiskOpenOptions,
  ReadOnlyFile,
  defaultOpener,
  openImageFile,
  readExact,
  readFileHead,
  readInto,
  readOrZeros,
} from './virtual-disk-files.js';
export { MAX_CHAIN_DEPTH, extendChain, nextChainDepth, realPathOf, resolveBeside } from './virtual-disk-siblings.js';

/** Problems kept per image; later ones are only counted. */
export const MAX_PROBLEMS = 200;
/** Largest virtual disk we address (2^53 bytes keeps every offset an exact JS number). */
export const MAX_VIRTUAL_SIZE = 2 ** 53 - 1;

/** A small LRU map bounded by entry count (Map keeps insertion order; re-insert on hit). */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly maxEntries: number) {}
  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    if (this.map.has(k)) this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.maxEntries) {
      const first = this.map.keys().next();
      if (!first.done) this.map.delete(first.value);
    }
  }
  get size(): number {
    return this.map.size;
  }
  clear(): void {
    this.map.clear();
  }
}

/**
 * Inflates `data` (raw deflate or zlib-wrapped) to at most `maxOut` bytes. Throws a plain Error describing the
 * damage (the caller wraps it in its format's error or records a problem). Trailing bytes after the stream end are
 * ignored (qcow2 compressed clusters are padded to sectors).
 */
export function inflateBounded(data: Uint8Array, maxOut: number, kind: 'raw' | 'zlib'): Uint8Array {
  try {
    const opts = { maxOutputLength: maxOut, finishFlush: zlib.constants.Z_SYNC_FLUSH };
    const out = kind === 'raw' ? zlib.inflateRawSync(data, opts) : zlib.inflateSync(data, opts);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE') throw new Error(`inflates to more than ${maxOut} bytes`);
    throw new Error(`inflate failed: ${e.message}`);
  }
}

/** Collects data problems (bounded) and throws them instead in strict mode. */
export class ProblemLog {
  readonly list: string[] = [];
  private dropped = 0;
  constructor(
    private readonly strict: boolean,
    private readonly make: (detail: string) => Error,
  ) {}
  /** The log of one image: strict mode throws `new Err('EDATA', where, detail)`. */
  static of(opts: VirtualDiskOpenOptions, Err: VirtualDiskErrorClass, where: string): ProblemLog {
    return new ProblemLog(opts.strict ?? false, (d) => new Err('EDATA', where, d));
  }
  add(detail: string): void {
    if (this.strict) throw this.make(detail);
    if (this.list.length < MAX_PROBLEMS) this.list.push(detail);
    else if (++this.dropped === 1) this.list.push(`further problems not listed (limit ${MAX_PROBLEMS})`);
  }
  /** Non-fatal note that is never thrown (e.g. a dirty log, a parent id mismatch). */
  note(detail: string): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push(detail);
  }
}

/** u64 from a DataView as a JS number, or undefined when it exceeds 2^53 - 1. */
export function u64(dv: DataView, off: number, little: boolean): number | undefined {
  const hi = dv.getUint32(off + (little ? 4 : 0), little);
  const lo = dv.getUint32(off + (little ? 0 : 4), little);
  if (hi > 0x1fffff) return undefined;
  return hi * 2 ** 32 + lo;
}

/** Reads named header u64 fields as JS numbers; one beyond 2^53 - 1 fails with `ELIMIT`. */
export function u64Field(
  dv: DataView,
  little: boolean,
  fail: (code: VirtualDiskErrorCode, detail: string) => never,
): (off: number, name: string) => number {
  return (off, name) => {
    const v = u64(dv, off, little);
    if (v === undefined) fail('ELIMIT', `${name} 0x${dv.getBigUint64(off, little).toString(16)} exceeds 2^53`);
    return v as number;
  };
}

/** Raw u64 as bigint (for values we only compare or print). */
export function u64big(dv: DataView, off: number, little: boolean): bigint {
  return dv.getBigUint64(off, little);
}

export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function ascii(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end && i < b.length; i++) s += String.fromCharCode(b[i] as number);
  return s;
}

/**
 * Walks a read of `n` bytes from virtual position `pos0` unit by unit (cluster, block, grain): `step` gets the
 * position, the unit's index, the offset within it, the bytes offered (to the unit's end or the read's end) and the
 * bytes done so far, and returns how many it filled (more than offered when it coalesced the following units).
 */
export function walkUnits(
  n: number,
  pos0: number,
  unit: number,
  step: (pos: number, index: number, within: number, take: number, done: number) => number,
): void {
  let done = 0;
  while (done < n) {
    const pos = pos0 + done;
    const index = Math.floor(pos / unit);
    const within = pos - index * unit;
    done += step(pos, index, within, Math.min(n - done, unit - within), done);
  }
}

/** Validates and normalises a ByteSource read call for a virtual disk of `size` bytes; returns [count, pos]. */
export function clampVirtual(
  src: { size: bigint; description: string },
  buf: Uint8Array,
  bufOffset: number,
  length: number,
  position: number | bigint,
): [number, number] {
  const n = clampRead(src, buf, bufOffset, length, position);
  return [n, n === 0 ? 0 : Number(position)];
}

/**
 * What every virtual-disk ByteSource shares: its problem log (read as `problems`), the closed flag, and the read
 * prologue (refuse after close, clamp to the virtual size).
 */
export abstract class VirtualDiskSource implements ByteSource {
  abstract readonly size: bigint;
  abstract readonly description: string;
  protected closed = false;

  protected constructor(protected readonly log: ProblemLog) {}

  get problems(): string[] {
    return this.log.list;
  }

  abstract read(buf: Uint8Array, bufOffset: number, length: number, position: number | bigint): number;
  abstract close(): void;

  /** Throws after close; else the read clamped to the virtual size, as [count, position]. */
  protected startRead(buf: Uint8Array, bufOffset: number, length: number, position: number | bigint): [number, number] {
    if (this.closed) throw new ByteSourceError('ECLOSED', this.description, 'read after close');
    return clampVirtual(this, buf, bufOffset, length, position);
  }

  /** Marks the source closed; false when it already was (close is idempotent). */
  protected markClosed(): boolean {
    if (this.closed) return false;
    this.closed = true;
    return true;
  }
}
