// Shared helpers for timeline tests: event factories, sources with chosen batching, a recording sink.
import type { TimelineEvent } from '../../src/events/event.js';
import type { EventSource } from '../../src/collectors/types.js';
import type { EventSink } from '../../src/writers/sink.js';

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const T0 = 1_714_558_830_000_000_000n; // 2024-05-01T10:20:30Z

export function ev(time: bigint, over: Partial<TimelineEvent> = {}): TimelineEvent {
  return {
    time,
    timestamp_desc: 'Written Time',
    source: 'docker:json-log',
    host: 'h1',
    message: `m${time}`,
    path: '/var/log/a.log',
    raw_time: String(time),
    ...over,
  };
}

/** A source over a fixed list, yielded in batches of `batch`; counts opens. */
export function listSource(
  id: string,
  events: TimelineEvent[],
  ordered: boolean,
  batch = 7,
): EventSource & { opens: number } {
  const s = {
    id,
    ordered,
    opens: 0,
    async *open(): AsyncGenerator<TimelineEvent[]> {
      s.opens++;
      for (let i = 0; i < events.length; i += batch) yield events.slice(i, i + batch);
    },
  };
  return s;
}

/** Records what reaches it (reset clears), for checks without files. */
export class MemorySink implements EventSink {
  events: TimelineEvent[] = [];
  resets = 0;
  closed = 0;
  batches = 0;
  write(batch: TimelineEvent[]): void {
    this.batches++;
    for (const e of batch) this.events.push(e);
  }
  async reset(): Promise<void> {
    this.resets++;
    this.events = [];
  }
  async close(): Promise<void> {
    this.closed++;
  }
}

export function randomEvents(n: number, seed: number, opts: { hosts?: number; paths?: number; span?: number } = {}): TimelineEvent[] {
  const r = rng(seed);
  const hosts = opts.hosts ?? 3;
  const paths = opts.paths ?? 5;
  const span = opts.span ?? 1000;
  const out: TimelineEvent[] = [];
  for (let i = 0; i < n; i++) {
    const e: TimelineEvent = {
      time: T0 + BigInt(Math.floor(r() * span)) * 1000n,
      timestamp_desc: r() < 0.5 ? 'Written Time' : 'Creation Time',
      source: r() < 0.5 ? 'docker:json-log' : 'docker:container',
      host: `h${Math.floor(r() * hosts)}`,
      message: `msg ${Math.floor(r() * 50)}`,
      path: `/p/${Math.floor(r() * paths)}`,
      raw_time: `raw${Math.floor(r() * 3)}`,
    };
    if (r() < 0.7) e.line = Math.floor(r() * 20);
    if (r() < 0.5) e.offset = Math.floor(r() * 100);
    if (r() < 0.5) e.container_id = `c${Math.floor(r() * 3)}`;
    if (r() < 0.3) e.container_name = `n${Math.floor(r() * 2)}`;
    if (r() < 0.3) e.inode = BigInt(Math.floor(r() * 4));
    if (r() < 0.3) e.attrs = { stream: r() < 0.5 ? 'stdout' : 'stderr', big: BigInt(Math.floor(r() * 3)) };
    out.push(e);
  }
  return out;
}

export function shuffle<T>(xs: T[], r: () => number): T[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
