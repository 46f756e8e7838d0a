// The reader's caches (inode-table chunks, group descriptors, parsed directory inodes, the VFS's resolved-directory
// paths) must never change an answer: everything read through a warm, evicting cache equals what a cold read gives.
import * as path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import * as fs from 'node:fs';
import { MemorySource, readBytes } from '../../../src/io/byte-source.js';
import { RawFileSource } from '../../../src/io/raw.js';
import { Ext4Error } from '../../../src/fs/ext4/errors.js';
import { Ext4Fs, INODE_TABLE_CACHE_BYTES, INODE_TABLE_CHUNK_BYTES } from '../../../src/fs/ext4/ext4.js';
import { type Ext4Inode, parseInode } from '../../../src/fs/ext4/structs.js';
import { Ext4Vfs } from '../../../src/fs/ext4/vfs.js';
import { VfsError } from '../../../src/fs/vfs.js';
import { diskImages } from '../../fixtures-scripts/images.js';
import { walk } from './walk.js';

let dir: string;
beforeAll(() => {
  dir = diskImages();
});

/** A deterministic shuffle (xorshift32), so that reads jump between groups and chunks. */
function shuffled(n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i + 1);
  let x = 0x9e3779b9;
  for (let i = a.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function snap(inode: Ext4Inode): string {
  const { i_mode, i_uid, i_gid, i_size, i_links_count, i_flags, i_atime, i_mtime, i_ctime, i_dtime, i_crtime } = inode;
  return JSON.stringify({
    i_mode, i_uid, i_gid, i_links_count, i_flags, i_atime, i_mtime, i_ctime, i_dtime, i_crtime,
    i_size: String(i_size), i_blocks: String(inode.i_blocks), i_file_acl: String(inode.i_file_acl),
    extra: [inode.i_ctime_extra, inode.i_mtime_extra, inode.i_atime_extra, inode.i_crtime_extra, inode.i_projid, inode.i_extra_isize],
    i_block: Buffer.from(inode.i_block).toString('hex'),
    extraSpace: Buffer.from(inode.extraSpace).toString('hex'),
  });
}

const outcome = (fn: () => string): string => {
  try {
    return fn();
  } catch (err) {
    if (err instanceof Ext4Error || err instanceof VfsError) return `error ${err.code}`;
    throw err;
  }
};

describe('inode-table cache', () => {
  for (const img of ['ext4-main.img', 'ext2.img', 'ext3.img', 'ext4-metabg.img', 'ext4-inline.img']) {
    test(`${img}: every inode, in shuffled order, through a full and a one-chunk cache equals a direct read`, () => {
      const src = new RawFileSource(path.join(dir, img));
      try {
        const big = new Ext4Fs(src);
        const tiny = new Ext4Fs(src, { inodeTableCacheBytes: 1 });
        const isz = big.geometry.inodeSize;
        const direct = (ino: number) => {
          const b = readBytes(src, big.inodeOffset(ino), isz);
          return snap(parseInode(b, 0, isz));
        };
        const order = shuffled(big.sb.s_inodes_count);
        for (const ino of [...order, ...order.slice(0, 500)]) {
          const want = outcome(() => direct(ino));
          expect(outcome(() => snap(big.inode(ino))), `${img} inode ${ino}`).toBe(want);
          expect(outcome(() => snap(tiny.inode(ino))), `${img} inode ${ino} (one-chunk cache)`).toBe(want);
        }
        expect(tiny.cacheStats().inodeTableChunks).toBe(1);
        expect(tiny.cacheStats().inodeTableBytes).toBeLessThanOrEqual(Math.max(INODE_TABLE_CHUNK_BYTES, big.blockSize));
        expect(big.cacheStats().inodeTableBytes).toBeLessThanOrEqual(INODE_TABLE_CACHE_BYTES);
      } finally {
        src.close();
      }
    });
  }

  test('a held inode keeps its own bytes after its chunk is evicted and others are parsed', () => {
    const src = new RawFileSource(path.join(dir, 'ext4-main.img'));
    try {
      const fsys = new Ext4Fs(src, { inodeTableCacheBytes: 1 });
      const held = [2, 11, 12].map((ino) => [ino, fsys.inode(ino), snap(fsys.inode(ino))] as const);
      for (const ino of shuffled(fsys.sb.s_inodes_count)) fsys.inode(ino);
      for (const [ino, inode, before] of held) expect(snap(inode), `inode ${ino}`).toBe(before);
    } finally {
      src.close();
    }
  });
});

describe('directory-path cache of Ext4Vfs', () => {
  test('warm lookups (any order, symlinks to directories, "..", trailing "/") equal cold ones', () => {
    const src = new RawFileSource(path.join(dir, 'ext4-main.img'));
    try {
      const all = [...walk(new Ext4Vfs(src)).keys()];
      const base = all.filter((p) => !p.startsWith('/many/') || p.endsWith('0'));
      const probes = [
        '/', '', '.', '..', '/.', '//', '/links/', '/links/.', '/links/..', 'links/self-dir', 'links//self-dir/',
        '/links/self-dir/..', '/links/self-dir/self-dir', '/links/self-dir/self-dir/fast-rel', '/links/slow-abs-dir/..',
        '/links/slow-abs-dir/www', '/links/slow-abs-dir/www/..', '/links/dangling/x', '/hello.txt/', '/hello.txt/..',
        '/nope', '/nope/x', '/etc/../links/self-dir/abs-shadow',
      ];
      for (const p of base) probes.push(p, `${p}/`, `${p}/.`, `${p}/..`, `${p}/x`);
      const ops = (v: Ext4Vfs, p: string) => [
        outcome(() => {
          const s = v.lstat(p);
          return `${s.type}:${s.ino}`;
        }),
        outcome(() => {
          const s = v.stat(p);
          return `${s.type}:${s.ino}`;
        }),
        outcome(() => v.realpath(p)),
        outcome(() => v.readdir(p).length.toString()),
      ];
      const cold = new Map(probes.map((p) => [p, ops(new Ext4Vfs(src), p)]));
      const warm = new Ext4Vfs(src);
      for (const order of [probes, [...probes].reverse(), probes]) {
        for (const p of order) expect(ops(warm, p), JSON.stringify(p)).toEqual(cold.get(p));
      }
      // a symlink to a directory: stat'ed (cached as a directory) first, lstat must still see the link
      const v = new Ext4Vfs(src);
      expect(v.stat('/links/self-dir').type).toBe('dir');
      expect(v.readdir('/links/self-dir').length).toBeGreaterThan(0);
      expect(v.lstat('/links/self-dir').type).toBe('symlink');
      expect(v.realpath('/links/self-dir/self-dir/..')).toBe('/');
    } finally {
      src.close();
    }
  });
});

describe('directory listings keep their raw names', () => {
  test('nameBytes equal the names, also after a mostly emptied directory is compacted', () => {
    const img = path.join(dir, 'ext4-main.img');
    const bytes = new Uint8Array(fs.readFileSync(img));
    const fsys = new Ext4Fs(new MemorySource(bytes));
    const vfs = new Ext4Vfs(new MemorySource(bytes));
    const check = (f: Ext4Fs, ino: number) => {
      const list = f.readdir(ino);
      for (const e of list) expect(new TextDecoder().decode(e.nameBytes), e.name).toBe(e.name);
      return list;
    };
    for (const [p, st] of walk(vfs)) if (st.type === 'dir') check(fsys, Number(st.ino));
    // Free every entry of /many but the first three of each block (inode 0 = unused): a sparse directory.
    const many = Number(vfs.lstat('/many').ino);
    const bs = fsys.blockSize;
    const copy = bytes.slice();
    for (const ext of fsys.extents(many)) {
      for (let b = 0; b < ext.ee_len; b++) {
        const base = Number(ext.ee_start + BigInt(b)) * bs;
        const v = new DataView(copy.buffer, base, bs);
        let p = 0;
        for (let n = 0; p < bs; n++) {
          const recLen = v.getUint16(p + 4, true);
          if (recLen < 8) break;
          if (n >= 3 && v.getUint8(p + 7) !== 0xde) v.setUint32(p, 0, true);
          p += recLen;
        }
      }
    }
    const sparse = check(new Ext4Fs(new MemorySource(copy)), many).filter((e) => e.name.startsWith('f'));
    expect(sparse.length).toBeGreaterThan(10);
    expect(sparse.length).toBeLessThan(3000);
    const full = new Set(fsys.readdir(many).map((e) => e.name));
    for (const e of sparse) expect(full.has(e.name), e.name).toBe(true);
  });
});
