// Byte access shared by the structure parsers of structs-*.ts: bounds-checked DataViews for fixed-size structures,
// and plain little-endian reads for the hot paths (inodes, directory entries) where a DataView per call costs too much.
import { Ext4Error } from './errors.js';

export function dv(b: Uint8Array, off: number, len: number, what: string): DataView {
  if (off < 0 || off + len > b.length) {
    throw new Ext4Error('ETRUNCATED', what, `need ${len} bytes at offset ${off}, have ${b.length - off}`);
  }
  return new DataView(b.buffer, b.byteOffset + off, len);
}

export const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
export const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;

export const hex = (n: number) => '0x' + n.toString(16);
