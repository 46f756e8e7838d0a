// A fast path for the logfmt `time=` of daemon lines, which is parsed once per line of a busy docker.log: the
// same results as parseRfc3339Nano (the syslog-equivalence test checks it), with the BigInt of the last second
// kept between calls.
import { NS_PER_SECOND, daysFromCivil, parseRfc3339Nano } from '../../events/time.js';

let lastSecs = Number.NaN;
let lastSecsNs = 0n;

/**
 * parseRfc3339Nano for the usual `YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)` by character positions (no regex, one
 * BigInt per new second); anything else goes to parseRfc3339Nano itself.
 */
export function rfc3339Nano(text: string): bigint | undefined {
  const n = text.length;
  const dig = (i: number): number => {
    const c = text.charCodeAt(i) - 0x30;
    return c >= 0 && c <= 9 ? c : -1e6; // any sum of place values with one of these is negative
  };
  if (n < 20) return parseRfc3339Nano(text);
  const sep = text.charCodeAt(10);
  const year = dig(0) * 1000 + dig(1) * 100 + dig(2) * 10 + dig(3);
  const month = dig(5) * 10 + dig(6);
  const day = dig(8) * 10 + dig(9);
  const hour = dig(11) * 10 + dig(12);
  const minute = dig(14) * 10 + dig(15);
  const second = dig(17) * 10 + dig(18);
  if (
    year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || text.charCodeAt(4) !== 0x2d ||
    text.charCodeAt(7) !== 0x2d || (sep !== 0x54 && sep !== 0x74 && sep !== 0x20) || text.charCodeAt(13) !== 0x3a ||
    text.charCodeAt(16) !== 0x3a
  ) {
    return parseRfc3339Nano(text);
  }
  let p = 19;
  let frac = 0;
  if (text.charCodeAt(p) === 0x2e) {
    let scale = 100_000_000;
    const start = p + 1;
    p = start;
    while (p < n && dig(p) >= 0) {
      if (p - start < 9) frac += dig(p) * scale;
      scale /= 10;
      p++;
    }
    if (p === start) return parseRfc3339Nano(text);
  }
  let offsetSeconds = 0;
  const z = text.charCodeAt(p);
  if (z === 0x5a || z === 0x7a) {
    if (p + 1 !== n) return parseRfc3339Nano(text);
  } else if (z === 0x2b || z === 0x2d) {
    const oh = dig(p + 1) * 10 + dig(p + 2);
    const q = text.charCodeAt(p + 3) === 0x3a ? p + 4 : p + 3;
    const om = dig(q) * 10 + dig(q + 1);
    if (oh < 0 || om < 0 || q + 2 !== n) return parseRfc3339Nano(text);
    offsetSeconds = (z === 0x2d ? -1 : 1) * (oh * 60 + om) * 60;
  } else {
    return parseRfc3339Nano(text);
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const secs = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds;
  if (secs !== lastSecs) {
    lastSecs = secs;
    lastSecsNs = BigInt(secs) * NS_PER_SECOND;
  }
  return frac === 0 ? lastSecsNs : lastSecsNs + BigInt(frac);
}
