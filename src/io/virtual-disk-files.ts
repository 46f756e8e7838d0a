// Reading the files of a virtual disk (qcow2, VMDK, VHD, VHDX): read-only opening (injectable, so tests can
// count or refuse opens), probe reads of a file's head or tail, and short-read-safe positional reads. Apart from the
// rest of virtual-disk-common.ts (which re-exports it) because it is the only part that touches the host's files.
// References: Node.js fs (openSync, readSync, fstatSync).
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { type ByteSource, ByteSourceError, clampRead } from './byte-source.js';

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
