// Directory entries of a linear directory block or an inline-data area, walked without ever looping on a bad
// rec_len (structs.ts re-exports them).
//
// References: torvalds/linux Documentation/filesystems/ext4/directory.rst (dirents, htree, inline),
// fs/ext4/ext4.h (ext4_rec_len_from_disk, struct ext4_dir_entry_tail) (Linux 6.x).
import { Ext4Error } from './errors.js';
import { u16, u32 } from './structs-bytes.js';

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
