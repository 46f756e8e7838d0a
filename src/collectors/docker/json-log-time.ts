// Fast parser for the timestamps Docker's json-file driver writes: Go's time.RFC3339Nano of a UTC time
// (`2024-05-01T10:20:30.123456789Z`; Go trims trailing zeros of the fraction, so it has 0 to 9 digits).
// Anything else (offsets, lower-case `t`/`z`, more than 9 digits) goes to the general parseRfc3339Nano, so the
// result is always the same as parseRfc3339Nano's; the fast path only avoids the regex and most BigInt work.
// References: moby/moby daemon/logger/jsonfilelog/jsonlog/time_marshalling.go (fastTimeMarshalJSON),
// daemon/logger/copier.go (Timestamp: time.Now().UTC()), Go `time.RFC3339Nano`.
import { NS_PER_SECOND, daysFromCivil, parseRfc3339Nano } from '../../events/time.js';

/** 10^(9 - digits): scales a fraction with `digits` digits to nanoseconds. */
const FRACTION_SCALE = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1];

/** Two ASCII digits at i, or -1. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

/**
 * `SS[.f{1,9}]Z` from index 17 of a string of length len, as nanoseconds within the minute (< 6.1e10, exact in a
 * double), or -1 when the layout is not exactly that.
 */
function secondsAndFraction(s: string, len: number): number {
  const sec = two(s, 17);
  if (sec < 0 || sec > 60) return -1;
  if (len === 20) return sec * 1e9; // `...:SSZ`
  if (s.charCodeAt(19) !== 46 /* . */) return -1;
  const digits = len - 21;
  if (digits < 1 || digits > 9) return -1;
  let frac = 0;
  for (let i = 20; i < len - 1; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    frac = frac * 10 + d;
  }
  return sec * 1e9 + frac * FRACTION_SCALE[digits];
}

/** Two ASCII digits at buf[i], or -1. */
function two8(b: Uint8Array, i: number): number {
  const x = b[i] - 48;
  const y = b[i + 1] - 48;
  if (x < 0 || x > 9 || y < 0 || y > 9) return -1;
  return x * 10 + y;
}

/**
 * Parses Docker log timestamps, remembering the last minute seen: consecutive log lines nearly always share
 * `YYYY-MM-DDTHH:MM`, so most calls cost a few digit reads and one BigInt addition.
 * One instance per reader (it is stateful, not shared).
 */
export class DockerTimeParser {
  /** The last minute seen as a number (-1: none) and its start in ns. */
  private minuteKey = -1;
  private base = 0n;

  private baseFor(key: number, year: number, month: number, day: number, hour: number, minute: number): bigint {
    if (key !== this.minuteKey) {
      this.minuteKey = key;
      this.base = BigInt(daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60) * NS_PER_SECOND;
    }
    return this.base;
  }

  /** The time in a string (as JSON.parse gave it). Same result as parseRfc3339Nano. */
  parse(s: string): bigint | undefined {
    const len = s.length;
    if (len >= 20 && len <= 30 && s.charCodeAt(len - 1) === 90 /* Z */) {
      const ns = secondsAndFraction(s, len);
      const y1 = two(s, 0);
      const y2 = two(s, 2);
      const month = two(s, 5);
      const day = two(s, 8);
      const hour = two(s, 11);
      const minute = two(s, 14);
      if (
        ns >= 0 && y1 >= 0 && y2 >= 0 && month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour >= 0 &&
        hour <= 23 && minute >= 0 && minute <= 59 && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45 &&
        s.charCodeAt(10) === 84 && s.charCodeAt(13) === 58 && s.charCodeAt(16) === 58
      ) {
        const year = y1 * 100 + y2;
        const key = ((((year * 13 + month) * 32 + day) * 24 + hour) * 60) + minute;
        return this.baseFor(key, year, month, day, hour, minute) + BigInt(ns);
      }
    }
    return parseRfc3339Nano(s);
  }

  /**
   * The time in buf[s, e) (ASCII, not JSON-escaped): `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`, or undefined for any other
   * layout (the caller then decodes the string and uses parse()).
   */
  parseBytes(b: Uint8Array, s: number, e: number): bigint | undefined {
    const len = e - s;
    if (len < 20 || len > 30 || b[e - 1] !== 90 /* Z */) return undefined;
    const y1 = two8(b, s);
    const y2 = two8(b, s + 2);
    const month = two8(b, s + 5);
    const day = two8(b, s + 8);
    const hour = two8(b, s + 11);
    const minute = two8(b, s + 14);
    const sec = two8(b, s + 17);
    if (
      y1 < 0 || y2 < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || sec < 0 || sec > 60 || b[s + 4] !== 45 || b[s + 7] !== 45 ||
      b[s + 10] !== 84 || b[s + 13] !== 58 || b[s + 16] !== 58
    ) {
      return undefined;
    }
    let ns = sec * 1e9;
    if (len > 20) {
      if (b[s + 19] !== 46 /* . */) return undefined;
      const digits = len - 21;
      if (digits < 1) return undefined;
      let frac = 0;
      for (let i = s + 20; i < e - 1; i++) {
        const d = b[i] - 48;
        if (d < 0 || d > 9) return undefined;
        frac = frac * 10 + d;
      }
      ns += frac * FRACTION_SCALE[digits];
    }
    const year = y1 * 100 + y2;
    const key = ((((year * 13 + month) * 32 + day) * 24 + hour) * 60) + minute;
    return this.baseFor(key, year, month, day, hour, minute) + BigInt(ns);
  }
}
