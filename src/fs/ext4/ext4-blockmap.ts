// Logical-to-physical block mapping for Ext4Fs: extent trees (ifork.rst) and legacy ext2/3 direct/indirect block maps.
import { Ext4Error, MAX_EXTENTS_PER_FILE, MAX_EXTENT_DEPTH } from './errors.js';
import type { Ext4Fs } from './ext4.js';
import type { Run } from './ext4-types.js';
import { type Ext4Extent, type Ext4Inode, INODE_FLAGS, parseExtentNode } from './structs.js';

const INDIRECT_CACHE_MAX = 256;

/** Every leaf extent of an extent-mapped inode, sorted by logical block; depth-limited and loop-guarded. */
export function extentTree(fs: Ext4Fs, ino: number, inode: Ext4Inode): Ext4Extent[] {
  const out: Ext4Extent[] = [];
  const visited = new Set<bigint>();
  const where = `inode ${ino} extent tree`;
  const walk = (b: Uint8Array, off: number, room: number, expectDepth: number | undefined, level: number) => {
    const node = parseExtentNode(b, off, room, where);
    const depth = node.header.eh_depth;
    if (depth > MAX_EXTENT_DEPTH) throw new Ext4Error('ELIMIT', where, `eh_depth ${depth}, limit MAX_EXTENT_DEPTH ${MAX_EXTENT_DEPTH}`);
    if (expectDepth !== undefined && depth !== expectDepth) {
      throw new Ext4Error('ECORRUPT', where, `node at level ${level} has eh_depth ${depth}, expected ${expectDepth}`);
    }
    for (const leaf of node.leaves) {
      if (leaf.ee_len === 0) continue;
      fs.checkBlockRange(leaf.ee_start, leaf.ee_len, `${where} (extent at logical block ${leaf.ee_block})`);
      if (out.length >= MAX_EXTENTS_PER_FILE) throw new Ext4Error('ELIMIT', where, `more than MAX_EXTENTS_PER_FILE ${MAX_EXTENTS_PER_FILE} extents`);
      out.push(leaf);
    }
    for (const idx of node.index) {
      if (visited.has(idx.ei_leaf)) throw new Ext4Error('ELOOP', where, `extent index block ${idx.ei_leaf} is referenced twice`);
      visited.add(idx.ei_leaf);
      const child = fs.readBlock(idx.ei_leaf, where);
      walk(child, 0, fs.blockSize, depth - 1, level + 1);
    }
  };
  walk(inode.i_block, 0, 60, undefined, 0);
  out.sort((a, b) => a.ee_block - b.ee_block);
  return out;
}

/** A mapper from logical block to runs, for extent-mapped or block-mapped (ext2/3 direct/indirect) inodes. */
export function blockMapper(fs: Ext4Fs, ino: number, inode: Ext4Inode): (lblk: number, maxCount: number) => Run {
  if (inode.i_flags & INODE_FLAGS.EXTENTS_FL) {
    const ext = extentTree(fs, ino, inode);
    return (lblk, maxCount) => {
      let lo = 0;
      let hi = ext.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (ext[mid]!.ee_block <= lblk) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (found >= 0) {
        const e = ext[found]!;
        const within = lblk - e.ee_block;
        if (within < e.ee_len) {
          const count = Math.min(maxCount, e.ee_len - within);
          return { pblk: e.uninit ? undefined : e.ee_start + BigInt(within), count };
        }
      }
      const next = ext[found + 1];
      const gap = next ? next.ee_block - lblk : maxCount;
      return { pblk: undefined, count: Math.max(1, Math.min(maxCount, gap)) };
    };
  }
  // Legacy block map: i_block[0..11] direct, [12] indirect, [13] double, [14] triple (inodes.rst "Direct/Indirect
  // Block Addressing"). A zero pointer is a hole.
  const per = fs.blockSize / 4;
  const iblock = new DataView(inode.i_block.buffer, inode.i_block.byteOffset, 60);
  const cache = new Map<bigint, DataView>();
  const where = `inode ${ino} block map`;
  const ptrs = (blk: bigint): DataView => {
    let v = cache.get(blk);
    if (!v) {
      const b = fs.readBlock(blk, where);
      v = new DataView(b.buffer, b.byteOffset, b.length);
      if (cache.size >= INDIRECT_CACHE_MAX) cache.clear();
      cache.set(blk, v);
    }
    return v;
  };
  const one = (lblk: number): bigint => {
    let l = lblk;
    if (l < 12) return BigInt(iblock.getUint32(l * 4, true));
    l -= 12;
    const levels: number[] = [];
    let root: number;
    if (l < per) {
      root = 12;
      levels.push(l);
    } else if ((l -= per) < per * per) {
      root = 13;
      levels.push(Math.floor(l / per), l % per);
    } else {
      l -= per * per;
      if (l >= per * per * per) return 0n;
      root = 14;
      levels.push(Math.floor(l / (per * per)), Math.floor(l / per) % per, l % per);
    }
    let blk = BigInt(iblock.getUint32(root * 4, true));
    for (const i of levels) {
      if (blk === 0n) return 0n;
      blk = BigInt(ptrs(blk).getUint32(i * 4, true));
    }
    return blk;
  };
  return (lblk, maxCount) => {
    const first = one(lblk);
    let count = 1;
    while (count < maxCount) {
      const nxt = one(lblk + count);
      if (first === 0n ? nxt !== 0n : nxt !== first + BigInt(count)) break;
      count++;
    }
    if (first !== 0n) fs.checkBlockRange(first, count, where);
    return { pblk: first === 0n ? undefined : first, count };
  };
}
