// Zones: the local time type at any UTC second, from TZif data, a POSIX TZ rule, a fixed offset or Intl, and the
// one wall time -> UTC conversion they all share. Apart from the parsers (tzif.ts, posix-tz.ts) because this is
// where the choices for ambiguous and missing local times are made.
//
// Ambiguous and missing local times (daylight-saving overlaps and gaps) resolve like Temporal's and java.time's
// default ("compatible"): an ambiguous wall time takes the EARLIER instant (the offset in force before the
// change), a wall time inside a gap is read with the offset in force before the gap (so it lands after the
// jump). Both cases are reported to the caller, which marks the event.
import { daysFromCivil } from '../../events/time.js';
import { type PosixTz, parsePosixTz, posixTzTypeAt } from './posix-tz.js';
import type { LocalTimeType, TzifData } from './tzif.js';

export interface LocalToUtc {
  /** UTC seconds. */
  utc: number;
  /** The offset used (seconds east of UTC). */
  utoff: number;
  /** The wall time occurs twice (DST overlap); the earlier instant was taken. */
  ambiguous?: boolean;
  /** The wall time never occurred (DST gap); read with the offset before the gap. */
  gap?: boolean;
}

/** A time zone: the local time type at any UTC second, and wall time -> UTC. */
export abstract class Zone {
  constructor(readonly name: string) {}
  abstract typeAt(utcSec: number): LocalTimeType;

  utoffAt(utcSec: number): number {
    return this.typeAt(utcSec).utoff;
  }

  /**
   * Wall-clock seconds (local date and time counted as if they were UTC) -> UTC seconds. Deterministic for
   * DST overlaps (earlier instant) and gaps (offset before the gap), as Temporal's "compatible" choice.
   * Assumes at most one offset change within a day of the wall time (true of every tzdb zone).
   */
  localToUtc(local: number): LocalToUtc {
    const before = this.utoffAt(local - 86400);
    const after = this.utoffAt(local + 86400);
    if (before === after && this.utoffAt(local - before) === before) return { utc: local - before, utoff: before };
    const valid: number[] = [];
    for (const o of before === after ? [before] : [before, after]) {
      if (this.utoffAt(local - o) === o) valid.push(o);
    }
    if (valid.length === 1) return { utc: local - valid[0], utoff: valid[0] };
    if (valid.length > 1) {
      const o = Math.max(...valid); // the larger offset is the earlier instant
      return { utc: local - o, utoff: o, ambiguous: true };
    }
    return { utc: local - before, utoff: before, gap: true };
  }
}

export class FixedZone extends Zone {
  private readonly type: LocalTimeType;
  constructor(name: string, utoff = 0, abbr = name) {
    super(name);
    this.type = { utoff, isDst: false, abbr };
  }
  typeAt(): LocalTimeType {
    return this.type;
  }
}

export class PosixZone extends Zone {
  constructor(
    name: string,
    readonly tz: PosixTz,
  ) {
    super(name);
  }
  typeAt(utcSec: number): LocalTimeType {
    return posixTzTypeAt(this.tz, utcSec);
  }
}

/** A zone read from TZif data: transitions, then the footer rule after the last one. */
export class TzifZone extends Zone {
  readonly footerTz: PosixTz | undefined;
  constructor(
    name: string,
    readonly data: TzifData,
  ) {
    super(name);
    this.footerTz = data.footer ? parsePosixTz(data.footer) : undefined;
  }

  typeAt(t: number): LocalTimeType {
    const tr = this.data.transitions;
    const n = tr.length;
    if (n === 0 || t >= tr[n - 1]) {
      if (this.footerTz) return posixTzTypeAt(this.footerTz, t);
      if (n === 0) return this.data.types[0];
      return this.data.types[this.data.transitionTypes[n - 1]];
    }
    if (t < tr[0]) return this.data.types[0];
    let lo = 0;
    let hi = n - 1; // tr[lo] <= t < tr[hi]
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (tr[mid] <= t) lo = mid;
      else hi = mid;
    }
    return this.data.types[this.data.transitionTypes[lo]];
  }
}

/** Intl-backed zone (ICU's tz database), for a zone name when no TZif data is at hand. Cached per 15 minutes. */
export class IntlZone extends Zone {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly cache = new Map<number, number>();
  constructor(name: string) {
    super(name);
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
  }
  typeAt(t: number): LocalTimeType {
    const key = Math.floor(t / 900);
    let off = this.cache.get(key);
    if (off === undefined) {
      const sec = key * 900;
      const parts: Record<string, string> = {};
      for (const p of this.fmt.formatToParts(new Date(sec * 1000))) parts[p.type] = p.value;
      let y = Number(parts.year);
      if (parts.era === 'BC' || parts.era === 'B') y = 1 - y;
      const local = daysFromCivil(y, Number(parts.month), Number(parts.day)) * 86400 +
        Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second);
      off = local - sec;
      if (this.cache.size > 4096) this.cache.clear();
      this.cache.set(key, off);
    }
    return { utoff: off, isDst: false, abbr: '' };
  }
}

/** True when Intl knows the zone name. */
export function intlKnowsZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
