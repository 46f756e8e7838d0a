// The timeline files written on two cores: this thread turns each event into a compact transport record
// (row-transport.ts: UTF-8 text, numbers, interned artifact fields) in 1 MiB chunks, and an encoder thread
// (encoder-worker.ts) prints the CSV and JSON rows and writes the files. The bytes are those of TimelineFilesSink
// (tested). Why: on the benchmark host, printing ~1.1 KB of CSV + JSONL per event was ~55% of the main thread's
// time; moved to another core it overlaps with parsing and merging.
//
// Memory is bounded: at most MAX_CHUNKS_IN_FLIGHT chunks travel between the threads (they are transferred, not
// copied, and come back for reuse); `write` returns a promise when the encoder falls behind, and the timeline
// awaits it. A failure in the encoder thread (e.g. ENOSPC) surfaces at the next write, reset or close.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TimelineEvent } from '../events/event.js';
import { RowTransportEncoder, type RecordTarget } from './row-transport.js';
import type { EventSink } from './sink.js';
import type { TimelineFilePaths } from './timeline-file-set.js';
import { TimelineFilesSink } from './timeline-files.js';

export type { TimelineFilePaths } from './timeline-file-set.js';

/** Size of a transport chunk. */
export const TRANSPORT_CHUNK_BYTES = 1024 * 1024;
/** Chunks handed to the encoder thread and not yet back. */
export const MAX_CHUNKS_IN_FLIGHT = 8;

export type EncoderRequest =
  | { type: 'chunk'; buffer: ArrayBuffer; length: number }
  | { type: 'reset' }
  | { type: 'close' };
export type EncoderReply =
  | { type: 'chunk-done'; buffer: ArrayBuffer }
  | { type: 'reset-done' }
  | { type: 'closed' }
  | { type: 'error'; message: string };

const WORKER_URL = new URL('./encoder-worker.js', import.meta.url);

/**
 * The timeline sink triage uses: the two-thread writer, or the one-thread TimelineFilesSink on a one-core machine
 * (a second thread would only compete) and where the encoder thread's compiled file is not there (sources run
 * uncompiled, as under the test runner). Both write the same bytes.
 */
export function createTimelineFilesSink(paths: TimelineFilePaths, opts: { threads?: boolean } = {}): EventSink {
  const threads = opts.threads ?? availableParallelism() > 1;
  if (!threads || !existsSync(fileURLToPath(WORKER_URL))) return new TimelineFilesSink(paths);
  return new ParallelTimelineFilesSink(paths);
}

export class ParallelTimelineFilesSink implements EventSink, RecordTarget {
  buf: Buffer;
  pos = 0;
  private readonly encoder = new RowTransportEncoder();
  private readonly worker: Worker;
  private readonly pool: Buffer[] = [];
  private inFlight = 0;
  private error: Error | undefined;
  private closed = false;
  /** Resolvers waiting for a chunk to come back, a reset or the close. */
  private chunkWaiters: Array<() => void> = [];
  private onReset: (() => void) | undefined;
  private onClosed: (() => void) | undefined;

  constructor(paths: TimelineFilePaths) {
    this.buf = this.newChunk(TRANSPORT_CHUNK_BYTES);
    this.worker = new Worker(WORKER_URL, { workerData: paths });
    this.worker.on('message', (m: EncoderReply) => this.onMessage(m));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => {
      if (!this.closed || this.onClosed !== undefined) this.fail(new Error(`timeline encoder thread exited with code ${code}`));
    });
  }

  private newChunk(size: number): Buffer {
    return Buffer.from(new ArrayBuffer(size));
  }

  private onMessage(m: EncoderReply): void {
    switch (m.type) {
      case 'chunk-done': {
        this.inFlight--;
        if (m.buffer.byteLength === TRANSPORT_CHUNK_BYTES && this.pool.length < MAX_CHUNKS_IN_FLIGHT) {
          this.pool.push(Buffer.from(m.buffer));
        }
        this.wake();
        return;
      }
      case 'reset-done':
        this.onReset?.();
        this.onReset = undefined;
        return;
      case 'closed':
        this.onClosed?.();
        this.onClosed = undefined;
        return;
      case 'error':
        this.fail(new Error(`timeline encoder thread: ${m.message}`));
        return;
    }
  }

  private fail(err: Error): void {
    this.error ??= err;
    this.wake();
    this.onReset?.();
    this.onClosed?.();
    this.onReset = this.onClosed = undefined;
  }

  private wake(): void {
    const waiters = this.chunkWaiters;
    this.chunkWaiters = [];
    for (const w of waiters) w();
  }

  /** RecordTarget: room for n bytes at `pos`; a full chunk goes to the encoder thread. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.post();
    if (n > this.buf.length) this.buf = this.newChunk(n); // one oversized record; not pooled
  }

  private post(): void {
    if (this.pos === 0) return;
    if (this.error) throw this.error;
    const buffer = this.buf.buffer as ArrayBuffer;
    const req: EncoderRequest = { type: 'chunk', buffer, length: this.pos };
    this.worker.postMessage(req, [buffer]);
    this.inFlight++;
    this.buf = this.pool.pop() ?? this.newChunk(TRANSPORT_CHUNK_BYTES);
    this.pos = 0;
  }

  write(batch: TimelineEvent[]): void | Promise<void> {
    if (this.error) throw this.error;
    for (let i = 0; i < batch.length; i++) this.encoder.append(batch[i], this);
    if (this.inFlight >= MAX_CHUNKS_IN_FLIGHT) return this.waitForRoom();
  }

  private async waitForRoom(): Promise<void> {
    while (this.inFlight >= MAX_CHUNKS_IN_FLIGHT && this.error === undefined) {
      await new Promise<void>((resolve) => this.chunkWaiters.push(resolve));
    }
    if (this.error) throw this.error;
  }

  async reset(): Promise<void> {
    if (this.error) throw this.error;
    this.post();
    const done = new Promise<void>((resolve) => (this.onReset = resolve));
    this.worker.postMessage({ type: 'reset' } satisfies EncoderRequest);
    await done;
    if (this.error) throw this.error;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.error === undefined) {
        this.post();
        const done = new Promise<void>((resolve) => (this.onClosed = resolve));
        this.worker.postMessage({ type: 'close' } satisfies EncoderRequest);
        await done;
      }
    } finally {
      await this.worker.terminate();
    }
    if (this.error) throw this.error;
  }
}
