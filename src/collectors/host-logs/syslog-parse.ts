// One syslog file line -> its header fields and message. Three layouts are met in /var/log:
//   RFC 3164 / rsyslog RSYSLOG_TraditionalFileFormat  `May  1 10:20:30 host prog[123]: message` (local time,
//     no year, no zone);
//   rsyslog RSYSLOG_FileFormat (high precision)        `2024-05-01T10:20:30.123456+02:00 host prog[123]: message`;
//   RFC 5424 (RSYSLOG_SyslogProtocol23Format)          `<34>1 2024-05-01T10:20:30.123Z host app 123 ID47 [sd] msg`.
// A `<PRI>` prefix is accepted on all three (forwarded raw messages).
// References: RFC 3164 section 4.1.2 (TIMESTAMP "Mmm dd hh:mm:ss", day space padded; TAG), RFC 5424 section 6
// (HEADER, STRUCTURED-DATA, NILVALUE, BOM), RFC 3339 (5424 timestamps), rsyslog doc "templates" (the built-in
// file formats). docs/formats/syslog.md.

export interface SyslogLine {
  format: 'rfc3164' | 'rfc5424' | 'iso';
  pri?: number;
  /** The timestamp text exactly. */
  rawTime: string;
  /** Date and time fields as written (year undefined for RFC 3164). */
  year?: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  /** Seconds east of UTC when the timestamp carries an offset; undefined = host local time. */
  utoff?: number;
  hostname?: string;
  program?: string;
  pid?: string;
  msgid?: string;
  structuredData?: string;
  message: string;
}

export const MONTHS: Record<string, number> = {
  Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12,
};

const FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp',
  'security', 'console', 'solaris-cron', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
];
const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

/** RFC 5424 6.2.1: PRI = facility * 8 + severity. */
export function priNames(pri: number): { facility: string; severity: string } {
  return { facility: FACILITIES[pri >> 3] ?? String(pri >> 3), severity: SEVERITIES[pri & 7] };
}

const RE_3164 = /^(?:<(\d{1,3})>)?([A-Z][a-z]{2}) ([ \d]?\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? /;
const RE_ISO =
  /^(?:<(\d{1,3})>)?(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9})\d*)?(Z|[+-]\d\d:?\d\d)? /;
const RE_5424 = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) /;
const RE_TAG = /^([^\s[\]:]{1,128})(?:\[([^\]\s]{0,32})\])?:(?: |$)/;

function offsetSeconds(z: string): number {
  if (z === 'Z') return 0;
  const sign = z[0] === '-' ? -1 : 1;
  const digits = z.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4)) * 60);
}

/** `host tag[pid]: message` after the timestamp. */
function hostAndTag(out: SyslogLine, rest: string): void {
  const sp = rest.indexOf(' ');
  if (sp <= 0) {
    out.hostname = rest || undefined;
    out.message = '';
    return;
  }
  out.hostname = rest.slice(0, sp);
  const after = rest.slice(sp + 1);
  const m = RE_TAG.exec(after);
  if (m) {
    out.program = m[1];
    if (m[2] !== undefined && m[2] !== '') out.pid = m[2];
    out.message = after.slice(m[0].length);
  } else {
    out.message = after;
  }
}

/** RFC 5424 STRUCTURED-DATA: `-` or one or more `[id k="v" ...]` (`\]`, `\"`, `\\` escaped); returns its end. */
function sdEnd(s: string, p: number): number | undefined {
  if (s[p] === '-') return p + 1;
  if (s[p] !== '[') return undefined;
  while (s[p] === '[') {
    p++;
    let inQuote = false;
    for (;;) {
      if (p >= s.length) return undefined;
      const c = s[p];
      if (c === '\\' && inQuote) {
        p += 2;
        continue;
      }
      if (c === '"') inQuote = !inQuote;
      else if (c === ']' && !inQuote) break;
      p++;
    }
    p++;
  }
  return p;
}

function validDate(month: number, day: number, hour: number, minute: number, second: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60;
}

/** Parses one line; undefined when it has none of the three timestamp layouts. */
export function parseSyslogLine(line: string): SyslogLine | undefined {
  const c0 = line.charCodeAt(0);
  let pri: number | undefined;
  if (c0 === 0x3c) {
    const m = RE_5424.exec(line);
    if (m) {
      pri = Number(m[1]);
      const ts = m[2];
      const t = RE_ISO.exec(ts + ' ');
      if (!t || ts === '-') return undefined;
      const out = isoFields(t, ts);
      if (!out) return undefined;
      out.format = 'rfc5424';
      out.pri = pri <= 191 ? pri : undefined;
      if (m[3] !== '-') out.hostname = m[3];
      if (m[4] !== '-') out.program = m[4];
      if (m[5] !== '-') out.pid = m[5];
      if (m[6] !== '-') out.msgid = m[6];
      const sdStart = m[0].length;
      const e = sdEnd(line, sdStart);
      if (e === undefined) {
        out.message = line.slice(sdStart);
      } else {
        if (line[sdStart] !== '-') out.structuredData = line.slice(sdStart, e);
        let msg = line.slice(e);
        if (msg.startsWith(' ')) msg = msg.slice(1);
        if (msg.charCodeAt(0) === 0xfeff) msg = msg.slice(1);
        out.message = msg;
      }
      return out;
    }
  }
  let m = RE_3164.exec(line);
  if (m) {
    const month = MONTHS[m[2]];
    const day = Number(m[3]);
    const hour = Number(m[4]);
    const minute = Number(m[5]);
    const second = Number(m[6]);
    if (month === undefined || !validDate(month, day, hour, minute, second)) return undefined;
    const tsStart = m[1] !== undefined ? m[1].length + 2 : 0;
    const out: SyslogLine = {
      format: 'rfc3164',
      rawTime: line.slice(tsStart, m[0].length - 1),
      month,
      day,
      hour,
      minute,
      second,
      nanos: m[7] ? Number(m[7].padEnd(9, '0')) : 0,
      message: '',
    };
    if (m[1] !== undefined && Number(m[1]) <= 191) out.pri = Number(m[1]);
    hostAndTag(out, line.slice(m[0].length));
    return out;
  }
  m = RE_ISO.exec(line);
  if (m) {
    const tsStart = m[1] !== undefined ? m[1].length + 2 : 0;
    const out = isoFields(m, line.slice(tsStart, m[0].length - 1));
    if (!out) return undefined;
    if (m[1] !== undefined && Number(m[1]) <= 191) out.pri = Number(m[1]);
    hostAndTag(out, line.slice(m[0].length));
    return out;
  }
  return undefined;
}

function isoFields(m: RegExpExecArray, rawTime: string): SyslogLine | undefined {
  const year = Number(m[2]);
  const month = Number(m[3]);
  const day = Number(m[4]);
  const hour = Number(m[5]);
  const minute = Number(m[6]);
  const second = Number(m[7]);
  if (!validDate(month, day, hour, minute, second)) return undefined;
  return {
    format: 'iso',
    rawTime,
    year,
    month,
    day,
    hour,
    minute,
    second,
    nanos: m[8] ? Number(m[8].padEnd(9, '0')) : 0,
    utoff: m[9] !== undefined ? offsetSeconds(m[9]) : undefined,
    message: '',
  };
}

/** The month of an RFC 3164 line from its first bytes (cheap, for the year pre-scan); undefined when not one. */
export function month3164(buf: Uint8Array, s: number, e: number): { month: number; day: number } | undefined {
  const md = monthDay3164(buf, s, e);
  return md < 0 ? undefined : { month: md >> 6, day: md & 63 };
}

/** Month name bytes (big-endian 24-bit) -> month number. */
const MONTH_CODES = new Map<number, number>(
  Object.entries(MONTHS).map(([name, n]) => [(name.charCodeAt(0) << 16) | (name.charCodeAt(1) << 8) | name.charCodeAt(2), n]),
);

/** The month of three bytes at p (`Jan` .. `Dec`), 0 when they name none. */
export function monthAt(buf: Uint8Array, p: number): number {
  const code = (buf[p] << 16) | (buf[p + 1] << 8) | buf[p + 2];
  if (code !== lastMonthCode) {
    lastMonthCode = code;
    lastMonth = MONTH_CODES.get(code) ?? 0;
  }
  return lastMonth;
}
// monthAt's last answer (consecutive lines share their month)
let lastMonthCode = -1;
let lastMonth = 0;

/** month3164 without an allocation: month * 64 + day, or -1 when the line does not start like RFC 3164. */
export function monthDay3164(buf: Uint8Array, s: number, e: number): number {
  if (buf[s] === 0x3c) {
    // <PRI>
    let p = s + 1;
    while (p < e && p < s + 5 && buf[p] !== 0x3e) p++;
    if (buf[p] !== 0x3e) return -1;
    s = p + 1;
  }
  if (e - s < 15 || buf[s + 3] !== 0x20 || buf[s + 6] !== 0x20 || buf[s + 9] !== 0x3a) return -1;
  const month = monthAt(buf, s);
  if (month === 0) return -1;
  const d1 = buf[s + 4] === 0x20 ? 0 : buf[s + 4] - 0x30;
  const d2 = buf[s + 5] - 0x30;
  if (d1 < 0 || d1 > 3 || d2 < 0 || d2 > 9) return -1;
  return month * 64 + d1 * 10 + d2;
}
