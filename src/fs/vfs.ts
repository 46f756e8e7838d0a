// The read-only file-system interface every evidence reader implements (a mounted directory today; ext4, XFS and
// archives later). Paths are absolute POSIX paths inside the evidence ("/" is the evidence's root). All calls are
// synchronous and positional: simpler and faster than async tokenizers for the parsers above (STYLE.md).

export type FileType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket' | 'unknown';

export interface VfsStat {
  ino: bigint;
  /** Full st_mode, file-type bits included. */
  mode: number;
  type: FileType;
  uid: number;
  gid: number;
  size: bigint;
  nlink: number;
  rdevMajor: number;
  rdevMinor: number;
  /** Nanoseconds since the epoch, UTC; undefined where the file system does not keep the time. */
  atime?: bigint;
  mtime?: bigint;
  ctime?: bigint;
  birthtime?: bigint;
}

export interface DirEntry {
  name: string;
  type: FileType;
  ino?: bigint;
}

export interface VfsFile {
  readonly size: bigint;
  readonly ino: bigint;
  /** Reads up to `length` bytes at `position` into `buf` at `bufOffset`; returns bytes read (0 at end). */
  read(buf: Uint8Array, bufOffset: number, length: number, position: number): number;
  close(): void;
}

export interface Vfs {
  /** e.g. `host-dir`, `ext4`. */
  readonly kind: string;
  /** Where the evidence lives, for manifests and messages. */
  readonly location: string;
  lstat(path: string): VfsStat;
  /** Follows symlinks, confined to the evidence. */
  stat(path: string): VfsStat;
  readdir(path: string): DirEntry[];
  readlink(path: string): string;
  /** Opens a regular file for positional reads, following symlinks inside the evidence. */
  open(path: string): VfsFile;
  /** Extended attributes, or undefined where this reader cannot see them. */
  xattrs(path: string): Map<string, Uint8Array> | undefined;
  /** The path with every symlink resolved inside the evidence. */
  realpath(path: string): string;
  close(): void;
}

export type VfsErrorCode = 'ENOENT' | 'ENOTDIR' | 'EISDIR' | 'ELOOP' | 'EACCES' | 'ELIMIT' | 'EIO' | 'EINVAL';

export class VfsError extends Error {
  constructor(
    readonly code: VfsErrorCode,
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'VfsError';
  }
}

/** Raised when a value read from evidence exceeds one of flotsam's named limits. */
export class LimitError extends Error {
  constructor(
    readonly limit: string,
    readonly value: number | bigint,
    readonly max: number | bigint,
    where: string,
  ) {
    super(`${where}: ${limit} is ${value}, limit ${max}`);
    this.name = 'LimitError';
  }
}

/** Joins and normalises POSIX paths lexically (no symlinks); the result is absolute and never above "/". */
export function joinPath(...parts: string[]): string {
  const out: string[] = [];
  for (const part of parts) {
    if (part.startsWith('/')) out.length = 0;
    for (const c of part.split('/')) {
      if (c === '' || c === '.') continue;
      if (c === '..') out.pop();
      else out.push(c);
    }
  }
  return '/' + out.join('/');
}

export function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

export function dirName(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function fileTypeFromMode(mode: number): FileType {
  switch (mode & 0o170000) {
    case 0o100000: return 'file';
    case 0o040000: return 'dir';
    case 0o120000: return 'symlink';
    case 0o020000: return 'char';
    case 0o060000: return 'block';
    case 0o010000: return 'fifo';
    case 0o140000: return 'socket';
    default: return 'unknown';
  }
}

/** Named limit for whole-file reads of small artifacts (configs, metadata). */
export const MAX_SMALL_FILE_BYTES = 64 * 1024 * 1024;

/** Reads a whole (small) file, refusing anything larger than `maxBytes`. */
export function readFileLimited(vfs: Vfs, path: string, maxBytes = MAX_SMALL_FILE_BYTES): Uint8Array {
  const f = vfs.open(path);
  try {
    if (f.size > BigInt(maxBytes)) throw new LimitError('file size', f.size, maxBytes, path);
    const size = Number(f.size);
    const buf = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const n = f.read(buf, got, size - got, got);
      if (n <= 0) break;
      got += n;
    }
    return got === size ? buf : buf.subarray(0, got);
  } finally {
    f.close();
  }
}

export function readTextLimited(vfs: Vfs, path: string, maxBytes = MAX_SMALL_FILE_BYTES): string {
  return new TextDecoder('utf-8').decode(readFileLimited(vfs, path, maxBytes));
}

export function exists(vfs: Vfs, path: string): boolean {
  try {
    vfs.stat(path);
    return true;
  } catch {
    return false;
  }
}

export function isDir(vfs: Vfs, path: string): boolean {
  try {
    return vfs.stat(path).type === 'dir';
  } catch {
    return false;
  }
}

/** Yields the bytes of a file in chunks (a chunk is valid only until the next one is requested). */
export function* readChunks(file: VfsFile, chunkSize = 1 << 20): Generator<Uint8Array> {
  const buf = new Uint8Array(chunkSize);
  let pos = 0;
  for (;;) {
    const n = file.read(buf, 0, chunkSize, pos);
    if (n <= 0) return;
    pos += n;
    yield buf.subarray(0, n);
  }
}
