// Shared by the virtual-disk readers (qcow2, VMDK, VHD, VHDX): the error base class, read-only file opening,
// sibling-file confinement (backing/parent/extent files are only ever looked up beside the image), a bounded LRU
// cache, bounded inflate, and the problem log every virtual disk exposes as `problems`.
// References: Node.js zlib (`maxOutputLength`), STYLE.md habit 5 (hostile values, named limits).
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as zlib from 'node:zlib';
import { type ByteSource, ByteSourceError, clampRead } from './byte-source.js';

export type VirtualDiskFormat = 'qcow2' | 'vmdk' | 'vhd' | 'vhdx';

export type VirtualDiskErrorCode =
  /** Magic/signature/cookie not the expected one. */
  | 'EMAGIC'
  /** A header value is impossible (bad version, cluster size, checksum, misaligned offset ...). */
  | 'ECORRUPT'
  /** A header value exceeds one of our named limits. */
  | 'ELIMIT'
  /** A structure lies (partly) past the end of the image file. */
  | 'ETRUNCATED'
  /** A valid feature we do not read (encryption, external data file, zstd ...). */
  | 'EUNSUPPORTED'
  /** A backing / parent / extent file is needed and not found beside the image. */
  | 'EMISSING'
  /** A path in the image tries to leave the image's folder. */
  | 'EPATH'
  /** Backing / parent chains that loop or are too deep. */
  | 'ELOOP'
  /** Data that cannot be read (damaged compressed cluster, table pointing outside the file): strict mode only. */
  | 'EDATA';

/** Base class of the per-format errors (`Qcow2Error`, `VmdkError`, `VhdError`, `VhdxError`). */
export class VirtualDiskError extends Error {
  constructor(
    readonly format: VirtualDiskFormat,
    readonly code: VirtualDiskErrorCode,
    readonly where: string,
    detail: string,
  ) {
    super(`${where}: ${format}: ${detail}`);
    this.name = 'VirtualDiskError';
  }
}

/** Constructor of a per-format error class: `new Qcow2Error(code, where, detail)`. */
export type VirtualDiskErrorClass = new (code: VirtualDiskErrorCode, where: string, detail: string) => VirtualDiskError;

/** The error class of one format (`Qcow2Error` ...): a VirtualDiskError with its format and class name fixed. */
export function virtualDiskErrorClass(format: VirtualDiskFormat, name: string) {
  const cls = class extends VirtualDiskError {
    constructor(code: VirtualDiskErrorCode, where: string, detail: string) {
      super(format, code, where, detail);
      this.name = name;
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

/** A parser's or opener's `fail`: throws `new Err(code, where, prefix + detail)`. */
export function failWith(
  Err: VirtualDiskErrorClass,
  where: string,
  prefix = '',
): (code: VirtualDiskErrorCode, detail: string) => never {
  return (code, detail) => {
    throw new Err(code, where, prefix + detail);
  };
}

/** Opens one file read-only as a ByteSource (injected so tests can count or refuse opens). */
export type FileOpener = (path: string) => ByteSource;

/** Common options of the file-level openers. */
export interface VirtualDiskOpenOptions {
  /** Opens a file read-only; default `ReadOnlyFile`. */
  openFile?: FileOpener;
  /** Throw an `EDATA` error instead of returning zeros + a problem for unreadable data. */
  strict?: boolean;
  /** Depth in a backing/parent chain (internal). */
  depth?: number;
  /** Real paths already open in this chain (internal, loop detection). */
  chain?: readonly string[];
}

/** Most images in one backing / parent chain (qemu has no fixed limit; real chains are a handful deep). */
export const MAX_CHAIN_DEPTH = 16;
/** Problems kept per image; later ones are only counted. */
export const MAX_PROBLEMS = 200;
/** Largest virtual disk we address (2^53 bytes keeps every offset an exact JS number). */
export const MAX_VIRTUAL_SIZE = 2 ** 53 - 1;

/** A read-only file without the split-image logic of raw.ts (kept separate to avoid an import cycle). */
export class ReadOnlyFile implements ByteSource {
  readonly size: bigint;
  readonly description: string;
  private fd: number | undefined;
  constructor(readonly path: string) {
    try {
      this.fd = fs.openSync(path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ByteSourceError(code === 'ENOENT' ? 'ENOENT' : 'EIO', path, (err as Error).message);
    }
    const st = fs.fstatSync(this.fd, { bigint: true });
    if (!st.isFile()) {
      fs.closeSync(this.fd);
      throw new ByteSourceError('EINVAL', path, 'not a regular file');
    }
    this.size = st.size;
    this.description = path;
  }
  read(buf: Uint8Array, bufOffset: number, length: number, position: number | bigint): number {
    if (this.fd === undefined) throw new ByteSourceError('ECLOSED', this.description, 'read after close');
    const n = clampRead(this, buf, bufOffset, length, position);
    if (n === 0) return 0;
    let got = 0;
    const pos = Number(position);
    while (got < n) {
      const r = fs.readSync(this.fd, buf, bufOffset + got, n - got, pos + got);
      if (r <= 0) break;
      got += r;
    }
    return got;
  }
  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

export const defaultOpener: FileOpener = (p) => new ReadOnlyFile(p);

/** Opens the image file at `path` (resolved) and hands it to `open`, closing it again if `open` throws. */
export function openImageFile<O extends VirtualDiskOpenOptions & { path?: string }, S>(
  path: string,
  opts: O,
  open: (file: ByteSource, opts: O) => S,
): S {
  const abs = nodePath.resolve(path);
  const file = (opts.openFile ?? defaultOpener)(abs);
  try {
    return open(file, { ...opts, path: abs });
  } catch (err) {
    file.close();
    throw err;
  }
}

/** First `n` bytes of a regular file (fewer if shorter); empty for anything unreadable. For probes. */
export function readFileHead(path: string, n: number, fromEnd = false): Uint8Array {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return new Uint8Array(0);
    const buf = new Uint8Array(Math.min(n, st.size));
    const pos = fromEnd ? st.size - buf.length : 0;
    const got = fs.readSync(fd, buf, 0, buf.length, pos);
    return buf.subarray(0, got);
  } catch {
    return new Uint8Array(0);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Reads up to `len` bytes at `pos` from `src` into `buf` at `at`; returns how many came (fewer at its end). */
export function readInto(src: ByteSource, buf: Uint8Array, at: number, len: number, pos: number): number {
  let got = 0;
  while (got < len) {
    const r = src.read(buf, at + got, len - got, pos + got);
    if (r <= 0) break;
    got += r;
  }
  return got;
}

/** Reads from a backing / parent disk (if any); what it does not cover reads as zeros. */
export function readOrZeros(src: ByteSource | undefined, buf: Uint8Array, at: number, len: number, pos: number): void {
  const got = src ? readInto(src, buf, at, len, pos) : 0;
  buf.fill(0, at + got, at + len);
}

/** Reads exactly `length` bytes at `pos` from `src`; returns the short array if the file ends first. */
export function readExact(src: ByteSource, pos: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  const got = readInto(src, buf, 0, length, pos);
  return got === length ? buf : buf.subarray(0, got);
}

/**
 * Where a file named inside an image (backing file, parent, extent) may be read: only inside the image's own folder.
 * `confined`: a relative name with no `..` and no absolute part is taken as is; otherwise (`lenient`) only its base
 * name is looked up beside the image (evidence is copied away from the host that wrote the absolute path).
 * Returns the absolute path, or throws `EPATH`/`EMISSING` through `fail`.
 */
export function resolveBeside(
  imagePath: string,
  name: string,
  mode: 'confined' | 'lenient',
  fail: (code: VirtualDiskErrorCode, detail: string) => never,
): string {
  const dir = nodePath.dirname(nodePath.resolve(imagePath));
  if (name.length === 0 || name.includes('\0')) fail('EPATH', `empty or NUL-bearing file name ${JSON.stringify(name)}`);
  const parts = name.split(/[\\/]+/);
  const absolute = name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name) || /^[a-z]+:\/\//i.test(name);
  const escapes = parts.some((p) => p === '..');
  let rel: string[];
  if (absolute || escapes) {
    if (mode === 'confined') fail('EPATH', `file name ${JSON.stringify(name)} is absolute or leaves the image's folder`);
    rel = [parts[parts.length - 1] ?? ''];
  } else {
    rel = parts.filter((p) => p !== '' && p !== '.');
  }
  if (rel.length === 0 || rel[rel.length - 1] === '') fail('EPATH', `file name ${JSON.stringify(name)} names no file`);
  const candidate = nodePath.join(dir, ...rel);
  if (!fs.existsSync(candidate)) {
    fail('EMISSING', `needs ${JSON.stringify(name)}, looked for ${candidate}: not found beside the image`);
  }
  // A symlink beside the image must not lead out of the folder either.
  let real: string;
  let realDir: string;
  try {
    real = fs.realpathSync(candidate);
    realDir = fs.realpathSync(dir);
  } catch (err) {
    return fail('EMISSING', `needs ${JSON.stringify(name)}: ${(err as Error).message}`);
  }
  if (real !== realDir && !real.startsWith(realDir + nodePath.sep)) {
    fail('EPATH', `${candidate} resolves to ${real}, outside the image's folder`);
  }
  return candidate;
}

/** Real path of a file for chain-loop detection (falls back to the resolved path). */
export function realPathOf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return nodePath.resolve(p);
  }
}

/** Depth of the next image in a backing / parent chain; `ELOOP` past MAX_CHAIN_DEPTH. */
export function nextChainDepth(
  opts: VirtualDiskOpenOptions,
  kind: 'backing' | 'parent',
  fail: (code: VirtualDiskErrorCode, detail: string) => never,
): number {
  const depth = (opts.depth ?? 0) + 1;
  if (depth > MAX_CHAIN_DEPTH) fail('ELOOP', `${kind} chain deeper than ${MAX_CHAIN_DEPTH}`);
  return depth;
}

/** The chain once `next` (named `label` in errors) follows `imagePath`; `ELOOP` when it is already in it. */
export function extendChain(
  opts: VirtualDiskOpenOptions,
  imagePath: string,
  next: string,
  label: string,
  kind: 'backing' | 'parent',
  fail: (code: VirtualDiskErrorCode, detail: string) => never,
): string[] {
  const real = realPathOf(next);
  const chain = opts.chain ?? [realPathOf(imagePath)];
  if (chain.includes(real)) fail('ELOOP', `${label} is already in the ${kind} chain (${chain.join(' -> ')})`);
  return [...chain, real];
}

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
