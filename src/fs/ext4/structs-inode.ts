// The inode: its parser, the slab its bytes are copied into, and the decoders of its packed fields (timestamps,
// device numbers). Kept apart from the other structures because it is the hot path of every listing and the
// only parser with module state (the shared slab). structs.ts re-exports it.
//
// References: torvalds/linux Documentation/filesystems/ext4/inodes.rst (struct ext4_inode, timestamps, i_block),
// attributes.rst (in-inode xattr area), fs/ext4/ext4.h, fs/ext4/inode.c, include/linux/kdev_t.h (Linux 6.x).
import { Ext4Error } from './errors.js';
import { u16, u32 } from './structs-bytes.js';

// ---------------------------------------------------------------------------------------------------------------
// Inode: s_inode_size bytes; the first 128 are the "good old" inode, then i_extra_isize bytes of extra fields
// (inodes.rst). Linux osd2 layout.

export const EXT4_GOOD_OLD_INODE_SIZE = 128;
export const EXT4_N_BLOCKS = 15;
export const EXT4_ROOT_INO = 2;

export const INODE_FLAGS = {
  INDEX_FL: 0x1000, // htree directory
  HUGE_FILE_FL: 0x40000, // i_blocks in fs blocks, not 512-byte sectors
  EXTENTS_FL: 0x80000,
  EA_INODE_FL: 0x200000, // inode holds a large xattr value
  INLINE_DATA_FL: 0x10000000,
} as const;

export interface Ext4Inode {
  i_mode: number; // 0x00 le16
  i_uid: number; // 0x02 le16 lo + 0x78 l_i_uid_high le16
  i_size: bigint; // 0x04 i_size_lo le32 + 0x6C i_size_high le32
  i_size_lo: number;
  i_size_high: number;
  i_atime: number; // 0x08 le32 (signed seconds)
  i_ctime: number; // 0x0C
  i_mtime: number; // 0x10
  i_dtime: number; // 0x14 (unsigned)
  i_gid: number; // 0x18 le16 lo + 0x7A l_i_gid_high
  i_links_count: number; // 0x1A le16
  i_blocks: bigint; // 0x1C i_blocks_lo le32 + 0x74 l_i_blocks_high le16
  i_flags: number; // 0x20 le32
  i_block: Uint8Array; // 0x28 60 bytes: extent tree root, block map, fast symlink, inline data, or rdev
  i_generation: number; // 0x64 le32
  i_file_acl: bigint; // 0x68 lo le32 + 0x76 l_i_file_acl_high le16
  i_extra_isize: number; // 0x80 le16 (0 if the inode is 128 bytes)
  i_ctime_extra?: number; // 0x84 le32
  i_mtime_extra?: number; // 0x88
  i_atime_extra?: number; // 0x8C
  i_crtime?: number; // 0x90 le32 (signed)
  i_crtime_extra?: number; // 0x94
  i_projid?: number; // 0x9C
  /** Bytes after 128 + i_extra_isize: the in-inode xattr area (attributes.rst). */
  extraSpace: Uint8Array;
}

const i32 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
/** lo + hi * 2^32 as a bigint, without BigInt arithmetic in the common hi = 0 case. */
const bigOf = (lo: number, hi: number): bigint => (hi === 0 ? (lo === 0 ? 0n : BigInt(lo)) : (BigInt(hi) << 32n) | BigInt(lo));

/** Inode bytes are copied into shared slabs of this size (one allocation per slab, not per inode). */
export const INODE_SLAB_BYTES = 16 * 1024;
let slab = new Uint8Array(0);
let slabPos = 0;

/**
 * A parsed inode. The number fields are read straight from the bytes (no DataView); the bigint fields and the byte
 * fields `i_block` and `extraSpace` are made on use, from a private copy of the inode's s_inode_size bytes. The copy
 * lives in a shared slab of INODE_SLAB_BYTES (so parsing allocates no buffer per inode) and keeps the inode
 * independent of the buffer it was parsed from (a cached inode-table chunk): a held inode pins at most one slab.
 */
class ParsedInode implements Ext4Inode {
  declare i_mode: number;
  declare i_uid: number;
  declare i_size_lo: number;
  declare i_size_high: number;
  declare i_atime: number;
  declare i_ctime: number;
  declare i_mtime: number;
  declare i_dtime: number;
  declare i_gid: number;
  declare i_links_count: number;
  declare i_flags: number;
  declare i_generation: number;
  declare i_extra_isize: number;
  declare i_ctime_extra: number | undefined;
  declare i_mtime_extra: number | undefined;
  declare i_atime_extra: number | undefined;
  declare i_crtime: number | undefined;
  declare i_crtime_extra: number | undefined;
  declare i_projid: number | undefined;
  declare private readonly raw: Uint8Array;
  declare private readonly at: number;
  declare private readonly size: number;
  declare private iblock: Uint8Array | undefined;

  constructor(b: Uint8Array, off: number, inodeSize: number, extra: number) {
    // extra fields exist only in large inodes, and only those i_extra_isize covers
    const end = inodeSize > EXT4_GOOD_OLD_INODE_SIZE ? EXT4_GOOD_OLD_INODE_SIZE + extra : 0;
    this.i_mode = u16(b, off);
    this.i_uid = u16(b, off + 0x02) | (u16(b, off + 0x78) << 16);
    this.i_size_lo = u32(b, off + 0x04);
    this.i_size_high = u32(b, off + 0x6c);
    this.i_atime = i32(b, off + 0x08);
    this.i_ctime = i32(b, off + 0x0c);
    this.i_mtime = i32(b, off + 0x10);
    this.i_dtime = u32(b, off + 0x14);
    this.i_gid = u16(b, off + 0x18) | (u16(b, off + 0x7a) << 16);
    this.i_links_count = u16(b, off + 0x1a);
    this.i_flags = u32(b, off + 0x20);
    this.i_generation = u32(b, off + 0x64);
    this.i_extra_isize = extra;
    this.i_ctime_extra = 0x84 + 4 <= end ? u32(b, off + 0x84) : undefined;
    this.i_mtime_extra = 0x88 + 4 <= end ? u32(b, off + 0x88) : undefined;
    this.i_atime_extra = 0x8c + 4 <= end ? u32(b, off + 0x8c) : undefined;
    this.i_crtime = 0x90 + 4 <= end ? i32(b, off + 0x90) : undefined;
    this.i_crtime_extra = 0x94 + 4 <= end ? u32(b, off + 0x94) : undefined;
    this.i_projid = 0x9c + 4 <= end ? u32(b, off + 0x9c) : undefined;
    this.size = inodeSize;
    if (inodeSize > INODE_SLAB_BYTES / 4) {
      this.raw = b.slice(off, off + inodeSize);
      this.at = 0;
    } else {
      if (slabPos + inodeSize > slab.length) {
        slab = new Uint8Array(INODE_SLAB_BYTES);
        slabPos = 0;
      }
      slab.set(b.subarray(off, off + inodeSize), slabPos);
      this.raw = slab;
      this.at = slabPos;
      slabPos += inodeSize;
    }
    this.iblock = undefined;
  }

  /** 0x04 i_size_lo le32 + 0x6C i_size_high le32 */
  get i_size(): bigint {
    return bigOf(this.i_size_lo, this.i_size_high);
  }
  /** 0x1C i_blocks_lo le32 + 0x74 l_i_blocks_high le16 */
  get i_blocks(): bigint {
    return bigOf(u32(this.raw, this.at + 0x1c), u16(this.raw, this.at + 0x74));
  }
  /** 0x68 lo le32 + 0x76 l_i_file_acl_high le16 */
  get i_file_acl(): bigint {
    return bigOf(u32(this.raw, this.at + 0x68), u16(this.raw, this.at + 0x76));
  }
  /** 0x28, 60 bytes: extent tree root, block map, fast symlink, inline data, or rdev. */
  get i_block(): Uint8Array {
    return (this.iblock ??= this.raw.subarray(this.at + 0x28, this.at + 0x28 + 60));
  }
  /** Bytes after 128 + i_extra_isize: the in-inode xattr area (attributes.rst). */
  get extraSpace(): Uint8Array {
    return this.raw.subarray(this.at + EXT4_GOOD_OLD_INODE_SIZE + this.i_extra_isize, this.at + this.size);
  }
}

/** Parses an inode of `inodeSize` bytes at `off`. */
export function parseInode(b: Uint8Array, off: number, inodeSize: number): Ext4Inode {
  if (off < 0 || off + inodeSize > b.length) {
    throw new Ext4Error('ETRUNCATED', 'inode', `need ${inodeSize} bytes at offset ${off}, have ${b.length - off}`);
  }
  if (inodeSize < EXT4_GOOD_OLD_INODE_SIZE) {
    throw new Ext4Error('ECORRUPT', 'inode', `inode size ${inodeSize}, at least ${EXT4_GOOD_OLD_INODE_SIZE}`);
  }
  let extra = 0;
  if (inodeSize > EXT4_GOOD_OLD_INODE_SIZE) {
    extra = u16(b, off + 0x80);
    // i_extra_isize must be a multiple of 4 that fits (the kernel rejects the inode otherwise: EFSCORRUPTED).
    if (extra % 4 !== 0 || EXT4_GOOD_OLD_INODE_SIZE + extra > inodeSize) {
      throw new Ext4Error('ECORRUPT', 'inode', `i_extra_isize ${extra}, expected a multiple of 4 up to ${inodeSize - 128}`);
    }
  }
  return new ParsedInode(b, off, inodeSize, extra);
}

/**
 * Decodes an inode time to ns since the epoch (inodes.rst "Inode Timestamps", fs/ext4/ext4.h ext4_decode_extra_time):
 * seconds = (signed 32-bit field) + ((extra & 3) << 32); nanoseconds = extra >>> 2. Range 1901-12-13 .. 2446-05-10.
 */
export function decodeTime(seconds: number, extra: number | undefined): bigint {
  let s = BigInt(seconds);
  let ns = 0n;
  if (extra !== undefined) {
    s += BigInt(extra & 3) << 32n;
    ns = BigInt(extra >>> 2);
    if (ns > 999_999_999n) ns = 999_999_999n; // impossible value: clamp rather than roll into the next second
  }
  return s * 1_000_000_000n + ns;
}

/**
 * Device number of a char/block inode (fs/ext4/inode.c ext4_iget): i_block[0] non-zero holds the old 16-bit
 * encoding (major << 8 | minor); otherwise i_block[1] holds the new encoding (minor low 8 bits | major << 8 |
 * minor high bits << 12, include/linux/kdev_t.h new_decode_dev).
 */
export function decodeRdev(i_block: Uint8Array): { major: number; minor: number } {
  const v = new DataView(i_block.buffer, i_block.byteOffset, 60);
  const old = v.getUint32(0, true);
  if (old !== 0) return { major: (old >>> 8) & 0xff, minor: old & 0xff };
  const dev = v.getUint32(4, true);
  return { major: (dev & 0xfff00) >>> 8, minor: (dev & 0xff) | ((dev >>> 12) & 0xfff00) };
}
