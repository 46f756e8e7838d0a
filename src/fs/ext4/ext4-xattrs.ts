// Extended attributes for Ext4Fs (attributes.rst, fs/ext4/xattr.c): in-inode area and the xattr block.
import { Ext4Error, MAX_XATTR_COUNT, MAX_XATTR_VALUE_BYTES } from './errors.js';
import type { Ext4Fs } from './ext4.js';
import { EXT4_XATTR_MAGIC, type Ext4Inode, parseXattrEntries } from './structs.js';

/** Extended attributes of `inode` from the inode body and, with `withBlock`, the xattr block; raw values. */
export function readInodeXattrs(fs: Ext4Fs, ino: number, inode: Ext4Inode, withBlock: boolean): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const where = `inode ${ino} xattrs`;
  const value = (b: Uint8Array, base: number, end: number, e: { e_value_offs: number; e_value_size: number; e_value_inum: number; name: string }) => {
    if (e.e_value_size > MAX_XATTR_VALUE_BYTES) throw new Ext4Error('ELIMIT', where, `${e.name} value of ${e.e_value_size} bytes, limit MAX_XATTR_VALUE_BYTES ${MAX_XATTR_VALUE_BYTES}`);
    if (e.e_value_inum !== 0) {
      // ea_inode: the value is the content of another inode (xattr.c ext4_xattr_inode_get)
      if (e.e_value_inum === ino) throw new Ext4Error('ELOOP', where, `${e.name} value inode is the inode itself`);
      const data = fs.readAll(e.e_value_inum, MAX_XATTR_VALUE_BYTES, 'xattr value inode');
      return data.slice(0, e.e_value_size);
    }
    const start = base + e.e_value_offs;
    if (start + e.e_value_size > end) throw new Ext4Error('ECORRUPT', where, `${e.name} value at ${e.e_value_offs}+${e.e_value_size} runs past the xattr area`);
    return b.slice(start, start + e.e_value_size);
  };
  const body = inode.extraSpace;
  if (body.length >= 4 && new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true) === EXT4_XATTR_MAGIC) {
    for (const e of parseXattrEntries(body, 4, body.length, MAX_XATTR_COUNT, where)) out.set(e.name, value(body, 4, body.length, e));
  }
  if (withBlock && inode.i_file_acl !== 0n) {
    const b = fs.readBlock(inode.i_file_acl, `${where} block`);
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    const magic = v.getUint32(0, true);
    if (magic !== EXT4_XATTR_MAGIC) throw new Ext4Error('EBADMAGIC', `${where} block ${inode.i_file_acl}`, `h_magic 0x${magic.toString(16)}, expected 0xea020000`);
    const hBlocks = v.getUint32(8, true);
    if (hBlocks !== 1) throw new Ext4Error('ECORRUPT', `${where} block ${inode.i_file_acl}`, `h_blocks ${hBlocks}, expected 1`);
    for (const e of parseXattrEntries(b, 32, b.length, MAX_XATTR_COUNT - out.size, where)) {
      if (!out.has(e.name)) out.set(e.name, value(b, 0, b.length, e));
    }
  }
  return out;
}
