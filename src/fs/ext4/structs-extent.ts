// Extent tree nodes: header, index and leaf entries, with the header checks every node read from disk must pass
// (structs.ts re-exports them).
//
// References: torvalds/linux Documentation/filesystems/ext4/ifork.rst (extent tree), fs/ext4/ext4_extents.h
// (Linux 6.x).
import { Ext4Error } from './errors.js';
import { dv, hex } from './structs-bytes.js';

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
