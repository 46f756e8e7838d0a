// Where the timeline's sorted batches go. A sink writes each batch as it arrives (bounded memory) and can start
// over: the timeline calls `reset()` when an "ordered" source broke its promise and the merge has to be rerun.

import type { TimelineEvent } from '../events/event.js';

export interface EventSink {
  /** Receives sorted batches, in order. May return a promise; the timeline awaits it before the next batch. */
  write(batch: TimelineEvent[]): void | Promise<void>;
  /** Discards everything written so far (truncates the file) and starts again, header included. */
  reset(): Promise<void>;
  /** Writes what is left (footer included) and closes. Idempotent. */
  close(): Promise<void>;
}
