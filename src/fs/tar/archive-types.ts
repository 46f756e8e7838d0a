// Limits and the shapes of one indexing pass over a tar stream (see ./archive.ts).
import type { RawHeader } from './parse.js';

/** Most members (files, dirs, links ...) one archive may hold. */
export const MAX_MEMBERS = 2_000_000;
/** How far past a damaged header we look for the next valid one before giving up. */
export const MAX_RESYNC_BYTES = 16 * 1024 * 1024;
/** Most sparse map entries of one member. */
export const MAX_SPARSE_ENTRIES = 1_000_000;
/** Largest file size a member may claim (pax size, sparse real size): 2^53 - 1, the exact range of a JS number. */
export const MAX_MEMBER_SIZE = BigInt(Number.MAX_SAFE_INTEGER);
/** Largest uid/gid. */
export const MAX_ID = 0xffffffffn;

/** A positional reader over the (inflated) tar stream. */
export interface StreamReader {
  readonly size: number;
  read(buf: Uint8Array, bufOffset: number, length: number, position: number): number;
}

export type MemberType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

/** One data run of a sparse member: `length` bytes of the file at `offset` are stored at `dataPos` (stream). */
export interface SparseSegment {
  offset: number;
  length: number;
  dataPos: number;
}

export interface TarMember {
  /** Order in the archive (0-based, members only: pax/long-name headers are not members). */
  index: number;
  /** Stream offset of the first header belonging to this member (its pax or long-name header, if any). */
  headerOffset: number;
  /** Stream offset of the member's own header block. */
  blockOffset: number;
  /** Stream offset of the member's data. */
  dataOffset: number;
  /** Bytes of data present in the stream (less than declared when the archive is truncated). */
  storedSize: number;
  /** Logical file size: storedSize, or a sparse file's real size. */
  size: number;
  /** The name as stored (pax path / GNU long name / ustar prefix+name). */
  name: string;
  type: MemberType;
  typeflag: string;
  format: RawHeader['format'];
  /** Permission bits (07777) as stored; the file-type bits come from `type`. */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Nanoseconds since the epoch. */
  mtime: bigint;
  atime?: bigint;
  ctime?: bigint;
  /** Symlink target or hard-link target name. */
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Uint8Array>;
  sparse?: SparseSegment[];
  truncated: boolean;
  /** star's SCHILY.dev / SCHILY.ino / SCHILY.nlink, where the writer recorded them. */
  dev?: bigint;
  ino?: bigint;
  nlink?: number;
}

export interface TarIndexProblem {
  /** Stream offset the problem is about. */
  offset: number;
  /** Member name, when known. */
  name?: string;
  reason: string;
}

export interface TarIndex {
  members: TarMember[];
  problems: TarIndexProblem[];
  /** True when the pass reached a clean end (end-of-archive marker or end of stream on a block boundary). */
  complete: boolean;
  /** Global pax records seen ('g' headers). */
  globals: Map<string, Uint8Array>;
}

export interface IndexOptions {
  maxMembers?: number;
}
