// Times that go backwards inside one log. Containers share the host's clock, so a json-file, journald or syslog
// record stamped well before the record written just before it means the host clock was set back (NTP step,
// VM snapshot restored, a hand-set date) or the file was edited: an analyst must know before reading the
// timeline around it. Watched in file order on every ordered source (unfiltered), independent of the reorder
// window's size, so the same evidence always gives the same steps. A record marked `tz_ambiguous` (a local wall
// time that occurs twice when daylight saving ends, read as the earlier instant: host-logs/tz-zones.ts) steps
// back by that reading, not by a clock change, and is not a step.

import type { TimelineEvent } from '../events/event.js';

/** Smallest step back reported: below it, Docker's stdout/stderr copiers alone reorder lines. */
export const MIN_TIME_STEP_BACK_NS = 1_000_000_000n;
/** Steps kept per source; the rest are only counted. */
export const MAX_TIME_STEPS_PER_SOURCE = 16;

/** One step back: `after` follows `before` in the file but is at least MIN_TIME_STEP_BACK_NS older. */
export interface TimeStepBack {
  sourceId: string;
  before: TimelineEvent;
  after: TimelineEvent;
}

/** Watches one source's events in file order. */
export class TimeStepWatch {
  readonly steps: TimeStepBack[] = [];
  /** Steps past MAX_TIME_STEPS_PER_SOURCE. */
  more = 0;
  /** The latest event of the current clock regime. */
  private latest: TimelineEvent | undefined;

  constructor(readonly sourceId: string) {}

  see(batch: readonly TimelineEvent[]): void {
    let latest = this.latest;
    for (let i = 0; i < batch.length; i++) {
      const ev = batch[i];
      if (latest === undefined || ev.time >= latest.time) {
        latest = ev;
      } else if (latest.time - ev.time >= MIN_TIME_STEP_BACK_NS && ev.attrs?.tz_ambiguous !== true) {
        if (this.steps.length < MAX_TIME_STEPS_PER_SOURCE) this.steps.push({ sourceId: this.sourceId, before: latest, after: ev });
        else this.more++;
        // A new clock regime starts here: the lines after it are compared with it, not with the old clock.
        latest = ev;
      }
    }
    this.latest = latest;
  }
}
