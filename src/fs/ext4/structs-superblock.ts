// The superblock and the group descriptors: the two structures that give the volume's geometry, parsed and
// validated before anything else is read (structs.ts re-exports them).
//
// References:
//   torvalds/linux Documentation/filesystems/ext4/super.rst   (struct ext4_super_block)
//   torvalds/linux Documentation/filesystems/ext4/group_descr.rst (struct ext4_group_desc)
//   fs/ext4/ext4.h (Linux 6.x).
import { Ext4Error } from './errors.js';
import { dv, hex } from './structs-bytes.js';

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
