import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ByteSourceError, MemorySource, SliceSource, readBytes } from '../../src/io/byte-source.js';
import { IMAGE_OPENERS, RawFileSource, SplitRawSource, openImage, splitSegmentNames } from '../../src/io/raw.js';
import { diskImages, readAt, sha256File } from '../fixtures-scripts/images.js';

const mem = new MemorySource(Uint8Array.from({ length: 100 }, (_, i) => i));

describe('bounds', () => {
  test('reads past the end are short, never garbage or exceptions', () => {
    const b = new Uint8Array(10).fill(0xee);
    expect(mem.read(b, 0, 10, 95)).toBe(5);
    expect([...b.subarray(0, 6)]).toEqual([95, 96, 97, 98, 99, 0xee]);
    expect(mem.read(b, 0, 10, 100)).toBe(0);
    expect(mem.read(b, 0, 10, 10n ** 15n)).toBe(0);
    expect(mem.read(b, 8, 10, 0)).toBe(2); // never past the buffer
  });
  test('bad arguments are EINVAL', () => {
    expect(() => mem.read(new Uint8Array(4), 0, 4, -1)).toThrow(ByteSourceError);
    expect(() => mem.read(new Uint8Array(4), 5, 1, 0)).toThrow(/buffer offset/);
    expect(() => mem.read(new Uint8Array(4), 0, -2, 0)).toThrow(/length/);
  });
  test('slices are windows, clamped to the parent', () => {
    const s = new SliceSource(mem, 90n, 50n, 'p1');
    expect(s.size).toBe(10n);
    expect([...readBytes(s, 8, 5)]).toEqual([98, 99]);
    const t = new SliceSource(mem, 200n, 10n);
    expect(t.size).toBe(0n);
    expect(readBytes(t, 0, 4).length).toBe(0);
    expect(new SliceSource(s, 2n, 3n).description).toMatch(/p1/);
  });
});

describe('raw and split images', () => {
  const dir = diskImages();
  const main = path.join(dir, 'ext4-main.img');
  test('split naming', () => {
    expect(splitSegmentNames('/x/disk.000')!(2)).toBe('/x/disk.002');
    expect(splitSegmentNames('/x/disk.001')!(0)).toBe('/x/disk.001');
    expect(splitSegmentNames('/x/disk.002')).toBeUndefined();
    expect(splitSegmentNames('/x/diskaa')!(27)).toBe('/x/diskbb');
    expect(splitSegmentNames('/x/disk.img')).toBeUndefined();
  });
  test('split sets read exactly like the raw image, across segment boundaries', () => {
    const raw = new RawFileSource(main);
    for (const first of ['split-num/disk.000', 'split-alpha/disk.aa']) {
      const s = openImage(path.join(dir, first));
      expect(s).toBeInstanceOf(SplitRawSource);
      expect(s.size).toBe(raw.size);
      for (const pos of [0, 7 * 1024 * 1024 - 3, 10 * 1024 * 1024 - 5, Number(raw.size) - 7]) {
        expect(Buffer.from(readBytes(s, pos, 4096)).equals(Buffer.from(readBytes(raw, pos, 4096))), `${first} @${pos}`).toBe(true);
      }
      s.close();
      expect(() => s.read(new Uint8Array(1), 0, 1, 0)).toThrow(/after close/);
    }
    raw.close();
  });
  test('a lone .001 file is a plain raw image; exactly one opener claims each path', () => {
    const lone = path.join(dir, 'split-num', 'lone.001');
    fs.copyFileSync(path.join(dir, 'split-num', 'disk.003'), lone);
    try {
      expect(openImage(lone)).toBeInstanceOf(RawFileSource);
      for (const p of [lone, main, path.join(dir, 'split-num/disk.000')]) expect(IMAGE_OPENERS.filter((o) => o.probe(p)).length).toBe(1);
    } finally {
      fs.rmSync(lone);
    }
    expect(() => openImage(path.join(dir, 'nope.img'))).toThrow(/no such file/);
  });
  test('raw images are opened read-only and stay unchanged', () => {
    const before = sha256File(main);
    const s = new RawFileSource(main);
    const fdFlags = fs
      .readdirSync('/proc/self/fd')
      .map((fd) => {
        try {
          return [fs.readlinkSync(`/proc/self/fd/${fd}`), fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')] as const;
        } catch {
          return undefined;
        }
      })
      .filter((x) => x && x[0] === main);
    expect(fdFlags.length).toBeGreaterThan(0);
    for (const x of fdFlags) expect(parseInt(/flags:\s+(\d+)/.exec(x![1])![1]!, 8) & 3).toBe(0); // O_RDONLY
    const buf = new Uint8Array(1 << 20);
    for (let p = 0; p < Number(s.size); p += buf.length) s.read(buf, 0, buf.length, p);
    s.close();
    expect(sha256File(main)).toBe(before);
    expect(readAt(main, 1080, 2).readUInt16LE(0)).toBe(0xef53);
  });
});
