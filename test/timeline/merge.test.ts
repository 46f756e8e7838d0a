import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../../src/events/event.js';
import {
  compareEvents,
  mergeOrdered,
  readTimelineJsonl,
  reorderWindow,
  SourceOrderError,
  StreamOrderError,
} from '../../src/timeline/index.js';
import { JsonlTimelineSink, TimelineJsonEncoder } from '../../src/writers/index.js';
import { ev, randomEvents, rng, T0 } from './helpers.js';

async function* batches(events: TimelineEvent[], size: number): AsyncGenerator<TimelineEvent[]> {
  for (let i = 0; i < events.length; i += size) yield events.slice(i, i + size);
}
async function collect(it: AsyncIterable<TimelineEvent[]>): Promise<TimelineEvent[]> {
  const out: TimelineEvent[] = [];
  for await (const b of it) out.push(...b);
  return out;
}
const enc = new TimelineJsonEncoder();
const lines = (events: TimelineEvent[]): string[] => events.map((e) => enc.encode(e));

describe('mergeOrdered', () => {
  it('merges sorted streams of any batching, stable on ties by stream order', async () => {
    const a = [ev(T0, { message: 'a1' }), ev(T0 + 2n, { message: 'x' }), ev(T0 + 4n)];
    const b = [ev(T0 + 1n), ev(T0 + 2n, { message: 'x' }), ev(T0 + 3n)];
    const out = await collect(mergeOrdered([batches(a, 1), batches([], 1), batches(b, 2)]));
    expect(out.map((e) => e.time - T0)).toEqual([0n, 1n, 2n, 2n, 3n, 4n]);
    expect(out[2]).toBe(a[1]);
    expect(out[3]).toBe(b[1]);
  });

  it('handles many streams and long runs from one stream', async () => {
    const all = randomEvents(20_000, 9).sort(compareEvents);
    const parts: TimelineEvent[][] = Array.from({ length: 37 }, () => []);
    all.forEach((e, i) => parts[Math.floor(i / 300) % 37].push(e));
    const out = await collect(mergeOrdered(parts.map((p, i) => batches(p, 1 + i))));
    expect(lines(out)).toEqual(lines(all));
  });

  it('closes the inputs when the consumer stops early', async () => {
    let closed = 0;
    async function* src(): AsyncGenerator<TimelineEvent[]> {
      try {
        for (let i = 0; i < 100; i++) yield [ev(T0 + BigInt(i))];
      } finally {
        closed++;
      }
    }
    for await (const b of mergeOrdered([src(), src()])) {
      expect(b.length).toBeGreaterThan(0);
      break;
    }
    expect(closed).toBe(2);
  });

  it('verify: reports the unsorted stream', async () => {
    const good = [ev(T0), ev(T0 + 10n)];
    const bad = [ev(T0 + 5n), ev(T0 + 1n)];
    await expect(collect(mergeOrdered([batches(good, 1), batches(bad, 1)], { verify: true }))).rejects.toSatisfy(
      (e: unknown) => e instanceof StreamOrderError && e.streamIndex === 1,
    );
  });
});

describe('reorderWindow', () => {
  it('sorts inversions inside the window and throws SourceOrderError beyond it', async () => {
    const evs = Array.from({ length: 5000 }, (_, i) => ev(T0 + BigInt(i)));
    [evs[100], evs[150]] = [evs[150], evs[100]];
    const out = await collect(reorderWindow('s', batches(evs, 3), 64));
    expect(out.map((e) => e.time)).toEqual(evs.map((e) => e.time).sort((a, b) => (a < b ? -1 : 1)));
    const late = evs.slice();
    late.push(ev(T0 - 1n));
    await expect(collect(reorderWindow('s', batches(late, 3), 64))).rejects.toBeInstanceOf(SourceOrderError);
  });

  it('sorts disordered input by the Array#sort fallback, without quadratic insertion (guard)', async () => {
    // Reversed and shuffled chunks: insertion sort would need ~n^2/4 moves; the move budget hands them to sort().
    const n = 40_000;
    const reversed = Array.from({ length: n }, (_, i) => ev(T0 + BigInt(n - i)));
    const t0 = performance.now();
    const out = await collect(reorderWindow('s', batches(reversed, n), n));
    expect(performance.now() - t0).toBeLessThan(5000); // a generous bound: ~n^2/4 = 4e8 moves would take far longer
    expect(out.map((e) => e.time)).toEqual(reversed.map((e) => e.time).sort((a, b) => (a < b ? -1 : 1)));
    const r = rng(5);
    const near = Array.from({ length: 20_000 }, (_, i) => ev(T0 + BigInt(i * 10 + Math.floor(r() * 40))));
    const sorted = near.map((e) => e.time).sort((a, b) => (a < b ? -1 : 1));
    expect((await collect(reorderWindow('s', batches(near, 7), 64))).map((e) => e.time)).toEqual(sorted);
    expect((await collect(reorderWindow('s', batches(near, 7), 64, undefined, 1))).map((e) => e.time)).toEqual(sorted);
  });

  it('does not modify the caller batches', async () => {
    const batch = [ev(T0 + 2n), ev(T0 + 1n)];
    await collect(reorderWindow('s', batches(batch, 2), 4));
    expect(batch[0].time).toBe(T0 + 2n);
  });
});

describe('readTimelineJsonl', () => {
  it('reads our JSONL back: events equal (bigint attrs as strings) and rewriting gives the same bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flotsam-jsonl-'));
    try {
      const evs: TimelineEvent[] = [
        ...randomEvents(10_000, 4).sort(compareEvents),
        ev(-62_200_000_000n * 1_000_000_000n, { message: 'year -1' }),
        ev(260_000_000_000n * 1_000_000_000n + 7n, { message: 'year 10000+' }),
        ev(T0, { inode: 2n ** 60n, attrs: { message: 'attr named message', attr_x: 1, plain: true, tag: ['a'] } }),
      ].sort(compareEvents);
      const p1 = join(dir, 'a.jsonl');
      const s1 = new JsonlTimelineSink(p1);
      s1.write(evs);
      await s1.close();
      const back = await collect(readTimelineJsonl(p1));
      expect(back).toHaveLength(evs.length);
      const special = back.find((e) => e.inode === 2n ** 60n);
      expect(special?.attrs).toEqual({ message: 'attr named message', attr_x: 1, plain: true, tag: ['a'] });
      expect(back.map((e) => e.time)).toEqual(evs.map((e) => e.time));
      const bigintAttrs = back.find((e) => e.attrs?.big !== undefined);
      expect(typeof bigintAttrs?.attrs?.big).toBe('string');
      const p2 = join(dir, 'b.jsonl');
      const s2 = new JsonlTimelineSink(p2);
      s2.write(back);
      await s2.close();
      const { readFile } = await import('node:fs/promises');
      expect(await readFile(p2, 'utf8')).toBe(await readFile(p1, 'utf8'));
      // Merging two read-back files equals sorting their union.
      const merged = await collect(mergeOrdered([readTimelineJsonl(p1), readTimelineJsonl(p2)], { verify: true }));
      expect(merged).toHaveLength(2 * evs.length - 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names file and line on bad input', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flotsam-jsonl-'));
    try {
      const p = join(dir, 'bad.jsonl');
      await writeFile(p, '\n{"message":"m"}\n');
      await expect(collect(readTimelineJsonl(p))).rejects.toThrow(/bad\.jsonl:2: field datetime is missing/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
