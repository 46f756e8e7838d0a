// Ordered sources read live by one merge pass, and the probe that runs when one of them breaks its promise.
//
// Why a probe: when a host's clock was set back while its containers ran, every container's log steps back at the
// same moment. Failing one source per pass would rerun the whole merge once per container (a quadratic cost: 50
// such logs of 128 MB took 111 s instead of 4 s). A reorder window's verdict depends only on its own source's
// events, never on the other sources or the merge, so the sources can be read on through their windows, without
// merging or writing, and every source that fails is sorted before the next rerun.
// - After the first failure, each live source is read on by FIRST_PROBE_BATCHES batches only: a clock set back
//   moved every log at the same moment, where the merge stands, so the other logs cross the step within a few
//   batches; and one tampered log costs almost nothing more (a full probe parses the rest of every log: measured
//   4.4 s without it, 5.3-5.9 s with it, for one log stepping back early on a 200-container host).
// - After a second failure, every source is read to its end, including those the pass had not opened yet
//   (groups beyond the open-file limit), so there is no third.

import type { TimelineEvent } from '../events/event.js';
import { SourceOrderError } from './reorder.js';

/** Batches each live source is read on after a pass's first failure (see above). */
export const FIRST_PROBE_BATCHES = 2;

/** An ordered source's window failed; carries which source. */
export class FallbackSignal extends Error {
  constructor(
    readonly sourceIndex: number,
    readonly orderError: SourceOrderError,
  ) {
    super(orderError.message);
  }
}

/** One source's windowed stream, opened by us: the merge may read it but not close it, so a probe can go on. */
export class LiveSource {
  private readonly it: AsyncIterator<TimelineEvent[]>;
  private finished = false;

  constructor(
    readonly index: number,
    windowed: AsyncIterable<TimelineEvent[]>,
  ) {
    this.it = windowed[Symbol.asyncIterator]();
  }

  private async next(): Promise<IteratorResult<TimelineEvent[]>> {
    try {
      const r = await this.it.next();
      if (r.done) this.finished = true;
      return r;
    } catch (err) {
      this.finished = true; // a generator that threw is over
      if (err instanceof SourceOrderError) throw new FallbackSignal(this.index, err);
      throw err;
    }
  }

  /** What the merge reads: next() passes through (SourceOrderError becomes FallbackSignal); return() is a no-op. */
  view(): AsyncIterable<TimelineEvent[]> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => this.next(),
        return: async () => ({ done: true, value: undefined }),
      }),
    };
  }

  /** Reads on, up to `maxBatches` batches or the end, discarding them; returns its window's failure, if it fails. */
  async probe(maxBatches = Infinity): Promise<SourceOrderError | undefined> {
    try {
      for (let n = 0; n < maxBatches && !this.finished; n++) await this.next();
      return undefined;
    } catch (err) {
      if (err instanceof FallbackSignal) return err.orderError;
      throw err;
    }
  }

  /** Closes the source if it is still open (errors while closing after a failure are not the ones that matter). */
  async close(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    try {
      await this.it.return?.();
    } catch {
      // ignored: see above
    }
  }
}

/**
 * After a source failed: the other sources of the pass that fail their window when read on by `maxBatches` (or to
 * the end), in source order (the one that failed is finished, so its probe finds nothing more). `opened` are the
 * pass's live sources (read on from where the merge left them); `open(i)` opens one the pass had not reached yet,
 * windowed as the pass would have.
 */
export async function probeOrderedSources(
  opened: LiveSource[],
  notOpened: number[],
  open: (index: number) => LiveSource,
  maxBatches = Infinity,
): Promise<FallbackSignal[]> {
  const failed: FallbackSignal[] = [];
  const check = async (source: LiveSource): Promise<void> => {
    const err = await source.probe(maxBatches);
    if (err !== undefined) failed.push(new FallbackSignal(source.index, err));
  };
  for (const source of opened) await check(source);
  for (const index of notOpened) {
    const source = open(index);
    try {
      await check(source);
    } finally {
      await source.close();
    }
  }
  return failed.sort((a, b) => a.sourceIndex - b.sourceIndex);
}
