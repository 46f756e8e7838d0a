// A read-only ext2/ext3/ext4 reader over a ByteSource, in pure TypeScript.
// Reading bytes happens here (readBlock, readInodeBytes); parsing bytes happens in structs.ts. Every on-disk number
// is checked before use: block numbers against s_blocks_count, inode numbers against s_inodes_count, tree depths,
// entry counts and value sizes against the named limits of errors.ts.
//
// References: torvalds/linux Documentation/filesystems/ext4/*.rst (ondisk layout: super, group_descr, inodes,
// ifork, directory, attributes, blockgroup (meta_bg, flex_bg), dynamic); fs/ext4/ext4.h; fs/ext4/super.c
// (descriptor_loc), fs/ext4/balloc.c (ext4_bg_has_super), fs/ext4/inode.c (ext4_iget, fast symlinks),
// fs/ext4/inline.c, fs/ext4/xattr.c. sleuthkit tsk/fs/ext2fs.c as a second reading of the same structures.
import { type ByteSource, readFully } from '../../io/byte-source.js';
import { Ext4Error, MAX_DELETED_INODES, MAX_INLINE_DATA, MAX_UNALLOCATED_RANGES } from './errors.js';
import { extentTree } from './ext4-blockmap.js';
import { openFile, readSymlinkBytes } from './ext4-file.js';
import { readDirectory } from './ext4-dir.js';
import { listDeletedInodes, listUnallocatedRanges } from './ext4-listings.js';
import type { BlockRange, DeletedInode, Ext4DirEntryInfo, Ext4File, Ext4Times } from './ext4-types.js';
import { readInodeXattrs } from './ext4-xattrs.js';
import {
  COMPAT,
  EXT4_SUPER_MAGIC,
  type Ext4Extent,
  type Ext4Geometry,
  type Ext4GroupDesc,
  type Ext4Inode,
  type Ext4SuperBlock,
  INCOMPAT,
  INODE_FLAGS,
  RO_COMPAT,
  SUPERBLOCK_OFFSET,
  SUPERBLOCK_SIZE,
  decodeRdev,
  decodeTime,
  parseGroupDesc,
  parseInode,
  parseSuperBlock,
  validateSuperBlock,
} from './structs.js';

export type { BlockRange, DeletedInode, Ext4DirEntryInfo, Ext4File, Ext4FileType, Ext4Times } from './ext4-types.js';
export { DIR_READ_CHUNK_BYTES } from './ext4-dir.js';

/** Parsed directory inodes kept (a Map cleared when full; each entry holds s_inode_size bytes plus the fields). */
const INODE_CACHE_MAX = 8192;
/** Bytes of an inode table read at once (whole blocks; at least one block): 256 inodes of 256 bytes. */
export const INODE_TABLE_CHUNK_BYTES = 64 * 1024;
/** Bytes of inode-table chunks kept in memory, least recently used evicted first. */
export const INODE_TABLE_CACHE_BYTES = 16 * 1024 * 1024;
/** Group descriptors kept parsed (a Map cleared when full; a descriptor block is parsed whole on a miss). */
export const GROUP_DESC_CACHE_MAX = 1 << 16;

function isPowerOf(n: number, base: number): boolean {
  let x = n;
  while (x > 1 && x % base === 0) x /= base;
  return x === 1;
}

export class Ext4Fs {
  readonly sb: Ext4SuperBlock;
  readonly geometry: Ext4Geometry;
  /** Non-fatal observations at open (needs journal recovery, truncated image, ...). */
  readonly problems: string[] = [];
  private readonly groupCache = new Map<number, Ext4GroupDesc>();
  private readonly inodeCache = new Map<number, Ext4Inode>();
  /** Inode-table chunks by key group * chunksPerGroup + chunk, in LRU order (Map iteration order = insertion). */
  private readonly itable = new Map<number, Uint8Array>();
  private itableBytes = 0;
  /** The chunk used last: consecutive inode numbers hit it without touching the Map. */
  private lastChunkKey = -1;
  private lastChunk: Uint8Array | undefined;
  /** The last non-directory inode parsed. */
  private lastIno = Number.NaN; // never equal to anything
  private lastInode: Ext4Inode | undefined;
  private readonly chunkBlocks: number;
  private readonly tableBlocks: number;
  private readonly chunksPerGroup: number;

  /** Cheap check: the ext superblock magic at byte 1080. */
  static probe(src: ByteSource): boolean {
    const b = new Uint8Array(2);
    return readFully(src, b, 0, 2, SUPERBLOCK_OFFSET + 0x38) === 2 && (b[0]! | (b[1]! << 8)) === EXT4_SUPER_MAGIC;
  }

  static open(src: ByteSource): Ext4Fs {
    return new Ext4Fs(src);
  }

  /** Bytes of inode-table chunks this instance keeps (INODE_TABLE_CACHE_BYTES unless a test asks for less). */
  private readonly itableMax: number;

  constructor(
    readonly source: ByteSource,
    opts: { inodeTableCacheBytes?: number } = {},
  ) {
    this.itableMax = opts.inodeTableCacheBytes ?? INODE_TABLE_CACHE_BYTES;
    const raw = new Uint8Array(SUPERBLOCK_SIZE);
    const n = readFully(source, raw, 0, SUPERBLOCK_SIZE, SUPERBLOCK_OFFSET);
    if (n < SUPERBLOCK_SIZE) {
      throw new Ext4Error('ETRUNCATED', 'superblock', `source is ${source.size} bytes; the superblock needs bytes 1024..2047`);
    }
    this.sb = parseSuperBlock(raw);
    this.geometry = validateSuperBlock(this.sb);
    const bytes = this.geometry.blocksCount * BigInt(this.geometry.blockSize);
    if (bytes > source.size) this.problems.push(`file system claims ${bytes} bytes, source has ${source.size}: image truncated`);
    if (this.sb.s_feature_incompat & INCOMPAT.RECOVER) this.problems.push('journal needs recovery: reading the file system as it is on disk, without replaying the journal');
    if (this.sb.s_feature_incompat & INCOMPAT.ENCRYPT) this.problems.push('encrypt feature: encrypted names and contents are returned as stored (ciphertext)');
    const bs = this.geometry.blockSize;
    this.chunkBlocks = Math.max(1, Math.floor(INODE_TABLE_CHUNK_BYTES / bs));
    this.tableBlocks = Math.ceil((this.sb.s_inodes_per_group * this.geometry.inodeSize) / bs);
    this.chunksPerGroup = Math.ceil(this.tableBlocks / this.chunkBlocks);
  }

  /** What the inode-table cache holds now (for tests and benchmarks). */
  cacheStats(): { inodeTableChunks: number; inodeTableBytes: number } {
    return { inodeTableChunks: this.itable.size, inodeTableBytes: this.itableBytes };
  }

  get blockSize(): number {
    return this.geometry.blockSize;
  }

  hasIncompat(f: number): boolean {
    return (this.sb.s_feature_incompat & f) !== 0;
  }
  hasRoCompat(f: number): boolean {
    return (this.sb.s_feature_ro_compat & f) !== 0;
  }
  hasCompat(f: number): boolean {
    return (this.sb.s_feature_compat & f) !== 0;
  }

  // ------------------------------------------------------------------------------------------------ reading bytes

  /** Reads `count` whole blocks from `blk`; ERANGE past s_blocks_count, ETRUNCATED past the end of the source. */
  readBlocks(blk: bigint, count: number, where: string): Uint8Array {
    this.checkBlockRange(blk, count, where);
    const bs = this.blockSize;
    const buf = new Uint8Array(count * bs);
    const n = readFully(this.source, buf, 0, buf.length, blk * BigInt(bs));
    if (n < buf.length) throw new Ext4Error('ETRUNCATED', where, `block ${blk} (+${count}) is past the end of the image`);
    return buf;
  }

  readBlock(blk: bigint, where: string): Uint8Array {
    return this.readBlocks(blk, 1, where);
  }

  /** ERANGE unless blocks `blk..blk+count` lie inside the file system. Internal: also used by ext4-blockmap.ts. */
  checkBlockRange(blk: bigint, count: number, where: string): void {
    if (blk < 0n || blk + BigInt(count) > this.geometry.blocksCount) {
      throw new Ext4Error('ERANGE', where, `block ${blk} (+${count}) outside the file system (s_blocks_count ${this.geometry.blocksCount})`);
    }
  }

  // ------------------------------------------------------------------------------------------------ groups, inodes

  /** ext4_bg_has_super (fs/ext4/balloc.c): does group `g` carry a superblock backup (and so a GDT copy)? */
  groupHasSuper(g: number): boolean {
    if (g === 0) return true;
    if (this.hasCompat(COMPAT.SPARSE_SUPER2)) return g === this.sb.s_backup_bgs[0] || g === this.sb.s_backup_bgs[1];
    if (g <= 1 || !this.hasRoCompat(RO_COMPAT.SPARSE_SUPER)) return true;
    if (g % 2 === 0) return false;
    return isPowerOf(g, 3) || isPowerOf(g, 5) || isPowerOf(g, 7);
  }

  /** Block holding descriptor block `nr` (fs/ext4/super.c descriptor_loc; meta_bg puts them in their metagroup). */
  descriptorBlock(nr: number): bigint {
    const first = BigInt(this.sb.s_first_data_block);
    if (!this.hasIncompat(INCOMPAT.META_BG) || nr < this.sb.s_first_meta_bg) return first + BigInt(nr) + 1n;
    const descPerBlock = this.blockSize / this.geometry.descSize;
    const bg = descPerBlock * nr;
    let hasSuper = this.groupHasSuper(bg) ? 1n : 0n;
    if (this.blockSize === 1024 && nr === 0 && this.sb.s_first_data_block === 0) hasSuper++;
    return hasSuper + BigInt(bg) * BigInt(this.sb.s_blocks_per_group) + first;
  }

  groupDesc(g: number): Ext4GroupDesc {
    if (!Number.isInteger(g) || g < 0 || g >= this.geometry.groupCount) {
      throw new Ext4Error('ERANGE', 'group descriptor', `group ${g} outside 0..${this.geometry.groupCount - 1}`);
    }
    const cached = this.groupCache.get(g);
    if (cached) return cached;
    const ds = this.geometry.descSize;
    const perBlock = this.blockSize / ds;
    const blk = this.descriptorBlock(Math.floor(g / perBlock));
    const b = this.readBlock(blk, `group descriptor ${g}`);
    // Parse the whole descriptor block: the neighbours are the next groups asked for in any walk.
    if (this.groupCache.size + perBlock > GROUP_DESC_CACHE_MAX) this.groupCache.clear();
    const first = g - (g % perBlock);
    for (let i = 0; i < perBlock && first + i < this.geometry.groupCount; i++) {
      this.groupCache.set(first + i, parseGroupDesc(b, i * ds, ds));
    }
    return this.groupCache.get(g)!;
  }

  /** Byte offset of inode `ino` in the source. */
  inodeOffset(ino: number): bigint {
    this.checkIno(ino);
    const ipg = this.sb.s_inodes_per_group;
    const g = Math.floor((ino - 1) / ipg);
    const idx = (ino - 1) % ipg;
    const gd = this.groupDesc(g);
    const bs = BigInt(this.blockSize);
    const byte = gd.bg_inode_table * bs + BigInt(idx * this.geometry.inodeSize);
    const blk = byte / bs;
    this.checkBlockRange(blk, 1, `inode ${ino} (group ${g} inode table at block ${gd.bg_inode_table})`);
    return byte;
  }

  checkIno(ino: number): void {
    if (!Number.isInteger(ino) || ino < 1 || ino > this.sb.s_inodes_count) {
      throw new Ext4Error('ERANGE', `inode ${ino}`, `inode number outside 1..${this.sb.s_inodes_count} (s_inodes_count)`);
    }
  }

  /**
   * Chunk `k` of group `g`'s inode table (INODE_TABLE_CHUNK_BYTES, fewer at the end of the table, the file system
   * or the image), from the LRU or read whole. `ino` and `tableBlock` only name the inode asked for in errors:
   * that inode's block is range-checked here, as before the cache.
   */
  private inodeTableChunk(g: number, k: number, ino: number, tableBlock: number): Uint8Array {
    const key = g * this.chunksPerGroup + k;
    if (key === this.lastChunkKey) return this.lastChunk!;
    let chunk = this.itable.get(key);
    if (chunk) {
      this.itable.delete(key); // refresh: most recently used last
      this.itable.set(key, chunk);
    } else {
      const gd = this.groupDesc(g);
      this.checkBlockRange(gd.bg_inode_table + BigInt(tableBlock), 1, `inode ${ino} (group ${g} inode table at block ${gd.bg_inode_table})`);
      const start = gd.bg_inode_table + BigInt(k * this.chunkBlocks);
      let count = Math.min(this.chunkBlocks, this.tableBlocks - k * this.chunkBlocks);
      const left = this.geometry.blocksCount - start;
      if (BigInt(count) > left) count = Math.max(0, Number(left)); // a corrupt table running off the fs: the rest is ERANGE
      const bs = this.blockSize;
      const buf = new Uint8Array(count * bs);
      const n = readFully(this.source, buf, 0, buf.length, start * BigInt(bs));
      chunk = n < buf.length ? buf.subarray(0, n) : buf;
      this.itable.set(key, chunk);
      this.itableBytes += buf.length;
      for (const [oldKey, old] of this.itable) {
        if (this.itableBytes <= this.itableMax || this.itable.size <= 1) break;
        this.itable.delete(oldKey);
        this.itableBytes -= old.buffer.byteLength;
      }
    }
    this.lastChunkKey = key;
    this.lastChunk = chunk;
    return chunk;
  }

  inode(ino: number): Ext4Inode {
    if (ino === this.lastIno) return this.lastInode!; // lstat then open, resolve then stat: the same inode twice
    const hit = this.inodeCache.get(ino);
    if (hit) return hit;
    this.checkIno(ino);
    const ipg = this.sb.s_inodes_per_group;
    const g = Math.floor((ino - 1) / ipg);
    const size = this.geometry.inodeSize;
    const byte = ((ino - 1) % ipg) * size; // inside the group's inode table
    const chunkBytes = this.chunkBlocks * this.blockSize;
    const k = Math.floor(byte / chunkBytes);
    const chunk = this.inodeTableChunk(g, k, ino, Math.floor(byte / this.blockSize));
    const off = byte - k * chunkBytes;
    if (off + size > chunk.length) {
      const table = this.groupDesc(g).bg_inode_table;
      this.checkBlockRange(table + BigInt(Math.floor(byte / this.blockSize)), 1, `inode ${ino} (group ${g} inode table at block ${table})`);
      const at = this.groupDesc(g).bg_inode_table * BigInt(this.blockSize) + BigInt(byte);
      throw new Ext4Error('ETRUNCATED', `inode ${ino}`, `inode at byte ${at} is past the end of the image`);
    }
    let inode: Ext4Inode;
    try {
      inode = parseInode(chunk, off, size);
    } catch (err) {
      if (err instanceof Ext4Error) throw new Ext4Error(err.code, `inode ${ino}`, err.message);
      throw err;
    }
    // Only directories are kept parsed: path resolution asks for them again and again, while a file's inode is
    // parsed again cheaply from the cached inode-table chunk (caching every inode only feeds the garbage collector).
    if ((inode.i_mode & 0o170000) === 0o040000) {
      if (this.inodeCache.size >= INODE_CACHE_MAX) this.inodeCache.clear();
      this.inodeCache.set(ino, inode);
    } else {
      this.lastIno = ino;
      this.lastInode = inode;
    }
    return inode;
  }

  /** i_size as the kernel reads it (fs/ext4/ext4.h ext4_isize): i_size_high counts only for files, or with largedir. */
  inodeSize(inode: Ext4Inode): bigint {
    if ((inode.i_mode & 0o170000) === 0o100000 || this.hasIncompat(INCOMPAT.LARGEDIR)) return inode.i_size;
    return BigInt(inode.i_size_lo);
  }

  times(inode: Ext4Inode): Ext4Times {
    return {
      atime: decodeTime(inode.i_atime, inode.i_atime_extra),
      mtime: decodeTime(inode.i_mtime, inode.i_mtime_extra),
      ctime: decodeTime(inode.i_ctime, inode.i_ctime_extra),
      crtime: inode.i_crtime !== undefined ? decodeTime(inode.i_crtime, inode.i_crtime_extra) : undefined,
      dtime: inode.i_dtime,
    };
  }

  rdev(inode: Ext4Inode): { major: number; minor: number } {
    const t = inode.i_mode & 0o170000;
    if (t !== 0o020000 && t !== 0o060000) return { major: 0, minor: 0 };
    return decodeRdev(inode.i_block);
  }

  /** i_blocks in 512-byte units (huge_file inodes count fs blocks, inodes.rst "i_blocks_lo"). */
  blocks512(inode: Ext4Inode): bigint {
    if (this.hasRoCompat(RO_COMPAT.HUGE_FILE) && inode.i_flags & INODE_FLAGS.HUGE_FILE_FL) {
      return inode.i_blocks * BigInt(this.blockSize / 512);
    }
    return inode.i_blocks;
  }

  // ------------------------------------------------------------------------------------------------ block mapping (ext4-blockmap.ts)

  /** Every leaf extent of an extent-mapped inode, sorted by logical block; depth-limited and loop-guarded. */
  extents(ino: number, inode = this.inode(ino)): Ext4Extent[] {
    return extentTree(this, ino, inode);
  }

  // ------------------------------------------------------------------------------------------------ file contents

  /** Inline data (i_block bytes followed by the system.data xattr), for INLINE_DATA_FL inodes (inline.c). */
  inlineData(ino: number, inode = this.inode(ino)): Uint8Array {
    const extra = readInodeXattrs(this, ino, inode, false).get('system.data') ?? new Uint8Array(0);
    if (60 + extra.length > MAX_INLINE_DATA) throw new Ext4Error('ELIMIT', `inode ${ino}`, `inline data of ${60 + extra.length} bytes, limit MAX_INLINE_DATA ${MAX_INLINE_DATA}`);
    const all = new Uint8Array(60 + extra.length);
    all.set(inode.i_block, 0);
    all.set(extra, 60);
    return all;
  }

  /** Opens inode `ino` for positional reads of its data (regular files, directories, slow symlinks). */
  file(ino: number): Ext4File {
    return openFile(this, ino);
  }

  /** Whole contents of a (small) inode, refusing more than `max` bytes. */
  readAll(ino: number, max: number, what: string): Uint8Array {
    const f = this.file(ino);
    if (f.size > BigInt(max)) throw new Ext4Error('ELIMIT', `inode ${ino}`, `${what} of ${f.size} bytes, limit ${max}`);
    const buf = new Uint8Array(Number(f.size));
    const n = f.read(buf, 0, buf.length, 0);
    return buf.subarray(0, n);
  }

  // ------------------------------------------------------------------------------------------------ directories

  isDir(inode: Ext4Inode): boolean {
    return (inode.i_mode & 0o170000) === 0o040000;
  }

  readdir(ino: number, onProblem?: (err: Ext4Error) => void): Ext4DirEntryInfo[] {
    return readDirectory(this, ino, onProblem);
  }

  /** Looks a name up in a directory (linear scan of `readdir`). */
  lookup(dirIno: number, name: string): Ext4DirEntryInfo | undefined {
    return this.readdir(dirIno).find((e) => e.name === name);
  }

  // ------------------------------------------------------------------------------------------------ symlinks

  /** The target bytes of a symlink: fast (in i_block), inline, or slow (in data blocks). */
  readlinkBytes(ino: number): Uint8Array {
    return readSymlinkBytes(this, ino);
  }

  readlink(ino: number): string {
    return new TextDecoder('utf-8').decode(this.readlinkBytes(ino));
  }

  // ------------------------------------------------------------------------------------------------ xattrs (ext4-xattrs.ts)

  /** Extended attributes from the inode body and the xattr block (attributes.rst), raw values. */
  xattrs(ino: number): Map<string, Uint8Array> {
    return readInodeXattrs(this, ino, this.inode(ino), true);
  }

  // ------------------------------------------------------------------------------------------------ recovery (ext4-listings.ts)

  /**
   * Inodes that look deleted: not in use in the inode bitmap but with a mode, dtime or data pointers left, or in use
   * with dtime set and no links (orphans). Groups flagged INODE_UNINIT are skipped (their tables were never written).
   */
  deletedInodes(max = MAX_DELETED_INODES): DeletedInode[] {
    return listDeletedInodes(this, max);
  }

  /** Ranges of blocks marked free in the block bitmaps (adjacent ranges merged across groups). */
  unallocatedRanges(max = MAX_UNALLOCATED_RANGES): BlockRange[] {
    return listUnallocatedRanges(this, max);
  }
}
