// A fallback finds the other ordered sources that fail their windows by reading them on (a few batches after the
// first failure, to the end after a second), so a clock set back on a host with many containers costs one or two
// reruns of the merge, not one per container (src/timeline/live-sources.ts).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventSource } from '../../src/collectors/types.js';
import type { TimelineEvent } from '../../src/events/event.js';
import { buildTimeline, compareEvents } from '../../src/timeline/index.js';
import { FallbackSignal, FIRST_PROBE_BATCHES, LiveSource } from '../../src/timeline/live-sources.js';
import { reorderWindow, SourceOrderError } from '../../src/timeline/reorder.js';
import { TimelineJsonEncoder } from '../../src/writers/index.js';
import { ev, MemorySink, T0 } from './helpers.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'flotsam-live-test-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const enc = new TimelineJsonEncoder();
const lines = (events: TimelineEvent[]): string[] => events.map((e) => enc.encode(e));

/**
 * A source that counts how often it is opened, how often a reader let go of it (finished or closed), and how many
 * batches each opening handed out.
 */
function countedSource(
  id: string,
  events: TimelineEvent[],
  batch = 50,
): EventSource & { opens: number; ends: number; batchesPerOpen: number[] } {
  const s = {
    id,
    ordered: true,
    opens: 0,
    ends: 0,
    batchesPerOpen: [] as number[],
    async *open(): AsyncGenerator<TimelineEvent[]> {
      s.opens++;
      const open = s.batchesPerOpen.push(0) - 1;
      try {
        for (let i = 0; i < events.length; i += batch) {
          s.batchesPerOpen[open]++;
          yield events.slice(i, i + batch);
        }
      } finally {
        s.ends++;
      }
    },
  };
  return s;
}

/** Time between two lines of a log. */
const LINE_NS = 10_000_000n;

/** One container's log on a host whose clock was set back by `backNs` after `stepAt` of its `n` lines. */
function steppedLog(i: number, n: number, stepAt: number, backNs: bigint): TimelineEvent[] {
  return Array.from({ length: n }, (_, k) => {
    const t = T0 + BigInt(k) * LINE_NS + BigInt(i) - (k >= stepAt ? backNs : 0n);
    return ev(t, { path: `/c${i}`, line: k });
  });
}

describe('fallback probe', () => {
  it('a clock set back on the host: every container log fails at once, and the merge runs twice, not 31 times', async () => {
    const all: TimelineEvent[] = [];
    const sources = [];
    for (let i = 0; i < 30; i++) {
      const evs = steppedLog(i, 400, 200 + i, 150n * LINE_NS); // each steps back 1.5 s (150 lines), near the middle
      all.push(...evs);
      sources.push(countedSource(`c${i}`, evs));
    }
    const honestEvents = steppedLog(99, 400, 400, 0n);
    all.push(...honestEvents);
    const honest = countedSource('honest', honestEvents);
    sources.push(honest);
    const sink = new MemorySink();
    const fell: string[] = [];
    const stats = await buildTimeline(sources, [sink], { tmpDir: tmp, reorderWindow: 8, onFallback: (id) => fell.push(id) });
    // The first to trip the merge; the others stand at the same moment and trip within the probe's few batches.
    expect(sink.resets).toBe(1);
    expect(stats.passes).toBe(2);
    expect(stats.fallbacks).toHaveLength(30);
    expect([...stats.fallbacks].sort()).toEqual(sources.slice(0, 30).map((s) => s.id).sort());
    expect(fell).toEqual(stats.fallbacks);
    // After the one that tripped the merge, the probed ones in source order.
    const probed = stats.fallbacks.slice(1);
    expect(probed).toEqual([...probed].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
    expect(lines(sink.events)).toEqual(lines(all.sort(compareEvents)));
    // Each log is opened once per pass it takes part in, plus once into the sorter.
    for (const s of sources) expect(s.opens).toBe(2);
    for (const s of sources) expect(s.ends).toBe(s.opens);
    expect(stats.timeStepsBack).toHaveLength(30);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('finds failures in sources the pass had not opened yet (groups beyond the open-source limit)', async () => {
    const all: TimelineEvent[] = [];
    const sources = [];
    for (let i = 0; i < 12; i++) {
      const evs = steppedLog(i, 300, i % 2 === 1 ? 150 : 300, 100n * LINE_NS); // the odd ones step back
      all.push(...evs);
      sources.push(countedSource(`g${i}`, evs, 20));
    }
    const sink = new MemorySink();
    const stats = await buildTimeline(sources, [sink], { tmpDir: tmp, reorderWindow: 4, maxOpenSources: 4 });
    // g1 trips its group's merge, the probe of that group's few batches finds g3; the rerun trips on g5, and its
    // full probe finds g7, g9 and g11, the last two in groups that pass had not opened yet.
    expect(sink.resets).toBe(2);
    expect([...stats.fallbacks].sort()).toEqual(['g1', 'g11', 'g3', 'g5', 'g7', 'g9']);
    expect(lines(sink.events)).toEqual(lines(all.sort(compareEvents)));
    for (const s of sources) expect(s.ends).toBe(s.opens);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('after one tampered log the others are read on a few batches only, not to their end', async () => {
    const liar = countedSource('liar', steppedLog(0, 3000, 100, 100n * LINE_NS), 10);
    const honest = Array.from({ length: 20 }, (_, i) => countedSource(`h${i}`, steppedLog(i + 1, 3000, 3000, 0n), 10));
    const sink = new MemorySink();
    const stats = await buildTimeline([liar, ...honest], [sink], { tmpDir: tmp, reorderWindow: 4 });
    expect(stats.fallbacks).toEqual(['liar']);
    expect(stats.passes).toBe(2);
    for (const h of honest) {
      // The failed pass stopped near the start: each honest log handed out a few windows' worth, far from its 300.
      expect(h.batchesPerOpen[0]).toBeLessThan(300 / 4);
      expect(h.batchesPerOpen[1]).toBe(300);
      expect(h.ends).toBe(h.opens);
    }
    expect(FIRST_PROBE_BATCHES).toBeGreaterThanOrEqual(1);
    expect(stats.events).toBe(21 * 3000);
  });

  it('a source that fails with another error during the probe fails the build, and every source is let go', async () => {
    const liar = countedSource('liar', steppedLog(0, 300, 100, 100n * LINE_NS));
    const liar2 = countedSource('liar2', steppedLog(2, 3000, 2000, 100n * LINE_NS));
    const broken: EventSource & { opens: number; ends: number } = {
      id: 'broken',
      ordered: true,
      opens: 0,
      ends: 0,
      async *open(): AsyncGenerator<TimelineEvent[]> {
        broken.opens++;
        try {
          // Far behind when a liar trips the merge; breaks only when read on to its end.
          for (let k = 0; k < 40; k++) yield steppedLog(1, 4000, 4000, 0n).slice(k * 100, k * 100 + 100);
          throw new Error('disk read error');
        } finally {
          broken.ends++;
        }
      },
    };
    const sink = new MemorySink();
    const build = buildTimeline([liar, broken, liar2], [sink], { tmpDir: tmp, reorderWindow: 4 });
    await expect(build).rejects.toThrow('disk read error');
    // The pass the first liar tripped read it on a few batches only; the next pass tripped on liar2 late, and its
    // full probe read broken to its end.
    expect(broken.opens).toBe(2);
    for (const s of [liar, liar2, broken]) expect(s.ends).toBe(s.opens);
    expect(sink.closed).toBe(1);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('LiveSource: the merge cannot close it, a probe reads it on, close() lets it go once', async () => {
    const src = countedSource('s', steppedLog(0, 100, 50, 100n * LINE_NS), 10);
    const live = new LiveSource(7, reorderWindow('s', src.open(), 4, undefined, 4));
    const it = live.view()[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    await it.return?.();
    expect(src.ends).toBe(0);
    const err = await live.probe();
    expect(err).toBeInstanceOf(SourceOrderError);
    expect(src.ends).toBe(1);
    await live.close();
    expect(src.ends).toBe(1);
    // Through the view, the same failure is a FallbackSignal naming the source.
    const again = new LiveSource(3, reorderWindow('s', countedSource('s', steppedLog(0, 100, 50, 100n * LINE_NS), 10).open(), 4, undefined, 4));
    const view = again.view()[Symbol.asyncIterator]();
    let signal: unknown;
    try {
      for (;;) if ((await view.next()).done) break;
    } catch (e) {
      signal = e;
    }
    expect(signal).toBeInstanceOf(FallbackSignal);
    expect((signal as FallbackSignal).sourceIndex).toBe(3);
  });
});
