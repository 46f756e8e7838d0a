// Header and pax parsing from literal bytes (STYLE.md habit 4), and the in-memory tree rules (duplicates, implicit
// parents, hard links, names climbing above the root), on archives crafted byte by byte.
import { describe, expect, it } from 'vitest';
import { indexTar } from '../../../src/fs/tar/archive.js';
import {
  parseHeader,
  parseNumeric,
  parsePax,
  parsePaxTime,
  verifyChecksum,
} from '../../../src/fs/tar/parse.js';
import { buildTree } from '../../../src/fs/tar/tree.js';
import { TarVfs } from '../../../src/fs/tar/vfs.js';
import { craftTar, header, memReader, paxData } from './craft.js';

const F = { offset: 0, length: 12 };
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('numeric fields', () => {
  it('octal with NUL/space padding, leading spaces, empty = 0', () => {
    expect(parseNumeric(bytes('00000000017\0'), F, 'size')).toBe(15n);
    expect(parseNumeric(bytes('     17 \0\0\0\0'), F, 'size')).toBe(15n);
    expect(parseNumeric(new Uint8Array(12), F, 'size')).toBe(0n);
    expect(parseNumeric(bytes('77777777777 '), F, 'size')).toBe(8589934591n);
  });
  it('GNU base-256, positive and negative', () => {
    const b = new Uint8Array(12);
    b[0] = 0x80;
    b[11] = 0x01;
    b[10] = 0x02;
    expect(parseNumeric(b, F, 'size')).toBe(0x0201n);
    const n = new Uint8Array(12).fill(0xff);
    expect(parseNumeric(n, F, 'mtime')).toBe(-1n);
  });
  it('rejects non-octal bytes, naming the field', () => {
    expect(() => parseNumeric(bytes('0000000008\0\0'), F, 'size')).toThrow(/size field is not octal/);
    expect(() => parseNumeric(bytes('12 34\0\0\0\0\0\0\0'), F, 'uid')).toThrow(/uid/);
    expect(() => parseNumeric(bytes('-1\0\0\0\0\0\0\0\0\0\0'), F, 'mtime')).toThrow(/not octal/);
  });
});

describe('header block', () => {
  it('checksum: valid, corrupted, non-octal', () => {
    const h = header({ name: 'a', data: 'x' }, 1);
    expect(verifyChecksum(h).ok).toBe(true);
    const bad = h.slice();
    bad[0] = 0x62;
    expect(verifyChecksum(bad).ok).toBe(false);
    const junk = h.slice();
    junk[148] = 0x41;
    expect(verifyChecksum(junk)).toMatchObject({ ok: false, stored: -1n });
  });
  it('ustar prefix joined, GNU magic recognised', () => {
    const h = header({ name: 'file', magic: 'ustar' }, 0);
    h.set(bytes('some/prefix'), 345);
    expect(parseHeader(h).name).toBe('some/prefix/file');
    const g = header({ name: 'file', magic: 'gnu' }, 0);
    expect(parseHeader(g).format).toBe('gnu');
  });
});

describe('pax records', () => {
  it('parses records, binary values and later duplicates', () => {
    const r = parsePax(paxData([['path', 'a/b'], ['SCHILY.xattr.user.x', 'v\u0001'], ['path', 'c']]));
    expect(r.error).toBeUndefined();
    expect(new TextDecoder().decode(r.records.get('path'))).toBe('c');
    expect([...r.records.get('SCHILY.xattr.user.x')!]).toEqual([0x76, 0x01]);
  });
  it('length overflow, non-decimal length, missing newline: stop with an error, earlier records kept', () => {
    const good = paxData([['uid', '5']]);
    const over = new Uint8Array([...good, ...bytes('99999999 path=x\n')]);
    const r = parsePax(over);
    expect(r.records.get('uid')).toBeDefined();
    expect(r.error).toMatch(/exceeds/);
    expect(parsePax(bytes('1x path=y\n')).error).toMatch(/decimal/);
    expect(parsePax(bytes('12 path=abcX')).error).toMatch(/newline/);
    expect(parsePax(bytes('123456789012 path=x\n')).error).toBeDefined();
  });
  it('times: fractional seconds to ns, negative, junk refused', () => {
    expect(parsePaxTime('1795713563.105522178', 'mtime')).toBe(1795713563105522178n);
    expect(parsePaxTime('1.5', 'mtime')).toBe(1_500_000_000n);
    expect(parsePaxTime('7', 'mtime')).toBe(7_000_000_000n);
    expect(parsePaxTime('1.1234567899999', 'mtime')).toBe(1_123456789n);
    expect(parsePaxTime('-1.5', 'mtime')).toBe(-1_500_000_000n);
    expect(() => parsePaxTime('1e9', 'mtime')).toThrow(/not a time/);
  });
});

function vfsOf(data: Uint8Array): { vfs: TarVfs; problems: string[] } {
  const index = indexTar(memReader(data));
  const tree = buildTree(index.members, data.length);
  const vfs = new TarVfs({ root: tree.root, rootInArchive: '/', fd: -1, location: 'mem', index, compressed: false });
  return { vfs, problems: [...index.problems, ...tree.problems].map((p) => p.reason) };
}

describe('tree rules', () => {
  it('later duplicates win with a problem; implicit parents; hard links share the inode', () => {
    const { vfs, problems } = vfsOf(
      craftTar([
        { name: 'a/b/c.txt', data: 'first' },
        { name: 'a/b/c.txt', data: 'second!', uid: 7 },
        { name: 'a/link', type: '1', linkname: 'a/b/c.txt' },
        { name: 'a/', type: '5', mode: 0o700, uid: 3 },
      ]),
    );
    expect(vfs.lstat('/a/b/c.txt')).toMatchObject({ uid: 7, size: 7n, nlink: 2 });
    expect(vfs.lstat('/a/link').ino).toBe(vfs.lstat('/a/b/c.txt').ino);
    expect(vfs.lstat('/a/b')).toMatchObject({ type: 'dir', mode: 0o40755 });
    // the late explicit entry of an implicit dir gives it its metadata without a duplicate problem
    expect(vfs.lstat('/a')).toMatchObject({ mode: 0o40700, uid: 3 });
    expect(problems.filter((p) => p.includes('appears again'))).toHaveLength(1);
  });
  it('names with .. and absolute names stay inside the root', () => {
    const { vfs, problems } = vfsOf(
      craftTar([
        { name: '../../../etc/passwd', data: 'x' },
        { name: '/abs/file', data: 'y' },
        { name: 'a/../../b', data: 'z' },
      ]),
    );
    expect(vfs.readdir('/').map((e) => e.name)).toEqual(['abs', 'b', 'etc']);
    expect(problems.some((p) => p.includes("climbs above the archive root"))).toBe(true);
  });
  it('hard link to a missing member or a directory: an empty file and a problem', () => {
    const { vfs, problems } = vfsOf(
      craftTar([
        { name: 'd', type: '5' },
        { name: 'h1', type: '1', linkname: 'nowhere' },
        { name: 'h2', type: '1', linkname: 'd' },
      ]),
    );
    expect(vfs.lstat('/h1')).toMatchObject({ type: 'file', size: 0n });
    expect(vfs.lstat('/h2')).toMatchObject({ type: 'file', size: 0n });
    expect(problems.filter((p) => p.includes('hard link'))).toHaveLength(2);
  });
  it('a file replacing a directory hides its entries, with a problem; a member under a file replaces it', () => {
    const { vfs, problems } = vfsOf(
      craftTar([
        { name: 'x/y', data: '1' },
        { name: 'x', data: 'now a file' },
        { name: 'f', data: 'file' },
        { name: 'f/g', data: 'under' },
      ]),
    );
    expect(vfs.lstat('/x').type).toBe('file');
    expect(vfs.lstat('/f').type).toBe('dir');
    expect(problems.some((p) => p.includes('entries are hidden'))).toBe(true);
    expect(problems.some((p) => p.includes('needs it to be a directory'))).toBe(true);
  });
  it('old-style directory (regular entry with trailing slash), fifo, devices, unknown type', () => {
    const { vfs, problems } = vfsOf(
      craftTar([
        { name: 'olddir/', type: '0', magic: 'v7' },
        { name: 'p', type: '6' },
        { name: 'wh', type: '3', devmajor: 0, devminor: 0 },
        { name: 'sd', type: '4', devmajor: 8, devminor: 17 },
        { name: 'weird', type: 'Z', data: 'zz' },
      ]),
    );
    expect(vfs.lstat('/olddir').type).toBe('dir');
    expect(vfs.lstat('/p')).toMatchObject({ type: 'fifo', mode: 0o10644 });
    expect(vfs.lstat('/wh')).toMatchObject({ type: 'char', rdevMajor: 0, rdevMinor: 0, mode: 0o20644 });
    expect(vfs.lstat('/sd')).toMatchObject({ type: 'block', rdevMajor: 8, rdevMinor: 17 });
    expect(vfs.lstat('/weird')).toMatchObject({ type: 'file', size: 2n });
    expect(problems.some((p) => p.includes("unknown member type 'Z'"))).toBe(true);
  });
  it('pax and global pax headers: path, linkpath, size, ids, times, xattrs; an x record with empty value undoes a global', () => {
    const { vfs } = vfsOf(
      craftTar([
        { name: 'g', type: 'g', data: paxData([['uid', '99'], ['mtime', '100.25']]) },
        { name: 'x', type: 'x', data: paxData([['path', 'long/' + 'n'.repeat(300)], ['atime', '5.000000001'], ['LIBARCHIVE.xattr.user.%41b', Buffer.from('val').toString('base64')]]) },
        { name: 'short', data: 'abc' },
        { name: 'x', type: 'x', data: paxData([['uid', ''], ['linkpath', '/t/' + 'l'.repeat(200)]]) },
        { name: 'sym', type: '2', uid: 4, linkname: 'ignored' },
      ]),
    );
    const st = vfs.lstat('/long/' + 'n'.repeat(300));
    expect(st).toMatchObject({ uid: 99, mtime: 100_250_000_000n, atime: 5_000_000_001n });
    expect(new TextDecoder().decode(vfs.xattrs('/long/' + 'n'.repeat(300)).get('user.Ab'))).toBe('val');
    expect(vfs.readlink('/sym')).toBe('/t/' + 'l'.repeat(200));
    expect(vfs.lstat('/sym').uid).toBe(4);
  });
});
