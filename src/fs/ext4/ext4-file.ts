// File contents for Ext4Fs: positional reads through the block map (or inline data), and symlink targets.
import { readFully } from '../../io/byte-source.js';
import { Ext4Error, MAX_SYMLINK_LENGTH } from './errors.js';
import type { Ext4Fs } from './ext4.js';
import { blockMapper } from './ext4-blockmap.js';
import type { Ext4File } from './ext4-types.js';
import { EXT4_N_BLOCKS, INODE_FLAGS } from './structs.js';

/** Opens inode `ino` for positional reads of its data (regular files, directories, slow symlinks). */
export function openFile(fs: Ext4Fs, ino: number): Ext4File {
  const inode = fs.inode(ino);
  const size = fs.inodeSize(inode);
  if (inode.i_flags & INODE_FLAGS.INLINE_DATA_FL) {
    const data = fs.inlineData(ino, inode);
    const limit = Number(size < BigInt(data.length) ? size : BigInt(data.length));
    return {
      ino,
      size,
      read(buf, bufOffset, length, position) {
        if (position >= Number(size)) return 0;
        const want = Math.min(length, buf.length - bufOffset, Number(size) - position);
        // bytes the inode does not hold (size larger than the inline area) read as zeros
        const have = Math.max(0, Math.min(want, limit - position));
        if (have > 0) buf.set(data.subarray(position, position + have), bufOffset);
        buf.fill(0, bufOffset + have, bufOffset + want);
        return want;
      },
    };
  }
  const t = inode.i_mode & 0o170000;
  if (t !== 0o100000 && t !== 0o040000 && t !== 0o120000) {
    return { ino, size: 0n, read: () => 0 };
  }
  const map = blockMapper(fs, ino, inode);
  const bs = fs.blockSize;
  const src = fs.source;
  return {
    ino,
    size,
    read(buf, bufOffset, length, position) {
      if (!Number.isSafeInteger(position) || position < 0) throw new Ext4Error('EINVAL', `inode ${ino}`, `read position ${position}`);
      const end = Math.min(Number(size), position + Math.min(length, buf.length - bufOffset));
      let pos = position;
      let out = bufOffset;
      while (pos < end) {
        const lblk = Math.floor(pos / bs);
        const within = pos % bs;
        const maxBlocks = Math.ceil((end - lblk * bs) / bs);
        const run = map(lblk, Math.min(maxBlocks, 1 << 16));
        const n = Math.min(end - pos, run.count * bs - within);
        if (run.pblk === undefined) {
          buf.fill(0, out, out + n);
        } else {
          const got = readFully(src, buf, out, n, run.pblk * BigInt(bs) + BigInt(within));
          if (got < n) throw new Ext4Error('ETRUNCATED', `inode ${ino}`, `data block ${run.pblk} is past the end of the image`);
        }
        pos += n;
        out += n;
      }
      return pos - position;
    },
  };
}

/** The target bytes of a symlink: fast (in i_block), inline, or slow (in data blocks). */
export function readSymlinkBytes(fs: Ext4Fs, ino: number): Uint8Array {
  const inode = fs.inode(ino);
  if ((inode.i_mode & 0o170000) !== 0o120000) throw new Ext4Error('EINVAL', `inode ${ino}`, 'not a symlink');
  const size = fs.inodeSize(inode);
  if (size > BigInt(MAX_SYMLINK_LENGTH)) throw new Ext4Error('ELIMIT', `symlink inode ${ino}`, `target of ${size} bytes, limit MAX_SYMLINK_LENGTH ${MAX_SYMLINK_LENGTH}`);
  const n = Number(size);
  if (inode.i_flags & INODE_FLAGS.INLINE_DATA_FL) return fs.inlineData(ino, inode).slice(0, n);
  // Fast symlink: no data blocks besides an xattr block (fs/ext4/inode.c ext4_inode_is_fast_symlink).
  const eaBlocks = inode.i_file_acl !== 0n ? BigInt((fs.blockSize * fs.geometry.clusterRatio) >> 9) : 0n;
  const fast = inode.i_flags & INODE_FLAGS.EA_INODE_FL ? n < EXT4_N_BLOCKS * 4 : fs.blocks512(inode) - eaBlocks === 0n;
  if (fast) {
    if (n > 60) throw new Ext4Error('ECORRUPT', `symlink inode ${ino}`, `fast symlink of ${n} bytes, at most 60 fit`);
    return inode.i_block.slice(0, n);
  }
  return fs.readAll(ino, MAX_SYMLINK_LENGTH, 'symlink');
}
