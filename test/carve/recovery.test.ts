// The ext4 recovery helpers from literal bytes: deleted entries in directory-block slack, the free-block map.
import { describe, expect, it } from 'vitest';
import { FreeBlockMap, scanDirBlockWithSlack } from '../../src/fs/ext4/recovery.js';

function entry(b: Buffer, at: number, ino: number, recLen: number, name: string, type = 1): void {
  b.writeUInt32LE(ino, at);
  b.writeUInt16LE(recLen, at + 4);
  b[at + 6] = name.length;
  b[at + 7] = type;
  b.write(name, at + 8, 'latin1');
}

describe('scanDirBlockWithSlack', () => {
  it('lists live entries and the deleted ones an unlink merged into the previous entry', () => {
    const b = Buffer.alloc(4096);
    entry(b, 0, 2, 12, '.', 2);
    // ".." grew over the deleted "x-json.log" (the kernel adds the deleted entry's rec_len to the previous one)
    entry(b, 12, 2, 12 + 24, '..', 2);
    entry(b, 24, 31, 24, 'x-json.log');
    entry(b, 48, 40, 4096 - 48, 'hostname');
    const seen: Array<[number, string]> = [];
    scanDirBlockWithSlack(b, 1000, (ino, name) => seen.push([ino, name]));
    expect(seen).toEqual([[2, '.'], [2, '..'], [31, 'x-json.log'], [40, 'hostname']]);
  });

  it('ignores slack bytes that do not look like an entry, and a corrupt chain', () => {
    const b = Buffer.alloc(1024);
    entry(b, 0, 2, 1024, '.', 2);
    b.writeUInt32LE(999_999, 16); // inode beyond s_inodes_count
    b.writeUInt16LE(12, 20);
    b[22] = 3;
    b.write('a/b', 24, 'latin1');
    const seen: string[] = [];
    scanDirBlockWithSlack(b, 1000, (_i, n) => seen.push(n));
    expect(seen).toEqual(['.']);
    const bad = Buffer.alloc(64);
    bad.writeUInt16LE(3, 4); // rec_len < 12
    scanDirBlockWithSlack(bad, 1000, () => {
      throw new Error('no entry expected');
    });
  });
});

describe('FreeBlockMap', () => {
  it('answers membership and whole-run questions', () => {
    const m = new FreeBlockMap([
      { start: 10n, count: 5n, uninit: false },
      { start: 100n, count: 1n, uninit: false },
    ]);
    expect(m.isFree(9)).toBe(false);
    expect(m.isFree(10)).toBe(true);
    expect(m.isFree(14n)).toBe(true);
    expect(m.isFree(15)).toBe(false);
    expect(m.allFree(11, 4)).toBe(true);
    expect(m.allFree(11, 5)).toBe(false);
    expect(m.allFree(100, 1)).toBe(true);
  });
});
