// The synchronous core of the syslog reader: one file's lines in, events out (syslog.ts streams the files).
//
// Two paths produce the same events:
//   - a byte-level fast path for the usual lines: RFC 3164 `Mmm dd hh:mm:ss[.frac] host tag[pid]: msg` and
//     rsyslog high-precision `YYYY-MM-DDThh:mm:ss[.frac][Z|+hh:mm] host tag[pid]: msg`, header bytes ASCII.
//     Fields are read by byte offsets (no regex, no whole-line string), the message is decoded once with
//     utf8Slice, the host name and program are interned (and the program's daemon / auth classification
//     cached), and the wall-clock -> UTC conversion is cached per minute of the timestamp text;
//   - the reference path (parseSyslogLine on the decoded line) for everything else: `<PRI>` and RFC 5424
//     lines, bare logfmt lines, unusual spacing, non-ASCII tags, invalid fields (which it reports).
// The fast path only ever accepts a line the reference path parses the same way; anything it is unsure of
// is handed over untouched (test/collectors/host-logs/syslog-equivalence.test.ts compares both on a corpus).
// References: RFC 3164, RFC 5424, rsyslog templates; docs/formats/syslog.md.
import type { Buffer } from 'node:buffer';
import { NS_PER_SECOND, daysFromCivil } from '../../events/time.js';
import { MinuteCache, type ProgramInfo, ProgramTable, SECOND_NS, isDigit, isSpace, latin1Slice, utf8Slice } from './syslog-bytes.js';
import { monthAt } from './syslog-parse.js';
import { SyslogSinkBase } from './syslog-sink-base.js';
import type { LineSink } from './text-file.js';

export { AUTH_SOURCE, SYSLOG_SOURCE, type SyslogFileInfo } from './syslog-sink-base.js';
export { YEAR_ROLLOVER_MONTH_DROP, YearTracker, type YearInfo } from './syslog-year.js';

/** Longest host name kept in the one-entry host name cache. */
const HOST_CACHE_BYTES = 256;

const FORMAT_3164 = 'rfc3164';
const FORMAT_ISO = 'iso';

/** The synchronous core: lines in, events out. */
export class SyslogSink extends SyslogSinkBase implements LineSink {
  /** Benchmarks and the equivalence test only: false sends every line through the reference path. */
  fastPath = true;
  private readonly programs = new ProgramTable();
  private readonly mIso = new MinuteCache();
  private readonly hostKey = new Uint8Array(HOST_CACHE_BYTES);
  private hostLen = -1;
  private host = '';
  // fields of the line being parsed by the fast path
  private hostname = '';
  private program: ProgramInfo | undefined;
  private pid: string | number | undefined;
  private msgStart = 0;
  /** The host name's bytes are ASCII (then byte offsets of the line are string offsets up to the message). */
  private hostAscii = true;
  private hostIsAscii = true;

  readonly line = (buf: Buffer, s: number, e: number, offset: number, lineNo: number): void => {
    if (e === s) return;
    if (this.fastPath) {
      const c = buf[s];
      if (c >= 0x41 && c <= 0x5a) {
        if (this.fast3164(buf, s, e, offset, lineNo)) return;
      } else if (c >= 0x30 && c <= 0x39) {
        if (this.fastIso(buf, s, e, offset, lineNo)) return;
      }
    }
    this.slowLine(buf, s, e, offset, lineNo);
  };

  /**
   * `host tag[pid]: ` from byte h on (what parseSyslogLine's hostAndTag does on the decoded text): sets
   * hostname, program, pid and msgStart; false (hand the line over) for what the fast path does not take.
   */
  private hostAndTag(buf: Buffer, h: number, e: number): boolean {
    // host name (any bytes but space; usually the same on every line): the cached one first
    let sp = h + this.hostLen;
    let same = this.hostLen > 0 && sp < e && buf[sp] === 0x20;
    if (same) {
      const k = this.hostKey;
      for (let i = 0; i < this.hostLen; i++) {
        if (k[i] !== buf[h + i]) {
          same = false;
          break;
        }
      }
    }
    if (!same) {
      sp = h;
      while (sp < e && buf[sp] !== 0x20) sp++;
      if (sp === h || sp === e) return false; // no host name or nothing after it: rare, the reference path decides
    }
    const hl = sp - h;
    if (!same) {
      this.host = utf8Slice(buf, h, sp);
      let or = 0;
      for (let i = h; i < sp; i++) or |= buf[i];
      this.hostIsAscii = or < 0x80;
      if (hl <= HOST_CACHE_BYTES) {
        for (let i = 0; i < hl; i++) this.hostKey[i] = buf[h + i];
        this.hostLen = hl;
      } else {
        this.hostLen = -1;
      }
    }
    this.hostname = this.host;
    this.hostAscii = this.hostIsAscii;
    // tag: RE_TAG /^([^\s[\]:]{1,128})(?:\[([^\]\s]{0,32})\])?:(?: |$)/ on the text after the host name
    const a = sp + 1;
    let j = a;
    let c = 0;
    let hash = 0;
    while (j < e) {
      c = buf[j];
      if (c >= 0x80) return false; // a non-ASCII tag: \s has Unicode members; the reference path decides
      if (c === 0x3a || c === 0x5b || c === 0x5d || isSpace(c)) break;
      hash = (Math.imul(hash, 31) + c) | 0;
      j++;
    }
    this.program = undefined;
    this.pid = undefined;
    this.msgStart = a;
    const len = j - a;
    if (j === e || len === 0 || len > 128) return true; // no tag: the message is all after the host name
    let colon = j;
    let pidStart = -1;
    if (c === 0x5b) {
      let k = j + 1;
      while (k < e) {
        const d = buf[k];
        if (d >= 0x80) return false;
        if (d === 0x5d || isSpace(d)) break;
        k++;
      }
      if (k === e || buf[k] !== 0x5d || k - (j + 1) > 32) return true;
      pidStart = j + 1;
      colon = k + 1;
    } else if (c !== 0x3a) {
      return true;
    }
    if (colon >= e || buf[colon] !== 0x3a) return true;
    if (colon + 1 < e && buf[colon + 1] !== 0x20) return true;
    this.program = this.programs.lookup(buf, a, j, hash);
    if (pidStart >= 0 && colon - 1 > pidStart) {
      // `/^\d+$/.test(pid) ? Number(pid) : pid`
      const pe = colon - 1;
      let n = 0;
      let digits = true;
      for (let i = pidStart; i < pe; i++) {
        const d = buf[i];
        if (d < 0x30 || d > 0x39) {
          digits = false;
          break;
        }
        n = n * 10 + (d - 0x30);
      }
      this.pid = !digits ? latin1Slice(buf, pidStart, pe) : pe - pidStart <= 15 ? n : Number(latin1Slice(buf, pidStart, pe));
    }
    this.msgStart = colon + 1 < e ? colon + 2 : e;
    return true;
  }

  /** `Mmm dd hh:mm:ss[.fffffffff] host tag[pid]: message`; false hands the line to the reference path. */
  private fast3164(buf: Buffer, s: number, e: number, offset: number, lineNo: number): boolean {
    // RE_3164 /^([A-Z][a-z]{2}) ([ \d]?\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? /
    if (e - s < 16 || buf[s + 3] !== 0x20) return false;
    const b4 = buf[s + 4];
    const b5 = buf[s + 5];
    let day: number;
    let t: number; // start of hh
    if (b4 === 0x20 && isDigit(b5) && buf[s + 6] === 0x20) {
      day = b5 - 0x30;
      t = s + 7;
    } else if (isDigit(b4) && isDigit(b5) && buf[s + 6] === 0x20) {
      day = (b4 - 0x30) * 10 + (b5 - 0x30);
      t = s + 7;
    } else if (isDigit(b4) && b5 === 0x20) {
      day = b4 - 0x30;
      t = s + 6;
    } else {
      return false;
    }
    if (t + 9 > e) return false;
    const h1 = buf[t];
    const h2 = buf[t + 1];
    const m1 = buf[t + 3];
    const m2 = buf[t + 4];
    const s1 = buf[t + 6];
    const s2 = buf[t + 7];
    if (
      !isDigit(h1) || !isDigit(h2) || buf[t + 2] !== 0x3a || !isDigit(m1) || !isDigit(m2) || buf[t + 5] !== 0x3a ||
      !isDigit(s1) || !isDigit(s2)
    ) {
      return false;
    }
    let p = t + 8;
    let nanos = 0;
    if (buf[p] === 0x2e) {
      let q = p + 1;
      let scale = 100_000_000;
      while (q < e && isDigit(buf[q]) && q - p <= 9) {
        nanos += (buf[q] - 0x30) * scale;
        scale /= 10;
        q++;
      }
      if (q === p + 1 || q - p > 9 + 1) return false;
      p = q;
    }
    if (p >= e || buf[p] !== 0x20) return false;
    const second = (s1 - 0x30) * 10 + (s2 - 0x30);
    const hour = (h1 - 0x30) * 10 + (h2 - 0x30);
    const minute = (m1 - 0x30) * 10 + (m2 - 0x30);
    if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
    const mc = this.m3164;
    const minuteEnd = t + 5;
    const hit = mc.hit(buf, s, minuteEnd);
    let month = 0;
    if (!hit) {
      month = monthAt(buf, s);
      if (month === 0) return false; // not a month name (nor [A-Z][a-z]{2}): the reference path reports it
    }
    if (!this.hostAndTag(buf, p + 1, e)) return false;
    // committed: from here on the line is an event
    if (!hit) {
      const year = this.startYear + this.years.see(month, day);
      mc.store(buf, s, minuteEnd);
      this.minute(mc, daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60);
    }
    let time: bigint;
    let flag: 'ambiguous' | 'gap' | undefined;
    if (mc.uniform && second < 60) {
      time = mc.utcNs + SECOND_NS[second];
    } else {
      const r = this.conv.toUtc(mc.local + second);
      time = this.secondsNs(r.utc);
      flag = r.flag;
    }
    if (nanos !== 0) time += BigInt(nanos);
    const prog = this.program;
    const pid = this.pid;
    let attrs: Record<string, unknown>;
    if (flag === undefined && prog !== undefined && pid !== undefined) {
      // the usual line, as one literal (the same keys in the same order as below)
      attrs = {
        log: this.kind,
        format: FORMAT_3164,
        year_inferred: true,
        year_source: this.yearSource,
        tz: this.tz,
        tz_source: this.tzSource,
        hostname: this.hostname,
        program: prog.name,
        pid,
      };
    } else {
      attrs = {
        log: this.kind,
        format: FORMAT_3164,
        year_inferred: true,
        year_source: this.yearSource,
        tz: this.tz,
        tz_source: this.tzSource,
      };
      if (flag === 'ambiguous') attrs.tz_ambiguous = true;
      else if (flag === 'gap') attrs.tz_gap = true;
      this.hostProgramPid(attrs);
    }
    this.tail(buf, s, p, e, attrs, time, offset, lineNo);
    return true;
  }

  /** Sets the minute's local start and, when its offset is constant over seconds 0..59, its UTC start. */
  private minute(mc: MinuteCache, local: number): void {
    mc.local = local;
    const r0 = this.zone.localToUtc(local);
    const r59 = this.zone.localToUtc(local + 59);
    // The zone assumes at most one offset change within a day; equal unflagged offsets at both ends of the
    // minute then hold for every second between.
    mc.uniform = !r0.ambiguous && !r0.gap && !r59.ambiguous && !r59.gap && r59.utc - r0.utc === 59;
    mc.utc = r0.utc;
    if (mc.uniform) mc.utcNs = BigInt(r0.utc) * NS_PER_SECOND;
  }

  /** `YYYY-MM-DD[T ]hh:mm:ss[.,]frac[Z|±hh[:]mm] host tag[pid]: message`; false hands the line over. */
  private fastIso(buf: Buffer, s: number, e: number, offset: number, lineNo: number): boolean {
    // RE_ISO /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9})\d*)?(Z|[+-]\d\d:?\d\d)? /
    if (e - s < 21) return false;
    const sep = buf[s + 10];
    if (
      !isDigit(buf[s + 1]) || !isDigit(buf[s + 2]) || !isDigit(buf[s + 3]) || buf[s + 4] !== 0x2d ||
      !isDigit(buf[s + 5]) || !isDigit(buf[s + 6]) || buf[s + 7] !== 0x2d || !isDigit(buf[s + 8]) || !isDigit(buf[s + 9]) ||
      (sep !== 0x54 && sep !== 0x20) || !isDigit(buf[s + 11]) || !isDigit(buf[s + 12]) || buf[s + 13] !== 0x3a ||
      !isDigit(buf[s + 14]) || !isDigit(buf[s + 15]) || buf[s + 16] !== 0x3a || !isDigit(buf[s + 17]) || !isDigit(buf[s + 18])
    ) {
      return false;
    }
    let p = s + 19;
    let nanos = 0;
    const f = buf[p];
    if (f === 0x2e || f === 0x2c) {
      let q = p + 1;
      let scale = 100_000_000;
      while (q < e && isDigit(buf[q])) {
        if (q - p <= 9) nanos += (buf[q] - 0x30) * scale;
        scale /= 10;
        q++;
      }
      if (q === p + 1) return false;
      p = q;
    }
    let utoff: number | undefined;
    const z = buf[p];
    if (z === 0x5a) {
      utoff = 0;
      p++;
    } else if (z === 0x2b || z === 0x2d) {
      if (p + 5 >= e || !isDigit(buf[p + 1]) || !isDigit(buf[p + 2])) return false;
      let q = p + 3;
      if (buf[q] === 0x3a) q++;
      if (q + 2 > e || !isDigit(buf[q]) || !isDigit(buf[q + 1])) return false;
      const off = ((buf[p + 1] - 0x30) * 10 + (buf[p + 2] - 0x30)) * 3600 + ((buf[q] - 0x30) * 10 + (buf[q + 1] - 0x30)) * 60;
      utoff = z === 0x2d ? -off : off;
      p = q + 2;
    }
    if (p >= e || buf[p] !== 0x20) return false;
    const d2 = (c: number): number => (buf[c] - 0x30) * 10 + (buf[c + 1] - 0x30);
    const month = d2(s + 5);
    const day = d2(s + 8);
    const hour = d2(s + 11);
    const minute = d2(s + 14);
    const second = d2(s + 17);
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
    if (!this.hostAndTag(buf, p + 1, e)) return false;
    // committed
    const mc = this.mIso;
    const minuteEnd = s + 16;
    if (!mc.hit(buf, s, minuteEnd)) {
      const year = (buf[s] - 0x30) * 1000 + (buf[s + 1] - 0x30) * 100 + d2(s + 2);
      mc.store(buf, s, minuteEnd);
      mc.local = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60;
      mc.uniform = false;
      mc.utc = Number.NaN;
    }
    let time: bigint;
    const attrs: Record<string, unknown> = { log: this.kind, format: FORMAT_ISO };
    if (utoff !== undefined) {
      time = this.secondsNs(mc.local + second - utoff);
    } else {
      if (Number.isNaN(mc.utc)) this.minute(mc, mc.local);
      attrs.tz = this.tz;
      attrs.tz_source = this.tzSource;
      if (mc.uniform && second < 60) {
        time = this.secondsNs(mc.utc + second);
      } else {
        const r = this.conv.toUtc(mc.local + second);
        time = this.secondsNs(r.utc);
        if (r.flag === 'ambiguous') attrs.tz_ambiguous = true;
        else if (r.flag === 'gap') attrs.tz_gap = true;
      }
    }
    if (nanos !== 0) time += BigInt(nanos);
    this.hostProgramPid(attrs);
    this.tail(buf, s, p, e, attrs, time, offset, lineNo);
    return true;
  }

  private hostProgramPid(attrs: Record<string, unknown>): void {
    attrs.hostname = this.hostname;
    if (this.program !== undefined) attrs.program = this.program.name;
    if (this.pid !== undefined) attrs.pid = this.pid;
  }

  /** The fast path's raw time [s, te) and message, then complete. */
  private tail(buf: Buffer, s: number, te: number, e: number, attrs: Record<string, unknown>, time: bigint, offset: number, lineNo: number): void {
    if (this.compressed) attrs.compressed = true;
    const ms = this.msgStart;
    let rawTime: string;
    let message: string;
    if (this.hostAscii && ms < e) {
      // one decode: the header is ASCII, so string offsets are byte offsets up to the message
      const text = utf8Slice(buf, s, e);
      rawTime = text.slice(0, te - s);
      message = text.slice(ms - s);
    } else {
      rawTime = latin1Slice(buf, s, te);
      message = ms < e ? utf8Slice(buf, ms, e) : '';
    }
    const prog = this.program;
    if (prog === undefined) this.complete(attrs, time, rawTime, undefined, false, false, message, lineNo, offset);
    else this.complete(attrs, time, rawTime, prog.name, prog.daemon, prog.auth, message, lineNo, offset);
  }
}
