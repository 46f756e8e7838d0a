// Time helpers: every time inside flotsam is a bigint count of nanoseconds since 1970-01-01T00:00:00Z (UTC).
// Docker writes RFC 3339 with up to nine fractional digits (Go's time.RFC3339Nano); JavaScript's Date keeps only
// milliseconds, so we parse and format the fraction ourselves.

export const NS_PER_SECOND = 1_000_000_000n;
export const NS_PER_MICRO = 1_000n;

/** Go's zero time.Time, `0001-01-01T00:00:00Z`: "never happened", not an event. */
export const GO_ZERO_TIME_NS = -62_135_596_800n * NS_PER_SECOND;

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9})\d*)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/** Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * Parses an RFC 3339 timestamp with up to 9 fractional digits (more are truncated, as Go does when formatting)
 * into UTC nanoseconds. Returns undefined for anything that is not a valid timestamp.
 */
export function parseRfc3339Nano(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  let offsetMinutes = 0;
  if (!m[8]) {
    const sign = m[9] === '-' ? -1 : 1;
    offsetMinutes = sign * (Number(m[10]) * 60 + Number(m[11]));
  }
  const secs = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  const frac = m[7] ? BigInt(m[7].padEnd(9, '0')) : 0n;
  return BigInt(secs) * NS_PER_SECOND + frac;
}

/** Year, month, day of a day count from 1970-01-01 (Hinnant's civil_from_days). */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

const pad2 = (n: number): string => (n < 10 ? '0' + n : String(n));

/** UTC ISO 8601 with all nine fractional digits: `2024-05-01T10:20:30.123456789Z`. */
export function formatIsoNano(ns: bigint): string {
  let secs = ns / NS_PER_SECOND;
  let frac = ns % NS_PER_SECOND;
  if (frac < 0n) {
    frac += NS_PER_SECOND;
    secs -= 1n;
  }
  const s = Number(secs);
  const days = Math.floor(s / 86400);
  const sod = s - days * 86400;
  const [y, mo, d] = civilFromDays(days);
  const year = y < 0 ? '-' + String(-y).padStart(6, '0') : y > 9999 ? '+' + String(y) : String(y).padStart(4, '0');
  return (
    `${year}-${pad2(mo)}-${pad2(d)}T${pad2(Math.floor(sod / 3600))}:${pad2(Math.floor((sod % 3600) / 60))}:` +
    `${pad2(sod % 60)}.${frac.toString().padStart(9, '0')}Z`
  );
}

/** Microseconds since the epoch (Timesketch's `timestamp`), floored. */
export function toMicros(ns: bigint): bigint {
  const q = ns / NS_PER_MICRO;
  return ns % NS_PER_MICRO < 0n ? q - 1n : q;
}

/** Whole seconds since the epoch, floored (a time before 1970 falls in the second that starts before it). */
export function floorSeconds(ns: bigint): bigint {
  const q = ns / NS_PER_SECOND;
  return ns % NS_PER_SECOND < 0n ? q - 1n : q;
}

/** Seconds + nanoseconds (as in stat(2)) to ns. */
export function fromSecNsec(sec: bigint | number, nsec: bigint | number): bigint {
  return BigInt(sec) * NS_PER_SECOND + BigInt(nsec);
}

/** Parses a `--since/--until` value: RFC 3339, a date `YYYY-MM-DD` (UTC midnight), or epoch seconds. */
export function parseUserTime(text: string): bigint | undefined {
  const t = text.trim();
  if (/^-?\d+(\.\d{1,9})?$/.test(t)) {
    const [whole, frac = ''] = t.split('.');
    const sign = whole.startsWith('-') ? -1n : 1n;
    return BigInt(whole) * NS_PER_SECOND + sign * BigInt(frac.padEnd(9, '0') || '0');
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return parseRfc3339Nano(`${t}T00:00:00Z`);
  return parseRfc3339Nano(t);
}
