// Ordered sources read live by one merge pass, and the probe that runs when one of them breaks its promise.
//
// Why a probe: when a host's clock was set back while its containers ran, every container's log steps back at the
// same moment. Failing one source per pass would rerun the whole merge once per container (a quadratic cost: 50
// such logs of 128 MB took 111 s instead of 4 s). A reorder window's verdict depends only on its own source's
// events, never on the other sources or the merge, so once a second source fails, the remaining part of every
// source is read through its window once, without merging or writing, and every source that fails is sorted
// before the next rerun. Sources the pass had not opened yet (groups beyond the open-file limit) are read whole.
// The first failure is not probed: the probe parses the rest of every log, which costs up to a quarter of a pass
// (measured: one log stepping back early on a 200-container host, 4.4 s without a probe, 5.3-5.9 s with).

import type { TimelineEvent } from '../events/event.js';
import { SourceOrderError } from './reorder.js';

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

  /** Reads the rest of the source, discarding it; returns its window's failure, if it fails. */
  async probe(): Promise<SourceOrderError | undefined> {
    try {
      while (!this.finished) await this.next();
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
 * After a source failed: every other source of the pass that fails its window when read to the end, in source
 * order (the one that failed is finished, so its probe finds nothing more). `opened` are the pass's live sources
 * (read on from where the merge left them); `open(i)` opens one the pass had not reached yet, windowed as the
 * pass would have.
 */
export async function probeOrderedSources(
  opened: LiveSource[],
  notOpened: number[],
  open: (index: number) => LiveSource,
): Promise<FallbackSignal[]> {
  const failed: FallbackSignal[] = [];
  const check = async (source: LiveSource): Promise<void> => {
    const err = await source.probe();
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
