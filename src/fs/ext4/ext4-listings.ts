// Recovery listings for Ext4Fs: deleted-looking inodes (inode bitmaps + tables) and free block ranges (block bitmaps).
import { Ext4Error } from './errors.js';
import type { Ext4Fs } from './ext4.js';
import type { BlockRange, DeletedInode } from './ext4-types.js';
import { BG_BLOCK_UNINIT, BG_INODE_UNINIT, EXT4_ROOT_INO, type Ext4Inode, INODE_FLAGS, parseInode } from './structs.js';

/** Does the inode still point at data? */
function inodeHasData(inode: Ext4Inode): boolean {
  if (inode.i_flags & INODE_FLAGS.INLINE_DATA_FL) return inode.i_block.some((x) => x !== 0);
  if (inode.i_flags & INODE_FLAGS.EXTENTS_FL) {
    const entries = inode.i_block[2]! | (inode.i_block[3]! << 8);
    return entries > 0;
  }
  return inode.i_block.some((x) => x !== 0);
}

/**
 * Inodes that look deleted: not in use in the inode bitmap but with a mode, dtime or data pointers left, or in use
 * with dtime set and no links (orphans). Groups flagged INODE_UNINIT are skipped (their tables were never written).
 */
export function listDeletedInodes(fs: Ext4Fs, max: number): DeletedInode[] {
  const out: DeletedInode[] = [];
  const ipg = fs.sb.s_inodes_per_group;
  const isz = fs.geometry.inodeSize;
  const bs = fs.blockSize;
  const perBlock = bs / isz;
  for (let g = 0; g < fs.geometry.groupCount; g++) {
    const gd = fs.groupDesc(g);
    if (gd.bg_flags & BG_INODE_UNINIT) continue;
    const bitmap = fs.readBlock(gd.bg_inode_bitmap, `group ${g} inode bitmap`);
    const tableBlocks = Math.ceil((ipg * isz) / bs);
    for (let tb = 0; tb < tableBlocks; tb++) {
      const blk = fs.readBlock(gd.bg_inode_table + BigInt(tb), `group ${g} inode table`);
      for (let k = 0; k < perBlock; k++) {
        const idx = tb * perBlock + k;
        const ino = g * ipg + idx + 1;
        if (idx >= ipg || ino > fs.sb.s_inodes_count) break;
        if (ino < fs.geometry.firstIno && ino !== EXT4_ROOT_INO) continue;
        const allocated = ((bitmap[idx >> 3]! >> (idx & 7)) & 1) === 1;
        let inode: Ext4Inode;
        try {
          inode = parseInode(blk, k * isz, isz);
        } catch {
          continue;
        }
        const hasData = inodeHasData(inode);
        const candidate = allocated ? inode.i_dtime !== 0 && inode.i_links_count === 0 : inode.i_mode !== 0 || inode.i_dtime !== 0 || hasData;
        if (!candidate) continue;
        if (out.length >= max) throw new Ext4Error('ELIMIT', 'deleted inode scan', `more than ${max} candidates`);
        out.push({
          ino,
          allocated,
          mode: inode.i_mode,
          size: fs.inodeSize(inode),
          linksCount: inode.i_links_count,
          dtime: inode.i_dtime,
          times: fs.times(inode),
          hasData,
        });
      }
    }
  }
  return out;
}

/** Ranges of blocks marked free in the block bitmaps (adjacent ranges merged across groups). */
export function listUnallocatedRanges(fs: Ext4Fs, max: number): BlockRange[] {
  const out: BlockRange[] = [];
  const bpg = BigInt(fs.sb.s_blocks_per_group);
  const first = BigInt(fs.sb.s_first_data_block);
  const ratio = fs.geometry.clusterRatio;
  const total = fs.geometry.blocksCount;
  const push = (start: bigint, count: bigint, uninit: boolean) => {
    if (count <= 0n) return;
    const last = out[out.length - 1];
    if (last && last.start + last.count === start && last.uninit === uninit) {
      last.count += count;
      return;
    }
    if (out.length >= max) throw new Ext4Error('ELIMIT', 'unallocated block scan', `more than ${max} ranges`);
    out.push({ start, count, uninit });
  };
  for (let g = 0; g < fs.geometry.groupCount; g++) {
    const gstart = first + BigInt(g) * bpg;
    const gend = gstart + bpg < total ? gstart + bpg : total;
    const gd = fs.groupDesc(g);
    if (gd.bg_flags & BG_BLOCK_UNINIT) {
      push(gstart, gend - gstart, true);
      continue;
    }
    const bitmap = fs.readBlock(gd.bg_block_bitmap, `group ${g} block bitmap`);
    const units = Number((gend - gstart + BigInt(ratio) - 1n) / BigInt(ratio));
    let runStart = -1;
    for (let i = 0; i <= units; i++) {
      const free = i < units && ((bitmap[i >> 3]! >> (i & 7)) & 1) === 0;
      if (free && runStart < 0) runStart = i;
      if (!free && runStart >= 0) {
        const s = gstart + BigInt(runStart * ratio);
        let e = gstart + BigInt(i * ratio);
        if (e > gend) e = gend;
        push(s, e - s, false);
        runStart = -1;
      }
    }
  }
  return out;
}
