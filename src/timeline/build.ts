// Builds one globally time-sorted timeline from many event sources, with bounded memory and deterministic bytes.
//
// Design (docs/formats/timeline-outputs.md has the long form):
// - Order: `compareEvents` in order.ts, a total order, so the output never depends on the order of the sources.
// - Ordered sources (EventSource.ordered) are read lazily through a per-source reorder window (reorder.ts) and
//   k-way merged (merge.ts) straight into the sinks: one parse of the data, no disk, in the common case.
// - Unordered sources are read completely first into an external sorter (spill.ts): sorted in memory, spilled
//   to run files under opts.tmpDir only when over budget; the runs join the same merge.
// - Optimistic merge with verified fallback: when an ordered source sends an event older than one already
//   released from its window, the output written so far may be wrong. The merge is abandoned, every sink is
//   reset (its file truncated), the source is re-read into the external sorter as an unordered source, and the
//   merge runs again. The other ordered sources are first read on through their windows to find those that fail
//   too (live-sources.ts: a clock set back fails every container's log at once): a few batches after the first
//   failure, to the end after a second; all of them go to the sorter together. So one tampered log costs one
//   rerun, a clock set back on the whole host one or two, and never more than (ordered sources); the unordered
//   runs already sorted are reused.
// - Time filter: `since` is inclusive, `until` exclusive (since <= time < until), applied as events are read,
//   before any window, sort or spill.
// - Many ordered sources: each one's reorder window, batches and read buffers shrink with their number
//   (liveSourceShares), so the merge's memory stays bounded. Beyond maxOpenSources (file descriptors) they are
//   merged in groups into temporary run files first (still verified by their windows).
//
// The temporary directory is removed when buildTimeline returns or throws. Sinks are closed in both cases.

import type { TimelineEvent } from '../events/event.js';
import type { EventSource, ReadBudget } from '../collectors/types.js';
import type { EventSink } from '../writers/sink.js';
import { mergeOrdered } from './merge.js';
import { FallbackSignal, FIRST_PROBE_BATCHES, LiveSource, probeOrderedSources } from './live-sources.js';
import { DEFAULT_REORDER_WINDOW, REORDER_CHUNK, reorderWindow } from './reorder.js';
import { readRun, type RunReadShare, runReadFor } from './run-file.js';
import { ExternalSorter, MAX_MERGE_FAN_IN } from './spill.js';
import { type TimeStepBack, TimeStepWatch } from './time-steps.js';

export type { EventSink } from '../writers/sink.js';

/**
 * Ordered sources merged live at once by default (TimelineOptions.maxOpenSources); more are pre-merged in groups
 * of this size into temporary runs. Each live source may hold a file descriptor.
 */
export const MAX_OPEN_ORDERED_SOURCES = 1024;
/**
 * Read, feed and inflate buffer bytes of all live ordered sources together: each source's ReadBudget.bufferBytes
 * is this divided by their number (a power of two, between the two bounds below).
 */
export const LIVE_SOURCES_BUFFER_BYTES = 32 * 1024 * 1024;
const MIN_SOURCE_BUFFER_BYTES = 4 * 1024;
const MAX_SOURCE_BUFFER_BYTES = 1024 * 1024;
/**
 * Events held in the reorder windows of all live ordered sources together: each source's share is split into its
 * input chunk (half, at most REORDER_CHUNK) and its window (the rest, at most the reorder window), both shrinking
 * as sources grow in number, so memory stays bounded however many containers a host had.
 */
export const ORDERED_WINDOW_BUDGET_EVENTS = 65_536;

export interface TimelineOptions {
  /** Parent directory for temporary sort runs (a private subdirectory is created only when needed). */
  tmpDir: string;
  /** Inclusive lower bound, ns since the epoch. */
  since?: bigint;
  /** Exclusive upper bound, ns since the epoch. */
  until?: bigint;
  /** External sort budget in events (default DEFAULT_MAX_BUFFERED_EVENTS). */
  maxBufferedEvents?: number;
  /** External sort budget in approximate bytes (default DEFAULT_MAX_BUFFERED_BYTES). */
  maxBufferedBytes?: number;
  /** Events held back per ordered source (default DEFAULT_REORDER_WINDOW). */
  reorderWindow?: number;
  /** Ordered sources open at once (default MAX_OPEN_ORDERED_SOURCES); triage sets it from the descriptor limit. */
  maxOpenSources?: number;
  /** Called after each batch reaches the sinks; restarts from 0 after a fallback. */
  onProgress?: (eventsWritten: number) => void;
  /** Called when an ordered source falls back to the external sort (e.g. to log a warning). */
  onFallback?: (sourceId: string, reason: string) => void;
}

export interface TimelineStats {
  /** Events written to every sink. */
  events: number;
  /** Events written per event `source` (artifact kind, e.g. `docker:json-log`), keys sorted. */
  countsBySource: Record<string, number>;
  /** Temporary run files written (0 when everything fitted in memory). */
  spilledRuns: number;
  /** Ids of ordered sources that broke their promise and were sorted instead, in the order it happened. */
  fallbacks: string[];
  /** Ordered sources whose times go back by a second or more (time-steps.ts), in source order, file order. */
  timeStepsBack: TimeStepBack[];
  /** Further steps back, past MAX_TIME_STEPS_PER_SOURCE per source. */
  moreTimeStepsBack: number;
  /** Merge passes: 1, plus one per rerun after a fallback. */
  passes: number;
}

function timeFilter(since: bigint | undefined, until: bigint | undefined): ((ev: TimelineEvent) => boolean) | undefined {
  if (since !== undefined && until !== undefined) return (ev) => ev.time >= since && ev.time < until;
  if (since !== undefined) return (ev) => ev.time >= since;
  if (until !== undefined) return (ev) => ev.time < until;
  return undefined;
}

/** The largest power of two <= n (n >= 1). */
function floorPowerOfTwo(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

/** What each of `liveCount` ordered sources may hold: its reorder chunk and window, and its ReadBudget. */
export function liveSourceShares(
  liveCount: number,
  window: number,
): { chunk: number; window: number; budget: ReadBudget } {
  const perSource = Math.max(32, Math.floor(ORDERED_WINDOW_BUDGET_EVENTS / Math.max(1, liveCount)));
  const chunk = Math.min(REORDER_CHUNK, Math.max(16, perSource >> 1));
  const bufferBytes = Math.min(
    MAX_SOURCE_BUFFER_BYTES,
    Math.max(MIN_SOURCE_BUFFER_BYTES, floorPowerOfTwo(LIVE_SOURCES_BUFFER_BYTES / Math.max(1, liveCount))),
  );
  return {
    chunk,
    window: Math.min(window, Math.max(16, perSource - chunk)),
    budget: { batchEvents: chunk, bufferBytes },
  };
}

function runStream(path: string, share: RunReadShare): AsyncIterable<TimelineEvent[]> {
  return { [Symbol.asyncIterator]: () => readRun(path, share) };
}

export async function buildTimeline(
  sources: EventSource[],
  sinks: EventSink[],
  opts: TimelineOptions,
): Promise<TimelineStats> {
  const window = opts.reorderWindow ?? DEFAULT_REORDER_WINDOW;
  if (!Number.isInteger(window) || window < 0) throw new RangeError(`reorderWindow ${window}, expected an integer >= 0`);
  const maxOpen = opts.maxOpenSources ?? MAX_OPEN_ORDERED_SOURCES;
  if (!Number.isInteger(maxOpen) || maxOpen < 2) throw new RangeError(`maxOpenSources ${maxOpen}, expected an integer >= 2`);
  const filter = timeFilter(opts.since, opts.until);
  const sorter = new ExternalSorter({
    tmpDir: opts.tmpDir,
    maxBufferedEvents: opts.maxBufferedEvents,
    maxBufferedBytes: opts.maxBufferedBytes,
    // Runs and live sources are merged together, so the runs' descriptors come out of the same budget.
    maxMergeFanIn: Math.min(MAX_MERGE_FAN_IN, Math.max(16, Math.floor(maxOpen / 4))),
  });
  const sortedIndexes = new Set<number>();
  const fallbacks: string[] = [];

  // The watch of each ordered source's latest complete (or current) read, by source index.
  const watches = new Map<number, TimeStepWatch>();
  const watchFor = (i: number): TimeStepWatch => {
    const w = new TimeStepWatch(sources[i].id);
    watches.set(i, w);
    return w;
  };

  async function drain(index: number): Promise<void> {
    const source = sources[index];
    const watch = source.ordered ? watchFor(index) : undefined;
    for await (const batch of source.open()) {
      watch?.see(batch);
      await sorter.add(filter === undefined ? batch : batch.filter(filter));
    }
  }

  let failed = true;
  try {
    for (let i = 0; i < sources.length; i++) {
      if (sources[i].ordered) continue;
      sortedIndexes.add(i);
      await drain(i);
    }
    let pass = 0;
    for (;;) {
      pass++;
      const tempRuns: string[] = [];
      const opened: LiveSource[] = [];
      const share = liveSourceShares(Math.min(maxOpen, sources.length - sortedIndexes.size), window);
      const openWindowed = (i: number, watch?: TimeStepWatch): LiveSource => {
        const s = sources[i];
        return new LiveSource(i, reorderWindow(s.id, s.open(share.budget), share.window, filter, share.chunk, watch));
      };
      try {
        const live: Array<AsyncIterable<TimelineEvent[]>> = [];
        for (let i = 0; i < sources.length; i++) {
          if (sortedIndexes.has(i)) continue;
          const source = openWindowed(i, watchFor(i));
          opened.push(source);
          live.push(source.view());
          if (live.length === maxOpen) {
            // Too many to keep open: merge this group into a temporary run now.
            tempRuns.push(await sorter.writeSortedRun(mergeOrdered(live.splice(0))));
          }
        }
        const runShare = runReadFor(sorter.runCount + tempRuns.length);
        const streams = [...sorter.sortedStreams(tempRuns.length), ...tempRuns.map((p) => runStream(p, runShare)), ...live];
        const counts = new Map<string, number>();
        let written = 0;
        for await (const batch of mergeOrdered(streams)) {
          // Counted in runs of one kind: a batch is mostly one kind, and a Map update per event showed in profiles.
          let kind = '';
          let run = 0;
          for (let j = 0; j < batch.length; j++) {
            const k = batch[j].source;
            if (k === kind) run++;
            else {
              if (run > 0) counts.set(kind, (counts.get(kind) ?? 0) + run);
              kind = k;
              run = 1;
            }
          }
          if (run > 0) counts.set(kind, (counts.get(kind) ?? 0) + run);
          for (const sink of sinks) {
            const r = sink.write(batch);
            if (r !== undefined) await r;
          }
          written += batch.length;
          opts.onProgress?.(written);
        }
        const countsBySource: Record<string, number> = {};
        for (const k of [...counts.keys()].sort()) countsBySource[k] = counts.get(k) as number;
        failed = false;
        const timeStepsBack: TimeStepBack[] = [];
        let moreTimeStepsBack = 0;
        for (const i of [...watches.keys()].sort((a, b) => a - b)) {
          const w = watches.get(i) as TimeStepWatch;
          timeStepsBack.push(...w.steps);
          moreTimeStepsBack += w.more;
        }
        return {
          events: written,
          countsBySource,
          spilledRuns: sorter.spilledRuns,
          fallbacks,
          timeStepsBack,
          moreTimeStepsBack,
          passes: pass,
        };
      } catch (err) {
        if (!(err instanceof FallbackSignal)) throw err;
        if (sortedIndexes.has(err.sourceIndex) || pass > sources.length + 1) throw err; // cannot happen; never loop
        // The other sources that fail are found now (live-sources.ts), so a clock set back on a host with many
        // containers costs one or two reruns, not one per container: after the first failure the live sources
        // are read on a few batches, after a second every source is read to its end.
        const full = fallbacks.length > 0;
        const notOpened: number[] = [];
        if (full) {
          const openedIndexes = new Set(opened.map((o) => o.index));
          for (let i = 0; i < sources.length; i++) {
            if (sources[i].ordered && !sortedIndexes.has(i) && !openedIndexes.has(i)) notOpened.push(i);
          }
        }
        const probed = await probeOrderedSources(opened, notOpened, openWindowed, full ? Infinity : FIRST_PROBE_BATCHES);
        const failing = [err, ...probed];
        for (const f of failing) {
          sortedIndexes.add(f.sourceIndex);
          fallbacks.push(sources[f.sourceIndex].id);
          opts.onFallback?.(sources[f.sourceIndex].id, f.orderError.message);
        }
        await Promise.all(sinks.map((s) => s.reset()));
        for (const f of failing) await drain(f.sourceIndex);
      } finally {
        await Promise.all(opened.map((o) => o.close()));
        // Temporary group runs are only valid for this pass.
        await Promise.all(tempRuns.map((p) => sorter.deleteRun(p)));
      }
    }
  } finally {
    try {
      await sorter.dispose();
    } finally {
      const closing = await Promise.allSettled(sinks.map((s) => s.close()));
      if (!failed) {
        for (const c of closing) if (c.status === 'rejected') throw c.reason;
      }
    }
  }
}
