// The external sort's run files (run-file.ts): every field of every event round-trips exactly, hostile values
// included (lone surrogates, times and inodes beyond 64 bits, records larger than any buffer, more distinct
// strings than the tables hold), and a damaged run is a typed error, never a wrong event.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../../src/events/event.js';
import {
  MAX_RUN_TABLE_ENTRIES,
  MIN_RUN_BATCH,
  RUN_BATCH,
  MIN_RUN_READ_CHUNK,
  RUN_MERGE_BUDGET_BYTES,
  RUN_MERGE_BUDGET_EVENTS,
  RUN_READ_CHUNK,
  RUN_WRITE_CHUNK,
  RunEncoder,
  RunFileError,
  readRun,
  runReadFor,
  writeRun,
} from '../../src/timeline/run-file.js';
import { ExternalSorter, MAX_MERGE_FAN_IN } from '../../src/timeline/spill.js';
import { compareEvents } from '../../src/timeline/order.js';
import { tempDir } from '../helpers/corpus.js';
import { ev, randomEvents, T0 } from './helpers.js';

const work = tempDir('flotsam-run-file-');
afterAll(() => work.cleanup());
let seq = 0;

async function roundTrip(events: TimelineEvent[], batch = 100): Promise<{ back: TimelineEvent[]; bytes: number; batches: number; largest: number }> {
  const p = path.join(work.dir, `r${seq++}.run`);
  const batches: TimelineEvent[][] = [];
  for (let i = 0; i < events.length; i += batch) batches.push(events.slice(i, i + batch));
  await writeRun(p, batches);
  const back: TimelineEvent[] = [];
  let n = 0;
  let largest = 0;
  for await (const b of readRun(p)) {
    back.push(...b);
    n++;
    largest = Math.max(largest, b.length);
  }
  return { back, bytes: fs.statSync(p).size, batches: n, largest };
}

describe('run files', () => {
  it('round-trip every field, hostile values included', async () => {
    const shared = Object.freeze({ stream: 'stdout', docker: { tag: 'x' } });
    const events: TimelineEvent[] = [
      { ...ev(-5n), container_id: 'c', container_name: 'n', inode: 2n ** 70n, line: 3, offset: 0, attrs: { a: 1n, nested: { b: [2n, 'x', null] }, s: 'é"\n' } },
      ev(T0),
      { ...ev(10n ** 30n), message: 'lone \ud800 surrogate and \udfff', raw_time: '\ud83d', path: '/p/\udc00', host: 'h\u2028' },
      { ...ev(-(10n ** 25n)), inode: -1n, line: -0.5, offset: 2 ** 60, message: '', raw_time: '' },
      { ...ev(T0 + 1n), inode: 2n ** 64n - 1n, attrs: shared, message: 'x'.repeat(3 * RUN_WRITE_CHUNK) + 'é' },
      { ...ev(T0 + 2n), attrs: shared, message: '\u{1F600}'.repeat(RUN_READ_CHUNK) },
      { ...ev(T0 + 3n), attrs: { k: 'v' }, container_id: '', container_name: '' },
    ];
    const { back } = await roundTrip(events, 3);
    expect(back).toEqual(events);
    // Frozen attrs are defined once and shared again on the way back.
    expect(back[4].attrs).toBe(back[5].attrs);
    expect(Object.isFrozen(back[4].attrs)).toBe(true);
  });

  it('round-trip 20,000 random events in batches of RUN_BATCH or less, far smaller than JSON lines', async () => {
    const events = randomEvents(20_000, 7, { hosts: 5, paths: 40 });
    const { back, bytes, batches, largest } = await roundTrip(events, 333);
    expect(back).toEqual(events);
    expect(batches).toBe(Math.ceil(events.length / RUN_BATCH));
    expect(largest).toBe(RUN_BATCH);
    const jsonBytes = events.reduce((n, e) => n + JSON.stringify({ ...e, time: String(e.time), inode: String(e.inode) }, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)).length + 1, 0);
    expect(bytes).toBeLessThan(jsonBytes * 0.7);
  });

  it('runs merged together are read in smaller batches and buffers the more there are (shared budgets)', async () => {
    expect(runReadFor(1)).toEqual({ batchEvents: RUN_BATCH, readBytes: RUN_READ_CHUNK });
    expect(runReadFor(0)).toEqual({ batchEvents: RUN_BATCH, readBytes: RUN_READ_CHUNK });
    expect(runReadFor(8)).toEqual({ batchEvents: RUN_BATCH, readBytes: RUN_READ_CHUNK });
    expect(runReadFor(64)).toEqual({ batchEvents: RUN_MERGE_BUDGET_EVENTS / 64, readBytes: RUN_MERGE_BUDGET_BYTES / 64 });
    // At the largest fan-in each run keeps the floors: 256 batches of 256 events, 256 buffers of 64 KiB.
    expect(runReadFor(MAX_MERGE_FAN_IN)).toEqual({ batchEvents: MIN_RUN_BATCH, readBytes: MIN_RUN_READ_CHUNK });
    expect(runReadFor(100).readBytes).toBe(128 * 1024); // a power of two within the share
    const events = randomEvents(5000, 3, { hosts: 2, paths: 5 });
    const p = path.join(work.dir, `r${seq++}.run`);
    await writeRun(p, [events]);
    const sizes: number[] = [];
    const back: TimelineEvent[] = [];
    // A read buffer far smaller than one record: each record gets a buffer of its own size.
    for await (const b of readRun(p, { batchEvents: 700, readBytes: 16 })) {
      sizes.push(b.length);
      back.push(...b);
    }
    expect(back).toEqual(events);
    expect(sizes).toEqual([700, 700, 700, 700, 700, 700, 700, 100]);
    await expect(readRun(p, { batchEvents: 0, readBytes: 1024 }).next()).rejects.toThrow(RangeError);
    await expect(readRun(p, { batchEvents: 10, readBytes: 2 }).next()).rejects.toThrow(RangeError);
    // 40 spilled runs: each comes back in batches of runReadFor(40 + 2 other runs of the same merge).
    const sorter = new ExternalSorter({ tmpDir: work.dir, maxBufferedEvents: 1000 });
    await sorter.add(randomEvents(40_000, 5, { hosts: 2, paths: 5 }));
    expect(sorter.runCount).toBe(40);
    const streams = sorter.sortedStreams(2);
    expect(streams).toHaveLength(40);
    for await (const b of streams[0]) {
      expect(b.length).toBe(runReadFor(42).batchEvents);
      expect(runReadFor(42).batchEvents).toBeLessThan(1000);
      break;
    }
    await sorter.dispose();
  });

  it('the sorter merges runs into bigger ones past its fan-in, and refuses a fan-in below 2', async () => {
    expect(() => new ExternalSorter({ tmpDir: work.dir, maxMergeFanIn: 1 })).toThrow(RangeError);
    const all = randomEvents(2000, 9, { hosts: 2, paths: 5 });
    const sorter = new ExternalSorter({ tmpDir: work.dir, maxBufferedEvents: 50, maxMergeFanIn: 8 });
    await sorter.add(all);
    expect(sorter.runCount).toBeLessThan(8);
    expect(sorter.spilledRuns).toBeGreaterThan(40);
    const back: TimelineEvent[] = [];
    for (const stream of sorter.sortedStreams()) for await (const b of stream) back.push(...b);
    expect(back.sort(compareEvents)).toEqual(all.slice().sort(compareEvents));
    await sorter.dispose();
  });

  it('more distinct strings than MAX_RUN_TABLE_ENTRIES: the tables start over, events stay exact', async () => {
    const events: TimelineEvent[] = [];
    for (let i = 0; i < MAX_RUN_TABLE_ENTRIES + 5000; i++) {
      events.push({ ...ev(T0 + BigInt(i)), path: `/unique/${i}`, attrs: Object.freeze({ i }), container_id: i % 2 ? 'same' : `id${i}` });
    }
    const { back } = await roundTrip(events, 4096);
    expect(back).toEqual(events);
  });

  it('bound(ev) is never below what encode(ev) writes, in the worst case (every string new, 3-byte UTF-8, resets)', () => {
    const enc = new RunEncoder();
    const known = Object.freeze({ k: 'v' });
    let u = 0;
    // One CJK character (3 bytes of UTF-8, bound()'s worst case) never seen before in this run, until the tables reset.
    const fresh = (): string => String.fromCharCode(0x4e00 + (u++ % 20_000));
    let worst = -Infinity;
    for (let i = 0; i < 30_000; i++) {
      const e: TimelineEvent = {
        time: BigInt(i),
        timestamp_desc: fresh(),
        source: fresh(),
        host: fresh(),
        container_id: fresh(),
        container_name: fresh(),
        path: fresh(),
        message: fresh(),
        raw_time: fresh(),
        inode: BigInt(i),
        line: i,
        offset: i,
        attrs: i % 100 === 0 ? { [fresh()]: 10n ** 30n } : known,
      };
      enc.pos = 0;
      const bound = enc.bound(e);
      enc.grow(bound);
      enc.encode(e);
      worst = Math.max(worst, enc.pos - bound);
    }
    expect(worst).toBeLessThanOrEqual(0);
    // And the bound is tight: these events use its fixed part to within 64 bytes.
    expect(worst).toBeGreaterThan(-64);
  });

  it('a damaged run is a RunFileError, never a wrong event', async () => {
    const p = path.join(work.dir, 'damaged.run');
    await writeRun(p, [[ev(T0), { ...ev(T0 + 1n), message: 'second' }]]);
    const good = fs.readFileSync(p);
    const readAll = async (bytes: Uint8Array): Promise<TimelineEvent[]> => {
      fs.writeFileSync(p, bytes);
      const out: TimelineEvent[] = [];
      for await (const b of readRun(p)) out.push(...b);
      return out;
    };
    await expect(readAll(good.subarray(0, good.length - 3))).rejects.toThrow(RunFileError);
    const badLength = Buffer.from(good);
    badLength.writeUInt32LE(0xffffffff, 0);
    await expect(readAll(badLength)).rejects.toThrow(/record length/);
    const badKind = Buffer.from(good);
    badKind[4] = 99;
    await expect(readAll(badKind)).rejects.toThrow(/unknown record kind 99/);
    expect(await readAll(good)).toHaveLength(2);
  });
});
