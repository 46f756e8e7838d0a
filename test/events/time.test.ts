import { describe, expect, it } from 'vitest';
import {
  GO_ZERO_TIME_NS,
  formatIsoNano,
  parseRfc3339Nano,
  parseUserTime,
  toMicros,
} from '../../src/events/time.js';

describe('RFC 3339 with nanoseconds', () => {
  it('keeps all nine digits', () => {
    const ns = parseRfc3339Nano('2024-05-01T10:20:30.123456789Z');
    expect(ns).toBe(1714558830123456789n);
    expect(formatIsoNano(ns!)).toBe('2024-05-01T10:20:30.123456789Z');
  });

  it('pads short fractions and truncates longer ones like Go', () => {
    expect(parseRfc3339Nano('2024-05-01T10:20:30.5Z')).toBe(1714558830500000000n);
    expect(parseRfc3339Nano('2024-05-01T10:20:30.1234567891Z')).toBe(1714558830123456789n);
    expect(parseRfc3339Nano('2024-05-01T10:20:30Z')).toBe(1714558830000000000n);
  });

  it('converts offsets to UTC', () => {
    expect(parseRfc3339Nano('2024-05-01T12:20:30.000000001+02:00')).toBe(1714558830000000001n);
    expect(parseRfc3339Nano('2024-05-01T05:50:30-04:30')).toBe(1714558830000000000n);
  });

  it("recognises Go's zero time", () => {
    expect(parseRfc3339Nano('0001-01-01T00:00:00Z')).toBe(GO_ZERO_TIME_NS);
    expect(formatIsoNano(GO_ZERO_TIME_NS)).toBe('0001-01-01T00:00:00.000000000Z');
  });

  it('formats times before 1970 and far in the future', () => {
    expect(formatIsoNano(-1n)).toBe('1969-12-31T23:59:59.999999999Z');
    const t = parseRfc3339Nano('1901-12-13T20:45:52.000000001Z')!;
    expect(formatIsoNano(t)).toBe('1901-12-13T20:45:52.000000001Z');
    const f = parseRfc3339Nano('2446-05-10T22:38:55.999999999Z')!;
    expect(formatIsoNano(f)).toBe('2446-05-10T22:38:55.999999999Z');
  });

  it('rejects what is not a timestamp', () => {
    for (const bad of ['', 'yesterday', '2024-13-01T00:00:00Z', '2024-05-01', '2024-05-01T10:20:30', '2024-05-01T25:00:00Z']) {
      expect(parseRfc3339Nano(bad)).toBeUndefined();
    }
  });

  it('agrees with Date for whole milliseconds over a wide range', () => {
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor((Math.sin(i) * 0.5 + 0.5) * 8e12) - 2e12;
      const iso = new Date(ms).toISOString();
      const ns = parseRfc3339Nano(iso)!;
      expect(ns).toBe(BigInt(ms) * 1_000_000n);
      expect(formatIsoNano(ns).replace(/(\.\d{3})\d{6}Z$/, '$1Z')).toBe(iso);
    }
  });
});

describe('microseconds for Timesketch', () => {
  it('floors, also before 1970', () => {
    expect(toMicros(1714558830123456789n)).toBe(1714558830123456n);
    expect(toMicros(-1n)).toBe(-1n);
    expect(toMicros(-1000n)).toBe(-1n);
  });
});

describe('--since/--until values', () => {
  it('accepts RFC 3339, dates and epoch seconds', () => {
    expect(parseUserTime('2024-05-01')).toBe(1714521600000000000n);
    expect(parseUserTime('1714521600')).toBe(1714521600000000000n);
    expect(parseUserTime('1714521600.5')).toBe(1714521600500000000n);
    expect(parseUserTime('2024-05-01T00:00:00.000000001Z')).toBe(1714521600000000001n);
    expect(parseUserTime('soon')).toBeUndefined();
  });
});
