// Types returned by Ext4Fs (ext4.ts re-exports the public ones).
import type { EXT4_FT } from './structs.js';

export type Ext4FileType = (typeof EXT4_FT)[number];

export interface Ext4DirEntryInfo {
  name: string;
  /** Raw name bytes (names are not guaranteed to be UTF-8). */
  nameBytes: Uint8Array;
  ino: number;
  /** From the entry's file_type (filetype feature), else 'unknown'. */
  fileType: Ext4FileType;
}

export interface Ext4Times {
  /** ns since the epoch */
  atime: bigint;
  mtime: bigint;
  ctime: bigint;
  /** i_crtime, only in large inodes whose i_extra_isize covers it. */
  crtime?: bigint;
  /** i_dtime, seconds (unsigned, no extra field); 0 = not deleted. */
  dtime: number;
}

export interface DeletedInode {
  ino: number;
  /** Still marked in the inode bitmap (e.g. orphan with dtime set). */
  allocated: boolean;
  mode: number;
  size: bigint;
  linksCount: number;
  dtime: number;
  times?: Ext4Times;
  /** The inode still names data blocks (extent root / block pointers / inline data non-empty). */
  hasData: boolean;
}

export interface BlockRange {
  /** First fs block. */
  start: bigint;
  /** Number of blocks. */
  count: bigint;
  /** The group was BLOCK_UNINIT: its bitmap was never written; metadata inside it is not excluded. */
  uninit: boolean;
}

export interface Ext4File {
  readonly ino: number;
  readonly size: bigint;
  read(buf: Uint8Array, bufOffset: number, length: number, position: number): number;
}

/** A run of the logical-to-physical map: `count` blocks from `lblk`; `pblk` undefined for a hole/unwritten extent. */
export interface Run {
  pblk: bigint | undefined;
  count: number;
}
