// Hostile images: every guard of the ext4 reader raises a typed error (or reports a problem), never hangs, never
// allocates from an unchecked on-disk size. Corrupt copies are made in memory from the generated images.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { MemorySource } from '../../../src/io/byte-source.js';
import { Ext4Error } from '../../../src/fs/ext4/errors.js';
import { Ext4Fs } from '../../../src/fs/ext4/ext4.js';
import { Ext4Vfs } from '../../../src/fs/ext4/vfs.js';
import { VfsError } from '../../../src/fs/vfs.js';
import { diskImages } from '../../fixtures-scripts/images.js';

let pristine: Uint8Array;
let fsys: Ext4Fs;
let vfs: Ext4Vfs;
beforeAll(() => {
  pristine = new Uint8Array(fs.readFileSync(path.join(diskImages(), 'ext4-main.img')));
  vfs = new Ext4Vfs(new MemorySource(pristine));
  fsys = vfs.fs;
});

const copy = () => pristine.slice();
const le32 = (b: Uint8Array, off: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(off, v, true);
const le16 = (b: Uint8Array, off: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint16(off, v, true);
function ext4Err(fn: () => unknown): Ext4Error {
  try {
    fn();
  } catch (err) {
    if (err instanceof Ext4Error) return err;
    throw err;
  }
  throw new Error('expected an Ext4Error');
}
function vfsErr(fn: () => unknown): VfsError {
  try {
    fn();
  } catch (err) {
    if (err instanceof VfsError) return err;
    throw err;
  }
  throw new Error('expected a VfsError');
}
const inodeOff = (p: string) => Number(fsys.inodeOffset(Number(vfs.lstat(p).ino)));
const firstBlockOf = (p: string) => Number(fsys.extents(Number(vfs.lstat(p).ino))[0]!.ee_start) * fsys.blockSize;
/** A block no file uses (from the bitmaps), to plant hostile tree nodes in. */
const freeBlock = (k = 0) => Number(fsys.unallocatedRanges().find((r) => !r.uninit && r.count > 4n)!.start) + k;

describe('superblock', () => {
  test('zeroed superblock: EBADMAGIC with expected and actual', () => {
    const b = copy();
    b.fill(0, 1024, 2048);
    const e = ext4Err(() => new Ext4Fs(new MemorySource(b)));
    expect(e.code).toBe('EBADMAGIC');
    expect(e.message).toMatch(/s_magic 0x0, expected 0xef53/);
    expect(Ext4Fs.probe(new MemorySource(b))).toBe(false);
  });
  test('impossible geometry values are ECORRUPT', () => {
    for (const [off, val, field] of [
      [0x18, 30, 's_log_block_size'],
      [0x28, 0, 's_inodes_per_group'],
      [0x20, 0, 's_blocks_per_group'],
      [0x00, 0x7fffffff, 's_inodes_count'],
    ] as const) {
      const b = copy();
      le32(b, 1024 + off, val);
      const e = ext4Err(() => new Ext4Fs(new MemorySource(b)));
      expect(e.code, field).toBe('ECORRUPT');
      expect(e.message, field).toContain(field);
    }
    const b = copy();
    le16(b, 1024 + 0x58, 100); // s_inode_size
    expect(ext4Err(() => new Ext4Fs(new MemorySource(b))).message).toMatch(/s_inode_size 100/);
  });
  test('truncated source', () => {
    expect(ext4Err(() => new Ext4Fs(new MemorySource(pristine.slice(0, 1500)))).code).toBe('ETRUNCATED');
    const f = new Ext4Fs(new MemorySource(pristine.slice(0, 4 << 20)));
    expect(f.problems.join()).toMatch(/truncated/);
  });
});

describe('inodes and directories', () => {
  test('inode numbers out of range are ERANGE', () => {
    for (const ino of [0, -1, fsys.sb.s_inodes_count + 1, 2 ** 40, 1.5]) expect(ext4Err(() => fsys.inode(ino)).code).toBe('ERANGE');
  });
  test('a directory entry naming an inode past s_inodes_count', () => {
    const b = copy();
    const blk = firstBlockOf('/etc');
    // /etc holds ".", "..", "shadow": find "shadow" and point it at inode 0x7ffffff0
    const at = Buffer.from(b.buffer).indexOf(Buffer.from('shadow'), blk) - 8;
    le32(b, at, 0x7ffffff0);
    const v = new Ext4Vfs(new MemorySource(b));
    expect(v.readdir('/etc').map((e) => e.name)).toEqual(['shadow']);
    const e = vfsErr(() => v.lstat('/etc/shadow'));
    expect(e.code).toBe('EIO');
    expect(e.message).toMatch(/outside 1\.\./);
  });
  test('impossible rec_len: typed error, or a reported and skipped block', () => {
    for (const bad of [0, 3, 6, 0xfffc]) {
      const b = copy();
      le16(b, firstBlockOf('/etc') + 4, bad); // rec_len of "."
      const v = new Ext4Vfs(new MemorySource(b));
      const ino = Number(vfs.lstat('/etc').ino);
      expect(ext4Err(() => v.fs.readdir(ino)).code).toBe('ECORRUPT');
      const problems: Ext4Error[] = [];
      expect(v.fs.readdir(ino, (p) => problems.push(p))).toEqual([]);
      expect(problems.length).toBe(1);
      expect(vfsErr(() => v.readdir('/etc')).code).toBe('EIO');
    }
  });
  test('name_len larger than rec_len', () => {
    const b = copy();
    b[firstBlockOf('/etc') + 6] = 200;
    expect(ext4Err(() => new Ext4Fs(new MemorySource(b)).readdir(Number(vfs.lstat('/etc').ino))).message).toMatch(/name_len 200/);
  });
  test('i_extra_isize beyond the inode', () => {
    const b = copy();
    le16(b, inodeOff('/hello.txt') + 0x80, 1000);
    expect(ext4Err(() => new Ext4Fs(new MemorySource(b)).inode(Number(vfs.lstat('/hello.txt').ino))).code).toBe('ECORRUPT');
  });
  test('symlink longer than MAX_SYMLINK_LENGTH', () => {
    const b = copy();
    le32(b, inodeOff('/links/slow-rel') + 4, 1 << 30);
    const v = new Ext4Vfs(new MemorySource(b));
    expect(vfsErr(() => v.readlink('/links/slow-rel')).code).toBe('ELIMIT');
  });
  test('xattr entries running past the block, bad xattr block magic', () => {
    const b = copy();
    const acl = Number(fsys.inode(Number(vfs.lstat('/xattr.txt').ino)).i_file_acl) * fsys.blockSize;
    b[acl + 32] = 250; // e_name_len of the first entry
    le16(b, acl + 32 + 2, 0xfff0); // e_value_offs
    const v = new Ext4Vfs(new MemorySource(b));
    expect(vfsErr(() => v.xattrs('/xattr.txt')).code).toBe('EIO');
    const c = copy();
    le32(c, acl, 0x12345678);
    expect(vfsErr(() => new Ext4Vfs(new MemorySource(c)).xattrs('/xattr.txt')).message).toMatch(/h_magic 0x12345678, expected 0xea020000/);
  });
});

describe('extent trees', () => {
  const fileIno = () => Number(vfs.lstat('/data/random.bin').ino);
  test('an extent pointing past the end of the file system is ERANGE', () => {
    const b = copy();
    le16(b, inodeOff('/data/random.bin') + 0x28 + 12 + 6, 0xffff); // ee_start_hi of the first leaf
    const v = new Ext4Vfs(new MemorySource(b));
    const e = vfsErr(() => v.open('/data/random.bin'));
    expect(e.message).toMatch(/outside the file system/);
    expect(ext4Err(() => v.fs.extents(fileIno())).code).toBe('ERANGE');
  });
  test('bad magic, entries above eh_max, depth above MAX_EXTENT_DEPTH', () => {
    const root = inodeOff('/data/random.bin') + 0x28;
    let b = copy();
    le16(b, root, 0x1234);
    expect(ext4Err(() => new Ext4Fs(new MemorySource(b)).extents(fileIno())).message).toMatch(/magic 0x1234, expected 0xf30a/);
    b = copy();
    le16(b, root + 2, 5); // eh_entries > eh_max (4)
    expect(ext4Err(() => new Ext4Fs(new MemorySource(b)).extents(fileIno())).code).toBe('ECORRUPT');
    b = copy();
    le16(b, root + 6, 9); // eh_depth
    expect(ext4Err(() => new Ext4Fs(new MemorySource(b)).extents(fileIno())).code).toBe('ELIMIT');
  });
  test('an index node referenced twice (loop) is ELOOP; a self-referencing node fails the depth check', () => {
    const root = inodeOff('/data/random.bin') + 0x28;
    const x = freeBlock();
    const bs = fsys.blockSize;
    // root: depth 1, two index entries, both -> block x; block x: an empty leaf (depth 0)
    let b = copy();
    le16(b, root + 2, 2);
    le16(b, root + 6, 1);
    for (const i of [0, 1]) {
      le32(b, root + 12 + i * 12, i * 10); // ei_block
      le32(b, root + 12 + i * 12 + 4, x); // ei_leaf_lo
      le16(b, root + 12 + i * 12 + 8, 0);
    }
    le16(b, x * bs, 0xf30a);
    le16(b, x * bs + 2, 0);
    le16(b, x * bs + 4, (bs - 12) / 12);
    le16(b, x * bs + 6, 0);
    expect(ext4Err(() => new Ext4Fs(new MemorySource(b)).extents(fileIno())).code).toBe('ELOOP');
    // root depth 2 -> x (depth 1) -> x again
    b = copy();
    le16(b, root + 2, 1);
    le16(b, root + 6, 2);
    le32(b, root + 12 + 4, x);
    le16(b, root + 12 + 8, 0);
    le16(b, x * bs, 0xf30a);
    le16(b, x * bs + 2, 1);
    le16(b, x * bs + 4, (bs - 12) / 12);
    le16(b, x * bs + 6, 1);
    le32(b, x * bs + 12 + 4, x);
    le16(b, x * bs + 12 + 8, 0);
    const e = ext4Err(() => new Ext4Fs(new MemorySource(b)).extents(fileIno()));
    expect(['ELOOP', 'ECORRUPT']).toContain(e.code);
  });
  test('a truncated image reports ETRUNCATED for data past its end, not garbage', () => {
    const cut = firstBlockOf('/data/random.bin') + 100;
    const v = new Ext4Vfs(new MemorySource(pristine.slice(0, cut)));
    const f = v.open('/data/random.bin');
    expect(vfsErr(() => f.read(new Uint8Array(4096), 0, 4096, 0)).code).toBe('EIO');
  });
});
