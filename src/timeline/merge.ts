// K-way merge of sorted event streams with a binary min-heap of cursors. Each stream is an async iterable of
// batches, already sorted by `compareEvents` (within and across its batches); the merge pays one await per input
// batch and yields output batches of `OUTPUT_BATCH` events. Ties between streams go to the stream listed first,
// although with the total order of `order.ts` tying events print identically anyway.
//
// Fast paths: one live stream passes its batches through; after taking the smallest head, the merge keeps taking
// from the same cursor while it stays below the runner-up (one comparison per event for bursty inputs, instead of
// a sift-down per event).

import type { TimelineEvent } from '../events/event.js';
import { compareEvents } from './order.js';

/** Events per merged output batch. */
export const OUTPUT_BATCH = 4096;

/** Thrown by `mergeOrdered({ verify: true })` when an input stream is not sorted. */
export class StreamOrderError extends Error {
  constructor(
    readonly streamIndex: number,
    readonly previous: TimelineEvent,
    readonly next: TimelineEvent,
  ) {
    super(
      `merge input #${streamIndex} is not sorted: event at ${next.time} ns (${next.path}) follows an event at ` +
        `${previous.time} ns (${previous.path})`,
    );
    this.name = 'StreamOrderError';
  }
}

export interface MergeOptions {
  /** Check that the merged output never goes backwards (one comparison per event); throw StreamOrderError if so. */
  verify?: boolean;
}

interface Cursor {
  readonly index: number;
  readonly it: AsyncIterator<TimelineEvent[]>;
  batch: TimelineEvent[];
  pos: number;
  done: boolean;
}

/** Cursor order: head event, then stream index (stable). */
function cursorLess(a: Cursor, b: Cursor): boolean {
  const c = compareEvents(a.batch[a.pos], b.batch[b.pos]);
  return c < 0 || (c === 0 && a.index < b.index);
}

function siftDown(heap: Cursor[], i: number): void {
  const n = heap.length;
  const item = heap[i];
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && cursorLess(heap[child + 1], heap[child])) child++;
    if (!cursorLess(heap[child], item)) break;
    heap[i] = heap[child];
    i = child;
  }
  heap[i] = item;
}

/** Pulls until a non-empty batch or the end; returns false at the end. */
async function refill(c: Cursor): Promise<boolean> {
  for (;;) {
    const r = await c.it.next();
    if (r.done) {
      c.done = true;
      c.batch = [];
      c.pos = 0;
      return false;
    }
    if (r.value.length > 0) {
      c.batch = r.value;
      c.pos = 0;
      return true;
    }
  }
}

/**
 * Merges sorted streams into one sorted stream of batches. Input iterators still open when the merge ends early
 * (an error, or the consumer stopping) are closed with `return()`.
 */
export async function* mergeOrdered(
  streams: ReadonlyArray<AsyncIterable<TimelineEvent[]>>,
  opts: MergeOptions = {},
): AsyncGenerator<TimelineEvent[], void, undefined> {
  const cursors: Cursor[] = streams.map((s, index) => ({
    index,
    it: s[Symbol.asyncIterator](),
    batch: [],
    pos: 0,
    done: false,
  }));
  const verify = opts.verify === true;
  try {
    const heap: Cursor[] = [];
    for (const c of cursors) if (await refill(c)) heap.push(c);
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(heap, i);

    let out: TimelineEvent[] = [];
    let last: TimelineEvent | undefined;
    while (heap.length > 0) {
      const top = heap[0];
      if (heap.length === 1) {
        // Only one stream left: pass its batches through.
        if (out.length > 0) {
          yield out;
          out = [];
        }
        do {
          const rest = top.pos === 0 ? top.batch : top.batch.slice(top.pos);
          if (verify) {
            if (last !== undefined && compareEvents(last, rest[0]) > 0) {
              throw new StreamOrderError(top.index, last, rest[0]);
            }
            for (let i = 1; i < rest.length; i++) {
              if (compareEvents(rest[i - 1], rest[i]) > 0) throw new StreamOrderError(top.index, rest[i - 1], rest[i]);
            }
            last = rest[rest.length - 1];
          }
          yield rest;
        } while (await refill(top));
        heap.pop();
        break;
      }
      // The runner-up is the smaller child of the root.
      let runner = heap[1];
      if (heap.length > 2 && cursorLess(heap[2], runner)) runner = heap[2];
      const bound = runner.batch[runner.pos];
      const batch = top.batch;
      let pos = top.pos;
      const tieWins = top.index < runner.index;
      do {
        const ev = batch[pos++];
        if (verify) {
          if (last !== undefined && compareEvents(last, ev) > 0) throw new StreamOrderError(top.index, last, ev);
          last = ev;
        }
        out.push(ev);
        if (pos === batch.length) break;
        const c = compareEvents(batch[pos], bound);
        if (c > 0 || (c === 0 && !tieWins)) break;
      } while (out.length < OUTPUT_BATCH);
      top.pos = pos;
      if (pos === batch.length && !(await refill(top))) {
        const lastCursor = heap.pop() as Cursor;
        if (heap.length > 0) {
          heap[0] = lastCursor;
          siftDown(heap, 0);
        }
      } else {
        siftDown(heap, 0);
      }
      if (out.length >= OUTPUT_BATCH) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  } finally {
    await Promise.all(
      cursors.map(async (c) => {
        if (c.done) return;
        c.done = true;
        try {
          await c.it.return?.();
        } catch {
          // Closing after a failure; the first error is the one that matters.
        }
      }),
    );
  }
}
