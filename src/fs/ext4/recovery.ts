// Recovery helpers over Ext4Fs's public API: the free-block map, and the content of deleted inodes whose extent tree
// is still in the inode and whose blocks nobody reused. Nothing here changes how live files are read.
//
// What deletion leaves behind (torvalds/linux fs/ext4/inode.c ext4_evict_inode, fs/ext4/extents.c
// ext4_ext_truncate; Hal Pomeranz, "Understanding EXT4" part 6): the kernel frees the blocks in the bitmap, sets
// i_dtime and usually truncates the extent tree (eh_entries 0, i_size 0), so most kernel-deleted files are found
// only by carving free blocks. debugfs kill_file/rm, crashes during unlink and orphans (unlinked but still open when
// the image was taken: inode in use, i_links_count 0, i_dtime set) keep the extents: those are read here.
import { Buffer } from 'node:buffer';
import { Ext4Error, MAX_DELETED_INODES } from './errors.js';
import type { BlockRange, DeletedInode, Ext4Fs } from './ext4.js';
import { INODE_FLAGS } from './structs.js';

/** Largest deleted file read whole through its extents (larger ones are read up to this many bytes). */
export const MAX_DELETED_FILE_BYTES = 1024 * 1024 * 1024;
/** Deleted directories whose entries are listed (to name deleted files). */
export const MAX_DELETED_DIRS = 100_000;

/** Free blocks of one file system, from the block bitmaps (Ext4Fs.unallocatedRanges), for membership tests. */
export class FreeBlockMap {
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  constructor(readonly ranges: readonly BlockRange[]) {
    this.starts = new Float64Array(ranges.length);
    this.ends = new Float64Array(ranges.length);
    ranges.forEach((r, i) => {
      this.starts[i] = Number(r.start);
      this.ends[i] = Number(r.start + r.count);
    });
  }

  static of(fs: Ext4Fs): FreeBlockMap {
    return new FreeBlockMap(fs.unallocatedRanges());
  }

  /** Index of the range holding block `blk`, or -1. */
  private find(blk: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= blk) {
        if (blk < this.ends[mid]!) return mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return -1;
  }

  isFree(blk: bigint | number): boolean {
    return this.find(Number(blk)) >= 0;
  }

  /** Are all `count` blocks from `blk` free? */
  allFree(blk: bigint | number, count: number): boolean {
    const b = Number(blk);
    const i = this.find(b);
    return i >= 0 && b + count <= this.ends[i]!;
  }
}

/** One piece of a deleted file: `count` blocks from logical block `lblk` at physical `pblk`, readable or not. */
export interface DeletedRun {
  lblk: number;
  pblk: bigint;
  count: number;
  /** The blocks are free (or the inode is an orphan that still owns them) and the extent is initialised. */
  readable: boolean;
}

export interface DeletedFile {
  ino: number;
  size: bigint;
  runs: DeletedRun[];
  readableBytes: bigint;
  read(buf: Uint8Array, bufOffset: number, length: number, position: number): number;
  /** Byte offset inside the file system of file byte `position`, or undefined (hole or unreadable). */
  fsOffset(position: number): bigint | undefined;
}

/**
 * The content of a deleted (or orphan) regular file through the extent tree still in its inode, or undefined
 * when there is nothing to read: not extent-mapped, no extents, an extent tree that no longer parses.
 * Blocks of a non-orphan that are in use again belong to another file now: they read as zeros.
 */
export function openDeletedFile(fs: Ext4Fs, d: DeletedInode, free: FreeBlockMap, maxBytes = MAX_DELETED_FILE_BYTES): DeletedFile | undefined {
  if (!d.hasData || d.size <= 0n) return undefined;
  let inode;
  try {
    inode = fs.inode(d.ino);
  } catch {
    return undefined;
  }
  if (!(inode.i_flags & INODE_FLAGS.EXTENTS_FL) || inode.i_flags & INODE_FLAGS.INLINE_DATA_FL) return undefined;
  let extents;
  try {
    extents = fs.extents(d.ino, inode);
  } catch (err) {
    if (err instanceof Ext4Error) return undefined;
    throw err;
  }
  const bs = fs.blockSize;
  const sizeClaimed = d.size < BigInt(maxBytes) ? Number(d.size) : maxBytes;
  const runs: DeletedRun[] = [];
  let readableBytes = 0n;
  for (const e of extents) {
    if (e.ee_block * bs >= sizeClaimed) break;
    const readable = !e.uninit && (d.allocated || free.allFree(e.ee_start, e.ee_len));
    runs.push({ lblk: e.ee_block, pblk: e.ee_start, count: e.ee_len, readable });
    if (readable) readableBytes += BigInt(Math.min(e.ee_len * bs, sizeClaimed - e.ee_block * bs));
  }
  if (readableBytes === 0n) return undefined;
  // A hostile (or truncated-then-reused) inode may claim far more than its extents hold: read up to the end of
  // the last readable extent only, never a long run of zeros.
  const lastReadable = runs.filter((r) => r.readable).pop()!;
  const size = Math.min(sizeClaimed, (lastReadable.lblk + lastReadable.count) * bs);
  const src = fs.source;
  const runAt = (lblk: number): DeletedRun | undefined => {
    let lo = 0;
    let hi = runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = runs[mid]!;
      if (lblk < r.lblk) hi = mid - 1;
      else if (lblk >= r.lblk + r.count) lo = mid + 1;
      else return r;
    }
    return undefined;
  };
  return {
    ino: d.ino,
    size: BigInt(size),
    runs,
    readableBytes,
    fsOffset(position) {
      if (position < 0 || position >= size) return undefined;
      const lblk = Math.floor(position / bs);
      const r = runAt(lblk);
      if (!r || !r.readable) return undefined;
      return (r.pblk + BigInt(lblk - r.lblk)) * BigInt(bs) + BigInt(position % bs);
    },
    read(buf, bufOffset, length, position) {
      const end = Math.min(size, position + Math.min(length, buf.length - bufOffset));
      let pos = position;
      let out = bufOffset;
      while (pos < end) {
        const lblk = Math.floor(pos / bs);
        const within = pos % bs;
        const r = runAt(lblk);
        let n: number;
        if (r) {
          n = Math.min(end - pos, (r.lblk + r.count - lblk) * bs - within);
          if (r.readable) {
            const at = (r.pblk + BigInt(lblk - r.lblk)) * BigInt(bs) + BigInt(within);
            let got = 0;
            while (got < n) {
              const k = src.read(buf, out + got, n - got, at + BigInt(got));
              if (k <= 0) break;
              got += k;
            }
            if (got < n) buf.fill(0, out + got, out + n);
          } else {
            buf.fill(0, out, out + n);
          }
        } else {
          // a hole up to the next run
          const next = runs.find((x) => x.lblk > lblk);
          n = Math.min(end - pos, next ? next.lblk * bs - pos : end - pos);
          buf.fill(0, out, out + n);
        }
        pos += n;
        out += n;
      }
      return pos - position;
    },
  };
}

/** A name of a deleted inode, from an entry of a deleted directory. */
export interface DeletedName {
  ino: number;
  name: string;
  /** Inode of the deleted directory holding the entry. */
  dirIno: number;
}

/**
 * Entries, live and deleted, of one directory block: the live chain by rec_len, and inside each entry's slack
 * (rec_len beyond 8 + name_len rounded to 4) the entries an unlink merged into it (fs/ext4/namei.c
 * ext4_generic_delete_entry grows the previous entry's rec_len; the first entry of a block gets inode 0 instead).
 * A candidate in slack must look like an entry: inode within s_inodes_count, rec_len >= 12 and a multiple of 4,
 * a name of printable bytes without '/'.
 */
export function scanDirBlockWithSlack(b: Uint8Array, inodesCount: number, out: (ino: number, name: string) => void): void {
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const plausible = (at: number, end: number): number => {
    // returns the entry's real length, or 0
    if (at + 8 > end) return 0;
    const ino = v.getUint32(at, true);
    const recLen = v.getUint16(at + 4, true);
    const nameLen = b[at + 6]!;
    if (ino === 0 || ino > inodesCount || nameLen === 0 || recLen < 12 || recLen % 4 !== 0) return 0;
    if (at + 8 + nameLen > end || b[at + 7]! > 7) return 0;
    for (let i = at + 8; i < at + 8 + nameLen; i++) {
      const c = b[i]!;
      if (c < 0x20 || c === 0x2f || c === 0x7f) return 0;
    }
    return (8 + nameLen + 3) & ~3;
  };
  const name = (at: number) => Buffer.from(b.buffer, b.byteOffset + at + 8, b[at + 6]!).toString('utf8');
  let at = 0;
  while (at + 12 <= b.length) {
    const recLen = v.getUint16(at + 4, true);
    if (recLen < 12 || recLen % 4 !== 0 || at + recLen > b.length) return;
    const ino = v.getUint32(at, true);
    const nameLen = b[at + 6]!;
    const real = (8 + nameLen + 3) & ~3;
    if (ino !== 0 && nameLen > 0 && real <= recLen) out(ino, name(at));
    // slack: deleted entries merged into this one
    let p = at + Math.min(real, recLen);
    const end = at + recLen;
    while (p + 12 <= end) {
      const len = plausible(p, end);
      if (len === 0) {
        p += 4;
        continue;
      }
      out(v.getUint32(p, true), name(p));
      p += len;
    }
    at += recLen;
  }
}

/**
 * Entries of deleted directories whose blocks are still free, deleted entries in their slack included (docker rm
 * unlinks every file of `containers/<id>/`, then removes the directory: its blocks still name the deleted
 * `<id>-json.log`, `config.v2.json` ... inodes). Corrupt blocks are skipped.
 */
export function deletedDirectoryNames(fs: Ext4Fs, deleted: readonly DeletedInode[], free: FreeBlockMap): DeletedName[] {
  const out: DeletedName[] = [];
  let dirs = 0;
  const inodesCount = fs.sb.s_inodes_count;
  for (const d of deleted) {
    if ((d.mode & 0o170000) !== 0o040000 || !d.hasData) continue;
    if (++dirs > MAX_DELETED_DIRS) break;
    try {
      const inode = fs.inode(d.ino);
      if (!(inode.i_flags & INODE_FLAGS.EXTENTS_FL)) continue;
      const ext = fs.extents(d.ino, inode);
      if (ext.length === 0 || !ext.every((e) => d.allocated || free.allFree(e.ee_start, e.ee_len))) continue;
      let blocks = 0;
      for (const e of ext) {
        for (let k = 0; k < e.ee_len && blocks < 1024; k++, blocks++) {
          const b = fs.readBlock(e.ee_start + BigInt(k), `deleted directory inode ${d.ino}`);
          scanDirBlockWithSlack(b, inodesCount, (ino, name) => {
            if (name !== '.' && name !== '..') out.push({ ino, name, dirIno: d.ino });
          });
        }
      }
    } catch {
      // a deleted directory whose tree or blocks no longer parse: nothing to name
    }
  }
  return out;
}

/** Ext4Fs.deletedInodes with its limit error turned into a partial list and a note. */
export function listDeletedInodes(fs: Ext4Fs, notes: string[], max = MAX_DELETED_INODES): DeletedInode[] {
  try {
    return fs.deletedInodes(max);
  } catch (err) {
    notes.push(`deleted inode scan stopped: ${err instanceof Error ? err.message : String(err)}`);
    return [];
  }
}
