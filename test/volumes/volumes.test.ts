// Partition tables against sleuthkit's mmls, plus damaged and hostile tables.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { MemorySource, readBytes } from '../../src/io/byte-source.js';
import { RawFileSource } from '../../src/io/raw.js';
import { Ext4Vfs } from '../../src/fs/ext4/vfs.js';
import { readTextLimited } from '../../src/fs/vfs.js';
import { crc32 } from '../../src/volumes/crc32.js';
import { MAX_LOGICAL_PARTITIONS, VolumeError, listVolumes, probeGpt, probeMbr } from '../../src/volumes/index.js';
import { diskImages, fls, run } from '../fixtures-scripts/images.js';

let dir: string;
beforeAll(() => {
  dir = diskImages();
});

/** mmls rows that are partitions (not Meta, not unallocated): [start sector, length, description]. */
function mmls(image: string): [number, number, string][] {
  const out: [number, number, string][] = [];
  for (const line of run('mmls', [image]).split('\n')) {
    const m = /^\d+:\s+(\d+(?::\d+)?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (m) out.push([Number(m[2]), Number(m[4]), m[5]!.trim()]);
  }
  return out;
}

const mem = (name: string) => new Uint8Array(fs.readFileSync(path.join(dir, name)));

test('crc32 check value', () => {
  expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
});

describe('GPT', () => {
  test('partitions equal mmls; last LBA inclusive; names and type GUIDs', () => {
    const src = new RawFileSource(path.join(dir, 'gpt.img'));
    const v = listVolumes(src);
    expect(v.scheme).toBe('gpt');
    expect(v.problems).toEqual([]);
    expect(v.partitions.map((p) => [Number(p.start / 512n), Number(p.size / 512n), p.name])).toEqual(mmls(path.join(dir, 'gpt.img')));
    expect(v.partitions[0]!.size).toBe(16384n * 512n);
    expect(v.partitions[0]!.type).toBe('0fc63daf-8483-4772-8e79-3d69d8477de4');
    expect(v.partitions[1]!.type).toBe('c12a7328-f81f-11d2-ba4b-00a0c93ec93b');
    expect(probeMbr(src)).toBe(false); // protective MBR is not an MBR table
    src.close();
  });
  test('ext4 inside partition 1 reads like fls -o sees it', () => {
    const src = new RawFileSource(path.join(dir, 'gpt.img'));
    const p = listVolumes(src).partitions[0]!;
    const vfs = new Ext4Vfs(p.source);
    expect(readTextLimited(vfs, '/p/file.txt')).toBe('inside a partition\n');
    const theirs = fls(path.join(dir, 'gpt.img'), 2048).map((e) => `${e.path} ${e.ino}`).sort();
    const ours: string[] = [];
    const walk = (d: string) => {
      for (const e of vfs.readdir(d)) {
        const p2 = d === '/' ? `/${e.name}` : `${d}/${e.name}`;
        ours.push(`${p2} ${e.ino}`);
        if (e.type === 'dir') walk(p2);
      }
    };
    walk('/');
    expect(ours.sort()).toEqual(theirs);
    src.close();
  });
  test('damaged primary header or entry array: the backup header at the last LBA is used', () => {
    const good = listVolumes(new MemorySource(mem('gpt.img'))).partitions.map((p) => [p.start, p.size, p.name]);
    for (const [what, off] of [
      ['header', 512 + 40],
      ['array', 1024 + 10],
      ['signature', 512],
    ] as const) {
      const b = mem('gpt.img');
      b[off] ^= 0xff;
      const v = listVolumes(new MemorySource(b));
      expect(v.partitions.map((p) => [p.start, p.size, p.name]), what).toEqual(good);
      expect(v.problems.join('\n'), what).toMatch(/using the backup GPT header/);
      expect(v.problems.join('\n'), what).toMatch(/primary/);
    }
  });
  test('both headers damaged: ECORRUPT; a damaged backup alone is only reported', () => {
    const b = mem('gpt.img');
    b[512 + 40] ^= 0xff;
    b[b.length - 512 + 40] ^= 0xff;
    expect(() => listVolumes(new MemorySource(b))).toThrow(VolumeError);
    const c = mem('gpt.img');
    c[c.length - 512 + 40] ^= 0xff;
    const v = listVolumes(new MemorySource(c));
    expect(v.partitions.length).toBe(3);
    expect(v.problems.join()).toMatch(/backup GPT header/);
  });
  test('absurd entry counts are refused without allocating', () => {
    const b = mem('gpt.img');
    const dv = new DataView(b.buffer);
    dv.setUint32(512 + 80, 0xffffffff, true); // NumberOfPartitionEntries
    dv.setUint32(512 + 16, 0, true);
    const h = b.slice(512, 512 + 92);
    dv.setUint32(512 + 16, crc32(h), true); // valid CRC over the hostile header
    const v = listVolumes(new MemorySource(b));
    expect(v.problems.join()).toMatch(/MAX_GPT_ENTRIES/);
    expect(v.partitions.length).toBe(3); // from the backup
  });
});

describe('MBR', () => {
  test('primary, extended and logical partitions equal mmls', () => {
    const src = new RawFileSource(path.join(dir, 'mbr.img'));
    const v = listVolumes(src);
    expect(v.scheme).toBe('mbr');
    expect(v.problems).toEqual([]);
    const data = v.partitions.filter((p) => p.name !== 'extended');
    const theirs = mmls(path.join(dir, 'mbr.img')).filter(([, , d]) => !/Extended/.test(d));
    expect(data.map((p) => [Number(p.start / 512n), Number(p.size / 512n)])).toEqual(theirs.map(([s, l]) => [s, l]));
    expect(data.map((p) => p.type)).toEqual(['0x83', '0x82', '0x83', '0x83', '0x07']);
    expect(data.map((p) => p.index)).toEqual([1, 2, 5, 6, 7]);
    expect(probeGpt(src)).toBe(false);
    const logical = data.find((p) => p.index === 5)!;
    expect(readTextLimited(new Ext4Vfs(logical.source), '/p/file.txt')).toBe('inside a partition\n');
    src.close();
  });
  test('a looping extended chain stops with a problem, no hang', () => {
    const b = mem('mbr.img');
    // second EBR (sector 45056): point its link entry back at the first EBR (relative start 0)
    const dv = new DataView(b.buffer);
    const link = 45056 * 512 + 446 + 16;
    dv.setUint32(link + 8, 0, true);
    const v = listVolumes(new MemorySource(b));
    expect(v.problems.join()).toMatch(/loops back/);
    expect(v.partitions.filter((p) => p.name === 'logical').length).toBe(2);
  });
  test('an endless chain of distinct EBRs stops at MAX_LOGICAL_PARTITIONS', () => {
    const n = MAX_LOGICAL_PARTITIONS + 50;
    const b = new Uint8Array((n + 10) * 512);
    const dv = new DataView(b.buffer);
    const entry = (sector: number, slot: number, type: number, start: number, count: number) => {
      const e = sector * 512 + 446 + slot * 16;
      b[e + 4] = type;
      dv.setUint32(e + 8, start, true);
      dv.setUint32(e + 12, count, true);
      b[sector * 512 + 510] = 0x55;
      b[sector * 512 + 511] = 0xaa;
    };
    entry(0, 0, 0x05, 1, n + 5);
    for (let i = 0; i < n; i++) {
      entry(1 + i, 0, 0x83, 0, 0); // empty logical slot keeps the image tiny
      entry(1 + i, 1, 0x05, i + 1, 1);
    }
    const v = listVolumes(new MemorySource(b));
    expect(v.problems.join()).toMatch(/MAX_LOGICAL_PARTITIONS/);
  });
});

describe('scheme detection', () => {
  test('a bare file system is one volume', () => {
    const v = listVolumes(new RawFileSource(path.join(dir, 'ext4-main.img')));
    expect(v.scheme).toBe('none');
    expect(v.partitions).toHaveLength(1);
    expect(v.partitions[0]!.type).toBe('ext');
  });
  test('no table and no file system: EFORMAT; two matches: EAMBIGUOUS', () => {
    expect(() => listVolumes(new MemorySource(new Uint8Array(8192)))).toThrow(/no GPT, no MBR/);
    const b = mem('mbr.img').slice(0, 1 << 20);
    b[1080] = 0x53;
    b[1081] = 0xef;
    try {
      listVolumes(new MemorySource(b));
      expect.unreachable();
    } catch (err) {
      expect((err as VolumeError).code).toBe('EAMBIGUOUS');
    }
    expect(readBytes(new MemorySource(b), 510, 2)).toEqual(Uint8Array.from([0x55, 0xaa]));
  });
});
