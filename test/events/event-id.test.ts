// Event ids: the allocation-free hash (eventIdHalves, used by computeEventId; the row printer uses the same loop through eventIdFromPrefix) must equal plain
// FNV-1a 64 over the documented key string, whatever the fields hold.
import { describe, expect, it } from 'vitest';
import { computeEventId, eventIdHalves, eventIdResult, fnv1a64 } from '../../src/events/event-id.js';
import type { TimelineEvent } from '../../src/events/event.js';
import { rng } from '../timeline/helpers.js';

function keyString(ev: TimelineEvent): string {
  const pos = ev.offset !== undefined ? `o${ev.offset}` : ev.line !== undefined ? `l${ev.line}` : `m${ev.message}`;
  return `${ev.host}\u0000${ev.source}\u0000${ev.path}\u0000${ev.container_id ?? ''}\u0000${ev.timestamp_desc}\u0000${pos}\u0000${ev.time}`;
}

describe('event ids', () => {
  it('equal FNV-1a 64 of the key string for hostile fields, odd positions and extreme times', () => {
    const r = rng(5);
    const texts = ['', 'a', 'é', '😀', '\ud800', '\uffff', '\u0000', 'x'.repeat(300)];
    const times = [0n, 1n, -1n, 999_999_999n, 1_000_000_000n, -62_135_596_800_000_000_001n, 1_714_557_600_123_456_789n, 2n ** 70n];
    for (let i = 0; i < 3000; i++) {
      const pick = (): string => texts[Math.floor(r() * texts.length)] + String(Math.floor(r() * 3));
      const ev: TimelineEvent = {
        time: r() < 0.5 ? times[Math.floor(r() * times.length)] : BigInt(Math.floor(r() * 2 ** 52)) * 1000n + BigInt(Math.floor(r() * 1000)),
        timestamp_desc: pick(),
        source: pick(),
        host: pick(),
        message: pick(),
        path: `/p/${Math.floor(r() * 40)}`,
        raw_time: '',
      };
      if (r() < 0.5) ev.container_id = pick();
      if (r() < 0.4) ev.offset = [0, 7, 2 ** 53, -3, 1.5][Math.floor(r() * 5)];
      else if (r() < 0.5) ev.line = Math.floor(r() * 1e9);
      const want = fnv1a64(keyString(ev));
      expect(computeEventId(ev), keyString(ev)).toBe(want);
      if (ev.time >= 1_000_000_000n) {
        // The writers' form: whole seconds as text, nanosecond digits as bytes.
        const frac = (ev.time % 1_000_000_000n).toString().padStart(9, '0');
        eventIdHalves(ev, (ev.time / 1_000_000_000n).toString(), Buffer.from('xx' + frac, 'latin1'), 2);
        const got = (eventIdResult.hi >>> 0).toString(16).padStart(8, '0') + (eventIdResult.lo >>> 0).toString(16).padStart(8, '0');
        expect(got).toBe(want);
      }
    }
  });
});
