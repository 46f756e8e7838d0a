// On-disk structures of ext2/ext3/ext4, declared once with the upstream field names, byte offsets and endianness
// (all little-endian). Parsers take a Uint8Array and an offset and never read the image themselves (STYLE.md 3, 4).
//
// References:
//   torvalds/linux Documentation/filesystems/ext4/super.rst   (struct ext4_super_block)
//   torvalds/linux Documentation/filesystems/ext4/group_descr.rst (struct ext4_group_desc)
//   torvalds/linux Documentation/filesystems/ext4/inodes.rst  (struct ext4_inode, timestamps, i_block)
//   torvalds/linux Documentation/filesystems/ext4/ifork.rst   (extent tree), directory.rst (dirents, htree, inline),
//   attributes.rst (extended attributes), fs/ext4/ext4.h, fs/ext4/ext4_extents.h, fs/ext4/xattr.h (Linux 6.x).
import { Ext4Error } from './errors.js';

function dv(b: Uint8Array, off: number, len: number, what: string): DataView {
  if (off < 0 || off + len > b.length) {
    throw new Ext4Error('ETRUNCATED', what, `need ${len} bytes at offset ${off}, have ${b.length - off}`);
  }
  return new DataView(b.buffer, b.byteOffset + off, len);
}

// ---------------------------------------------------------------------------------------------------------------
// Superblock: 1024 bytes at byte 1024 of the volume (super.rst).

export const SUPERBLOCK_OFFSET = 1024;
export const SUPERBLOCK_SIZE = 1024;
export const EXT4_SUPER_MAGIC = 0xef53;

export const COMPAT = {
  DIR_PREALLOC: 0x1,
  IMAGIC_INODES: 0x2,
  HAS_JOURNAL: 0x4,
  EXT_ATTR: 0x8,
  RESIZE_INODE: 0x10,
  DIR_INDEX: 0x20,
  SPARSE_SUPER2: 0x200,
} as const;
export const INCOMPAT = {
  COMPRESSION: 0x1,
  FILETYPE: 0x2,
  RECOVER: 0x4,
  JOURNAL_DEV: 0x8,
  META_BG: 0x10,
  EXTENTS: 0x40,
  '64BIT': 0x80,
  MMP: 0x100,
  FLEX_BG: 0x200,
  EA_INODE: 0x400,
  DIRDATA: 0x1000,
  CSUM_SEED: 0x2000,
  LARGEDIR: 0x4000,
  INLINE_DATA: 0x8000,
  ENCRYPT: 0x10000,
  CASEFOLD: 0x20000,
} as const;
export const RO_COMPAT = {
  SPARSE_SUPER: 0x1,
  LARGE_FILE: 0x2,
  BTREE_DIR: 0x4,
  HUGE_FILE: 0x8,
  GDT_CSUM: 0x10,
  DIR_NLINK: 0x20,
  EXTRA_ISIZE: 0x40,
  QUOTA: 0x100,
  BIGALLOC: 0x200,
  METADATA_CSUM: 0x400,
  READONLY: 0x1000,
  PROJECT: 0x2000,
  VERITY: 0x8000,
} as const;

export interface Ext4SuperBlock {
  s_inodes_count: number; // 0x00 le32
  s_blocks_count_lo: number; // 0x04 le32
  s_r_blocks_count_lo: number; // 0x08 le32
  s_free_blocks_count_lo: number; // 0x0C le32
  s_free_inodes_count: number; // 0x10 le32
  s_first_data_block: number; // 0x14 le32
  s_log_block_size: number; // 0x18 le32: block size = 1024 << s_log_block_size
  s_log_cluster_size: number; // 0x1C le32
  s_blocks_per_group: number; // 0x20 le32
  s_clusters_per_group: number; // 0x24 le32
  s_inodes_per_group: number; // 0x28 le32
  s_mtime: number; // 0x2C le32
  s_wtime: number; // 0x30 le32
  s_magic: number; // 0x38 le16 = 0xEF53
  s_state: number; // 0x3A le16
  s_rev_level: number; // 0x4C le32
  s_first_ino: number; // 0x54 le32 (rev >= 1)
  s_inode_size: number; // 0x58 le16 (rev >= 1; 128 for rev 0)
  s_block_group_nr: number; // 0x5A le16
  s_feature_compat: number; // 0x5C le32
  s_feature_incompat: number; // 0x60 le32
  s_feature_ro_compat: number; // 0x64 le32
  s_uuid: Uint8Array; // 0x68 u8[16]
  s_volume_name: string; // 0x78 char[16]
  s_last_mounted: string; // 0x88 char[64]
  s_reserved_gdt_blocks: number; // 0xCE le16
  s_journal_inum: number; // 0xE0 le32
  s_last_orphan: number; // 0xE8 le32
  s_desc_size: number; // 0xFE le16 (64bit only)
  s_first_meta_bg: number; // 0x104 le32
  s_mkfs_time: number; // 0x108 le32
  s_blocks_count_hi: number; // 0x150 le32 (64bit only)
  s_min_extra_isize: number; // 0x15C le16
  s_want_extra_isize: number; // 0x15E le16
  s_log_groups_per_flex: number; // 0x174 u8
  s_backup_bgs: [number, number]; // 0x24C le32[2] (sparse_super2)
  s_checksum_type: number; // 0x175 u8
  s_checksum: number; // 0x3FC le32
}

function cstr(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return new TextDecoder('utf-8').decode(b.subarray(off, end));
}

/** Parses the 1024-byte superblock at `off`; does not validate (see validateSuperBlock). */
export function parseSuperBlock(b: Uint8Array, off = 0): Ext4SuperBlock {
  const v = dv(b, off, SUPERBLOCK_SIZE, 'superblock');
  return {
    s_inodes_count: v.getUint32(0x00, true),
    s_blocks_count_lo: v.getUint32(0x04, true),
    s_r_blocks_count_lo: v.getUint32(0x08, true),
    s_free_blocks_count_lo: v.getUint32(0x0c, true),
    s_free_inodes_count: v.getUint32(0x10, true),
    s_first_data_block: v.getUint32(0x14, true),
    s_log_block_size: v.getUint32(0x18, true),
    s_log_cluster_size: v.getUint32(0x1c, true),
    s_blocks_per_group: v.getUint32(0x20, true),
    s_clusters_per_group: v.getUint32(0x24, true),
    s_inodes_per_group: v.getUint32(0x28, true),
    s_mtime: v.getUint32(0x2c, true),
    s_wtime: v.getUint32(0x30, true),
    s_magic: v.getUint16(0x38, true),
    s_state: v.getUint16(0x3a, true),
    s_rev_level: v.getUint32(0x4c, true),
    s_first_ino: v.getUint32(0x54, true),
    s_inode_size: v.getUint16(0x58, true),
    s_block_group_nr: v.getUint16(0x5a, true),
    s_feature_compat: v.getUint32(0x5c, true),
    s_feature_incompat: v.getUint32(0x60, true),
    s_feature_ro_compat: v.getUint32(0x64, true),
    s_uuid: b.slice(off + 0x68, off + 0x78),
    s_volume_name: cstr(b, off + 0x78, 16),
    s_last_mounted: cstr(b, off + 0x88, 64),
    s_reserved_gdt_blocks: v.getUint16(0xce, true),
    s_journal_inum: v.getUint32(0xe0, true),
    s_last_orphan: v.getUint32(0xe8, true),
    s_desc_size: v.getUint16(0xfe, true),
    s_first_meta_bg: v.getUint32(0x104, true),
    s_mkfs_time: v.getUint32(0x108, true),
    s_blocks_count_hi: v.getUint32(0x150, true),
    s_min_extra_isize: v.getUint16(0x15c, true),
    s_want_extra_isize: v.getUint16(0x15e, true),
    s_log_groups_per_flex: v.getUint8(0x174),
    s_checksum_type: v.getUint8(0x175),
    s_backup_bgs: [v.getUint32(0x24c, true), v.getUint32(0x250, true)],
    s_checksum: v.getUint32(0x3fc, true),
  };
}

/** Derived geometry after validation. */
export interface Ext4Geometry {
  blockSize: number;
  clusterRatio: number;
  blocksCount: bigint;
  groupCount: number;
  inodeSize: number;
  descSize: number;
  firstIno: number;
  is64: boolean;
}

const hex = (n: number) => '0x' + n.toString(16);

/**
 * Checks every superblock value the reader relies on, with expected vs actual in the message; returns the geometry.
 * `volumeSize` (bytes) bounds the block count loosely: a truncated image is allowed but reported by the caller.
 */
export function validateSuperBlock(sb: Ext4SuperBlock): Ext4Geometry {
  const bad = (field: string, detail: string) => new Ext4Error('ECORRUPT', 'superblock', `${field} ${detail}`);
  if (sb.s_magic !== EXT4_SUPER_MAGIC) {
    throw new Ext4Error('EBADMAGIC', 'superblock', `s_magic ${hex(sb.s_magic)}, expected 0xef53 at byte ${SUPERBLOCK_OFFSET + 0x38}`);
  }
  if (sb.s_log_block_size > 6) throw bad('s_log_block_size', `${sb.s_log_block_size}, expected 0..6 (1 KiB..64 KiB blocks)`);
  const blockSize = 1024 << sb.s_log_block_size;
  if (sb.s_rev_level > 1) throw bad('s_rev_level', `${sb.s_rev_level}, expected 0 or 1`);
  const unsupported = sb.s_feature_incompat & (INCOMPAT.COMPRESSION | INCOMPAT.JOURNAL_DEV | INCOMPAT.DIRDATA);
  if (unsupported) {
    throw new Ext4Error('EUNSUPPORTED', 'superblock', `incompatible features ${hex(unsupported)} (compression / journal device / dirdata) are not readable`);
  }
  const inodeSize = sb.s_rev_level === 0 ? 128 : sb.s_inode_size;
  if (inodeSize < 128 || inodeSize > blockSize || (inodeSize & (inodeSize - 1)) !== 0) {
    throw bad('s_inode_size', `${inodeSize}, expected a power of two in 128..${blockSize}`);
  }
  const is64 = (sb.s_feature_incompat & INCOMPAT['64BIT']) !== 0;
  let descSize = 32;
  if (is64) {
    descSize = sb.s_desc_size;
    if (descSize < 64 || descSize > 1024 || (descSize & (descSize - 1)) !== 0) {
      throw bad('s_desc_size', `${descSize}, expected a power of two in 64..1024 with the 64bit feature`);
    }
  }
  const bigalloc = (sb.s_feature_ro_compat & RO_COMPAT.BIGALLOC) !== 0;
  const clusterRatio = bigalloc ? 2 ** Math.max(0, sb.s_log_cluster_size - sb.s_log_block_size) : 1;
  if (bigalloc && (sb.s_log_cluster_size < sb.s_log_block_size || sb.s_log_cluster_size > 30)) {
    throw bad('s_log_cluster_size', `${sb.s_log_cluster_size}, expected ${sb.s_log_block_size}..30`);
  }
  const perGroupMax = blockSize * 8;
  const bpg = sb.s_blocks_per_group;
  if (bpg === 0 || (!bigalloc && bpg > perGroupMax) || (bigalloc && sb.s_clusters_per_group > perGroupMax)) {
    throw bad('s_blocks_per_group', `${bpg}, expected 1..${perGroupMax}`);
  }
  if (sb.s_inodes_per_group === 0 || sb.s_inodes_per_group > perGroupMax) {
    throw bad('s_inodes_per_group', `${sb.s_inodes_per_group}, expected 1..${perGroupMax}`);
  }
  const blocksCount = BigInt(sb.s_blocks_count_lo) + (is64 ? BigInt(sb.s_blocks_count_hi) << 32n : 0n);
  if (blocksCount <= BigInt(sb.s_first_data_block)) {
    throw bad('s_blocks_count', `${blocksCount}, not above s_first_data_block ${sb.s_first_data_block}`);
  }
  const expectFirst = blockSize === 1024 ? 1 : 0;
  if (sb.s_first_data_block !== expectFirst && !(bigalloc && sb.s_first_data_block === 0)) {
    throw bad('s_first_data_block', `${sb.s_first_data_block}, expected ${expectFirst} for ${blockSize}-byte blocks`);
  }
  const groups = (blocksCount - BigInt(sb.s_first_data_block) + BigInt(bpg) - 1n) / BigInt(bpg);
  if (groups > BigInt(1 << 24)) throw new Ext4Error('ELIMIT', 'superblock', `${groups} block groups, limit MAX_GROUPS ${1 << 24}`);
  const groupCount = Number(groups);
  if (BigInt(sb.s_inodes_per_group) * groups < BigInt(sb.s_inodes_count)) {
    throw bad('s_inodes_count', `${sb.s_inodes_count}, more than s_inodes_per_group ${sb.s_inodes_per_group} x ${groupCount} groups`);
  }
  const firstIno = sb.s_rev_level === 0 ? 11 : sb.s_first_ino;
  if (firstIno < 3 || firstIno > sb.s_inodes_count) throw bad('s_first_ino', `${firstIno}, expected 3..s_inodes_count`);
  return { blockSize, clusterRatio, blocksCount, groupCount, inodeSize, descSize, firstIno, is64 };
}

// ---------------------------------------------------------------------------------------------------------------
// Group descriptor: 32 bytes, or s_desc_size (>= 64) with the 64bit feature (group_descr.rst).

export const BG_INODE_UNINIT = 0x1;
export const BG_BLOCK_UNINIT = 0x2;
export const BG_INODE_ZEROED = 0x4;

export interface Ext4GroupDesc {
  bg_block_bitmap: bigint; // 0x00 lo le32 + 0x20 hi le32
  bg_inode_bitmap: bigint; // 0x04 lo + 0x24 hi
  bg_inode_table: bigint; // 0x08 lo + 0x28 hi
  bg_free_blocks_count: number; // 0x0C lo le16 + 0x2C hi le16
  bg_free_inodes_count: number; // 0x0E lo + 0x2E hi
  bg_used_dirs_count: number; // 0x10 lo + 0x30 hi
  bg_flags: number; // 0x12 le16
  bg_itable_unused: number; // 0x1C lo + 0x32 hi
  bg_checksum: number; // 0x1E le16
}

export function parseGroupDesc(b: Uint8Array, off: number, descSize: number): Ext4GroupDesc {
  const v = dv(b, off, descSize, 'group descriptor');
  const wide = descSize >= 64;
  const hi32 = (o: number) => (wide ? BigInt(v.getUint32(o, true)) << 32n : 0n);
  const hi16 = (o: number) => (wide ? v.getUint16(o, true) * 65536 : 0);
  return {
    bg_block_bitmap: BigInt(v.getUint32(0x00, true)) + hi32(0x20),
    bg_inode_bitmap: BigInt(v.getUint32(0x04, true)) + hi32(0x24),
    bg_inode_table: BigInt(v.getUint32(0x08, true)) + hi32(0x28),
    bg_free_blocks_count: v.getUint16(0x0c, true) + hi16(0x2c),
    bg_free_inodes_count: v.getUint16(0x0e, true) + hi16(0x2e),
    bg_used_dirs_count: v.getUint16(0x10, true) + hi16(0x30),
    bg_flags: v.getUint16(0x12, true),
    bg_itable_unused: v.getUint16(0x1c, true) + hi16(0x32),
    bg_checksum: v.getUint16(0x1e, true),
  };
}

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

const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
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

// ---------------------------------------------------------------------------------------------------------------
// Extent tree (ifork.rst, fs/ext4/ext4_extents.h). A 12-byte header, then 12-byte index or leaf entries.

export const EXT4_EXT_MAGIC = 0xf30a;
/** ee_len above this marks an unwritten (preallocated) extent of ee_len - 32768 blocks, read as zeros. */
export const EXT_INIT_MAX_LEN = 32768;

export interface Ext4ExtentHeader {
  eh_magic: number; // 0x0 le16
  eh_entries: number; // 0x2 le16
  eh_max: number; // 0x4 le16
  eh_depth: number; // 0x6 le16
  eh_generation: number; // 0x8 le32
}
export interface Ext4ExtentIdx {
  ei_block: number; // 0x0 le32 first logical block covered
  ei_leaf: bigint; // 0x4 ei_leaf_lo le32 + 0x8 ei_leaf_hi le16
}
export interface Ext4Extent {
  ee_block: number; // 0x0 le32 first logical block
  ee_len: number; // 0x4 le16 (already decoded: 1..32768)
  uninit: boolean;
  ee_start: bigint; // 0x8 ee_start_lo le32 + 0x6 ee_start_hi le16
}

export function parseExtentNode(
  b: Uint8Array,
  off: number,
  room: number,
  where: string,
): { header: Ext4ExtentHeader; index: Ext4ExtentIdx[]; leaves: Ext4Extent[] } {
  const v = dv(b, off, room, where);
  const header: Ext4ExtentHeader = {
    eh_magic: v.getUint16(0, true),
    eh_entries: v.getUint16(2, true),
    eh_max: v.getUint16(4, true),
    eh_depth: v.getUint16(6, true),
    eh_generation: v.getUint32(8, true),
  };
  if (header.eh_magic !== EXT4_EXT_MAGIC) {
    throw new Ext4Error('EBADMAGIC', where, `extent header magic ${hex(header.eh_magic)}, expected 0xf30a`);
  }
  const fit = Math.floor((room - 12) / 12);
  if (header.eh_max > fit || header.eh_entries > header.eh_max) {
    throw new Ext4Error('ECORRUPT', where, `extent header eh_entries ${header.eh_entries} / eh_max ${header.eh_max}, at most ${fit} fit in ${room} bytes`);
  }
  const index: Ext4ExtentIdx[] = [];
  const leaves: Ext4Extent[] = [];
  for (let i = 0; i < header.eh_entries; i++) {
    const e = 12 + i * 12;
    if (header.eh_depth > 0) {
      index.push({
        ei_block: v.getUint32(e, true),
        ei_leaf: BigInt(v.getUint32(e + 4, true)) + (BigInt(v.getUint16(e + 8, true)) << 32n),
      });
    } else {
      const raw = v.getUint16(e + 4, true);
      leaves.push({
        ee_block: v.getUint32(e, true),
        ee_len: raw > EXT_INIT_MAX_LEN ? raw - EXT_INIT_MAX_LEN : raw,
        uninit: raw > EXT_INIT_MAX_LEN,
        ee_start: BigInt(v.getUint32(e + 8, true)) + (BigInt(v.getUint16(e + 6, true)) << 32n),
      });
    }
  }
  return { header, index, leaves };
}

// ---------------------------------------------------------------------------------------------------------------
// Directory entries (directory.rst): struct ext4_dir_entry_2 { le32 inode; le16 rec_len; u8 name_len; u8 file_type;
// char name[] }. Without the filetype feature, name_len is a le16 and file_type is absent.

export const EXT4_FT = ['unknown', 'file', 'dir', 'char', 'block', 'fifo', 'socket', 'symlink'] as const;
/** file_type of the metadata_csum tail "entry" at the end of each leaf block (struct ext4_dir_entry_tail). */
export const EXT4_FT_DIR_CSUM = 0xde;

export interface Ext4DirEntry {
  inode: number;
  rec_len: number;
  name_len: number;
  file_type: number;
  name: Uint8Array;
}

/** rec_len as stored: 0 or 65535 mean 65536 in 64 KiB blocks (fs/ext4/ext4.h ext4_rec_len_from_disk). */
export function decodeRecLen(raw: number, blockSize: number): number {
  if (blockSize >= 65536 && (raw === 65535 || raw === 0)) return 65536;
  return raw;
}

/**
 * Parses the entries of one directory block (or inline area) `b[off, off+len)`. Calls `onEntry` for every live
 * entry (inode != 0, not a checksum tail). Throws ECORRUPT for an impossible rec_len or name_len: that ends the
 * block, never loops.
 */
export function parseDirBlock(
  b: Uint8Array,
  off: number,
  len: number,
  blockSize: number,
  hasFileType: boolean,
  where: string,
  onEntry: (e: Ext4DirEntry) => void,
): void {
  scanDirBlock(b, off, len, blockSize, hasFileType, where, (inode, rec_len, name_len, file_type, nameOff) =>
    onEntry({ inode, rec_len, name_len, file_type, name: b.subarray(nameOff, nameOff + name_len) }),
  );
}

/**
 * parseDirBlock without an object per entry: `onEntry` gets the fields and the offset of the name in `b`. The same
 * checks, in the same order, with the same errors.
 */
export function scanDirBlock(
  b: Uint8Array,
  off: number,
  len: number,
  blockSize: number,
  hasFileType: boolean,
  where: string,
  onEntry: (inode: number, rec_len: number, name_len: number, file_type: number, nameOff: number) => void,
): void {
  if (off < 0 || off + len > b.length) throw new Ext4Error('ETRUNCATED', where, `need ${len} bytes at offset ${off}, have ${b.length - off}`);
  let p = 0;
  while (p < len) {
    if (len - p < 8) throw new Ext4Error('ECORRUPT', where, `${len - p} stray bytes at offset ${p} (a dirent needs 8)`);
    const q = off + p;
    const inode = u32(b, q);
    const rec_len = decodeRecLen(u16(b, q + 4), blockSize);
    const name_len = b[q + 6]!;
    const file_type = hasFileType ? b[q + 7]! : 0;
    if (rec_len < 8 || rec_len % 4 !== 0 || p + rec_len > len) {
      throw new Ext4Error('ECORRUPT', where, `dirent at offset ${p}: rec_len ${rec_len}, expected a multiple of 4 in 8..${len - p}`);
    }
    if (8 + name_len > rec_len) {
      throw new Ext4Error('ECORRUPT', where, `dirent at offset ${p}: name_len ${name_len} does not fit rec_len ${rec_len}`);
    }
    const isTail = inode === 0 && rec_len === 12 && name_len === 0 && file_type === EXT4_FT_DIR_CSUM;
    if (inode !== 0 && !isTail) onEntry(inode, rec_len, name_len, file_type, q + 8);
    p += rec_len;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Extended attributes (attributes.rst, fs/ext4/xattr.h).
// In-inode: le32 h_magic 0xEA020000 right after i_extra_isize, then entries; value offsets count from the first
// entry. Block: 32-byte header { h_magic, h_refcount, h_blocks, h_hash, h_checksum, h_reserved[3] }, entries at 32;
// value offsets count from the block start. Entry: { u8 e_name_len; u8 e_name_index; le16 e_value_offs;
// le32 e_value_inum; le32 e_value_size; le32 e_hash; char e_name[] } padded to 4 bytes; a zero le32 ends the list.

export const EXT4_XATTR_MAGIC = 0xea020000;
export const XATTR_PREFIXES: Readonly<Record<number, string>> = {
  1: 'user.',
  2: 'system.posix_acl_access',
  3: 'system.posix_acl_default',
  4: 'trusted.',
  6: 'security.',
  7: 'system.',
  8: 'system.richacl',
};

export interface Ext4XattrEntry {
  e_name_len: number;
  e_name_index: number;
  e_value_offs: number;
  e_value_inum: number;
  e_value_size: number;
  e_hash: number;
  /** Full name with the prefix of e_name_index (unknown indexes become `unknown<N>.`). */
  name: string;
}

export function xattrFullName(index: number, suffix: Uint8Array): string {
  const prefix = XATTR_PREFIXES[index] ?? `unknown${index}.`;
  return prefix + new TextDecoder('utf-8').decode(suffix);
}

/**
 * Walks the entry list in `b[entriesOff, end)`. Stops at the zero terminator; throws ECORRUPT if an entry runs
 * past `end`, ELIMIT beyond `maxCount` entries.
 */
export function parseXattrEntries(b: Uint8Array, entriesOff: number, end: number, maxCount: number, where: string): Ext4XattrEntry[] {
  const out: Ext4XattrEntry[] = [];
  let p = entriesOff;
  while (p + 4 <= end) {
    const v = new DataView(b.buffer, b.byteOffset + p, end - p);
    if (v.getUint32(0, true) === 0) break;
    if (end - p < 16) throw new Ext4Error('ECORRUPT', where, `xattr entry at ${p} runs past the end (${end})`);
    const e_name_len = v.getUint8(0);
    const len = (16 + e_name_len + 3) & ~3;
    if (p + len > end) throw new Ext4Error('ECORRUPT', where, `xattr entry at ${p} with name of ${e_name_len} bytes runs past ${end}`);
    if (out.length >= maxCount) throw new Ext4Error('ELIMIT', where, `more than MAX_XATTR_COUNT ${maxCount} xattrs`);
    const e_name_index = v.getUint8(1);
    out.push({
      e_name_len,
      e_name_index,
      e_value_offs: v.getUint16(2, true),
      e_value_inum: v.getUint32(4, true),
      e_value_size: v.getUint32(8, true),
      e_hash: v.getUint32(12, true),
      name: xattrFullName(e_name_index, b.subarray(p + 16, p + 16 + e_name_len)),
    });
    p += len;
  }
  return out;
}
