import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { MemorySource, readBytes } from '../../src/io/byte-source.js';
import { IMAGE_OPENERS, openImage } from '../../src/io/raw.js';
import {
  VHDX_GUID,
  VhdxError,
  VhdxSource,
  crc32c,
  guidString,
  openVhdxFile,
  parseVhdxHeader,
  parseVhdxRegionTable,
  probeVhdxFile,
} from '../../src/io/vhdx.js';
import { hashFile, hashSource, putU32LE, putU64LE, scratchDir, virtualDisks } from '../fixtures-scripts/virtual-disks.js';

const dir = virtualDisks();
const img = (n: string) => path.join(dir, n);
const scratch = scratchDir('vhdx');
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
const KiB = 1024;

describe('VHDX images from qemu-img hash equal to qemu-img convert -O raw', () => {
  const base = hashFile(img('base.raw'));
  for (const name of ['dynamic.vhdx', 'fixed.vhdx', 'dynamic-8m.vhdx']) {
    test(name, () => {
      const before = hashFile(img(name));
      const s = openVhdxFile(img(name), { strict: true });
      try {
        expect(s.size).toBe(24n << 20n);
        const h = hashSource(s, undefined, 300_000);
        expect(h).toBe(base);
        expect(h).toBe(hashFile(img(`${name}.oracle.raw`)));
        expect(s.problems).toEqual([]);
      } finally {
        s.close();
      }
      expect(hashFile(img(name))).toBe(before);
    });
  }
  test('metadata values', () => {
    const s = openVhdxFile(img('dynamic-8m.vhdx'));
    expect(s.blockSize).toBe(8 * 1024 * 1024);
    expect(s.logicalSectorSize).toBe(512);
    expect(s.chunkRatio).toBe((2 ** 23 * 512) / (8 * 1024 * 1024));
    s.close();
  });
  test('openImage detects VHDX by content', () => {
    const p = path.join(scratch, 'disk.bin');
    fs.copyFileSync(img('dynamic.vhdx'), p);
    expect(probeVhdxFile(p)).toBe(true);
    expect(IMAGE_OPENERS.filter((o) => o.probe(p)).map((o) => o.name)).toEqual(['vhdx']);
    const s = openImage(p);
    expect(hashSource(s)).toBe(base);
    s.close();
    expect(probeVhdxFile(img('base.raw'))).toBe(false);
  });
  test('GUIDs and CRC-32C', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    const b = Uint8Array.from([0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42, 0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08]);
    expect(guidString(b)).toBe(VHDX_GUID.batRegion);
  });
});

describe('hostile headers, regions and metadata (one test per guard)', () => {
  const good = () => Uint8Array.from(fs.readFileSync(img('dynamic.vhdx')));
  const open = (b: Uint8Array, strict = true) => VhdxSource.open(new MemorySource(b, 'mem.vhdx'), { strict });
  const code = (b: Uint8Array) => {
    try {
      open(b).close();
      return 'ok';
    } catch (e) {
      expect(e).toBeInstanceOf(VhdxError);
      return (e as VhdxError).code;
    }
  };
  const resign = (b: Uint8Array, off: number, len: number) => {
    putU32LE(b, off + 4, 0);
    putU32LE(b, off + 4, crc32c(b.subarray(off, off + len)));
  };
  const seq = (b: Uint8Array, off: number) => new DataView(b.buffer).getBigUint64(off + 8, true);
  const current = (b: Uint8Array) => (seq(b, 128 * KiB) > seq(b, 64 * KiB) ? 128 * KiB : 64 * KiB);
  test('bad file identifier', () => {
    const b = good();
    b[0] = 0x78;
    expect(code(b)).toBe('EMAGIC');
  });
  test('truncated file', () => expect(code(good().subarray(0, 100 * KiB))).toBe('ETRUNCATED'));
  test('both headers damaged', () => {
    const b = good();
    b[64 * KiB + 100] ^= 1;
    b[128 * KiB + 100] ^= 1;
    expect(code(b)).toBe('ECORRUPT');
  });
  test('one header damaged: the other is used, with a note', () => {
    const b = good();
    b[current(b) + 100] ^= 1;
    const s = open(b, false);
    expect(s.problems.join()).toMatch(/header \d invalid \(checksum/);
    expect(hashSource(s)).toBe(hashFile(img('base.raw')));
  });
  test('the valid header with the highest sequence number wins', () => {
    const b = good();
    const other = current(b) === 64 * KiB ? 128 * KiB : 64 * KiB;
    putU64LE(b, other + 8, seq(b, current(b)) + 5n);
    b[other + 48] = 1; // its LogGuid is non-zero: so we can see which one was chosen
    resign(b, other, 4096);
    const s = open(b, false);
    expect(s.header.SequenceNumber).toBe(seq(b, other));
    expect(s.problems.join()).toMatch(/log is dirty/);
  });
  test('dirty log is a problem, reading proceeds', () => {
    const b = good();
    const h = current(b);
    b[h + 48] = 0xaa;
    resign(b, h, 4096);
    const s = open(b, false);
    expect(s.problems[0]).toMatch(/log is dirty .* not replayed/);
    expect(hashSource(s)).toBe(hashFile(img('base.raw')));
  });
  test('header version', () => {
    const b = new Uint8Array(4096);
    b.set(new TextEncoder().encode('head'));
    putU32LE(b, 66, 2);
    putU32LE(b, 4, crc32c(b));
    expect(parseVhdxHeader(b)).toMatch(/version 2/);
  });
  test('region tables damaged', () => {
    const b = good();
    b[192 * KiB + 40] ^= 1;
    b[256 * KiB + 40] ^= 1;
    expect(code(b)).toBe('ECORRUPT');
  });
  test('region entry count over the limit', () => {
    const b = new Uint8Array(64 * KiB);
    b.set(new TextEncoder().encode('regi'));
    putU32LE(b, 8, 5000);
    putU32LE(b, 4, crc32c(b));
    expect(parseVhdxRegionTable(b)).toMatch(/entry count 5000/);
  });
  const editRegions = (edit: (b: Uint8Array, t: number) => void) => {
    const b = good();
    for (const t of [192 * KiB, 256 * KiB]) {
      edit(b, t);
      resign(b, t, 64 * KiB);
    }
    return b;
  };
  test('BAT region outside the file', () => {
    const b = editRegions((x, t) => {
      for (let i = 0; i < 2; i++) putU64LE(x, t + 16 + i * 32 + 16, 1n << 40n);
    });
    expect(code(b)).toBe('ETRUNCATED');
  });
  test('region misaligned', () => {
    const b = editRegions((x, t) => putU64LE(x, t + 16 + 16, 0x100200n));
    expect(code(b)).toBe('ECORRUPT');
  });
  test('unknown required region', () => {
    const b = editRegions((x, t) => {
      putU32LE(x, t + 8, 3);
      x.set(x.subarray(t + 16, t + 48), t + 16 + 64);
      x[t + 16 + 64] ^= 0xff;
      putU32LE(x, t + 16 + 64 + 28, 1);
    });
    expect(code(b)).toBe('EUNSUPPORTED');
  });
  const metaOffset = (b: Uint8Array) => {
    const r = parseVhdxRegionTable(b.subarray(192 * KiB, 256 * KiB));
    if (typeof r === 'string') throw new Error(r);
    return r.find((x) => x.guid === VHDX_GUID.metadataRegion)!.fileOffset;
  };
  const metaItem = (b: Uint8Array, guid: string) => {
    const m = metaOffset(b);
    const dv = new DataView(b.buffer);
    const n = dv.getUint16(m + 10, true);
    for (let i = 0; i < n; i++) if (guidString(b, m + 32 + i * 32) === guid) return { entry: m + 32 + i * 32, data: m + dv.getUint32(m + 32 + i * 32 + 16, true) };
    throw new Error('no item');
  };
  test('metadata signature', () => {
    const b = good();
    b[metaOffset(b)] = 0;
    expect(code(b)).toBe('EMAGIC');
  });
  test('metadata entry count over the limit', () => {
    const b = good();
    new DataView(b.buffer).setUint16(metaOffset(b) + 10, 4000, true);
    expect(code(b)).toBe('ELIMIT');
  });
  test('block size not a power of two / too large', () => {
    for (const v of [3 * 1024 * 1024, 512 * 1024 * 1024, 4096]) {
      const b = good();
      putU32LE(b, metaItem(b, VHDX_GUID.fileParameters).data, v);
      expect(code(b)).toBe('ECORRUPT');
    }
  });
  test('absurd virtual disk size', () => {
    const b = good();
    putU64LE(b, metaItem(b, VHDX_GUID.virtualDiskSize).data, 1n << 50n);
    expect(code(b)).toBe('ELIMIT');
  });
  test('virtual size larger than the BAT covers', () => {
    const b = good();
    putU64LE(b, metaItem(b, VHDX_GUID.virtualDiskSize).data, 1n << 42n);
    expect(code(b)).toBe('ECORRUPT');
  });
  test('logical sector size', () => {
    const b = good();
    putU32LE(b, metaItem(b, VHDX_GUID.logicalSectorSize).data, 1000);
    expect(code(b)).toBe('ECORRUPT');
  });
  test('metadata item outside the region', () => {
    const b = good();
    putU32LE(b, metaItem(b, VHDX_GUID.fileParameters).entry + 16, 0x7ffffff0);
    expect(code(b)).toBe('ECORRUPT');
  });
  test('missing metadata item', () => {
    const b = good();
    const e = metaItem(b, VHDX_GUID.virtualDiskSize).entry;
    b[e] ^= 0xff;
    expect(code(b)).toBe('EUNSUPPORTED'); // now an unknown *required* item
    putU32LE(b, e + 24, 0); // not required: the virtual disk size is simply missing
    expect(code(b)).toBe('ECORRUPT');
  });
  test('has-parent is unsupported with a clear message', () => {
    const b = good();
    const d = metaItem(b, VHDX_GUID.fileParameters).data;
    putU32LE(b, d + 4, 2);
    expect(() => open(b)).toThrow(/differencing VHDX/);
  });
  const batOf = (b: Uint8Array) => {
    const r = parseVhdxRegionTable(b.subarray(192 * KiB, 256 * KiB));
    if (typeof r === 'string') throw new Error(r);
    return r.find((x) => x.guid === VHDX_GUID.batRegion)!.fileOffset;
  };
  test('payload entry pointing outside the file: zeros + problem, EDATA when strict', () => {
    const b = Uint8Array.from(fs.readFileSync(img('fixed.vhdx')));
    putU64LE(b, batOf(b), (1n << 40n) | 6n);
    const s = open(b, false);
    expect(readBytes(s, 0, 4096).every((x) => x === 0)).toBe(true);
    expect(s.problems[0]).toMatch(/past the end of the file/);
    expect(() => readBytes(open(b, true), 0, 4096)).toThrow(expect.objectContaining({ code: 'EDATA' }));
  });
  test('payload entry pointing into the header section', () => {
    const b = Uint8Array.from(fs.readFileSync(img('fixed.vhdx')));
    putU64LE(b, batOf(b), 6n);
    const s = open(b, false);
    readBytes(s, 0, 4096);
    expect(s.problems[0]).toMatch(/inside the header section/);
  });
  test('partially present and invalid states in a disk without parent', () => {
    const b = Uint8Array.from(fs.readFileSync(img('fixed.vhdx')));
    putU64LE(b, batOf(b), (2n << 20n) | 7n);
    putU64LE(b, batOf(b) + 8, 5n);
    const s = open(b, false);
    readBytes(s, 0, 2 * 32 * 1024 * 1024);
    expect(s.problems.join('\n')).toMatch(/partially present[\s\S]*state 5 is invalid/);
  });
  test('zero / unmapped / undefined states read as zeros', () => {
    const b = Uint8Array.from(fs.readFileSync(img('fixed.vhdx')));
    const bs = openVhdxFile(img('fixed.vhdx'));
    const blk = bs.blockSize;
    bs.close();
    for (const st of [0n, 1n, 2n, 3n]) {
      putU64LE(b, batOf(b), st);
      const s = open(b, true);
      expect(readBytes(s, 0, Math.min(blk, 4 << 20)).every((x) => x === 0)).toBe(true);
    }
  });
  test('truncated payload: partial results', () => {
    const b = Uint8Array.from(fs.readFileSync(img('fixed.vhdx'))).subarray(0, 20 * 1024 * 1024);
    const s = open(b, false);
    hashSource(s);
    expect(s.problems.length).toBeGreaterThan(0);
  });
});
