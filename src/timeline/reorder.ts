// The reorder window for "ordered" sources. Docker's json-file logs are written by one process per container, but
// stdout and stderr lines are copied by separate goroutines, so a log is in time order only up to small local
// inversions. The window holds back the `window` largest events seen so far and sorts them together with new
// input; everything below them is released in order. A source that sends an event smaller than one already
// released has broken its promise: `SourceOrderError` tells the timeline to re-read it as an unordered source.
//
// The window is kept as a sorted array; each chunk of input is appended and insertion-sorted into place, rather
// than a heap push/pop per event. On a log that is sorted but for local inversions that is about one comparison
// per event (TimSort needed about five: every inversion ends a run). Insertion sort is quadratic on disordered
// input, so past INSERTION_MOVES_PER_EVENT moves per event the chunk is finished by Array#sort instead. It
// tolerates at least what a `window`-sized min-heap would: an event may arrive up to `window` events late (and
// more when it falls within one input chunk).

import type { TimelineEvent } from '../events/event.js';
import { compareEvents } from './order.js';
import type { TimeStepWatch } from './time-steps.js';

/** Default number of events held back per ordered source. */
export const DEFAULT_REORDER_WINDOW = 256;
/**
 * Input gathered before each sort into the window (and the most released at once). Insertion costs per event, not
 * per chunk, so the chunk is kept small: fewer events held per source means fewer promoted to V8's old generation.
 */
export const REORDER_CHUNK = 128;
/** Average element moves per new event after which a chunk's insertion sort gives way to Array#sort. */
export const INSERTION_MOVES_PER_EVENT = 8;

/**
 * Sorts a[from, a.length) into the sorted a[0, from) by insertion (stable); returns false, leaving a a permutation
 * of what it was, when that would take more than `budget` moves.
 */
function insertSorted(a: TimelineEvent[], from: number, budget: number): boolean {
  for (let i = from; i < a.length; i++) {
    const x = a[i];
    let j = i - 1;
    if (j < 0 || compareEvents(a[j], x) <= 0) continue;
    // x goes further left: shift the larger ones right.
    do {
      a[j + 1] = a[j];
      j--;
      if (--budget < 0) {
        a[j + 1] = x;
        return false;
      }
    } while (j >= 0 && compareEvents(a[j], x) > 0);
    a[j + 1] = x;
  }
  return true;
}

/** An ordered source sent an event older than one already released from its window. */
export class SourceOrderError extends Error {
  constructor(
    readonly sourceId: string,
    readonly released: TimelineEvent,
    readonly late: TimelineEvent,
  ) {
    super(
      `ordered source ${sourceId} is out of order beyond the reorder window: event at ${late.time} ns ` +
        `(${late.path}${late.line !== undefined ? ':' + late.line : ''}) arrived after one at ${released.time} ns ` +
        `was released`,
    );
    this.name = 'SourceOrderError';
  }
}

/**
 * Turns a nearly sorted stream into a sorted one, or throws SourceOrderError. `filter` (optional) drops events
 * before they enter the window; `watch` (optional) sees every input batch first, in file order.
 */
export async function* reorderWindow(
  sourceId: string,
  input: AsyncIterable<TimelineEvent[]>,
  window: number = DEFAULT_REORDER_WINDOW,
  filter?: (ev: TimelineEvent) => boolean,
  chunkEvents: number = REORDER_CHUNK,
  watch?: TimeStepWatch,
): AsyncGenerator<TimelineEvent[], void, undefined> {
  if (!Number.isInteger(window) || window < 0) throw new RangeError(`reorder window ${window}, expected an integer >= 0`);
  // held: the window (sorted) followed by the input not yet sorted in.
  let held: TimelineEvent[] = [];
  let sortedUpTo = 0;
  let lastReleased: TimelineEvent | undefined;

  function release(final: boolean): TimelineEvent[] {
    const fresh = held.length - sortedUpTo;
    if (!insertSorted(held, sortedUpTo, INSERTION_MOVES_PER_EVENT * fresh)) held.sort(compareEvents);
    sortedUpTo = held.length;
    if (lastReleased !== undefined && held.length > 0 && compareEvents(held[0], lastReleased) < 0) {
      throw new SourceOrderError(sourceId, lastReleased, held[0]);
    }
    const keep = final ? 0 : Math.min(window, held.length);
    const cut = held.length - keep;
    if (cut === 0) return [];
    let out: TimelineEvent[];
    if (keep === 0) {
      out = held;
      held = [];
    } else out = held.splice(0, cut);
    sortedUpTo = held.length;
    lastReleased = out[out.length - 1];
    return out;
  }

  const chunk = Math.max(window, chunkEvents);
  for await (const batch of input) {
    watch?.see(batch);
    // The caller's batch is never modified: held is always our own array.
    if (filter === undefined) {
      if (held.length === 0 && batch.length >= chunk) held = batch.slice();
      else for (let i = 0; i < batch.length; i++) held.push(batch[i]);
    } else {
      for (let i = 0; i < batch.length; i++) if (filter(batch[i])) held.push(batch[i]);
    }
    if (held.length - sortedUpTo >= chunk) {
      const out = release(false);
      if (out.length > 0) yield out;
    }
  }
  const out = release(true);
  if (out.length > 0) yield out;
}
