// The recovery capability of evidence: what lies outside the live file tree (unallocated blocks, deleted inodes,
// the whole disk). Collectors see only the VFS (src/collectors/types.ts); the carver (src/carve) needs the image
// underneath, so evidence that has one offers this optional capability next to its VFS: `recoveryOf(vfs)`.
// A mounted directory has none (the host kernel hides free blocks); a disk image has one per readable file system.
import type { ByteSource } from '../io/byte-source.js';

/** A run of bytes of one file system that no live file owns. */
export interface UnallocatedRange {
  /** Label of the file system (`p2`, `disk`, `p2 var`): what carved provenance names. */
  fs: string;
  /** Byte offset inside the file system. */
  start: bigint;
  length: bigint;
}

/** A deleted file whose content may still be read (its extents intact, its blocks not reused). */
export interface DeletedFileInfo {
  fs: string;
  ino: number;
  size: bigint;
  /** i_dtime, seconds since the epoch (0 for an orphan kept open). */
  dtime: number;
  mtime?: bigint;
  /** Names found for the inode in deleted directory blocks (`<id>-json.log`, `config.v2.json`). */
  names: string[];
  /** The container the name says it belongs to (from `<64 hex>-json.log`). */
  containerId?: string;
  /** Deleted directories that named it (files of one removed container directory share one). */
  dirInos: number[];
  /** Bytes of the content still readable (extents whose blocks are all free, or all of an orphan's). */
  readableBytes: bigint;
  /**
   * Reads file bytes at `position`; bytes of extents no longer readable (reused blocks, holes) read as zeros.
   * Returns bytes delivered (0 at the end).
   */
  read(buf: Uint8Array, bufOffset: number, length: number, position: number): number;
  /** Absolute disk offset of file byte `position`, or undefined where the file has no readable block. */
  diskOffset(position: number): bigint | undefined;
}

/** One file system of the evidence as recovery sees it. */
export interface RecoveryFs {
  label: string;
  /** Absolute offset of the file system's first byte on the disk. */
  diskOffset: bigint;
  size: bigint;
  kind: string;
}

export interface RecoverySource {
  /** Where the evidence lives (for messages). */
  readonly location: string;
  filesystems(): RecoveryFs[];
  /** Free byte ranges of every readable file system, in disk order (adjacent free blocks merged). */
  unallocatedRanges(): Iterable<UnallocatedRange>;
  /** Reads raw bytes of file system `fs` at byte `offset` (short at its end). */
  readRaw(fs: string, offset: bigint, buf: Uint8Array, bufOffset: number, length: number): number;
  /**
   * The whole disk (caller closes it), for `--carve-all`; with `skipAllocated`, the carver leaves out bytes that
   * live files of a readable file system own (the collectors read those).
   */
  wholeDisk?(): ByteSource;
  /** Is the absolute disk byte `offset` inside an allocated block of a readable file system? */
  isAllocated?(offset: bigint): boolean;
  /** Deleted regular files whose content can still be read. */
  deletedFiles?(): Iterable<DeletedFileInfo>;
  /** Problems met while listing (unreadable bitmaps, limits); each a short sentence. */
  readonly problems: string[];
  close(): void;
}

const attached = new WeakMap<object, RecoverySource>();

/** Offers `rs` as the recovery capability of `vfs` (the evidence opener or triage does this). */
export function attachRecovery(vfs: object, rs: RecoverySource): void {
  attached.set(vfs, rs);
}

/** The recovery capability of `vfs`, or undefined (a mounted directory, a bare data root). */
export function recoveryOf(vfs: object): RecoverySource | undefined {
  return attached.get(vfs);
}
