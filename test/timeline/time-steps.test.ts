// Times going back inside a log (time-steps.ts, build.ts): steps of a second or more, found in file order
// whatever the reorder window, complete for sources that fell back to the full sort.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../../src/events/event.js';
import { buildTimeline, MAX_TIME_STEPS_PER_SOURCE, MIN_TIME_STEP_BACK_NS, TimeStepWatch } from '../../src/timeline/index.js';
import { ev, listSource, MemorySink, T0 } from './helpers.js';

const S = 1_000_000_000n;
/** Events of one file at these times (ns after T0), lines 1.. */
const at = (path: string, ...offsets: bigint[]): TimelineEvent[] => offsets.map((o, i) => ev(T0 + o, { path, line: i + 1 }));
const lineOf = (e: TimelineEvent): number | undefined => e.line;

describe('TimeStepWatch', () => {
  it('reports steps back of at least a second, across batches; smaller inversions are not steps', () => {
    const w = new TimeStepWatch('f');
    const evs = at('/f', 0n, 10n * S, 10n * S - MIN_TIME_STEP_BACK_NS + 1n, 11n * S, 11n * S - MIN_TIME_STEP_BACK_NS, 12n * S);
    w.see(evs.slice(0, 2));
    w.see(evs.slice(2));
    expect(w.steps.map((s) => [lineOf(s.before), lineOf(s.after)])).toEqual([[4, 5]]);
    expect(w.more).toBe(0);
  });

  it('a step starts a new clock: the lines after it are not steps again', () => {
    const w = new TimeStepWatch('f');
    // 100 s, then the clock is set back an hour and runs on.
    w.see(at('/f', 100n * S, 101n * S, -3600n * S, -3599n * S, -3598n * S, 102n * S, 50n * S));
    expect(w.steps.map((s) => lineOf(s.after))).toEqual([3, 7]);
  });

  it('a wall time in a daylight-saving overlap (tz_ambiguous, read as the earlier instant) is not a step', () => {
    const w = new TimeStepWatch('syslog');
    // 02:59:59 CEST, then 02:00:00 and 02:30:00 the second time (read as CEST: an hour back), then 03:00 CET.
    const evs = at('/var/log/syslog', 3599n * S, 0n, 1800n * S, 7200n * S);
    evs[1].attrs = { tz_ambiguous: true };
    evs[2].attrs = { tz_ambiguous: true };
    w.see(evs);
    expect(w.steps).toEqual([]);
    // Without the mark the same times are a step.
    const plain = new TimeStepWatch('syslog');
    plain.see(at('/var/log/syslog', 3599n * S, 0n, 1800n * S, 7200n * S));
    expect(plain.steps.map((s) => lineOf(s.after))).toEqual([2]);
  });

  it('keeps MAX_TIME_STEPS_PER_SOURCE steps and counts the rest', () => {
    const w = new TimeStepWatch('f');
    const offsets: bigint[] = [];
    for (let i = 0; i < 40; i++) offsets.push(10n * S, 0n);
    w.see(at('/f', ...offsets));
    expect(w.steps).toHaveLength(MAX_TIME_STEPS_PER_SOURCE);
    expect(w.more).toBe(40 - MAX_TIME_STEPS_PER_SOURCE);
  });
});

describe('buildTimeline time steps back', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'flotsam-steps-'));
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('the same steps whatever the window, for sources kept live and for one that fell back', async () => {
    // a: one step inside what any window absorbs (2 lines), b: an hour back after 300 lines (falls back with a
    // small window), c: none.
    const a = at('/a', 0n, 5n * S, 2n * S, 6n * S);
    const bOffsets: bigint[] = [];
    for (let i = 0; i < 300; i++) bOffsets.push(4000n * S + BigInt(i));
    for (let i = 0; i < 300; i++) bOffsets.push(400n * S + BigInt(i));
    const b = at('/b', ...bOffsets);
    const c = at('/c', 1n, 2n, 3n);
    const runs: Array<{ steps: Array<[string, number | undefined, number | undefined]>; fallbacks: string[] }> = [];
    for (const reorderWindow of [1, 16, 1000]) {
      const sources = [listSource('a', a, true, 3), listSource('b', b, true, 50), listSource('c', c, true)];
      const sink = new MemorySink();
      const stats = await buildTimeline(sources, [sink], { tmpDir: tmp, reorderWindow });
      expect(sink.events).toHaveLength(a.length + b.length + c.length);
      runs.push({
        steps: stats.timeStepsBack.map((s) => [s.sourceId, lineOf(s.before), lineOf(s.after)]),
        fallbacks: stats.fallbacks,
      });
      expect(stats.moreTimeStepsBack).toBe(0);
    }
    expect(runs[0].steps).toEqual([
      ['a', 2, 3],
      ['b', 300, 301],
    ]);
    expect(runs[1].steps).toEqual(runs[0].steps);
    expect(runs[2].steps).toEqual(runs[0].steps);
    expect(runs[0].fallbacks).toContain('b');
    expect(runs[2].fallbacks).toEqual([]);
  });

  it('unordered sources are not watched (they promise no order)', async () => {
    const stats = await buildTimeline([listSource('u', at('/u', 10n * S, 0n), false)], [new MemorySink()], { tmpDir: tmp });
    expect(stats.timeStepsBack).toEqual([]);
  });
});
