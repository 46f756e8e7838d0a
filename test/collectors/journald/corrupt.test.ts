// Damaged journals: copies of a real file (test/fixtures-scripts/journald-make.ts) cut, zeroed, looped and pointed
// outside themselves. Each guard of reader.ts / decompress.ts / format.ts has one regression test here: typed
// problems, no hang, and every entry that can still be read is returned unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TimelineEvent } from '../../../src/events/event.js';
import { journaldFixtures, journaldToolsMissing } from '../../fixtures-scripts/journald-make.js';
import { JournalFormatError, parseHeader } from '../../../src/collectors/journald/format.js';
import { decompressZstdPayload, zstdFrameHeader } from '../../../src/collectors/journald/decompress.js';
import type { JournaldOptions } from '../../../src/collectors/journald/index.js';
import { entryArrayChain, listObjects, readJournal } from './helpers.js';

const haveTools = journaldToolsMissing().length === 0;

/** Entry events without provenance that changes between copies: what the entry says. */
const content = (e: TimelineEvent): string => {
  const { __RECOVERED_BY_SCAN: _s, ...attrs } = e.attrs as Record<string, unknown>;
  return JSON.stringify([e.time.toString(), e.message, e.offset, attrs]);
};

describe.skipIf(!haveTools)('journald reader on damaged files', () => {
  let dir = '';
  let tmp = '';
  let intact: Buffer;
  let good: TimelineEvent[] = [];
  let n = 0;
  const variant = 'plain-regular'; // uncompressed, 8-byte offsets: easy to patch

  beforeAll(async () => {
    dir = journaldFixtures();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flotsam-journald-corrupt-'));
    intact = fs.readFileSync(path.join(dir, `${variant}.journal`));
    good = (await readJournal(path.join(dir, `${variant}.journal`))).events;
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  async function readPatched(patch: (b: Buffer) => Buffer | void, options: JournaldOptions = {}) {
    const b = Buffer.from(intact);
    const out = patch(b) ?? b;
    const file = path.join(tmp, `c${n++}.journal`);
    fs.writeFileSync(file, out);
    const started = Date.now();
    const r = await readJournal(file, options);
    expect(Date.now() - started, 'no hang').toBeLessThan(20_000);
    return { ...r, reasons: r.problems.problems.map((p) => p.reason) };
  }

  const entryOffsets = (): number[] => good.map((e) => e.offset as number);

  it('truncated tail: the entries before the cut, and a "truncated" problem', async () => {
    const cut = entryOffsets()[200] + 40; // inside entry 200
    const r = await readPatched((b) => b.subarray(0, cut));
    expect(r.reasons.some((x) => /truncated/.test(x))).toBe(true);
    expect(r.events.length).toBe(200);
    expect(r.events.map(content)).toEqual(good.slice(0, 200).map(content));
  });

  it('zeroed ENTRY object: that entry is lost, the others are recovered by the object scan', async () => {
    const off = entryOffsets()[100];
    const r = await readPatched((b) => void b.fill(0, off, off + 64));
    expect(r.reasons.some((x) => /scanning objects/.test(x))).toBe(true);
    expect(r.reasons.some((x) => /damaged objects from offset/.test(x))).toBe(true);
    const want = good.filter((_, i) => i !== 100);
    expect(r.events.map(content)).toEqual(want.map(content));
    expect((r.events[150].attrs as Record<string, unknown>).__RECOVERED_BY_SCAN).toBe(true);
  });

  it('zeroed entry array: the chain breaks, the scan recovers every entry', async () => {
    const arrays = entryArrayChain(intact);
    expect(arrays.length).toBeGreaterThan(3);
    const r = await readPatched((b) => void b.fill(0, arrays[2], arrays[2] + 32));
    expect(r.reasons.some((x) => /ENTRY_ARRAY expected at/.test(x))).toBe(true);
    expect(r.events.map(content)).toEqual(good.map(content));
  });

  it('entry array chain that loops: detected by the visited set, every entry still read once', async () => {
    const arrays = entryArrayChain(intact);
    const r = await readPatched((b) => void b.writeBigUInt64LE(BigInt(arrays[1]), arrays[3] + 16));
    expect(r.reasons.some((x) => /loops back/.test(x))).toBe(true);
    expect(r.events.map(content)).toEqual(good.map(content));
  });

  it('entry array chain longer than MAX_ENTRY_ARRAY_CHAIN: stops, the scan reads the rest', async () => {
    const r = await readPatched(() => undefined, { maxEntryArrayChain: 2 });
    expect(r.reasons.some((x) => /MAX_ENTRY_ARRAY_CHAIN/.test(x))).toBe(true);
    expect(r.events.map(content)).toEqual(good.map(content));
  });

  it('entry array item out of order: the chain stops there, the scan reads the rest', async () => {
    const arrays = entryArrayChain(intact);
    const r = await readPatched((b) => void b.writeBigUInt64LE(BigInt(entryOffsets()[0]), arrays[3] + 24 + 8));
    expect(r.reasons.some((x) => /is not after the previous entry/.test(x))).toBe(true);
    expect(r.events.map(content)).toEqual(good.map(content));
  });

  it('entry array pointing outside the file', async () => {
    const arrays = entryArrayChain(intact);
    const r = await readPatched((b) => void b.writeBigUInt64LE(1n << 40n, arrays[2] + 16));
    expect(r.reasons.some((x) => /outside the objects/.test(x))).toBe(true);
    expect(r.events.map(content)).toEqual(good.map(content));
  });

  it('entry item pointing outside the file: the entry is kept without that field', async () => {
    const off = entryOffsets()[50];
    const r = await readPatched((b) => void b.writeBigUInt64LE(BigInt(b.length + 4096), off + 64));
    expect(r.reasons.some((x) => new RegExp(`entry at ${off} item 0: DATA offset \\d+ is outside`).test(x))).toBe(true);
    expect(r.events.length).toBe(300);
    const fields = (e: TimelineEvent) => Object.keys(e.attrs as object).length;
    expect(fields(r.events[50])).toBe(fields(good[50]) - 1);
    expect(r.events.filter((_, i) => i !== 50).map(content)).toEqual(good.filter((_, i) => i !== 50).map(content));
  });

  it('entry item not 8-byte aligned', async () => {
    const off = entryOffsets()[51];
    const r = await readPatched((b) => void b.writeBigUInt64LE(b.readBigUInt64LE(off + 64) + 4n, off + 64));
    expect(r.reasons.some((x) => /not 8-byte aligned/.test(x))).toBe(true);
    expect(r.events.length).toBe(300);
  });

  it('bad object type on a DATA object: the field is dropped in every entry that uses it', async () => {
    const host = listObjects(intact).find((o) => o.type === 1 && intact.subarray(o.off + 64, o.off + o.size).toString() === '_HOSTNAME=host1');
    expect(host).toBeDefined();
    const r = await readPatched((b) => void (b[host!.off] = 9));
    expect(r.reasons.some((x) => /object type 9 is not a known type/.test(x))).toBe(true);
    expect(r.events.length).toBe(300);
    expect(r.events.every((e) => (e.attrs as Record<string, unknown>)._HOSTNAME === undefined)).toBe(true);
  });

  it('object size past the end of the data, and over MAX_OBJECT_BYTES', async () => {
    const off = entryOffsets()[10];
    const r1 = await readPatched((b) => void b.writeBigUInt64LE(1n << 45n, off + 8));
    expect(r1.reasons.some((x) => /runs past the end of the data/.test(x))).toBe(true);
    expect(r1.events.length).toBe(299);
    const r2 = await readPatched(() => undefined, { maxObjectBytes: 1024 });
    expect(r2.reasons.some((x) => /MAX_OBJECT_BYTES/.test(x))).toBe(true);
  });

  it('entry with more items than MAX_ENTRY_ITEMS is skipped', async () => {
    const r = await readPatched(() => undefined, { maxEntryItems: 8 });
    expect(r.reasons.some((x) => /MAX_ENTRY_ITEMS/.test(x))).toBe(true);
    expect(r.events.length).toBeLessThan(300);
  });

  it('entry with an invalid realtime (0) is skipped', async () => {
    const off = entryOffsets()[20];
    const r = await readPatched((b) => void b.writeBigUInt64LE(0n, off + 24));
    expect(r.reasons.some((x) => /invalid realtime 0/.test(x))).toBe(true);
    expect(r.events.map(content)).toEqual(good.filter((_, i) => i !== 20).map(content));
  });

  it('DATA payload without "=" is dropped with a problem', async () => {
    const host = listObjects(intact).find((o) => o.type === 1 && intact.subarray(o.off + 64, o.off + o.size).toString() === 'PRIORITY=3');
    const r = await readPatched((b) => void (b[host!.off + 64 + 8] = 0x2d));
    expect(r.reasons.some((x) => /no '='/.test(x))).toBe(true);
    expect(r.events.length).toBe(300);
  });

  it('a large zeroed range is skipped quickly and the entries after it are kept', async () => {
    const from = entryOffsets()[100];
    const to = entryOffsets()[110];
    const r = await readPatched((b) => void b.fill(0, from, to));
    // entries 100..109 are gone; later entries that share DATA objects written in the range lose those fields
    const id = (e: TimelineEvent) => `${e.offset} ${e.time} ${(e.attrs as Record<string, unknown>).__SEQNUM}`;
    expect(r.events.map(id)).toEqual(good.filter((_, i) => i < 100 || i >= 110).map(id));
    expect(r.events.slice(0, 100).map(content)).toEqual(good.slice(0, 100).map(content));
    expect(r.reasons.some((x) => new RegExp(`damaged objects from offset ${from} to ${to}`).test(x))).toBe(true);
  });

  it('entries written but not linked (a crash before the entry array was updated) are found by the tail scan', async () => {
    const arrays = entryArrayChain(intact);
    const last = arrays[arrays.length - 1];
    const r = await readPatched((b) => {
      // unlink the last entry: zero its item in the last array
      const items = (Number(b.readBigUInt64LE(last + 8)) - 24) / 8;
      for (let i = items - 1; i >= 0; i--) {
        if (b.readBigUInt64LE(last + 24 + i * 8) !== 0n) {
          b.writeBigUInt64LE(0n, last + 24 + i * 8);
          break;
        }
      }
      b[16] = 1; // online
    });
    expect(r.reasons.some((x) => /1 entries after offset \d+ are not linked/.test(x))).toBe(true);
    expect(r.events.map(content)).toEqual(good.map(content));
  });

  it('MAX_PROBLEMS_PER_FILE caps the listed problems and counts the rest', async () => {
    const r = await readPatched(() => undefined, { maxEntryItems: 1, maxProblemsPerFile: 3 });
    expect(r.reasons.length).toBe(4);
    expect(r.reasons[3]).toMatch(/more problems not listed \(MAX_PROBLEMS_PER_FILE\)/);
  });

  it('bad signature, unknown incompatible flag, impossible header_size: the file is not read, one problem', async () => {
    for (const [patch, re] of [
      [(b: Buffer) => void b.write('XXXXXXXX', 0), /signature/],
      [(b: Buffer) => void b.writeUInt32LE(b.readUInt32LE(12) | 0x100, 12), /unknown incompatible flags 0x100/],
      [(b: Buffer) => void b.writeBigUInt64LE(100n, 88), /header_size 100/],
      [(b: Buffer) => b.subarray(0, 100), /shorter than the smallest journal header/],
    ] as const) {
      const r = await readPatched(patch);
      expect(r.events).toEqual([]);
      expect(r.reasons.length).toBe(1);
      expect(r.reasons[0]).toMatch(re);
    }
  });

  it('compressed payloads inflating past MAX_DATA_DECOMPRESSED_BYTES are dropped', async () => {
    const file = path.join(dir, 'zstd-compact.journal');
    const r = await readJournal(file, { maxDecompressedBytes: 2048 });
    const reasons = r.problems.problems.map((p) => p.reason);
    expect(reasons.some((x) => /ZSTD content size \d+ is over the limit 2048 \(MAX_DATA_DECOMPRESSED_BYTES\)/.test(x))).toBe(true);
    expect(r.events.length).toBe(300);
    for (const v of ['lz4-regular', 'xz-regular']) {
      const rr = await readJournal(path.join(dir, `${v}.journal`), { maxDecompressedBytes: 2048 });
      expect(rr.problems.problems.some((p) => /MAX_DATA_DECOMPRESSED_BYTES/.test(p.reason))).toBe(true);
      expect(rr.events.length).toBe(300);
    }
  });

  it('a damaged compressed payload drops that field only', async () => {
    const src = fs.readFileSync(path.join(dir, 'lz4-regular.journal'));
    const obj = listObjects(src).find((o) => o.type === 1 && o.flags === 2)!;
    const b = Buffer.from(src);
    b.fill(0xff, obj.off + 64 + 8, obj.off + obj.size);
    const file = path.join(tmp, 'lz4-damaged.journal');
    fs.writeFileSync(file, b);
    const r = await readJournal(file);
    expect(r.problems.problems.some((p) => /DATA at \d+: LZ4/.test(p.reason))).toBe(true);
    expect(r.events.length).toBe(300);
  });
});

describe('format guards on literal bytes', () => {
  it('parseHeader throws JournalFormatError with expected and actual values', () => {
    const b = Buffer.alloc(272);
    expect(() => parseHeader(b, 272)).toThrow(JournalFormatError);
    expect(() => parseHeader(b, 272)).toThrow(/signature 00 00 00 00 00 00 00 00, expected 4c 50 4b 53/);
  });

  it('zstd: window size over the limit, and a frame without the magic', () => {
    // magic, FHD = 0 (no FCS, not single segment), window descriptor 0xf8: 2^41 bytes
    const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0, 0, 0]);
    expect(zstdFrameHeader(frame).windowSize).toBe(2 ** 41 + 2 ** 38 * 0);
    expect(() => decompressZstdPayload(frame)).toThrow(/window size \d+ is over the limit/);
    expect(() => decompressZstdPayload(Buffer.from('not zstd at all'))).toThrow(/frame magic/);
  });
});
