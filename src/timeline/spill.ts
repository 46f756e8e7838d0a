// External sort for unordered sources (and ordered ones that broke their promise). Events are buffered up to a
// budget (a count and an approximate byte size); a full buffer is sorted and written to a temporary "run" file,
// one compact JSON array per line. At the end the run files, plus the sorted remainder still in memory, join the
// k-way merge as ordered inputs. Small inputs never touch the disk. When there are more runs than
// `MAX_MERGE_FAN_IN`, the oldest are merged into one bigger run first, so open files and read buffers stay
// bounded.
//
// Run line format (internal, not an output format): [time, timestamp_desc, source, host, container_id,
// container_name, message, path, inode, line, offset, raw_time, attrs, attrsHaveBigint]. time and inode are
// decimal strings; absent optional fields are null; attrs bigint values are written as {"$flotsam_bigint":"<n>"}
// and revived on read (only when the line's flag says so, so the common case is one plain JSON.parse).

import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { TimelineEvent } from '../events/event.js';
import { mergeOrdered } from './merge.js';
import { compareEvents } from './order.js';

/** Events buffered in memory before a run is spilled. */
export const DEFAULT_MAX_BUFFERED_EVENTS = 100_000;
/** Approximate bytes buffered in memory before a run is spilled. */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** Most runs merged at once; beyond this, runs are merged into bigger runs first. */
export const MAX_MERGE_FAN_IN = 64;
/** Bytes per read when streaming a run back. */
export const RUN_READ_CHUNK = 256 * 1024;
/** Bytes buffered before each write of a run file. */
export const RUN_WRITE_CHUNK = 1024 * 1024;
/** Events per batch when reading a run back (and when yielding the in-memory remainder). */
export const RUN_BATCH = 4096;

const BIGINT_TAG = '$flotsam_bigint';

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

function bigintReplacer(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? { [BIGINT_TAG]: v.toString() } : v;
}

function reviveBigints(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = reviveBigints(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0] === BIGINT_TAG && typeof o[BIGINT_TAG] === 'string') return BigInt(o[BIGINT_TAG]);
  for (const k of keys) {
    const r = reviveBigints(o[k]);
    if (r !== o[k]) Object.defineProperty(o, k, { value: r, writable: true, enumerable: true, configurable: true });
  }
  return o;
}

/** One event as one run line (without the newline). */
export function encodeRunLine(ev: TimelineEvent): string {
  let attrs = '0';
  let flag = 0;
  if (ev.attrs !== undefined) {
    try {
      attrs = JSON.stringify(ev.attrs);
    } catch {
      attrs = JSON.stringify(ev.attrs, bigintReplacer);
      flag = 1;
    }
  }
  return (
    '["' +
    ev.time.toString() +
    '",' +
    JSON.stringify(ev.timestamp_desc) +
    ',' +
    JSON.stringify(ev.source) +
    ',' +
    JSON.stringify(ev.host) +
    ',' +
    (ev.container_id === undefined ? 'null' : JSON.stringify(ev.container_id)) +
    ',' +
    (ev.container_name === undefined ? 'null' : JSON.stringify(ev.container_name)) +
    ',' +
    JSON.stringify(ev.message) +
    ',' +
    JSON.stringify(ev.path) +
    ',' +
    (ev.inode === undefined ? 'null' : '"' + ev.inode.toString() + '"') +
    ',' +
    (ev.line === undefined ? 'null' : JSON.stringify(ev.line)) +
    ',' +
    (ev.offset === undefined ? 'null' : JSON.stringify(ev.offset)) +
    ',' +
    JSON.stringify(ev.raw_time) +
    ',' +
    (ev.attrs === undefined ? 'null' : attrs) +
    ',' +
    flag +
    ']'
  );
}

/** Inverse of `encodeRunLine`. */
export function decodeRunLine(line: string): TimelineEvent {
  const r = JSON.parse(line) as [
    string,
    string,
    string,
    string,
    string | null,
    string | null,
    string,
    string,
    string | null,
    number | null,
    number | null,
    string,
    Record<string, unknown> | null,
    number,
  ];
  const ev: TimelineEvent = {
    time: BigInt(r[0]),
    timestamp_desc: r[1],
    source: r[2],
    host: r[3],
    message: r[6],
    path: r[7],
    raw_time: r[11],
  };
  if (r[4] !== null) ev.container_id = r[4];
  if (r[5] !== null) ev.container_name = r[5];
  if (r[8] !== null) ev.inode = BigInt(r[8]);
  if (r[9] !== null) ev.line = r[9];
  if (r[10] !== null) ev.offset = r[10];
  if (r[12] !== null) ev.attrs = (r[13] === 1 ? reviveBigints(r[12]) : r[12]) as Record<string, unknown>;
  return ev;
}

/** Writes sorted events (in any number of batches) to a run file. */
async function writeRun(path: string, batches: AsyncIterable<TimelineEvent[]> | Iterable<TimelineEvent[]>): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    let buf = '';
    for await (const batch of batches) {
      for (let i = 0; i < batch.length; i++) {
        buf += encodeRunLine(batch[i]) + '\n';
        if (buf.length >= RUN_WRITE_CHUNK) {
          await fh.write(buf);
          buf = '';
        }
      }
    }
    if (buf.length > 0) await fh.write(buf);
  } finally {
    await fh.close();
  }
}

/** Streams a run file back as batches of events. */
export async function* readRun(path: string): AsyncGenerator<TimelineEvent[], void, undefined> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(RUN_READ_CHUNK);
    const decoder = new StringDecoder('utf8');
    let carry = '';
    let batch: TimelineEvent[] = [];
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      const text = carry + decoder.write(buf.subarray(0, bytesRead));
      let start = 0;
      for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
        batch.push(decodeRunLine(text.slice(start, nl)));
        start = nl + 1;
      }
      carry = text.slice(start);
      if (batch.length >= RUN_BATCH) {
        yield batch;
        batch = [];
      }
    }
    carry += decoder.end();
    if (carry.length > 0) batch.push(decodeRunLine(carry));
    if (batch.length > 0) yield batch;
  } finally {
    await fh.close();
  }
}

function* sliceBatches(events: TimelineEvent[]): Generator<TimelineEvent[], void, undefined> {
  for (let i = 0; i < events.length; i += RUN_BATCH) yield events.slice(i, i + RUN_BATCH);
}

export interface ExternalSorterOptions {
  /** Parent directory for the sorter's own temporary directory (created on the first spill). */
  tmpDir: string;
  maxBufferedEvents?: number;
  maxBufferedBytes?: number;
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
  /** Run files written so far, merge passes included. */
  spilledRuns = 0;
  /** Events added so far. */
  count = 0;

  constructor(private readonly opts: ExternalSorterOptions) {
    this.maxEvents = opts.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS;
    this.maxBytes = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    if (!(this.maxEvents >= 1)) throw new RangeError(`maxBufferedEvents ${this.maxEvents}, expected >= 1`);
    if (!(this.maxBytes >= 1)) throw new RangeError(`maxBufferedBytes ${this.maxBytes}, expected >= 1`);
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
    return join(this.dir, `run-${String(this.runSeq).padStart(6, '0')}-${randomBytes(4).toString('hex')}.jsonl`);
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

  /** Keeps the number of runs at or below MAX_MERGE_FAN_IN - 1 (one slot stays for the in-memory remainder). */
  private async compact(): Promise<void> {
    while (this.runs.length >= MAX_MERGE_FAN_IN) {
      const group = this.runs.splice(0, MAX_MERGE_FAN_IN);
      const path = await this.newRunPath();
      await writeRun(path, mergeOrdered(group.map((p) => readRun(p))));
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

  /**
   * Sorted streams covering every event added so far: one per run file, plus the in-memory remainder. May be
   * called again (each call re-reads the runs).
   */
  sortedStreams(): Array<AsyncIterable<TimelineEvent[]>> {
    if (!this.bufferSorted) {
      this.buffer.sort(compareEvents);
      this.bufferSorted = true;
    }
    const streams: Array<AsyncIterable<TimelineEvent[]>> = this.runs.map((p) => ({
      [Symbol.asyncIterator]: () => readRun(p),
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
