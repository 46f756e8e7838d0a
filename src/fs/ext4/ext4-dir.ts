// Directory listing for Ext4Fs.readdir: linear scan of directory blocks (and inline directories).
import { Ext4Error, MAX_DIR_BYTES, MAX_DIR_ENTRIES } from './errors.js';
import type { Ext4Fs } from './ext4.js';
import type { Ext4DirEntryInfo, Ext4FileType } from './ext4-types.js';
import { EXT4_FT, INCOMPAT, INODE_FLAGS, scanDirBlock } from './structs.js';

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

/** All `len` bytes at `off` zero? (A directory hole; a live block starts with a non-zero rec_len, so this is quick.) */
function isZeroBlock(b: Uint8Array, off: number, len: number): boolean {
  for (let i = off, end = off + len; i < end; i++) if (b[i] !== 0) return false;
  return true;
}

  /**
   * Lists a directory, "." and ".." included. Hash-tree (INDEX_FL) directories are read linearly: the dx_root and
   * dx_node blocks look like a block with one big empty entry (directory.rst "Hash Tree Directories"). Inline
   * directories (inline_data) get "." and ".." synthesised from the parent number in i_block[0..3].
   * With `onProblem`, a corrupt block is reported and skipped; without it, the first corruption throws.
   */
export function readDirectory(fs: Ext4Fs, ino: number, onProblem?: (err: Ext4Error) => void): Ext4DirEntryInfo[] {
  const inode = fs.inode(ino);
  if (!fs.isDir(inode)) throw new Ext4Error('ENOTDIR', `inode ${ino}`, `mode 0o${inode.i_mode.toString(8)} is not a directory`);
  const hasFt = fs.hasIncompat(INCOMPAT.FILETYPE);
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
  const bs = fs.blockSize;
  if (inode.i_flags & INODE_FLAGS.INLINE_DATA_FL) {
    const data = fs.inlineData(ino, inode);
    const parent = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
    add({ inode: ino, file_type: 2, name: new Uint8Array([0x2e]) });
    add({ inode: parent, file_type: 2, name: new Uint8Array([0x2e, 0x2e]) });
    const where = `inline directory inode ${ino}`;
    guard(() => scanDirBlock(data, 4, 56, bs, hasFt, where, adder(data)));
    if (data.length > 60) guard(() => scanDirBlock(data, 60, data.length - 60, bs, hasFt, where + ' (system.data)', adder(data)));
    return out;
  }
  const f = fs.file(ino);
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
