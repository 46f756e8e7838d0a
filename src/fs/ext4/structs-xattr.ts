// Extended-attribute entry lists, shared by the in-inode area and xattr blocks (structs.ts re-exports them).
//
// References: torvalds/linux Documentation/filesystems/ext4/attributes.rst, fs/ext4/xattr.h (Linux 6.x).
import { Ext4Error } from './errors.js';

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
