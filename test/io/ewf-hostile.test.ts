// Hostile and damaged E01s: every header value is distrusted. Each case damages a copy of an ewfacquire image and
// checks for a typed error or a recorded problem with partial results, never a hang, a giant allocation or silence.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readBytes } from '../../src/io/byte-source.js';
import {
  EwfError,
  EwfSource,
  MAX_TABLE_ENTRIES,
  adler32,
  interpretHeaderDate,
  parseFileHeader,
  parseHeaderValues,
  parseTableEntries,
} from '../../src/io/ewf/index.js';
import { ewfImages, ewfToolsPresent, fixAdler, md5, sectionsOf, tableEntries } from '../fixtures-scripts/ewf-images.js';

describe('structures from literal bytes', () => {
  test('adler32 matches zlib', () => {
    const b = Buffer.from('Wikipedia');
    expect(adler32(b)).toBe(0x11e60398);
    const big = Buffer.alloc(100_000, 0xff);
    // zlib's stream trailer is the Adler-32 of the data (big-endian)
    const z = zlib.deflateSync(big);
    expect(adler32(big)).toBe(z.readUInt32BE(z.length - 4));
  });
  test('file header: signature, L01 and EWF2 refused by name', () => {
    const h = Buffer.from('455646090d0aff000101000000', 'hex');
    expect(parseFileHeader(h, 'x').segment_number).toBe(1);
    expect(() => parseFileHeader(Buffer.from('4c5646090d0aff000101000000', 'hex'), 'x')).toThrow(/L01/);
    expect(() => parseFileHeader(Buffer.from('455646320d0a8100010100', 'hex'), 'x')).toThrow(/EWF2/);
    expect(() => parseFileHeader(Buffer.from('00'.repeat(13), 'hex'), 'x')).toThrow(EwfError);
    expect(() => parseFileHeader(Buffer.from('455646090d0aff000100000000', 'hex'), 'x')).toThrow(/segment number 0/);
  });
  test('table entries: compressed bit, base offset, 31-bit overflow quirk (EnCase 6.7.1)', () => {
    const b = Buffer.alloc(16);
    b.writeUInt32LE(0x80000010, 0);
    b.writeUInt32LE(0x00000100, 4);
    b.writeUInt32LE(0xfffffff0, 8); // compressed at 0x7ffffff0
    b.writeUInt32LE(0x80000100, 12); // masked 0x100 < 0x7ffffff0, full 0x80000100 > it: overflow
    const e = parseTableEntries(b, 0, 4, 1000n);
    expect([...e.offsets]).toEqual([1000 + 0x10, 1000 + 0x100, 1000 + 0x7ffffff0, 1000 + 0x80000100]);
    expect([...e.compressed]).toEqual([1, 0, 1, 0]);
    expect(e.overflowAt).toBe(3);
  });
  test('header text: both line ends, missing main category', () => {
    const v = parseHeaderValues('1\r\nmain\r\nc\tn\ta\te\r\nC1\tN1\tD\tE\r\n\r\n');
    expect(v.get('c')).toBe('C1');
    expect(v.get('e')).toBe('E');
    expect(parseHeaderValues('garbage').size).toBe(0);
    expect(interpretHeaderDate('1142163845').iso).toBe('2006-03-12T11:44:05Z');
    expect(interpretHeaderDate('2006 3 12 11 44 5').local).toBe('2006-03-12T11:44:05');
    expect(interpretHeaderDate('nonsense')).toEqual({});
  });
});

describe.skipIf(!ewfToolsPresent())('damaged copies of ewfacquire images', () => {
  let dir: string;
  let tmp: string;
  let raw: Buffer;
  let n = 0;
  beforeAll(() => {
    dir = ewfImages();
    raw = fs.readFileSync(path.join(dir, 'disk.raw'));
    tmp = fs.mkdtempSync(path.join(dir, '..', 'flotsam-ewf-hostile-'));
  });
  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });
  /** A damaged copy of a set: `edit` changes the first segment's bytes (others copied as they are). */
  function damaged(variant: string, edit: (b: Buffer) => Buffer | void, segments = 1): string {
    const d = path.join(tmp, `c${n++}`);
    fs.mkdirSync(d);
    for (let i = 1; i <= segments; i++) {
      const name = `${variant}.E0${i}`;
      let b = fs.readFileSync(path.join(dir, name));
      if (i === 1) b = edit(b) ?? b;
      fs.writeFileSync(path.join(d, name), b);
    }
    return path.join(d, `${variant}.E01`);
  }
  const chunkOf = (i: number) => raw.subarray(i * 32768, Math.min(raw.length, (i + 1) * 32768));
  const section = (b: Buffer, type: string) => sectionsOf(b).filter((s) => s.type === type);

  test('a flipped byte inside a compressed chunk: that chunk reads as zeros + problem, the rest is intact', () => {
    let victim = -1;
    const p = damaged('best', (b) => {
      const t = tableEntries(b, section(b, 'table')[0]!.offset);
      victim = t.entries.findIndex((e, i) => i > 5 && e.compressed && (t.entries[i + 1]?.offset ?? 0) - e.offset > 2000);
      const at = t.entries[victim]!.offset + 500;
      b[at] = (b[at] as number) ^ 0x5a;
      b[at + 1] = (b[at + 1] as number) ^ 0xa5;
    });
    const src = EwfSource.open(p);
    const all = readBytes(src, 0, raw.length);
    expect(all.length).toBe(raw.length);
    const bad = all.subarray(victim * 32768, (victim + 1) * 32768);
    expect(bad.every((x) => x === 0)).toBe(true);
    expect(src.problems.some((x) => x.chunk === victim && (x.code === 'CHUNK_INFLATE' || x.code === 'CHUNK_SIZE'))).toBe(true);
    for (const i of [0, victim - 1, victim + 1, Math.floor(raw.length / 32768)]) {
      expect(Buffer.from(all.subarray(i * 32768, (i + 1) * 32768)).equals(chunkOf(i))).toBe(true);
    }
    src.close();
  });

  test('a flipped byte in a stored chunk: Adler-32 mismatch reported, data kept', () => {
    let at = 0;
    let victim = 0;
    const p = damaged('none', (b) => {
      const t = tableEntries(b, section(b, 'table')[0]!.offset);
      victim = 3;
      at = t.entries[victim]!.offset + 100;
      b[at] = (b[at] as number) ^ 0xff;
    });
    const src = EwfSource.open(p);
    const got = readBytes(src, victim * 32768, 32768);
    const want = Buffer.from(chunkOf(victim));
    want[100] = (want[100] as number) ^ 0xff;
    expect(Buffer.from(got).equals(want)).toBe(true);
    expect(src.problems.map((x) => x.code)).toContain('CHUNK_CHECKSUM');
    src.close();
  });

  test('a damaged table entry array falls back to table2', () => {
    const p = damaged('best', (b) => {
      const t = tableEntries(b, section(b, 'table')[0]!.offset);
      b.writeUInt32LE(0x7fffff00, t.entries[4]!.at); // footer left stale
    });
    const src = EwfSource.open(p);
    expect(md5(readBytes(src, 0, raw.length))).toBe(md5(raw));
    expect(src.problems.map((x) => x.code)).toContain('TABLE_CHECKSUM');
    src.close();
  });

  test('table offsets pointing outside the file (both copies, checksums fixed): zeros + problem for those chunks', () => {
    const p = damaged('best', (b) => {
      for (const s of [...section(b, 'table'), ...section(b, 'table2')]) {
        const t = tableEntries(b, s.offset);
        b.writeUInt32LE(0x7fffff00, t.entries[4]!.at);
        b.writeUInt32LE(0x80000000, t.entries[9]!.at); // before the chunk of entry 8: non-increasing
        fixAdler(b, s.offset + 100, s.offset + 100 + 4 * t.count);
      }
    });
    const src = EwfSource.open(p);
    const all = readBytes(src, 0, raw.length);
    expect(all.subarray(4 * 32768, 5 * 32768).every((x) => x === 0)).toBe(true);
    expect(all.subarray(9 * 32768, 10 * 32768).every((x) => x === 0)).toBe(true);
    expect(Buffer.from(all.subarray(5 * 32768, 6 * 32768)).equals(chunkOf(5))).toBe(true);
    const codes = src.problems.filter((x) => x.code === 'TABLE_ENTRY').map((x) => x.chunk);
    expect(codes).toEqual(expect.arrayContaining([4, 9]));
    src.close();
  });

  test('absurd table entry counts (both copies): the table is lost, nothing huge is allocated, reads give zeros', () => {
    const p = damaged('best', (b) => {
      for (const s of [...section(b, 'table'), ...section(b, 'table2')]) {
        b.writeUInt32LE(0xffffffff, s.offset + 76);
        fixAdler(b, s.offset + 76, s.offset + 96);
      }
    });
    const src = EwfSource.open(p);
    expect(src.problems.some((x) => x.code === 'TABLE_LOST' && /cannot be placed/.test(x.reason))).toBe(true);
    expect(src.problems.some((x) => x.reason.includes(`limit ${MAX_TABLE_ENTRIES}`))).toBe(true);
    const all = readBytes(src, 0, raw.length);
    expect(all.every((x) => x === 0)).toBe(true);
    expect(src.problemCount).toBeGreaterThan(300); // one per unplaceable chunk
    expect(src.metadata.complete).toBe(false);
    src.close();
  });

  test('an entry count that does not fit the section is refused the same way', () => {
    const p = damaged('best', (b) => {
      for (const s of [...section(b, 'table'), ...section(b, 'table2')]) {
        b.writeUInt32LE(100_000, s.offset + 76);
        fixAdler(b, s.offset + 76, s.offset + 96);
      }
    });
    const src = EwfSource.open(p);
    expect(src.problems.some((x) => x.code === 'TABLE_LOST' && /do not fit/.test(x.reason))).toBe(true);
    src.close();
  });

  test('a chunk that inflates past the chunk size is cut off: zeros + problem', () => {
    let victim = -1;
    const p = damaged('best', (b) => {
      const t = tableEntries(b, section(b, 'table')[0]!.offset);
      const bomb = zlib.deflateSync(Buffer.alloc(4 * 1024 * 1024), { level: 9 });
      victim = t.entries.findIndex((e, i) => e.compressed && (t.entries[i + 1]?.offset ?? 0) - e.offset > bomb.length);
      bomb.copy(b, t.entries[victim]!.offset);
    });
    const src = EwfSource.open(p);
    const got = readBytes(src, victim * 32768, 32768);
    expect(got.every((x) => x === 0)).toBe(true);
    expect(src.problems.find((x) => x.chunk === victim)?.reason).toMatch(/inflates past the chunk size 32768/);
    src.close();
  });

  test('a truncated segment opens with problems and partial data', () => {
    const p = damaged('best', (b) => b.subarray(0, Math.floor(b.length * 0.6)));
    const src = EwfSource.open(p);
    expect(src.problems.map((x) => x.code)).toEqual(expect.arrayContaining(['TRUNCATED', 'CHUNK_COUNT']));
    expect(src.metadata.header.caseNumber).toBe('CASE-42');
    expect(readBytes(src, 0, raw.length).length).toBe(raw.length);
    expect(src.metadata.complete).toBe(false);
    src.close();
  });

  test('a truncated middle segment: later segments are placed back from the end, not shifted', () => {
    const d = path.join(tmp, `c${n++}`);
    fs.mkdirSync(d);
    for (const s of ['multi.E01', 'multi.E02', 'multi.E03']) {
      const b = fs.readFileSync(path.join(dir, s));
      fs.writeFileSync(path.join(d, s), s === 'multi.E02' ? b.subarray(0, b.length >> 1) : b);
    }
    const src = EwfSource.open(path.join(d, 'multi.E01'));
    const all = readBytes(src, 0, raw.length);
    expect(src.problems.find((x) => x.code === 'TABLE_LOST')?.reason).toMatch(/placed back from the end/);
    // first segment's chunks and the last segment's chunks are right
    expect(Buffer.from(all.subarray(0, 32768)).equals(chunkOf(0))).toBe(true);
    const last = Math.ceil(raw.length / 32768) - 1;
    expect(Buffer.from(all.subarray(last * 32768)).equals(chunkOf(last))).toBe(true);
    expect(Buffer.from(all.subarray((last - 3) * 32768, (last - 2) * 32768)).equals(chunkOf(last - 3))).toBe(true);
    src.close();
  });

  test('a missing second segment is a typed error naming it; allowMissingSegments opens what is there', () => {
    const d = path.join(tmp, `c${n++}`);
    fs.mkdirSync(d);
    fs.copyFileSync(path.join(dir, 'multi.E01'), path.join(d, 'multi.E01'));
    const p = path.join(d, 'multi.E01');
    let err: unknown;
    try {
      EwfSource.open(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EwfError);
    expect((err as EwfError).ewfCode).toBe('MISSING_SEGMENT');
    expect((err as EwfError).code).toBe('ENOENT');
    expect((err as Error).message).toContain('multi.E02');
    const src = EwfSource.open(p, { allowMissingSegments: true });
    const all = readBytes(src, 0, raw.length);
    expect(Buffer.from(all.subarray(0, 32768)).equals(chunkOf(0))).toBe(true);
    expect(all.subarray(raw.length - 32768).every((x) => x === 0)).toBe(true);
    expect(src.problems.map((x) => x.code)).toContain('CHUNK_MISSING');
    src.close();
  });

  test('a section chain that loops back stops with a problem; no volume left is a typed error', () => {
    const p = damaged('best', (b) => {
      const h = section(b, 'header2')[0]!;
      b.writeBigUInt64LE(13n, h.offset + 16);
      fixAdler(b, h.offset, h.offset + 72);
    });
    expect(() => EwfSource.open(p)).toThrow(/no usable volume/);
  });

  test('absurd geometry in the volume section is a LIMIT error', () => {
    const p = damaged('best', (b) => {
      for (const s of [...section(b, 'volume'), ...section(b, 'data')]) {
        b.writeUInt32LE(0xffffffff, s.offset + 76 + 8);
        fixAdler(b, s.offset + 76, s.offset + 76 + 1048);
      }
    });
    let err: unknown;
    try {
      EwfSource.open(p);
    } catch (e) {
      err = e;
    }
    expect((err as EwfError).ewfCode).toBe('LIMIT');
  });

  test('corrupt header2 sections fall back to the header section', () => {
    const p = damaged('best', (b) => {
      for (const s of section(b, 'header2')) b.fill(0x41, s.offset + 76, s.offset + 90);
    });
    const src = EwfSource.open(p);
    expect(src.metadata.header.source).toBe('header');
    expect(src.metadata.header.caseNumber).toBe('CASE-42');
    expect(src.problems.filter((x) => x.code === 'HEADER').length).toBe(2);
    expect(md5(readBytes(src, 0, raw.length))).toBe(md5(raw));
    src.close();
  });

  test('a section descriptor with a bad checksum is reported, reading goes on', () => {
    const p = damaged('best', (b) => {
      const s = section(b, 'header')[0]!;
      b[s.offset + 40] = 0x99; // padding byte: checksum no longer matches
    });
    const src = EwfSource.open(p);
    expect(src.problems.map((x) => x.code)).toContain('SECTION_CHECKSUM');
    expect(md5(readBytes(src, 0, raw.length))).toBe(md5(raw));
    src.close();
  });
});
