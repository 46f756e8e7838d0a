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
import {
  Ext4Error,
  MAX_DELETED_INODES,
  MAX_DIR_BYTES,
  MAX_DIR_ENTRIES,
  MAX_EXTENTS_PER_FILE,
  MAX_EXTENT_DEPTH,
  MAX_INLINE_DATA,
  MAX_SYMLINK_LENGTH,
  MAX_UNALLOCATED_RANGES,
  MAX_XATTR_COUNT,
  MAX_XATTR_VALUE_BYTES,
} from './errors.js';
import {
  BG_BLOCK_UNINIT,
  BG_INODE_UNINIT,
  COMPAT,
  EXT4_FT,
  EXT4_N_BLOCKS,
  EXT4_ROOT_INO,
  EXT4_SUPER_MAGIC,
  EXT4_XATTR_MAGIC,
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
  scanDirBlock,
  parseExtentNode,
  parseGroupDesc,
  parseInode,
  parseSuperBlock,
  parseXattrEntries,
  validateSuperBlock,
} from './structs.js';

export type Ext4FileType = (typeof EXT4_FT)[number];

export interface Ext4DirEntryInfo {
  name: string;
  /** Raw name bytes (names are not guaranteed to be UTF-8). */
  nameBytes: Uint8Array;
  ino: number;
  /** From the entry's file_type (filetype feature), else 'unknown'. */
  fileType: Ext4FileType;
}

export interface Ext4Times {
  /** ns since the epoch */
  atime: bigint;
  mtime: bigint;
  ctime: bigint;
  /** i_crtime, only in large inodes whose i_extra_isize covers it. */
  crtime?: bigint;
  /** i_dtime, seconds (unsigned, no extra field); 0 = not deleted. */
  dtime: number;
}

export interface DeletedInode {
  ino: number;
  /** Still marked in the inode bitmap (e.g. orphan with dtime set). */
  allocated: boolean;
  mode: number;
  size: bigint;
  linksCount: number;
  dtime: number;
  times?: Ext4Times;
  /** The inode still names data blocks (extent root / block pointers / inline data non-empty). */
  hasData: boolean;
}

export interface BlockRange {
  /** First fs block. */
  start: bigint;
  /** Number of blocks. */
  count: bigint;
  /** The group was BLOCK_UNINIT: its bitmap was never written; metadata inside it is not excluded. */
  uninit: boolean;
}

export interface Ext4File {
  readonly ino: number;
  readonly size: bigint;
  read(buf: Uint8Array, bufOffset: number, length: number, position: number): number;
}

/** A run of the logical-to-physical map: `count` blocks from `lblk`; `pblk` undefined for a hole/unwritten extent. */
interface Run {
  pblk: bigint | undefined;
  count: number;
}

/** Parsed directory inodes kept (a Map cleared when full; each entry holds s_inode_size bytes plus the fields). */
const INODE_CACHE_MAX = 8192;
const INDIRECT_CACHE_MAX = 256;
/** Bytes of an inode table read at once (whole blocks; at least one block): 256 inodes of 256 bytes. */
export const INODE_TABLE_CHUNK_BYTES = 64 * 1024;
/** Bytes of inode-table chunks kept in memory, least recently used evicted first. */
export const INODE_TABLE_CACHE_BYTES = 16 * 1024 * 1024;
/** Group descriptors kept parsed (a Map cleared when full; a descriptor block is parsed whole on a miss). */
export const GROUP_DESC_CACHE_MAX = 1 << 16;
/** Bytes of a directory read at once by readdir (the directory's own size when smaller). */
export const DIR_READ_CHUNK_BYTES = 1 << 20;

const utf8 = new TextDecoder('utf-8');
/** `b[off, off+len)` as UTF-8 (invalid bytes become U+FFFD); plain ASCII names skip the TextDecoder call. */
function decodeName(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = off, end = off + len; i < end; i++) {
    const c = b[i]!;
    if (c >= 0x80) return utf8.decode(b.subarray(off, end));
    s += String.fromCharCode(c);
  }
  return s;
}

/** A directory entry whose raw name bytes are a view, made on use, of the buffer the directory was read into. */
class DirEntryInfo implements Ext4DirEntryInfo {
  constructor(
    readonly name: string,
    readonly ino: number,
    readonly fileType: Ext4FileType,
    public buf: Uint8Array,
    public nameOff: number,
    readonly nameLen: number,
  ) {}
  get nameBytes(): Uint8Array {
    return this.buf.subarray(this.nameOff, this.nameOff + this.nameLen);
  }
}

/**
 * Entries `from..` of `out` name bytes in `buf`; when those names are a small part of it (a directory left mostly
 * empty by deletions), they move to a compact copy, so a kept listing pins about its names' bytes, not the blocks.
 */
function compactNames(out: Ext4DirEntryInfo[], from: number, buf: Uint8Array): void {
  let total = 0;
  for (let i = from; i < out.length; i++) total += (out[i] as DirEntryInfo).nameLen;
  if (total * 8 >= buf.length) return;
  const compact = new Uint8Array(total);
  let at = 0;
  for (let i = from; i < out.length; i++) {
    const e = out[i] as DirEntryInfo;
    compact.set(buf.subarray(e.nameOff, e.nameOff + e.nameLen), at);
    e.buf = compact;
    e.nameOff = at;
    at += e.nameLen;
  }
}

function isPowerOf(n: number, base: number): boolean {
  let x = n;
  while (x > 1 && x % base === 0) x /= base;
  return x === 1;
}

/** All `len` bytes at `off` zero? (A directory hole; a live block starts with a non-zero rec_len, so this is quick.) */
function isZeroBlock(b: Uint8Array, off: number, len: number): boolean {
  for (let i = off, end = off + len; i < end; i++) if (b[i] !== 0) return false;
  return true;
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

  private checkBlockRange(blk: bigint, count: number, where: string): void {
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

  // ------------------------------------------------------------------------------------------------ block mapping

  /** Every leaf extent of an extent-mapped inode, sorted by logical block; depth-limited and loop-guarded. */
  extents(ino: number, inode = this.inode(ino)): Ext4Extent[] {
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
        this.checkBlockRange(leaf.ee_start, leaf.ee_len, `${where} (extent at logical block ${leaf.ee_block})`);
        if (out.length >= MAX_EXTENTS_PER_FILE) throw new Ext4Error('ELIMIT', where, `more than MAX_EXTENTS_PER_FILE ${MAX_EXTENTS_PER_FILE} extents`);
        out.push(leaf);
      }
      for (const idx of node.index) {
        if (visited.has(idx.ei_leaf)) throw new Ext4Error('ELOOP', where, `extent index block ${idx.ei_leaf} is referenced twice`);
        visited.add(idx.ei_leaf);
        const child = this.readBlock(idx.ei_leaf, where);
        walk(child, 0, this.blockSize, depth - 1, level + 1);
      }
    };
    walk(inode.i_block, 0, 60, undefined, 0);
    out.sort((a, b) => a.ee_block - b.ee_block);
    return out;
  }

  /** A mapper from logical block to runs, for extent-mapped or block-mapped (ext2/3 direct/indirect) inodes. */
  private mapper(ino: number, inode: Ext4Inode): (lblk: number, maxCount: number) => Run {
    if (inode.i_flags & INODE_FLAGS.EXTENTS_FL) {
      const ext = this.extents(ino, inode);
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
    const per = this.blockSize / 4;
    const iblock = new DataView(inode.i_block.buffer, inode.i_block.byteOffset, 60);
    const cache = new Map<bigint, DataView>();
    const where = `inode ${ino} block map`;
    const ptrs = (blk: bigint): DataView => {
      let v = cache.get(blk);
      if (!v) {
        const b = this.readBlock(blk, where);
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
      if (first !== 0n) this.checkBlockRange(first, count, where);
      return { pblk: first === 0n ? undefined : first, count };
    };
  }

  // ------------------------------------------------------------------------------------------------ file contents

  /** Inline data (i_block bytes followed by the system.data xattr), for INLINE_DATA_FL inodes (inline.c). */
  inlineData(ino: number, inode = this.inode(ino)): Uint8Array {
    const extra = this.inodeXattrs(ino, inode, false).get('system.data') ?? new Uint8Array(0);
    if (60 + extra.length > MAX_INLINE_DATA) throw new Ext4Error('ELIMIT', `inode ${ino}`, `inline data of ${60 + extra.length} bytes, limit MAX_INLINE_DATA ${MAX_INLINE_DATA}`);
    const all = new Uint8Array(60 + extra.length);
    all.set(inode.i_block, 0);
    all.set(extra, 60);
    return all;
  }

  /** Opens inode `ino` for positional reads of its data (regular files, directories, slow symlinks). */
  file(ino: number): Ext4File {
    const inode = this.inode(ino);
    const size = this.inodeSize(inode);
    if (inode.i_flags & INODE_FLAGS.INLINE_DATA_FL) {
      const data = this.inlineData(ino, inode);
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
    const map = this.mapper(ino, inode);
    const bs = this.blockSize;
    const src = this.source;
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

  /**
   * Lists a directory, "." and ".." included. Hash-tree (INDEX_FL) directories are read linearly: the dx_root and
   * dx_node blocks look like a block with one big empty entry (directory.rst "Hash Tree Directories"). Inline
   * directories (inline_data) get "." and ".." synthesised from the parent number in i_block[0..3].
   * With `onProblem`, a corrupt block is reported and skipped; without it, the first corruption throws.
   */
  readdir(ino: number, onProblem?: (err: Ext4Error) => void): Ext4DirEntryInfo[] {
    const inode = this.inode(ino);
    if (!this.isDir(inode)) throw new Ext4Error('ENOTDIR', `inode ${ino}`, `mode 0o${inode.i_mode.toString(8)} is not a directory`);
    const hasFt = this.hasIncompat(INCOMPAT.FILETYPE);
    const out: Ext4DirEntryInfo[] = [];
    // Entries keep a view of the buffer this call read (never reused; compacted when sparse, see compactNames).
    const adder = (buf: Uint8Array) => (inode: number, _recLen: number, nameLen: number, fileType: number, nameOff: number) => {
      if (out.length >= MAX_DIR_ENTRIES) throw new Ext4Error('ELIMIT', `directory inode ${ino}`, `more than MAX_DIR_ENTRIES ${MAX_DIR_ENTRIES} entries`);
      const ft = hasFt ? (EXT4_FT[fileType & 7] ?? 'unknown') : 'unknown';
      out.push(new DirEntryInfo(decodeName(buf, nameOff, nameLen), inode, ft, buf, nameOff, nameLen));
    };
    const add = (e: { inode: number; file_type: number; name: Uint8Array }) => adder(e.name)(e.inode, 0, e.name.length, e.file_type, 0);
    const guard = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        if (onProblem && err instanceof Ext4Error && err.code !== 'ELIMIT') onProblem(err);
        else throw err;
      }
    };
    const bs = this.blockSize;
    if (inode.i_flags & INODE_FLAGS.INLINE_DATA_FL) {
      const data = this.inlineData(ino, inode);
      const parent = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
      add({ inode: ino, file_type: 2, name: new Uint8Array([0x2e]) });
      add({ inode: parent, file_type: 2, name: new Uint8Array([0x2e, 0x2e]) });
      const where = `inline directory inode ${ino}`;
      guard(() => scanDirBlock(data, 4, 56, bs, hasFt, where, adder(data)));
      if (data.length > 60) guard(() => scanDirBlock(data, 60, data.length - 60, bs, hasFt, where + ' (system.data)', adder(data)));
      return out;
    }
    const f = this.file(ino);
    if (f.size > BigInt(MAX_DIR_BYTES)) throw new Ext4Error('ELIMIT', `directory inode ${ino}`, `size ${f.size}, limit MAX_DIR_BYTES ${MAX_DIR_BYTES}`);
    const size = Number(f.size);
    // Read in chunks of whole blocks (one read per contiguous run, not one per block).
    const chunkBytes = Math.max(bs, Math.floor(DIR_READ_CHUNK_BYTES / bs) * bs);
    for (let base = 0; base < size; base += chunkBytes) {
      const want = Math.min(chunkBytes, Math.ceil((size - base) / bs) * bs);
      const buf = new Uint8Array(want);
      const got = f.read(buf, 0, want, base);
      const onEntry = adder(buf);
      const from = out.length;
      for (let at = 0; at < got; at += bs) {
        if (got - at < bs) {
          if (onProblem) onProblem(new Ext4Error('ECORRUPT', `directory inode ${ino}`, `size ${size} is not a multiple of the block size`));
          compactNames(out, from, buf);
          return out;
        }
        if (isZeroBlock(buf, at, bs)) continue; // a hole in the directory: nothing to list
        guard(() => scanDirBlock(buf, at, bs, bs, hasFt, `directory inode ${ino} block ${(base + at) / bs}`, onEntry));
      }
      compactNames(out, from, buf);
    }
    return out;
  }

  /** Looks a name up in a directory (linear scan of `readdir`). */
  lookup(dirIno: number, name: string): Ext4DirEntryInfo | undefined {
    return this.readdir(dirIno).find((e) => e.name === name);
  }

  // ------------------------------------------------------------------------------------------------ symlinks

  /** The target bytes of a symlink: fast (in i_block), inline, or slow (in data blocks). */
  readlinkBytes(ino: number): Uint8Array {
    const inode = this.inode(ino);
    if ((inode.i_mode & 0o170000) !== 0o120000) throw new Ext4Error('EINVAL', `inode ${ino}`, 'not a symlink');
    const size = this.inodeSize(inode);
    if (size > BigInt(MAX_SYMLINK_LENGTH)) throw new Ext4Error('ELIMIT', `symlink inode ${ino}`, `target of ${size} bytes, limit MAX_SYMLINK_LENGTH ${MAX_SYMLINK_LENGTH}`);
    const n = Number(size);
    if (inode.i_flags & INODE_FLAGS.INLINE_DATA_FL) return this.inlineData(ino, inode).slice(0, n);
    // Fast symlink: no data blocks besides an xattr block (fs/ext4/inode.c ext4_inode_is_fast_symlink).
    const eaBlocks = inode.i_file_acl !== 0n ? BigInt((this.blockSize * this.geometry.clusterRatio) >> 9) : 0n;
    const fast = inode.i_flags & INODE_FLAGS.EA_INODE_FL ? n < EXT4_N_BLOCKS * 4 : this.blocks512(inode) - eaBlocks === 0n;
    if (fast) {
      if (n > 60) throw new Ext4Error('ECORRUPT', `symlink inode ${ino}`, `fast symlink of ${n} bytes, at most 60 fit`);
      return inode.i_block.slice(0, n);
    }
    return this.readAll(ino, MAX_SYMLINK_LENGTH, 'symlink');
  }

  readlink(ino: number): string {
    return new TextDecoder('utf-8').decode(this.readlinkBytes(ino));
  }

  // ------------------------------------------------------------------------------------------------ xattrs

  /** Extended attributes from the inode body and the xattr block (attributes.rst), raw values. */
  xattrs(ino: number): Map<string, Uint8Array> {
    return this.inodeXattrs(ino, this.inode(ino), true);
  }

  private inodeXattrs(ino: number, inode: Ext4Inode, withBlock: boolean): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    const where = `inode ${ino} xattrs`;
    const value = (b: Uint8Array, base: number, end: number, e: { e_value_offs: number; e_value_size: number; e_value_inum: number; name: string }) => {
      if (e.e_value_size > MAX_XATTR_VALUE_BYTES) throw new Ext4Error('ELIMIT', where, `${e.name} value of ${e.e_value_size} bytes, limit MAX_XATTR_VALUE_BYTES ${MAX_XATTR_VALUE_BYTES}`);
      if (e.e_value_inum !== 0) {
        // ea_inode: the value is the content of another inode (xattr.c ext4_xattr_inode_get)
        if (e.e_value_inum === ino) throw new Ext4Error('ELOOP', where, `${e.name} value inode is the inode itself`);
        const data = this.readAll(e.e_value_inum, MAX_XATTR_VALUE_BYTES, 'xattr value inode');
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
      const b = this.readBlock(inode.i_file_acl, `${where} block`);
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

  // ------------------------------------------------------------------------------------------------ recovery

  /** Does the inode still point at data? */
  private inodeHasData(inode: Ext4Inode): boolean {
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
  deletedInodes(max = MAX_DELETED_INODES): DeletedInode[] {
    const out: DeletedInode[] = [];
    const ipg = this.sb.s_inodes_per_group;
    const isz = this.geometry.inodeSize;
    const bs = this.blockSize;
    const perBlock = bs / isz;
    for (let g = 0; g < this.geometry.groupCount; g++) {
      const gd = this.groupDesc(g);
      if (gd.bg_flags & BG_INODE_UNINIT) continue;
      const bitmap = this.readBlock(gd.bg_inode_bitmap, `group ${g} inode bitmap`);
      const tableBlocks = Math.ceil((ipg * isz) / bs);
      for (let tb = 0; tb < tableBlocks; tb++) {
        const blk = this.readBlock(gd.bg_inode_table + BigInt(tb), `group ${g} inode table`);
        for (let k = 0; k < perBlock; k++) {
          const idx = tb * perBlock + k;
          const ino = g * ipg + idx + 1;
          if (idx >= ipg || ino > this.sb.s_inodes_count) break;
          if (ino < this.geometry.firstIno && ino !== EXT4_ROOT_INO) continue;
          const allocated = ((bitmap[idx >> 3]! >> (idx & 7)) & 1) === 1;
          let inode: Ext4Inode;
          try {
            inode = parseInode(blk, k * isz, isz);
          } catch {
            continue;
          }
          const hasData = this.inodeHasData(inode);
          const candidate = allocated ? inode.i_dtime !== 0 && inode.i_links_count === 0 : inode.i_mode !== 0 || inode.i_dtime !== 0 || hasData;
          if (!candidate) continue;
          if (out.length >= max) throw new Ext4Error('ELIMIT', 'deleted inode scan', `more than ${max} candidates`);
          out.push({
            ino,
            allocated,
            mode: inode.i_mode,
            size: this.inodeSize(inode),
            linksCount: inode.i_links_count,
            dtime: inode.i_dtime,
            times: this.times(inode),
            hasData,
          });
        }
      }
    }
    return out;
  }

  /** Ranges of blocks marked free in the block bitmaps (adjacent ranges merged across groups). */
  unallocatedRanges(max = MAX_UNALLOCATED_RANGES): BlockRange[] {
    const out: BlockRange[] = [];
    const bpg = BigInt(this.sb.s_blocks_per_group);
    const first = BigInt(this.sb.s_first_data_block);
    const ratio = this.geometry.clusterRatio;
    const total = this.geometry.blocksCount;
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
    for (let g = 0; g < this.geometry.groupCount; g++) {
      const gstart = first + BigInt(g) * bpg;
      const gend = gstart + bpg < total ? gstart + bpg : total;
      const gd = this.groupDesc(g);
      if (gd.bg_flags & BG_BLOCK_UNINIT) {
        push(gstart, gend - gstart, true);
        continue;
      }
      const bitmap = this.readBlock(gd.bg_block_bitmap, `group ${g} block bitmap`);
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
}
