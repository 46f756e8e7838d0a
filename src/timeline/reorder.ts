// The reorder window for "ordered" sources. Docker's json-file logs are written by one process per container, but
// stdout and stderr lines are copied by separate goroutines, so a log is in time order only up to small local
// inversions. The window holds back the `window` largest events seen so far and sorts them together with new
// input; everything below them is released in order. A source that sends an event smaller than one already
// released has broken its promise: `SourceOrderError` tells the timeline to re-read it as an unordered source.
//
// The window is kept as a sorted array and refreshed with one Array#sort per chunk of input (TimSort, linear on
// nearly sorted data) rather than a heap push/pop per event. It tolerates at least what a `window`-sized min-heap
// would: an event may arrive up to `window` events late (and more when it falls within one input chunk).

import type { TimelineEvent } from '../events/event.js';
import { compareEvents } from './order.js';

/** Default number of events held back per ordered source. */
export const DEFAULT_REORDER_WINDOW = 256;
/** Input gathered before each sort of the window, so that tiny batches do not cost a sort each. */
export const REORDER_CHUNK = 512;

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
 * before they enter the window.
 */
export async function* reorderWindow(
  sourceId: string,
  input: AsyncIterable<TimelineEvent[]>,
  window: number = DEFAULT_REORDER_WINDOW,
  filter?: (ev: TimelineEvent) => boolean,
  chunkEvents: number = REORDER_CHUNK,
): AsyncGenerator<TimelineEvent[], void, undefined> {
  if (!Number.isInteger(window) || window < 0) throw new RangeError(`reorder window ${window}, expected an integer >= 0`);
  let held: TimelineEvent[] = [];
  let incoming: TimelineEvent[] = [];
  let lastReleased: TimelineEvent | undefined;

  function release(final: boolean): TimelineEvent[] {
    const all = held.length === 0 ? incoming : held.concat(incoming);
    incoming = [];
    all.sort(compareEvents);
    if (lastReleased !== undefined && all.length > 0 && compareEvents(all[0], lastReleased) < 0) {
      throw new SourceOrderError(sourceId, lastReleased, all[0]);
    }
    const keep = final ? 0 : Math.min(window, all.length);
    const cut = all.length - keep;
    if (cut === 0) {
      held = all;
      return [];
    }
    held = keep === 0 ? [] : all.slice(cut);
    const out = keep === 0 ? all : all.slice(0, cut);
    lastReleased = out[out.length - 1];
    return out;
  }

  const chunk = Math.max(window, chunkEvents);
  for await (const batch of input) {
    if (filter === undefined) {
      if (incoming.length === 0 && batch.length >= chunk) incoming = batch.slice();
      else for (let i = 0; i < batch.length; i++) incoming.push(batch[i]);
    } else {
      for (let i = 0; i < batch.length; i++) if (filter(batch[i])) incoming.push(batch[i]);
    }
    if (incoming.length >= chunk) {
      const out = release(false);
      if (out.length > 0) yield out;
    }
  }
  const out = release(true);
  if (out.length > 0) yield out;
}
