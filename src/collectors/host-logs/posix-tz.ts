// POSIX TZ strings (the TZif v2+ footer, or a TZ value): their parser and the local time type a rule gives at a
// UTC second. Apart from tzif.ts because a TZ string is a format of its own, met without any TZif file around it.
//
// References: POSIX.1-2017 Base Definitions 8.3 (the TZ variable: std offset dst [offset]
// [,start[/time],end[/time]], Jn / n / Mm.w.d rules); tzcode `localtime.c` (tzparse, getrule) for the v3
// extensions (rule times from -167 to 167 hours); RFC 8536 3.3 (footer). docs/formats/tzif.md.
import { civilFromDays, daysFromCivil } from '../../events/time.js';
import type { LocalTimeType } from './tzif.js';

/** Longest POSIX TZ footer we parse. */
export const MAX_TZ_STRING = 256;


/** A daylight-saving rule date: Julian day without Feb 29, zero-based day with it, or month.week.weekday. */
export type TzRuleDate =
  | { kind: 'J'; day: number }
  | { kind: 'n'; day: number }
  | { kind: 'M'; month: number; week: number; weekday: number };

export interface TzRule {
  date: TzRuleDate;
  /** Local seconds after midnight (may be negative or over 24 h in TZif v3). */
  time: number;
}

export interface PosixTz {
  std: LocalTimeType;
  dst?: LocalTimeType & { start: TzRule; end: TzRule };
}

/** Parses a POSIX TZ string (`CET-1CEST,M3.5.0,M10.5.0/3`); undefined when it is not one. */
export function parsePosixTz(s: string): PosixTz | undefined {
  if (s.length === 0 || s.length > MAX_TZ_STRING) return undefined;
  let p = 0;
  const name = (): string | undefined => {
    if (s[p] === '<') {
      const e = s.indexOf('>', p);
      if (e < 0) return undefined;
      const n = s.slice(p + 1, e);
      p = e + 1;
      return /^[A-Za-z0-9+-]{3,}$/.test(n) ? n : undefined;
    }
    const m = /^[A-Za-z]{3,}/.exec(s.slice(p));
    if (!m) return undefined;
    p += m[0].length;
    return m[0];
  };
  // hh[:mm[:ss]] with optional sign; hours up to `maxH`.
  const hms = (maxH: number): number | undefined => {
    const m = /^([+-])?(\d{1,3})(?::(\d{1,2})(?::(\d{1,2}))?)?/.exec(s.slice(p));
    if (!m) return undefined;
    const h = Number(m[2]);
    const mi = m[3] ? Number(m[3]) : 0;
    const se = m[4] ? Number(m[4]) : 0;
    if (h > maxH || mi > 59 || se > 59) return undefined;
    p += m[0].length;
    return (m[1] === '-' ? -1 : 1) * (h * 3600 + mi * 60 + se);
  };
  const stdName = name();
  if (stdName === undefined) return undefined;
  const stdOff = hms(24);
  if (stdOff === undefined) return undefined;
  const std: LocalTimeType = { utoff: -stdOff || 0, isDst: false, abbr: stdName };
  if (p === s.length) return { std };
  const dstName = name();
  if (dstName === undefined) return undefined;
  let dstUtoff = std.utoff + 3600;
  if (p < s.length && s[p] !== ',') {
    const o = hms(24);
    if (o === undefined) return undefined;
    dstUtoff = -o || 0;
  }
  const rule = (): TzRule | undefined => {
    let date: TzRuleDate;
    let m: RegExpExecArray | null;
    const rest = s.slice(p);
    if ((m = /^M(\d{1,2})\.(\d)\.(\d)/.exec(rest))) {
      const month = Number(m[1]);
      const week = Number(m[2]);
      const weekday = Number(m[3]);
      if (month < 1 || month > 12 || week < 1 || week > 5 || weekday > 6) return undefined;
      date = { kind: 'M', month, week, weekday };
    } else if ((m = /^J(\d{1,3})/.exec(rest))) {
      const day = Number(m[1]);
      if (day < 1 || day > 365) return undefined;
      date = { kind: 'J', day };
    } else if ((m = /^(\d{1,3})/.exec(rest))) {
      const day = Number(m[1]);
      if (day > 365) return undefined;
      date = { kind: 'n', day };
    } else {
      return undefined;
    }
    p += m[0].length;
    let time = 7200;
    if (s[p] === '/') {
      p++;
      const t = hms(167);
      if (t === undefined) return undefined;
      time = t;
    }
    return { date, time };
  };
  let start: TzRule | undefined;
  let end: TzRule | undefined;
  if (p === s.length) {
    // POSIX leaves the default rule to the implementation; tzcode uses the US rules.
    start = { date: { kind: 'M', month: 3, week: 2, weekday: 0 }, time: 7200 };
    end = { date: { kind: 'M', month: 11, week: 1, weekday: 0 }, time: 7200 };
  } else {
    if (s[p] !== ',') return undefined;
    p++;
    start = rule();
    if (!start || s[p] !== ',') return undefined;
    p++;
    end = rule();
    if (!end || p !== s.length) return undefined;
  }
  return { std, dst: { utoff: dstUtoff, isDst: true, abbr: dstName, start, end } };
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function yearOf(sec: number): number {
  return civilFromDays(Math.floor(sec / 86400))[0];
}

/** Local seconds (since the epoch, as if local were UTC) of a rule's moment in `year`. */
function ruleLocalSeconds(rule: TzRule, year: number): number {
  const jan1 = daysFromCivil(year, 1, 1);
  let day: number;
  const d = rule.date;
  if (d.kind === 'J') {
    day = jan1 + d.day - 1 + (isLeap(year) && d.day >= 60 ? 1 : 0);
  } else if (d.kind === 'n') {
    day = jan1 + d.day;
  } else {
    const first = daysFromCivil(year, d.month, 1);
    const firstWeekday = (((first + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    let dom = 1 + ((d.weekday - firstWeekday + 7) % 7) + (d.week - 1) * 7;
    const len = d.month === 2 && isLeap(year) ? 29 : MONTH_DAYS[d.month - 1];
    while (dom > len) dom -= 7;
    day = first + dom - 1;
  }
  return day * 86400 + rule.time;
}

/** The local time type a POSIX TZ gives at UTC second t. */
export function posixTzTypeAt(tz: PosixTz, t: number): LocalTimeType {
  const dst = tz.dst;
  if (!dst) return tz.std;
  const year = yearOf(t + tz.std.utoff);
  for (const y of [year - 1, year, year + 1]) {
    // Is t inside this year's DST period? (start is given in standard time, end in daylight time)
    const s = ruleLocalSeconds(dst.start, y) - tz.std.utoff;
    const e = ruleLocalSeconds(dst.end, y) - dst.utoff;
    if (s < e) {
      if (t >= s && t < e) return dst;
    } else if (y === year) {
      // Southern hemisphere: DST spans the new year.
      return t >= e && t < s ? tz.std : dst;
    }
  }
  return tz.std;
}
