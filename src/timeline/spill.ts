// External sort for unordered sources (and ordered ones that broke their promise). Events are buffered up to a
// budget (a count and an approximate byte size); a full buffer is sorted and written to a temporary "run" file
// (a private binary format, run-file.ts). At the end the run files, plus the sorted remainder still in memory,
// join the k-way merge as ordered inputs. Small inputs never touch the disk. When there are more runs than
// `MAX_MERGE_FAN_IN`, the oldest are merged into one bigger run first, so open files and read buffers stay
// bounded.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { TimelineEvent } from '../events/event.js';
import { mergeOrdered } from './merge.js';
import { compareEvents } from './order.js';
import { RUN_BATCH, readRun, runReadFor, writeRun } from './run-file.js';

/** Events buffered in memory before a run is spilled. */
export const DEFAULT_MAX_BUFFERED_EVENTS = 100_000;
/** Approximate bytes buffered in memory before a run is spilled. */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/**
 * Most runs merged at once; beyond this, runs are merged into bigger runs first. Each merge rewrites every event of
 * its runs, so this is large: at 64, two such merges made the 1 GB host with its clock set back everywhere take
 * 109 s instead of 66 s. 256 runs of 100,000 events are 25 M events (about 3 GB of json-file logs) before the
 * first one; their read buffers and batches are shared budgets (runReadFor), and 256 descriptors fit in what
 * triage keeps back from the live sources (src/triage/open-files.ts).
 */
export const MAX_MERGE_FAN_IN = 256;

/** Rough in-memory size of an event (JS strings are UTF-16; objects cost ~100-200 bytes of overhead). */
export function approxEventBytes(ev: TimelineEvent): number {
  let n =
    240 +
    2 *
      (ev.message.length +
        ev.path.length +
        ev.raw_time.length +
        ev.source.length +
        ev.host.length +
        ev.timestamp_desc.length +
        (ev.container_id?.length ?? 0) +
        (ev.container_name?.length ?? 0));
  if (ev.attrs !== undefined) n += approxValueBytes(ev.attrs, 0);
  return n;
}

function approxValueBytes(v: unknown, depth: number): number {
  if (typeof v === 'string') return 16 + 2 * v.length;
  if (v === null || typeof v !== 'object') return 16;
  if (depth > 8) return 64;
  let n = 64;
  if (Array.isArray(v)) {
    for (const x of v) n += approxValueBytes(x, depth + 1);
  } else {
    for (const k in v) n += 16 + 2 * k.length + approxValueBytes((v as Record<string, unknown>)[k], depth + 1);
  }
  return n;
}

function* sliceBatches(events: TimelineEvent[]): Generator<TimelineEvent[], void, undefined> {
  for (let i = 0; i < events.length; i += RUN_BATCH) yield events.slice(i, i + RUN_BATCH);
}

export interface ExternalSorterOptions {
  /** Parent directory for the sorter's own temporary directory (created on the first spill). */
  tmpDir: string;
  maxBufferedEvents?: number;
  maxBufferedBytes?: number;
  /** Most runs merged at once (default MAX_MERGE_FAN_IN); the timeline lowers it with the descriptor budget. */
  maxMergeFanIn?: number;
}

/**
 * Accumulates events in any order and hands them back as sorted streams. More events may be added after
 * `sortedStreams()` (the timeline does so when an ordered source falls back); the next call covers everything
 * added so far. `dispose()` removes the temporary directory.
 */
export class ExternalSorter {
  private buffer: TimelineEvent[] = [];
  private bufferBytes = 0;
  private bufferSorted = true;
  private readonly runs: string[] = [];
  private dir: string | undefined;
  private runSeq = 0;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly maxFanIn: number;
  /** Run files written so far, merge passes included. */
  spilledRuns = 0;
  /** Events added so far. */
  count = 0;

  constructor(private readonly opts: ExternalSorterOptions) {
    this.maxEvents = opts.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS;
    this.maxBytes = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    if (!(this.maxEvents >= 1)) throw new RangeError(`maxBufferedEvents ${this.maxEvents}, expected >= 1`);
    if (!(this.maxBytes >= 1)) throw new RangeError(`maxBufferedBytes ${this.maxBytes}, expected >= 1`);
    this.maxFanIn = opts.maxMergeFanIn ?? MAX_MERGE_FAN_IN;
    if (!Number.isInteger(this.maxFanIn) || this.maxFanIn < 2) throw new RangeError(`maxMergeFanIn ${this.maxFanIn}, expected an integer >= 2`);
  }

  /** Temporary directory in use, if any spill happened. */
  get tempDir(): string | undefined {
    return this.dir;
  }

  async add(batch: readonly TimelineEvent[]): Promise<void> {
    for (let i = 0; i < batch.length; i++) {
      const ev = batch[i];
      this.buffer.push(ev);
      this.bufferBytes += approxEventBytes(ev);
      this.bufferSorted = false;
      this.count++;
      if (this.buffer.length >= this.maxEvents || this.bufferBytes >= this.maxBytes) await this.spill();
    }
  }

  private async newRunPath(): Promise<string> {
    if (this.dir === undefined) {
      this.dir = await mkdtemp(join(this.opts.tmpDir, 'flotsam-sort-'));
    }
    this.runSeq++;
    this.spilledRuns++;
    return join(this.dir, `run-${String(this.runSeq).padStart(6, '0')}-${randomBytes(4).toString('hex')}.run`);
  }

  private async spill(): Promise<void> {
    if (this.buffer.length === 0) return;
    const events = this.buffer;
    this.buffer = [];
    this.bufferBytes = 0;
    this.bufferSorted = true;
    events.sort(compareEvents);
    const path = await this.newRunPath();
    await writeRun(path, sliceBatches(events));
    this.runs.push(path);
    await this.compact();
  }

  /** Keeps the number of runs at or below the fan-in - 1 (one slot stays for the in-memory remainder). */
  private async compact(): Promise<void> {
    while (this.runs.length >= this.maxFanIn) {
      const group = this.runs.splice(0, this.maxFanIn);
      const path = await this.newRunPath();
      const share = runReadFor(group.length);
      await writeRun(path, mergeOrdered(group.map((p) => readRun(p, share))));
      this.runs.unshift(path);
      for (const p of group) await unlink(p);
    }
  }

  /** Writes an already sorted stream to a new run file (not one of the sorter's runs) and returns its path. */
  async writeSortedRun(stream: AsyncIterable<TimelineEvent[]>): Promise<string> {
    const path = await this.newRunPath();
    await writeRun(path, stream);
    return path;
  }

  /** Deletes a file made by `writeSortedRun`. */
  async deleteRun(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  /** Run files the next `sortedStreams()` reads back. */
  get runCount(): number {
    return this.runs.length;
  }

  /**
   * Sorted streams covering every event added so far: one per run file, plus the in-memory remainder. May be
   * called again (each call re-reads the runs). Each run is read with runReadFor(its runs plus `otherRuns`,
   * the runs the same merge reads besides these), so their memory does not grow with their number.
   */
  sortedStreams(otherRuns = 0): Array<AsyncIterable<TimelineEvent[]>> {
    const share = runReadFor(this.runs.length + otherRuns);
    if (!this.bufferSorted) {
      this.buffer.sort(compareEvents);
      this.bufferSorted = true;
    }
    const streams: Array<AsyncIterable<TimelineEvent[]>> = this.runs.map((p) => ({
      [Symbol.asyncIterator]: () => readRun(p, share),
    }));
    const mem = this.buffer;
    if (mem.length > 0) {
      streams.push({
        async *[Symbol.asyncIterator]() {
          yield* sliceBatches(mem);
        },
      });
    }
    return streams;
  }

  /** Removes the temporary directory (if any) and forgets everything. */
  async dispose(): Promise<void> {
    this.buffer = [];
    this.runs.length = 0;
    const dir = this.dir;
    this.dir = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}
