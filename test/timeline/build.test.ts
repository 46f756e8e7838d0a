import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../../src/events/event.js';
import type { EventSource } from '../../src/collectors/types.js';
import { arraySource } from '../../src/collectors/types.js';
import { buildTimeline, compareEvents, isSorted, MAX_OPEN_ORDERED_SOURCES } from '../../src/timeline/index.js';
import { LIVE_SOURCES_BUFFER_BYTES, liveSourceShares } from '../../src/timeline/build.js';
import type { ReadBudget } from '../../src/collectors/types.js';
import { CsvTimelineSink, JsonArrayTimelineSink, JsonlTimelineSink, TimelineJsonEncoder } from '../../src/writers/index.js';
import { ev, listSource, MemorySink, randomEvents, rng, shuffle, T0 } from './helpers.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'flotsam-tl-test-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The documented key order, written independently of order.ts (first nine keys). */
function docKey(e: TimelineEvent): Array<bigint | string | number> {
  return [e.time, e.host, e.path, e.line ?? -1, e.offset ?? -1, e.source, e.timestamp_desc, e.message, e.container_id ?? ''];
}
function docCompare(a: TimelineEvent, b: TimelineEvent): number {
  const ka = docKey(a);
  const kb = docKey(b);
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
  return 0;
}
function expectDocSorted(events: TimelineEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    if (docCompare(events[i - 1], events[i]) > 0) throw new Error(`out of order at ${i}`);
  }
}
const enc = new TimelineJsonEncoder();
const lines = (events: TimelineEvent[]): string[] => events.map((e) => enc.encode(e));

function sortedTimes(n: number, start: bigint, step: bigint, path: string): TimelineEvent[] {
  return Array.from({ length: n }, (_, i) => ev(start + BigInt(i) * step, { path, line: i }));
}

describe('buildTimeline', () => {
  it('merges ordered sources without spilling', async () => {
    const a = listSource('a', sortedTimes(500, T0, 3n, '/a'), true, 13);
    const b = listSource('b', sortedTimes(400, T0 + 1n, 5n, '/b'), true, 1);
    const c = listSource('c', [], true);
    const sink = new MemorySink();
    const stats = await buildTimeline([a, b, c], [sink], { tmpDir: tmp });
    expect(stats.events).toBe(900);
    expect(stats.spilledRuns).toBe(0);
    expect(stats.fallbacks).toEqual([]);
    expect(stats.countsBySource).toEqual({ 'docker:json-log': 900 });
    expect(sink.events).toHaveLength(900);
    expectDocSorted(sink.events);
    expect(a.opens).toBe(1);
    expect(sink.closed).toBe(1);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('fixes small local inversions in ordered sources with the reorder window', async () => {
    const r = rng(7);
    const base = sortedTimes(5000, T0, 10n, '/x');
    // Swap events up to 100 positions apart (stdout/stderr interleaving).
    const evs = base.slice();
    for (let i = 0; i < evs.length - 100; i += 50) {
      const j = i + 1 + Math.floor(r() * 99);
      [evs[i], evs[j]] = [evs[j], evs[i]];
    }
    const src = listSource('x', evs, true, 3);
    const sink = new MemorySink();
    const stats = await buildTimeline([src, listSource('y', sortedTimes(100, T0 + 5n, 7n, '/y'), true)], [sink], {
      tmpDir: tmp,
      reorderWindow: 128,
    });
    expect(stats.fallbacks).toEqual([]);
    expect(src.opens).toBe(1);
    expect(sink.resets).toBe(0);
    expect(sink.events).toHaveLength(5100);
    expectDocSorted(sink.events);
  });

  it('falls back when an ordered source lies, resets the sinks and still produces sorted output', async () => {
    const good = sortedTimes(3000, T0, 10n, '/good');
    const lie = sortedTimes(3000, T0 + 3n, 10n, '/lie');
    lie.push(ev(T0 - 100n, { path: '/lie', line: 99999 })); // far older than everything, at the very end
    const lie2 = sortedTimes(3000, T0 + 4n, 10n, '/lie2');
    // Far older than its neighbours, in the middle: events up to ~T0+25000 were released before it arrives.
    lie2.splice(2500, 0, ev(T0 + 1000n, { path: '/lie2', line: -5 }));
    const liar = listSource('liar', lie, true, 100);
    const liar2 = listSource('liar2', lie2, true, 100);
    const honest = listSource('honest', good, true, 100);
    const sink = new MemorySink();
    const progress: number[] = [];
    const fell: string[] = [];
    const stats = await buildTimeline([honest, liar, liar2], [sink], {
      tmpDir: tmp,
      reorderWindow: 16,
      onProgress: (n) => progress.push(n),
      onFallback: (id) => fell.push(id),
    });
    expect(stats.fallbacks.slice().sort()).toEqual(['liar', 'liar2']);
    expect(fell).toEqual(stats.fallbacks);
    // liar2 trips the first pass mid-way; liar lies only at its very end, beyond the first probe's few batches,
    // so it trips the second pass, whose probe reads everything to the end: there is no third rerun.
    expect(sink.resets).toBe(2);
    expect(stats.passes).toBe(3);
    expect(stats.events).toBe(9002);
    expect(sink.events).toHaveLength(9002);
    expectDocSorted(sink.events);
    expect(lines(sink.events)).toEqual(lines([...good, ...lie, ...lie2].sort(compareEvents)));
    expect(progress[progress.length - 1]).toBe(9002);
  });

  it('sorts unordered sources with a tiny buffer, spilling runs and cleaning the temp dir', async () => {
    const all = randomEvents(3000, 11);
    const sources = [0, 1, 2].map((k) => listSource(`u${k}`, all.filter((_, i) => i % 3 === k), false, 17));
    const sink = new MemorySink();
    const stats = await buildTimeline(sources, [sink], { tmpDir: tmp, maxBufferedEvents: 10 });
    // 300 runs of 10 events: more than MAX_MERGE_FAN_IN, so merge passes happened too.
    expect(stats.spilledRuns).toBeGreaterThan(300);
    expect(sink.events).toHaveLength(3000);
    expect(lines(sink.events)).toEqual(lines(all.slice().sort(compareEvents)));
    expect(await readdir(tmp)).toEqual([]);
  });

  it('spills on the byte budget too', async () => {
    const all = randomEvents(500, 12).map((e) => ({ ...e, message: 'x'.repeat(1000) + e.message }));
    const sink = new MemorySink();
    const stats = await buildTimeline([arraySource('a', all)], [sink], { tmpDir: tmp, maxBufferedBytes: 50_000 });
    expect(stats.spilledRuns).toBeGreaterThan(5);
    expect(lines(sink.events)).toEqual(lines(all.slice().sort(compareEvents)));
  });

  it('keeps small unordered totals in memory (no temp dir)', async () => {
    const sink = new MemorySink();
    const stats = await buildTimeline([arraySource('a', randomEvents(100, 3))], [sink], { tmpDir: tmp });
    expect(stats.spilledRuns).toBe(0);
    expect(await readdir(tmp)).toEqual([]);
    expect(isSorted(sink.events)).toBe(true);
  });

  it('removes the temp dir and closes sinks when a source fails', async () => {
    const bad: EventSource = {
      id: 'bad',
      ordered: false,
      async *open() {
        yield randomEvents(100, 1);
        throw new Error('disk on fire');
      },
    };
    const sink = new MemorySink();
    await expect(
      buildTimeline([arraySource('a', randomEvents(100, 2)), bad], [sink], { tmpDir: tmp, maxBufferedEvents: 10 }),
    ).rejects.toThrow('disk on fire');
    expect(await readdir(tmp)).toEqual([]);
    expect(sink.closed).toBe(1);
  });

  it('applies since (inclusive) and until (exclusive) before sorting', async () => {
    const evs = sortedTimes(100, T0, 10n, '/a');
    const since = T0 + 200n;
    const until = T0 + 500n;
    const sink = new MemorySink();
    const stats = await buildTimeline(
      [listSource('o', evs, true), arraySource('u', shuffle(evs, rng(1)).map((e) => ({ ...e, path: '/u' })))],
      [sink],
      { tmpDir: tmp, since, until },
    );
    expect(stats.events).toBe(60);
    expect(sink.events.every((e) => e.time >= since && e.time < until)).toBe(true);
    expect(sink.events[0].time).toBe(since);
    expect(sink.events[sink.events.length - 1].time).toBe(until - 10n);
  });

  it('writes byte-identical files whatever the order and batching of sources', async () => {
    const r = rng(99);
    // Heavy ties: few distinct times, hosts, paths; exact duplicates; events differing only in attrs/raw_time.
    const base = randomEvents(2000, 5, { span: 3, hosts: 2, paths: 2 });
    base.push(...base.slice(0, 50));
    base.push(ev(T0, { attrs: { a: 1 } }), ev(T0, { attrs: { a: 2 } }), ev(T0, { raw_time: 'z' }), ev(T0));
    const outputs: string[] = [];
    for (let round = 0; round < 4; round++) {
      const evs = shuffle(base, r);
      const k = 6;
      const parts: TimelineEvent[][] = Array.from({ length: k }, () => []);
      evs.forEach((e, i) => parts[(i * 7 + round) % k].push(e));
      const sources = shuffle(
        parts.map((p, i) =>
          i % 2 === 0 ? listSource(`o${i}`, p.sort(compareEvents), true, 1 + round * 5) : listSource(`u${i}`, p, false, 3),
        ),
        r,
      );
      const dir = join(tmp, `r${round}`);
      await (await import('node:fs/promises')).mkdir(dir);
      const sinks = [
        new CsvTimelineSink(join(dir, 'timeline.csv')),
        new JsonlTimelineSink(join(dir, 'timeline.jsonl')),
        new JsonArrayTimelineSink(join(dir, 'timeline.json')),
      ];
      await buildTimeline(sources, sinks, { tmpDir: tmp, maxBufferedEvents: round * 100 + 50 });
      const bytes = await Promise.all(
        ['timeline.csv', 'timeline.jsonl', 'timeline.json'].map((f) => readFile(join(dir, f), 'utf8')),
      );
      outputs.push(bytes.join('\u0000'));
    }
    expect(new Set(outputs).size).toBe(1);
    expect(outputs[0].split('\n').length).toBeGreaterThan(2054);
  });

  it('resets file sinks on fallback so the files hold only the final run', async () => {
    const lie = sortedTimes(5000, T0, 10n, '/lie');
    lie.push(ev(T0 - 1n, { path: '/lie' }));
    const dir = tmp;
    const sinks = [
      new CsvTimelineSink(join(dir, 'timeline.csv')),
      new JsonlTimelineSink(join(dir, 'timeline.jsonl')),
      new JsonArrayTimelineSink(join(dir, 'timeline.json')),
    ];
    const stats = await buildTimeline([listSource('lie', lie, true, 64)], sinks, { tmpDir: tmp, reorderWindow: 4 });
    expect(stats.fallbacks).toEqual(['lie']);
    const csv = await readFile(join(dir, 'timeline.csv'), 'utf8');
    expect(csv.split('\n')).toHaveLength(5001 + 2);
    expect(csv.startsWith('datetime,timestamp,')).toBe(true);
    expect(csv.indexOf('datetime,', 1)).toBe(-1);
    const jsonl = (await readFile(join(dir, 'timeline.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(jsonl).toHaveLength(5001);
    const arr = JSON.parse(await readFile(join(dir, 'timeline.json'), 'utf8')) as unknown[];
    expect(arr).toHaveLength(5001);
  });

  it('pre-merges groups when there are more ordered sources than can stay open, falling back inside a group', async () => {
    const n = MAX_OPEN_ORDERED_SOURCES * 2 + 5;
    const all: TimelineEvent[] = [];
    const sources: EventSource[] = [];
    for (let i = 0; i < n; i++) {
      // f3 is long enough for its window to release events before the late one arrives.
      const evs = sortedTimes(i === 3 ? 3000 : 5, T0 + BigInt(i), 1000n, `/f${i}`);
      if (i === 3) evs.push(ev(T0 - 5n, { path: '/f3' }));
      all.push(...evs);
      sources.push(listSource(`f${i}`, evs, true, 2));
    }
    const sink = new MemorySink();
    const stats = await buildTimeline(sources, [sink], { tmpDir: tmp, reorderWindow: 1 });
    expect(stats.fallbacks).toEqual(['f3']);
    expect(lines(sink.events)).toEqual(lines(all.sort(compareEvents)));
    expect(await readdir(tmp)).toEqual([]);
  });

  it('maxOpenSources: beyond it, groups are pre-merged; the output is the same', async () => {
    const all: TimelineEvent[] = [];
    const sources: EventSource[] = [];
    for (let i = 0; i < 9; i++) {
      const evs = sortedTimes(40, T0 + BigInt(i), 7n, `/g${i}`);
      all.push(...evs);
      sources.push(listSource(`g${i}`, evs, true, 3));
    }
    const sink = new MemorySink();
    const stats = await buildTimeline(sources, [sink], { tmpDir: tmp, maxOpenSources: 4 });
    expect(stats.events).toBe(360);
    expect(lines(sink.events)).toEqual(lines(all.sort(compareEvents)));
    expect(await readdir(tmp)).toEqual([]);
    await expect(buildTimeline([], [], { tmpDir: tmp, maxOpenSources: 1 })).rejects.toThrow(/maxOpenSources/);
  });

  it('hands each ordered source a read budget that shrinks as the live sources grow in number', async () => {
    const seen: Array<ReadBudget | undefined> = [];
    const recording = (id: string): EventSource => ({
      id,
      ordered: true,
      async *open(budget?: ReadBudget) {
        seen.push(budget);
        yield [ev(T0, { path: `/${id}` })];
      },
    });
    await buildTimeline([recording('a'), recording('b')], [new MemorySink()], { tmpDir: tmp });
    expect(seen).toEqual([liveSourceShares(2, 256).budget, liveSourceShares(2, 256).budget]);
    // 200 container logs: the json-file reader's own sizes (128 events, 32 KiB) stay in force.
    expect(liveSourceShares(200, 256)).toEqual({ chunk: 128, window: 199, budget: { batchEvents: 128, bufferBytes: 131072 } });
    // 2000: small chunks and windows, 16 KiB buffers: about 32 MiB of buffers in all.
    expect(liveSourceShares(2000, 256)).toEqual({ chunk: 16, window: 16, budget: { batchEvents: 16, bufferBytes: 16384 } });
    expect(liveSourceShares(4096, 256).budget.bufferBytes * 4096).toBeLessThanOrEqual(LIVE_SOURCES_BUFFER_BYTES);
    expect(liveSourceShares(1, 256).budget.bufferBytes).toBe(1024 * 1024);
    expect(liveSourceShares(1_000_000, 256).budget.bufferBytes).toBe(4096);
    expect(liveSourceShares(1, 8).window).toBe(8);
  });

  it('produces an empty timeline from no events', async () => {
    const sink = new MemorySink();
    const stats = await buildTimeline([listSource('e', [], true), arraySource('u', [])], [sink], { tmpDir: tmp });
    expect(stats).toEqual({ events: 0, countsBySource: {}, spilledRuns: 0, fallbacks: [], timeStepsBack: [], moreTimeStepsBack: 0, passes: 1 });
    expect(sink.events).toEqual([]);
  });

  it('rejects a bad reorder window', async () => {
    await expect(buildTimeline([], [], { tmpDir: tmp, reorderWindow: -1 })).rejects.toThrow(/reorderWindow/);
  });

  it('matches a plain in-memory sort on 1e5 random events (mixed ordered/unordered, spills, inversions)', async () => {
    const r = rng(2024);
    const all = randomEvents(100_000, 42, { span: 50_000, hosts: 4, paths: 8 });
    const k = 12;
    const parts: TimelineEvent[][] = Array.from({ length: k }, () => []);
    for (const e of all) parts[Math.floor(r() * k)].push(e);
    const sources = parts.map((p, i) => {
      if (i % 3 === 0) return listSource(`u${i}`, p, false, 500);
      const s = p.slice().sort(compareEvents);
      // Local perturbation within the window for some, a big lie for one.
      if (i % 3 === 1) for (let j = 0; j + 5 < s.length; j += 40) [s[j], s[j + 5]] = [s[j + 5], s[j]];
      if (i === 2) s.push(s.shift() as TimelineEvent, s.shift() as TimelineEvent);
      return listSource(`o${i}`, s, true, 1 + i * 37);
    });
    const sink = new MemorySink();
    const stats = await buildTimeline(sources, [sink], { tmpDir: tmp, maxBufferedEvents: 4000, reorderWindow: 64 });
    expect(stats.events).toBe(100_000);
    expect(stats.spilledRuns).toBeGreaterThan(0);
    expect(stats.fallbacks).toEqual(['o2']);
    expectDocSorted(sink.events);
    expect(lines(sink.events)).toEqual(lines(all.slice().sort(compareEvents)));
    expect(await readdir(tmp)).toEqual([]);
  });
});
