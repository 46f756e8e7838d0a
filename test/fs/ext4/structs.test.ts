// Parsers tested from literal byte arrays, each with a corrupted copy (STYLE.md habit 4).
import { describe, expect, test } from 'vitest';
import { Ext4Error } from '../../../src/fs/ext4/errors.js';
import {
  EXT4_FT_DIR_CSUM,
  decodeRdev,
  decodeTime,
  parseDirBlock,
  parseExtentNode,
  parseGroupDesc,
  parseInode,
  parseSuperBlock,
  parseXattrEntries,
  validateSuperBlock,
} from '../../../src/fs/ext4/structs.js';

const NS = 1_000_000_000n;

function superblock(over: Record<number, [number, number]> = {}): Uint8Array {
  const b = new Uint8Array(1024);
  const v = new DataView(b.buffer);
  const fields: Record<number, [number, number]> = {
    0x00: [4, 8192], // s_inodes_count
    0x04: [4, 32768], // s_blocks_count_lo
    0x14: [4, 0], // s_first_data_block
    0x18: [4, 2], // s_log_block_size: 4096
    0x20: [4, 32768], // s_blocks_per_group
    0x28: [4, 8192], // s_inodes_per_group
    0x38: [2, 0xef53], // s_magic
    0x4c: [4, 1], // s_rev_level
    0x54: [4, 11], // s_first_ino
    0x58: [2, 256], // s_inode_size
    0x60: [4, 0x2c2], // incompat: filetype|extents|64bit|flex_bg
    0xfe: [2, 64], // s_desc_size
    ...over,
  };
  for (const [off, [w, val]] of Object.entries(fields)) {
    if (w === 4) v.setUint32(Number(off), val, true);
    else v.setUint16(Number(off), val, true);
  }
  return b;
}

describe('superblock', () => {
  test('literal bytes', () => {
    const sb = parseSuperBlock(superblock());
    expect([sb.s_magic, sb.s_inodes_count, sb.s_inode_size, sb.s_desc_size]).toEqual([0xef53, 8192, 256, 64]);
    expect(validateSuperBlock(sb)).toMatchObject({ blockSize: 4096, groupCount: 1, is64: true, descSize: 64, inodeSize: 256 });
  });
  test('corrupted copies', () => {
    const err = (o: Record<number, [number, number]>) => {
      try {
        validateSuperBlock(parseSuperBlock(superblock(o)));
      } catch (e) {
        return (e as Ext4Error).message;
      }
      return 'ok';
    };
    expect(err({ 0x38: [2, 0x1234] })).toMatch(/s_magic 0x1234, expected 0xef53 at byte 1080/);
    expect(err({ 0xfe: [2, 48] })).toMatch(/s_desc_size 48/);
    expect(err({ 0x14: [4, 1] })).toMatch(/s_first_data_block 1, expected 0/);
    expect(err({ 0x60: [4, 0x1] })).toMatch(/compression/);
    expect(() => parseSuperBlock(new Uint8Array(100))).toThrow(Ext4Error);
  });
});

test('group descriptor: 32-byte and 64-byte forms', () => {
  const b = new Uint8Array(64);
  const v = new DataView(b.buffer);
  v.setUint32(0x08, 0x1234, true);
  v.setUint32(0x28, 0x2, true);
  v.setUint16(0x12, 0x4, true);
  expect(parseGroupDesc(b, 0, 32).bg_inode_table).toBe(0x1234n);
  expect(parseGroupDesc(b, 0, 64).bg_inode_table).toBe((2n << 32n) | 0x1234n);
  expect(parseGroupDesc(b, 0, 64).bg_flags).toBe(4);
  expect(() => parseGroupDesc(b, 40, 64)).toThrow(/need 64 bytes/);
});

test('timestamps: epoch bits and nanoseconds (inodes.rst table)', () => {
  expect(decodeTime(-1, 0)).toBe(-1n * NS); // 1969-12-31T23:59:59
  expect(decodeTime(-0x80000000, 0)).toBe(-0x80000000n * NS); // 1901-12-13
  expect(decodeTime(-0x80000000, 1)).toBe(0x80000000n * NS); // 2038-01-19T03:14:08
  expect(decodeTime(0x7fffffff, 3)).toBe((0x7fffffffn + 3n * 2n ** 32n) * NS); // 2446-05-10
  expect(decodeTime(0, 999_999_999 << 2)).toBe(999_999_999n);
  expect(decodeTime(100, undefined)).toBe(100n * NS);
  expect(decodeTime(0, 0xffffffff)).toBe(3n * 2n ** 32n * NS + 999_999_999n); // impossible ns clamped
});

test('device numbers: old and new encodings', () => {
  const ib = new Uint8Array(60);
  const v = new DataView(ib.buffer);
  expect(decodeRdev(ib)).toEqual({ major: 0, minor: 0 }); // overlay whiteout
  v.setUint32(0, (1 << 8) | 3, true);
  expect(decodeRdev(ib)).toEqual({ major: 1, minor: 3 });
  v.setUint32(0, 0, true);
  v.setUint32(4, (70000 & 0xff) | (300 << 8) | ((70000 & ~0xff) << 12), true);
  expect(decodeRdev(ib)).toEqual({ major: 300, minor: 70000 });
});

test('inode: uid/gid high bits, extra fields only when i_extra_isize covers them', () => {
  const b = new Uint8Array(256);
  const v = new DataView(b.buffer);
  v.setUint16(0, 0o100644, true);
  v.setUint16(2, 100000 & 0xffff, true);
  v.setUint16(0x78, 100000 >>> 16, true);
  v.setUint16(0x80, 24, true); // covers up to 0x98: crtime_extra included
  v.setInt32(0x90, -5, true);
  const ino = parseInode(b, 0, 256);
  expect([ino.i_uid, ino.i_crtime, ino.i_crtime_extra, ino.i_projid]).toEqual([100000, -5, 0, undefined]);
  v.setUint16(0x80, 16, true); // up to 0x90: no crtime
  expect(parseInode(b, 0, 256).i_crtime).toBeUndefined();
  v.setUint16(0x80, 130, true);
  expect(() => parseInode(b, 0, 256)).toThrow(/i_extra_isize 130/);
  expect(parseInode(b.subarray(0, 128), 0, 128).i_mtime_extra).toBeUndefined();
});

test('extent node: leaves, unwritten extents, bad headers', () => {
  const b = new Uint8Array(60);
  const v = new DataView(b.buffer);
  v.setUint16(0, 0xf30a, true);
  v.setUint16(2, 2, true);
  v.setUint16(4, 4, true);
  v.setUint32(12, 0, true);
  v.setUint16(16, 8, true);
  v.setUint32(20, 1000, true);
  v.setUint32(24, 8, true);
  v.setUint16(28, 32768 + 5, true); // unwritten, 5 blocks
  v.setUint16(30, 1, true); // start_hi
  v.setUint32(32, 7, true);
  const n = parseExtentNode(b, 0, 60, 't');
  expect(n.leaves).toEqual([
    { ee_block: 0, ee_len: 8, uninit: false, ee_start: 1000n },
    { ee_block: 8, ee_len: 5, uninit: true, ee_start: (1n << 32n) + 7n },
  ]);
  v.setUint16(4, 5, true); // eh_max 5 cannot fit in 60 bytes
  expect(() => parseExtentNode(b, 0, 60, 't')).toThrow(/at most 4 fit/);
});

describe('directory block', () => {
  const block = () => {
    const b = new Uint8Array(64);
    const v = new DataView(b.buffer);
    v.setUint32(0, 12, true);
    v.setUint16(4, 16, true);
    b[6] = 5;
    b[7] = 1;
    b.set(new TextEncoder().encode('hello'), 8);
    v.setUint32(16, 0, true); // deleted entry
    v.setUint16(20, 36, true);
    v.setUint32(52, 0, true); // csum tail
    v.setUint16(56, 12, true);
    b[59] = EXT4_FT_DIR_CSUM;
    return b;
  };
  test('live entries only; checksum tail skipped', () => {
    const out: string[] = [];
    parseDirBlock(block(), 0, 64, 4096, true, 't', (e) => out.push(`${e.inode}:${new TextDecoder().decode(e.name)}:${e.file_type}`));
    expect(out).toEqual(['12:hello:1']);
  });
  test('rec_len 0, unaligned, too long; name_len too long', () => {
    for (const [off, val] of [
      [4, 0],
      [4, 13],
      [4, 200],
      [20, 0],
    ] as const) {
      const b = block();
      new DataView(b.buffer).setUint16(off, val, true);
      expect(() => parseDirBlock(b, 0, 64, 4096, true, 't', () => {})).toThrow(/rec_len/);
    }
    const b = block();
    b[6] = 20;
    expect(() => parseDirBlock(b, 0, 64, 4096, true, 't', () => {})).toThrow(/name_len 20/);
  });
});

test('xattr entries: prefixes, terminator, limits', () => {
  const b = new Uint8Array(64);
  const v = new DataView(b.buffer);
  b[0] = 3; // e_name_len
  b[1] = 1; // user.
  v.setUint16(2, 40, true);
  v.setUint32(8, 2, true);
  b.set(new TextEncoder().encode('foo'), 16);
  b[20] = 0; // posix acl access: empty name
  b[21] = 2;
  const e = parseXattrEntries(b, 0, 64, 10, 't');
  expect(e.map((x) => x.name)).toEqual(['user.foo', 'system.posix_acl_access']);
  expect(() => parseXattrEntries(b, 0, 64, 1, 't')).toThrow(/MAX_XATTR_COUNT/);
  b[0] = 60;
  expect(() => parseXattrEntries(b, 0, 64, 10, 't')).toThrow(/runs past/);
});
