// What a collector sees (a VFS, never the image) and what it hands back: inventory records and event sources.
import type { ProblemLog, TimelineEvent } from '../events/event.js';
import type { Vfs } from '../fs/vfs.js';

export interface CollectorContext {
  vfs: Vfs;
  /** Host name of the evidence (from /etc/hostname), or the source's base name. */
  host: string;
  problems: ProblemLog;
  /** IANA zone name forced by `--tz`; otherwise collectors use the zone the evidence itself records. */
  tzOverride?: string;
}

/**
 * What one ordered source may hold at once while the timeline merges it with many others. The timeline derives
 * it from the number of sources open together (a host may have thousands of containers, each with its own log),
 * so the merge's memory stays bounded. Both are caps: a reader keeps its own smaller sizes.
 */
export interface ReadBudget {
  /** Events per yielded batch, at most (a parse step may overshoot by one feed's events). */
  batchEvents: number;
  /** Bytes per read, feed or inflate buffer, at most. */
  bufferBytes: number;
}

/**
 * A stream of events from one artifact, delivered in batches (arrays) so the merge pays one await per batch,
 * not per event. `ordered` sources promise time order up to small local inversions (the merge keeps a reorder
 * window and falls back to a full sort for the source when the promise is broken); unordered sources are sorted
 * by the timeline (spilling to disk when large).
 */
export interface EventSource {
  /** Stable identity (usually the artifact path); part of the deterministic tie order. */
  id: string;
  ordered: boolean;
  /**
   * May be called more than once (a fallback re-reads the artifact); each call starts from the beginning.
   * `budget` caps what the source holds at once (see ReadBudget); sources that hold little may ignore it.
   */
  open(budget?: ReadBudget): AsyncIterable<TimelineEvent[]>;
  // --- issue 6 (lifecycles) ---
  /**
   * Optional, for the lifecycle pre-pass (src/lifecycle): the events of this source that matter for container
   * lifecycles, cheaply (json-file logs: first/last records only; host logs: daemon events and history commands).
   * Events must be identical to the ones open() yields for the same records (same computeEventId). Sources
   * without it are not read by the pre-pass.
   */
  lifecycle?(): AsyncIterable<TimelineEvent[]>;
  // --- end issue 6 ---
}

/** Wraps an in-memory list of events as an (unordered) source. */
export function arraySource(id: string, events: TimelineEvent[], opts: { lifecycle?: boolean } = {}): EventSource {
  const src: EventSource = {
    id,
    ordered: false,
    async *open() {
      if (events.length > 0) yield events;
    },
  };
  // issue 6: `lifecycle: true` hands every event to the lifecycle pre-pass too
  if (opts.lifecycle) src.lifecycle = src.open;
  return src;
}
