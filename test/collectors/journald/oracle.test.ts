// Differential tests of the journald reader against journalctl (systemd 252) on real journal files written by
// systemd-journal-remote from export text, and on LZ4/XZ/short-header files rebuilt from them
// (test/fixtures-scripts/journald-make.ts). Every entry and every field must match, byte for byte.
import { beforeAll, describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import * as fs from 'node:fs';
import * as path from 'node:path';
import lz4js from 'lz4js';
import {
  FIXTURE_CONTAINER_FULL,
  JOURNAL_VARIANTS,
  type JournalVariant,
  fixtureEntries,
  journalctlJson,
  journaldFixtures,
  journaldToolsMissing,
} from '../../fixtures-scripts/journald-make.js';
import {
  HEADER_INCOMPATIBLE_COMPACT,
  HEADER_INCOMPATIBLE_COMPRESSED_LZ4,
  HEADER_INCOMPATIBLE_COMPRESSED_XZ,
  HEADER_INCOMPATIBLE_COMPRESSED_ZSTD,
  HEADER_INCOMPATIBLE_KEYED_HASH,
  parseHeader,
} from '../../../src/collectors/journald/format.js';
import { decompressLz4Payload, lz4DecodeBlock } from '../../../src/collectors/journald/decompress.js';
import { JOURNALD_DOCKER_SOURCE, JOURNALD_SOURCE } from '../../../src/collectors/journald/index.js';
import { cursorSeqnum, eventFields, journalctlFields, listObjects, readJournal } from './helpers.js';

const missing = journaldToolsMissing();
const haveTools = missing.length === 0;
if (!haveTools) console.warn(`\n*** journald oracle tests SKIPPED: missing ${missing.join(', ')} ***\n`);

const EXPECTED_FLAGS: Record<JournalVariant, { set: number; clear: number; headerSize?: number }> = {
  'zstd-compact': { set: HEADER_INCOMPATIBLE_COMPRESSED_ZSTD | HEADER_INCOMPATIBLE_COMPACT | HEADER_INCOMPATIBLE_KEYED_HASH, clear: 0 },
  'plain-compact': { set: HEADER_INCOMPATIBLE_COMPACT, clear: HEADER_INCOMPATIBLE_COMPRESSED_ZSTD },
  'zstd-regular': { set: HEADER_INCOMPATIBLE_COMPRESSED_ZSTD, clear: HEADER_INCOMPATIBLE_COMPACT },
  'plain-regular': { set: HEADER_INCOMPATIBLE_KEYED_HASH, clear: HEADER_INCOMPATIBLE_COMPACT | HEADER_INCOMPATIBLE_COMPRESSED_ZSTD },
  'plain-unkeyed': { set: 0, clear: HEADER_INCOMPATIBLE_KEYED_HASH | HEADER_INCOMPATIBLE_COMPACT },
  'lz4-compact': { set: HEADER_INCOMPATIBLE_COMPRESSED_LZ4 | HEADER_INCOMPATIBLE_COMPACT, clear: 0 },
  'lz4-regular': { set: HEADER_INCOMPATIBLE_COMPRESSED_LZ4, clear: HEADER_INCOMPATIBLE_COMPACT },
  'xz-compact': { set: HEADER_INCOMPATIBLE_COMPRESSED_XZ | HEADER_INCOMPATIBLE_COMPACT, clear: 0 },
  'xz-regular': { set: HEADER_INCOMPATIBLE_COMPRESSED_XZ, clear: HEADER_INCOMPATIBLE_COMPACT },
  'header208-regular': { set: 0, clear: HEADER_INCOMPATIBLE_COMPACT | HEADER_INCOMPATIBLE_KEYED_HASH, headerSize: 208 },
};

function sameFields(a: Map<string, Buffer[]>, b: Map<string, Buffer[]>, where: string): void {
  expect([...a.keys()].sort(), where).toEqual([...b.keys()].sort());
  for (const [k, va] of a) {
    const vb = b.get(k) as Buffer[];
    expect(va.map((x) => x.toString('hex')), `${where} field ${k}`).toEqual(vb.map((x) => x.toString('hex')));
  }
}

describe.skipIf(!haveTools)('journald reader vs journalctl', () => {
  let dir = '';
  beforeAll(() => {
    dir = journaldFixtures();
  });

  for (const variant of JOURNAL_VARIANTS) {
    it(`${variant}: every entry and field matches journalctl -o json --all`, async () => {
      const file = path.join(dir, `${variant}.journal`);
      const hdr = parseHeader(fs.readFileSync(file).subarray(0, 272), fs.statSync(file).size);
      const want = EXPECTED_FLAGS[variant];
      expect(hdr.incompatible_flags & want.set, 'flags the variant must have').toBe(want.set);
      expect(hdr.incompatible_flags & want.clear, 'flags the variant must not have').toBe(0);
      if (want.headerSize) expect(hdr.header_size).toBe(want.headerSize);
      // the compressed variants really hold compressed DATA objects (flags 1 XZ, 2 LZ4, 4 ZSTD)
      const flagsSeen = new Set(listObjects(fs.readFileSync(file)).filter((o) => o.type === 1).map((o) => o.flags));
      const expectFlag = variant.startsWith('xz') ? 1 : variant.startsWith('lz4') ? 2 : variant.startsWith('zstd') ? 4 : 0;
      expect([...flagsSeen].sort()).toEqual(expectFlag ? [0, expectFlag] : [0]);

      const { events, problems } = await readJournal(file);
      expect(problems.problems).toEqual([]);
      const oracle = journalctlJson(file);
      expect(oracle.length).toBe(300);
      expect(events.length).toBe(oracle.length);
      for (let i = 0; i < oracle.length; i++) {
        const j = oracle[i];
        const ev = events[i];
        const a = ev.attrs as Record<string, unknown>;
        expect(a.__REALTIME_TIMESTAMP).toBe(j.__REALTIME_TIMESTAMP);
        expect(a.__MONOTONIC_TIMESTAMP).toBe(j.__MONOTONIC_TIMESTAMP);
        expect(a.__SEQNUM).toBe(cursorSeqnum(j.__CURSOR as string));
        expect(a.__BOOT_ID).toBe(j._BOOT_ID);
        expect(ev.time).toBe(BigInt(j.__REALTIME_TIMESTAMP as string) * 1000n);
        expect(ev.raw_time).toBe(j.__REALTIME_TIMESTAMP);
        sameFields(eventFields(ev), journalctlFields(j), `${variant} entry ${i}`);
      }
    });
  }

  it('holds what the export text held (second oracle: the input itself)', async () => {
    const { events } = await readJournal(path.join(dir, 'zstd-compact.journal'));
    const input = fixtureEntries();
    expect(events.length).toBe(input.length);
    for (let i = 0; i < input.length; i++) {
      const want = new Map<string, string[]>();
      for (const [k, v] of [...input[i].fields, ['_BOOT_ID', input[i].bootId] as [string, string]]) {
        const b = typeof v === 'string' ? Buffer.from(v) : v;
        want.set(k, [...(want.get(k) ?? []), b.toString('hex')]);
      }
      const got = eventFields(events[i]);
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [k, v] of want) expect((got.get(k) ?? []).map((b) => b.toString('hex')).sort()).toEqual(v.sort());
      expect((events[i].attrs as Record<string, unknown>).__REALTIME_TIMESTAMP).toBe(input[i].realtime.toString());
    }
  });

  it('maps entries to events: message, time, provenance, binary-safe values', async () => {
    const file = path.join(dir, 'zstd-compact.journal');
    const { events } = await readJournal(file);
    const e3 = events[3];
    expect(e3.message).toBe('multi-line 3\n  second line\n\tthird line');
    expect(e3.timestamp_desc).toBe('Event Recorded Time');
    expect(e3.path).toBe('/zstd-compact.journal');
    expect(typeof e3.offset).toBe('number');
    expect(e3.offset! % 8).toBe(0);
    expect(e3.inode).toBe(BigInt(fs.statSync(file).ino));
    // invalid UTF-8 MESSAGE: replacement characters in the text, the raw bytes in __BASE64
    const e8 = events[8];
    expect(e8.message).toBe('bad\ufffd\ufffd utf');
    expect((e8.attrs as any).__BASE64.MESSAGE).toBe(Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x20, 0x75, 0x74, 0x66]).toString('base64'));
    // a duplicate MESSAGE: the first is the message, both are kept
    expect(events[6].message.startsWith('message 6 ')).toBe(true);
    expect(Array.isArray((events[6].attrs as any).MESSAGE)).toBe(true);
    expect((events[9].attrs as any).EMPTY).toBe('');
    expect((events[9].attrs as any).UNICODE).toBe('snowman \u2603 and \u{1F600}');
    expect((events[4].attrs as any).TAG).toEqual(['a', 'b', 'c4']);
    expect((events[13].attrs as any).HUGE).toBe(undefined);
    expect(((events[5].attrs as any).HUGE as string).length).toBe(320002);
  });

  it("attributes the docker journald log driver's entries to their container, gone or not", async () => {
    const { events } = await readJournal(path.join(dir, 'lz4-regular.journal'));
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      if (i % 5 === 0) {
        expect(ev.source).toBe(JOURNALD_DOCKER_SOURCE);
        expect(ev.container_id).toBe(FIXTURE_CONTAINER_FULL);
        expect(ev.container_name).toBe('web-1');
      } else if (i === 12) {
        expect(ev.source).toBe(JOURNALD_DOCKER_SOURCE);
        expect(ev.container_id).toBe('deadbeef0001'); // no CONTAINER_ID_FULL: the short id
        expect(ev.container_name).toBe('gone');
      } else {
        expect(ev.source).toBe(JOURNALD_SOURCE);
        expect(ev.container_id).toBeUndefined();
      }
    }
  });

  it('reads a dirty copy (.journal~, state online) like the clean file', async () => {
    const src = path.join(dir, 'plain-compact.journal');
    const tmp = fs.mkdtempSync(path.join(path.dirname(dir), 'flotsam-jd-'));
    const copy = path.join(tmp, 'system.journal~');
    const b = fs.readFileSync(src);
    b[16] = 1; // STATE_ONLINE
    fs.writeFileSync(copy, b);
    const { events, problems } = await readJournal(copy);
    expect(problems.problems).toEqual([]);
    expect(events.length).toBe(300);
    fs.rmSync(tmp, { recursive: true });
  });
});

describe('LZ4 block decoder', () => {
  it('decodes what lz4js compresses, byte for byte', () => {
    let x = 1;
    for (const len of [1, 15, 16, 64, 1000, 70000, 300000]) {
      const src = new Uint8Array(len);
      for (let i = 0; i < len; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        src[i] = i % 3 === 0 ? x & 0xff : (i >> 4) & 0x7f; // half random, half runs
      }
      const dst = new Uint8Array(lz4js.compressBound(len));
      const n = lz4js.compressBlock(src, dst, 0, len, new Uint32Array(1 << 16));
      if (n === 0) continue; // incompressible
      const out = new Uint8Array(len);
      expect(lz4DecodeBlock(dst.subarray(0, n), out)).toBe(len);
      expect(Buffer.from(out).equals(Buffer.from(src))).toBe(true);
    }
  });

  it('rejects a match offset before the start, literals past the end and output past the declared size', () => {
    expect(() => lz4DecodeBlock(Uint8Array.from([0x10, 0x41, 0x05, 0x00]), new Uint8Array(100))).toThrow(/before the start/);
    expect(() => lz4DecodeBlock(Uint8Array.from([0x50, 0x41]), new Uint8Array(100))).toThrow(/past the end of the block/);
    expect(() => lz4DecodeBlock(Uint8Array.from([0x1f, 0x41, 0x01, 0x00, 0xff, 0xff, 0x10]), new Uint8Array(100))).toThrow(/exceeds the declared/);
    expect(() => lz4DecodeBlock(Uint8Array.from([0xf0, 0xff, 0xff]), new Uint8Array(100))).toThrow(/literal length runs past/);
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(1n << 40n);
    expect(() => decompressLz4Payload(Buffer.concat([prefix, Buffer.from([0x10, 0x41])]))).toThrow(/MAX_DATA_DECOMPRESSED_BYTES/);
  });
});
