// TZif and POSIX TZ parsing, checked against the system's own zoneinfo files with `zdump -v` as the oracle, and
// the local -> UTC choice for DST gaps and overlaps. Every named limit has a corrupted-copy regression test.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  MAX_TZIF_TRANSITIONS,
  MAX_TZIF_TYPES,
  PosixZone,
  TzifError,
  TzifZone,
  parsePosixTz,
  parseTzif,
} from '../../../src/collectors/host-logs/tzif.js';

const ZONEINFO = '/usr/share/zoneinfo';
const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Sao_Paulo', 'Pacific/Apia'];
const haveZdump = (() => {
  try {
    execFileSync('zdump', ['--version'], { stdio: 'ignore' });
    return fs.existsSync(`${ZONEINFO}/Europe/Berlin`);
  } catch {
    return false;
  }
})();

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** `zdump -v` lines -> [utc seconds, gmtoff, isdst, abbr]. */
function zdump(zone: string, from: number, to: number): Array<[number, number, boolean, string]> {
  const out = execFileSync('zdump', ['-v', '-c', `${from},${to}`, zone], { encoding: 'utf8' });
  const rows: Array<[number, number, boolean, string]> = [];
  for (const line of out.split('\n')) {
    const m = /^\S+\s+\w{3} (\w{3})\s+(\d+) (\d\d):(\d\d):(\d\d) (-?\d+) UT = .* (\S+) isdst=(\d) gmtoff=(-?\d+)$/.exec(line);
    if (!m) continue;
    const utc = Date.UTC(Number(m[6]), MONTHS[m[1]], Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) / 1000;
    rows.push([utc, Number(m[9]), m[8] === '1', m[7]]);
  }
  return rows;
}

function loadZone(name: string): TzifZone {
  return new TzifZone(name, parseTzif(fs.readFileSync(`${ZONEINFO}/${name}`), name));
}

describe.skipIf(!haveZdump)('TZif against zdump -v (system zoneinfo)', () => {
  for (const name of ZONES) {
    it(`${name}: every transition 1900-2060 matches zdump (table and footer rule)`, () => {
      const zone = loadZone(name);
      const rows = zdump(name, 1900, 2060);
      expect(rows.length).toBeGreaterThan(4);
      for (const [utc, off, isDst, abbr] of rows) {
        const t = zone.typeAt(utc);
        expect({ utc, off: t.utoff, isDst: t.isDst, abbr: t.abbr }).toEqual({ utc, off, isDst, abbr });
      }
    });
  }

  it('the footer POSIX rule alone agrees with the table it summarises (Berlin 2000-2037)', () => {
    const zone = loadZone('Europe/Berlin');
    const posix = new PosixZone('footer', parsePosixTz(zone.data.footer)!);
    for (let t = Date.UTC(2000, 0, 1) / 1000; t < Date.UTC(2037, 0, 1) / 1000; t += 3 * 3600 + 17) {
      expect(posix.utoffAt(t)).toBe(zone.utoffAt(t));
    }
  });

  it('agrees with Intl.DateTimeFormat offsets for sampled instants', () => {
    for (const name of ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe']) {
      const zone = loadZone(name);
      const fmt = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' });
      for (let t = Date.UTC(1995, 0, 1) / 1000; t < Date.UTC(2045, 0, 1) / 1000; t += 86400 * 37 + 3600) {
        const part = fmt.formatToParts(new Date(t * 1000)).find((p) => p.type === 'timeZoneName')!.value;
        const m = /GMT(?:([+-])(\d\d):(\d\d))?/.exec(part)!;
        const off = m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60) : 0;
        expect(zone.utoffAt(t)).toBe(off);
      }
    }
  });
});

describe('POSIX TZ strings', () => {
  it('parses the common forms', () => {
    expect(parsePosixTz('CET-1CEST,M3.5.0,M10.5.0/3')).toMatchObject({
      std: { utoff: 3600, abbr: 'CET' },
      dst: { utoff: 7200, abbr: 'CEST', start: { time: 7200 }, end: { time: 10800 } },
    });
    expect(parsePosixTz('<+1030>-10:30<+11>-11,M10.1.0,M4.1.0')).toMatchObject({
      std: { utoff: 37800, abbr: '+1030' },
      dst: { utoff: 39600 },
    });
    expect(parsePosixTz('UTC0')).toEqual({ std: { utoff: 0, isDst: false, abbr: 'UTC' } });
    expect(parsePosixTz('EST5EDT')?.dst?.start.date).toEqual({ kind: 'M', month: 3, week: 2, weekday: 0 });
    expect(parsePosixTz('XXX3YYY,J60/-1,300/167')?.dst).toMatchObject({ start: { date: { kind: 'J', day: 60 }, time: -3600 }, end: { date: { kind: 'n', day: 300 }, time: 167 * 3600 } });
    for (const bad of ['', 'C', 'CET', 'CET-1CEST,M13.1.0,M10.5.0', 'CET-1CEST,M3.5.0', 'CET-99', 'CET-1CEST,M3.5.0,M10.5.0/200']) {
      expect(parsePosixTz(bad), bad).toBeUndefined();
    }
  });

  it('evaluates northern and southern rules (US 2024, Lord Howe 2024)', () => {
    const us = new PosixZone('x', parsePosixTz('EST5EDT,M3.2.0,M11.1.0')!);
    expect(us.utoffAt(Date.UTC(2024, 2, 10, 6, 59, 59) / 1000)).toBe(-5 * 3600);
    expect(us.utoffAt(Date.UTC(2024, 2, 10, 7, 0, 0) / 1000)).toBe(-4 * 3600);
    expect(us.utoffAt(Date.UTC(2024, 10, 3, 5, 59, 59) / 1000)).toBe(-4 * 3600);
    expect(us.utoffAt(Date.UTC(2024, 10, 3, 6, 0, 0) / 1000)).toBe(-5 * 3600);
    const lh = new PosixZone('x', parsePosixTz('<+1030>-10:30<+11>-11,M10.1.0,M4.1.0')!);
    expect(lh.utoffAt(Date.UTC(2024, 0, 15) / 1000)).toBe(11 * 3600);
    expect(lh.utoffAt(Date.UTC(2024, 6, 15) / 1000)).toBe(10.5 * 3600);
  });
});

describe('local time -> UTC', () => {
  const berlin = new PosixZone('Europe/Berlin', parsePosixTz('CET-1CEST,M3.5.0,M10.5.0/3')!);
  const local = (y: number, mo: number, d: number, h: number, mi: number): number => Date.UTC(y, mo - 1, d, h, mi) / 1000;

  it('plain times use the one valid offset', () => {
    expect(berlin.localToUtc(local(2024, 7, 1, 12, 0))).toEqual({ utc: local(2024, 7, 1, 10, 0), utoff: 7200 });
    expect(berlin.localToUtc(local(2024, 1, 1, 12, 0))).toEqual({ utc: local(2024, 1, 1, 11, 0), utoff: 3600 });
  });

  it('an ambiguous wall time (fall back) takes the earlier instant and says so', () => {
    // 2024-10-27 02:30 happens at 00:30Z (CEST) and 01:30Z (CET)
    expect(berlin.localToUtc(local(2024, 10, 27, 2, 30))).toEqual({ utc: local(2024, 10, 27, 0, 30), utoff: 7200, ambiguous: true });
  });

  it('a wall time in a gap (spring forward) reads with the offset before the gap and says so', () => {
    // 2024-03-31 02:30 never happened; with CET (+1) it is 01:30Z = 03:30 CEST
    expect(berlin.localToUtc(local(2024, 3, 31, 2, 30))).toEqual({ utc: local(2024, 3, 31, 1, 30), utoff: 3600, gap: true });
  });

  it.skipIf(!haveZdump)('Lord Howe half-hour shift: gap and overlap', () => {
    const lh = loadZone('Australia/Lord_Howe');
    // 2024-10-06 02:00 local -> 02:30 (+10:30 -> +11)
    expect(lh.localToUtc(local(2024, 10, 6, 2, 15))).toMatchObject({ gap: true, utoff: 37800 });
    // 2024-04-07 02:00 local -> 01:30 (+11 -> +10:30): 01:45 is ambiguous
    expect(lh.localToUtc(local(2024, 4, 7, 1, 45))).toMatchObject({ ambiguous: true, utoff: 39600, utc: local(2024, 4, 7, 1, 45) - 39600 });
  });
});

describe('TZif hardening (corrupted copies of Europe/Berlin)', () => {
  const good = fs.existsSync(`${ZONEINFO}/Europe/Berlin`) ? new Uint8Array(fs.readFileSync(`${ZONEINFO}/Europe/Berlin`)) : undefined;
  const withU32 = (b: Uint8Array, at: number, v: number): Uint8Array => {
    const c = b.slice();
    new DataView(c.buffer).setUint32(at, v);
    return c;
  };

  it.skipIf(!good)('reads version 2+ with its footer', () => {
    const d = parseTzif(good!);
    expect(d.version).toBeGreaterThanOrEqual(2);
    expect(d.footer).toBe('CET-1CEST,M3.5.0,M10.5.0/3');
  });

  it('a minimal v1 file from literal bytes', () => {
    // header: TZif, version NUL, 15 unused, isut=0 isstd=0 leap=0 time=1 type=2 char=8
    const b = new Uint8Array(44 + 4 + 1 + 12 + 8);
    b.set([0x54, 0x5a, 0x69, 0x66]);
    const dv = new DataView(b.buffer);
    dv.setUint32(32, 1);
    dv.setUint32(36, 2);
    dv.setUint32(40, 8);
    dv.setInt32(44, 1_000_000_000); // transition
    b[48] = 1; // -> type 1
    dv.setInt32(49, 0); b[53] = 0; b[54] = 0; // type 0: UTC, "UTC"
    dv.setInt32(55, 3600); b[59] = 1; b[60] = 4; // type 1: +1 dst, "XST"
    b.set([0x55, 0x54, 0x43, 0, 0x58, 0x53, 0x54, 0], 61);
    const z = new TzifZone('t', parseTzif(b));
    expect(z.typeAt(999_999_999)).toEqual({ utoff: 0, isDst: false, abbr: 'UTC' });
    expect(z.typeAt(1_000_000_000)).toEqual({ utoff: 3600, isDst: true, abbr: 'XST' });
    // corrupted copies
    expect(() => parseTzif(b.subarray(0, 60))).toThrow(/truncated/);
    const badIdx = b.slice(); badIdx[48] = 7;
    expect(() => parseTzif(badIdx)).toThrow(/type 7/);
    const badMagic = b.slice(); badMagic[0] = 0x58;
    expect(() => parseTzif(badMagic)).toThrow(/magic/);
    expect(() => parseTzif(withU32(b, 36, 0))).toThrow(/typecnt is 0/);
  });

  it.skipIf(!good)('absurd counts hit the named limits, never allocate', () => {
    expect(() => parseTzif(withU32(good!, 32, 0xffffffff))).toThrow(new RegExp(`MAX_TZIF_TRANSITIONS.*${MAX_TZIF_TRANSITIONS}|limit ${MAX_TZIF_TRANSITIONS}`));
    expect(() => parseTzif(withU32(good!, 36, 100000))).toThrow(new RegExp(`limit ${MAX_TZIF_TYPES}`));
    expect(() => parseTzif(withU32(good!, 40, 1 << 30))).toThrow(/MAX_TZIF_CHARS/);
    expect(() => parseTzif(withU32(good!, 28, 1 << 30))).toThrow(/MAX_TZIF_LEAPS/);
    expect(() => parseTzif(new Uint8Array(2 * 1024 * 1024))).toThrow(/MAX_TZIF_BYTES/);
  });

  it.skipIf(!good)('truncation anywhere is a TzifError, never a crash', () => {
    for (let n = 0; n < good!.length; n += 7) {
      try {
        parseTzif(good!.subarray(0, n));
      } catch (err) {
        expect(err).toBeInstanceOf(TzifError);
      }
    }
  });
});
