// The event-building half of the syslog sink (syslog-sink.ts adds the byte-level fast path on top): the
// reference path (parseSyslogLine on the decoded line), logfmt daemon lines, and turning parsed fields into
// timeline events (year inference, local time -> UTC, daemon / auth enrichment).
import type { Buffer } from 'node:buffer';
import { TimeDesc, type TimelineEvent } from '../../events/event.js';
import { NS_PER_SECOND, daysFromCivil } from '../../events/time.js';
import { daemonEventFromMessage, isDaemonUnit } from '../daemon-events/daemon-events.js';
import { AUTH_ANY_PROGRAM_PREFIX, authProgramKnown, parseAuthMessage } from './auth-parse.js';
import { MinuteCache, utf8Slice } from './syslog-bytes.js';
import { type SyslogLine, parseSyslogLine, priNames } from './syslog-parse.js';
import { YearTracker, type YearInfo } from './syslog-year.js';
import { looksBinary } from './text-file.js';
import type { HostZone, LocalTimeConverter } from './timezone.js';

export const SYSLOG_SOURCE = 'syslog';
export const AUTH_SOURCE = 'auth';

export interface SyslogFileInfo {
  path: string;
  host: string;
  inode?: bigint;
  compressed: boolean;
  /** syslog, messages, daemon.log, kern.log, docker.log, containerd.log, auth.log, secure */
  kind: string;
}

/** Lines in, events out, through the reference path; SyslogSink adds the fast path. */
export class SyslogSinkBase {
  events: TimelineEvent[] = [];
  protected readonly years = new YearTracker();
  private readonly source: string;
  private readonly fileUnit: string | undefined;
  protected readonly kind: string;
  protected readonly compressed: boolean;
  protected readonly startYear: number;
  protected readonly yearSource: YearInfo['source'];
  protected readonly tz: string;
  protected readonly tzSource: string;
  protected readonly zone: HostZone['zone'];
  private readonly unitDaemon = new Map<string, boolean>();
  protected readonly m3164 = new MinuteCache();

  constructor(
    private readonly info: SyslogFileInfo,
    protected readonly conv: LocalTimeConverter,
    private readonly year: YearInfo | undefined,
    private readonly problem: (reason: string) => void,
  ) {
    this.source = info.kind === 'auth.log' || info.kind === 'secure' ? AUTH_SOURCE : SYSLOG_SOURCE;
    this.fileUnit = info.kind === 'docker.log' ? 'dockerd' : info.kind === 'containerd.log' ? 'containerd' : undefined;
    this.kind = info.kind;
    this.compressed = info.compressed;
    this.startYear = year?.startYear ?? 1970;
    this.yearSource = year?.source ?? 'none';
    this.tz = conv.attrs.tz;
    this.tzSource = conv.attrs.tz_source;
    this.zone = conv.hz.zone;
  }

  /** The reference path: the decoded line through parseSyslogLine. */
  protected slowLine(buf: Buffer, s: number, e: number, offset: number, lineNo: number): void {
    const text = utf8Slice(buf, s, e);
    if (text.startsWith('time="') || text.startsWith('time=20')) {
      this.daemonLine(text, lineNo, offset);
      return;
    }
    const rec = parseSyslogLine(text);
    if (!rec) {
      if (looksBinary(buf, s, e)) this.problem(`line ${lineNo}: binary data (${e - s} bytes at offset ${offset}); skipped`);
      else if (text.trim() !== '') this.problem(`line ${lineNo}: no syslog timestamp: ${JSON.stringify(text.slice(0, 80))}; skipped`);
      return;
    }
    this.record(rec, lineNo, offset);
  }

  private lastSec = Number.NaN;
  private lastSecNs = 0n;
  /** UTC seconds -> ns, memoised (consecutive lines share their second). */
  protected secondsNs(sec: number): bigint {
    if (sec !== this.lastSec) {
      this.lastSec = sec;
      this.lastSecNs = BigInt(sec) * NS_PER_SECOND;
    }
    return this.lastSecNs;
  }

  private isDaemonProgram(program: string): boolean {
    let d = this.unitDaemon.get(program);
    if (d === undefined) {
      d = isDaemonUnit(program);
      if (this.unitDaemon.size < 4096) this.unitDaemon.set(program, d);
    }
    return d;
  }

  private daemonLine(text: string, lineNo: number, offset: number): void {
    const de = daemonEventFromMessage(text, this.fileUnit);
    if (!de || de.time === undefined) {
      this.problem(`line ${lineNo}: logfmt line without a valid time=: ${JSON.stringify(text.slice(0, 80))}; skipped`);
      return;
    }
    const attrs: Record<string, unknown> = { log: this.info.kind, ...de.attrs };
    if (this.info.compressed) attrs.compressed = true;
    this.push(de.time, de.source, text, de.rawTime ?? '', lineNo, offset, attrs, de.container_id);
  }

  private record(rec: SyslogLine, lineNo: number, offset: number): void {
    const attrs: Record<string, unknown> = { log: this.info.kind, format: rec.format };
    let time: bigint;
    if (rec.utoff !== undefined && rec.year !== undefined) {
      const local = daysFromCivil(rec.year, rec.month, rec.day) * 86400 + rec.hour * 3600 + rec.minute * 60 + rec.second;
      time = BigInt(local - rec.utoff) * NS_PER_SECOND + BigInt(rec.nanos);
    } else {
      let year = rec.year;
      if (year === undefined) {
        year = this.startYear + this.years.see(rec.month, rec.day);
        this.m3164.len = 0; // the fast path's minute cache assumes it saw the last month
        attrs.year_inferred = true;
        attrs.year_source = this.yearSource;
      }
      const local = daysFromCivil(year, rec.month, rec.day) * 86400 + rec.hour * 3600 + rec.minute * 60 + rec.second;
      const r = this.conv.toUtc(local);
      time = this.secondsNs(r.utc) + (rec.nanos === 0 ? 0n : BigInt(rec.nanos));
      attrs.tz = this.tz;
      attrs.tz_source = this.tzSource;
      if (r.flag === 'ambiguous') attrs.tz_ambiguous = true;
      else if (r.flag === 'gap') attrs.tz_gap = true;
    }
    if (rec.hostname !== undefined) attrs.hostname = rec.hostname;
    if (rec.program !== undefined) attrs.program = rec.program;
    if (rec.pid !== undefined) attrs.pid = /^\d+$/.test(rec.pid) ? Number(rec.pid) : rec.pid;
    if (rec.pri !== undefined) {
      const p = priNames(rec.pri);
      attrs.facility = p.facility;
      attrs.severity = p.severity;
    }
    if (rec.msgid !== undefined) attrs.msgid = rec.msgid;
    if (rec.structuredData !== undefined) attrs.structured_data = rec.structuredData;
    if (this.info.compressed) attrs.compressed = true;
    const daemon = rec.program !== undefined && this.isDaemonProgram(rec.program);
    const auth = rec.program !== undefined && authProgramKnown(rec.program);
    this.complete(attrs, time, rec.rawTime, rec.program, daemon, auth, rec.message, lineNo, offset);
  }

  /** Daemon events and auth attrs from the message, then the event. */
  protected complete(
    attrs: Record<string, unknown>,
    time: bigint,
    syslogTime: string,
    program: string | undefined,
    daemonProgram: boolean,
    authProgram: boolean,
    message: string,
    lineNo: number,
    offset: number,
  ): void {
    let source = this.source;
    let containerId: string | undefined;
    let rawTime = syslogTime;
    if (program !== undefined && (daemonProgram || this.fileUnit) && message.length > 0) {
      const de = daemonEventFromMessage(message, daemonProgram ? program : this.fileUnit);
      if (de) {
        source = de.source;
        containerId = de.container_id;
        const da = de.attrs;
        // Object.assign(attrs, rest-without-pid) of the reference code; the builtin copy is much cheaper than
        // keyed stores one by one, and putting back a pid attrs already holds keeps its place and value.
        if (!('pid' in da)) Object.assign(attrs, da);
        else if (attrs.pid !== undefined) {
          const pid = attrs.pid;
          Object.assign(attrs, da);
          attrs.pid = pid;
        } else {
          for (const k in da) if (k !== 'pid') attrs[k] = da[k];
        }
        if (da.pid !== undefined) attrs.daemon_pid = da.pid;
        if (de.time !== undefined) {
          attrs.syslog_time = syslogTime;
          time = de.time;
          rawTime = de.rawTime ?? rawTime;
        }
      }
    } else if (authProgram || message.startsWith(AUTH_ANY_PROGRAM_PREFIX)) {
      const auth = parseAuthMessage(program, message);
      if (auth) {
        for (const k in auth) attrs[k in attrs ? `auth_${k}` : k] = auth[k];
      }
    }
    this.push(time, source, message, rawTime, lineNo, offset, attrs, containerId);
  }

  private push(
    time: bigint,
    source: string,
    message: string,
    rawTime: string,
    line: number,
    offset: number,
    attrs: Record<string, unknown>,
    containerId: string | undefined,
  ): void {
    const ev: TimelineEvent = {
      time,
      timestamp_desc: TimeDesc.recorded,
      source,
      host: this.info.host,
      message,
      path: this.info.path,
      inode: this.info.inode,
      line,
      offset,
      raw_time: rawTime,
      attrs,
    };
    if (containerId) ev.container_id = containerId;
    this.events.push(ev);
  }
}
