// Fast, cached formatting of the two time columns every writer prints: `datetime` (formatIsoNano) and
// `timestamp` (toMicros, as decimal digits). Sorted output has long runs of events within the same second, so the
// date-and-time prefix and the seconds digits are computed once per second; per event only the nine fraction
// digits are formatted (the microseconds are their first six). Output is byte-identical to formatIsoNano /
// toMicros (tested).

import { floorSeconds, formatIsoNano, NS_PER_SECOND, toMicros } from '../events/time.js';

export class TimeFormatter {
  private lo = 1n;
  private hi = 0n; // empty range: the first call always misses
  private prefix = '';
  /** Decimal seconds when > 0 (then micros = seconds digits + first six fraction digits), else ''. */
  private secsDigits = '';
  private lastNs = -1n;
  /** After `format(ns)`: the `datetime` value. */
  datetime = '';
  /** After `format(ns)`: the `timestamp` value (µs since the epoch, floored, decimal digits). */
  micros = '';

  /** Sets `datetime` and `micros` for ns. */
  format(ns: bigint): void {
    if (ns === this.lastNs) return;
    this.lastNs = ns;
    if (!(ns >= this.lo && ns < this.hi)) {
      const secs = floorSeconds(ns);
      const lo = secs * NS_PER_SECOND;
      this.lo = lo;
      this.hi = lo + NS_PER_SECOND;
      const iso = formatIsoNano(lo); // `...:SS.000000000Z`
      this.prefix = iso.slice(0, iso.length - 10); // keeps the '.'
      this.secsDigits = secs > 0n ? secs.toString() : '';
    }
    // 1e9 + frac < 2^31: a small integer, cheap to print.
    const f9 = (1e9 + Number(ns - this.lo)).toString().slice(1);
    this.datetime = this.prefix + f9 + 'Z';
    this.micros = this.secsDigits !== '' ? this.secsDigits + f9.slice(0, 6) : toMicros(ns).toString();
  }
}
