// Text syslog files (/var/log/syslog, messages, daemon.log, kern.log, docker.log, containerd.log, auth.log,
// secure and their rotated `.1`, `.N.gz`, `-YYYYMMDD[.gz]` siblings, oldest first) as ordered event sources.
//
// RFC 3164 lines have no year: one cheap pre-pass counts the year roll-overs (the month going back by two or
// more: Dec -> Jan) and notes the last line's date; the last line's year is the file's mtime year in the host
// zone (minus one when the last date lies after the mtime date), and each earlier roll-over steps one year
// back. That is the walk "backwards from the file end" done in two forward passes with O(1) memory. Local
// times are converted with the evidence's own zone (timezone.ts). Lines of dockerd/containerd (by program, or
// bare logfmt lines in docker.log) become daemon events (src/collectors/daemon-events); auth lines get
// structured attrs (auth-parse.ts).
// References: RFC 3164, RFC 5424, rsyslog templates; logrotate(8) (rotate, compress, dateext);
// docs/formats/syslog.md, docs/formats/auth-log.md, docs/formats/daemon-events.md.
import { Buffer } from 'node:buffer';
import { TimeDesc, type TimelineEvent } from '../../events/event.js';
import { NS_PER_SECOND, daysFromCivil } from '../../events/time.js';
import { errorMessage } from '../../events/event.js';
import type { HostCollector } from '../registry.js';
import type { CollectorContext, EventSource } from '../types.js';
import { daemonEventFromMessage, isDaemonUnit } from '../daemon-events/daemon-events.js';
import { parseAuthMessage, type AuthAttrs } from './auth-parse.js';
import { type SyslogLine, month3164, parseSyslogLine, priNames } from './syslog-parse.js';
import {
  BATCH_EVENTS,
  FileProblems,
  LineSplitter,
  type LineSink,
  MAX_LINE_BYTES,
  type ReadOptions,
  looksBinary,
  openLogBytes,
  rotatedFamily,
  streamLines,
} from './text-file.js';
import { type HostZone, LocalTimeConverter, hostZone } from './timezone.js';

export const SYSLOG_SOURCE = 'syslog';
export const AUTH_SOURCE = 'auth';
const COMPONENT = 'host-logs';

/** The syslog family files under /var/log (each with its rotations). */
export const SYSLOG_FILES = ['syslog', 'messages', 'daemon.log', 'kern.log', 'docker.log', 'containerd.log', 'user.log'];
export const AUTH_FILES = ['auth.log', 'secure'];

/** The month drop (previous month minus this one) from which a line starts a new year. */
export const YEAR_ROLLOVER_MONTH_DROP = 2;

/** Tracks RFC 3164 months line by line; counts roll-overs (identical in the pre-pass and the parse pass). */
export class YearTracker {
  rollovers = 0;
  private prev = 0;
  last: { month: number; day: number } | undefined;
  /** Feeds the month of the next line; returns the roll-overs so far (0 for the first year). */
  see(month: number, day: number): number {
    if (this.prev !== 0 && this.prev - month >= YEAR_ROLLOVER_MONTH_DROP) this.rollovers++;
    this.prev = month;
    this.last = { month, day };
    return this.rollovers;
  }
}

export interface YearInfo {
  /** Year of the first RFC 3164 line. */
  startYear: number;
  source: 'mtime' | 'ctime' | 'none';
}

/** The year of the first line from the pre-pass result and the file's mtime (UTC ns) in the host zone. */
export function inferStartYear(tracker: YearTracker, mtimeNs: bigint | undefined, zone: HostZone, source: YearInfo['source']): YearInfo {
  if (mtimeNs === undefined) return { startYear: 1970 - tracker.rollovers, source: 'none' };
  const utc = Number(mtimeNs / NS_PER_SECOND);
  const local = utc + zone.zone.utoffAt(utc);
  const d = new Date(local * 1000);
  let endYear = d.getUTCFullYear();
  const mm = d.getUTCMonth() + 1;
  const dd = d.getUTCDate();
  const last = tracker.last;
  if (last && (last.month > mm || (last.month === mm && last.day > dd + 1))) endYear--;
  return { startYear: endYear - tracker.rollovers, source };
}

export interface SyslogFileInfo {
  path: string;
  host: string;
  inode?: bigint;
  compressed: boolean;
  /** syslog, messages, daemon.log, kern.log, docker.log, containerd.log, auth.log, secure */
  kind: string;
}

/** The synchronous core: lines in, events out. */
export class SyslogSink implements LineSink {
  events: TimelineEvent[] = [];
  private readonly years = new YearTracker();
  private readonly source: string;
  private readonly fileUnit: string | undefined;

  constructor(
    private readonly info: SyslogFileInfo,
    private readonly conv: LocalTimeConverter,
    private readonly year: YearInfo | undefined,
    private readonly problem: (reason: string) => void,
  ) {
    this.source = info.kind === 'auth.log' || info.kind === 'secure' ? AUTH_SOURCE : SYSLOG_SOURCE;
    this.fileUnit = info.kind === 'docker.log' ? 'dockerd' : info.kind === 'containerd.log' ? 'containerd' : undefined;
  }

  readonly line = (buf: Buffer, s: number, e: number, offset: number, lineNo: number): void => {
    if (e === s) return;
    const text = buf.toString('utf8', s, e);
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
  };

  private lastSec = Number.NaN;
  private lastSecNs = 0n;
  /** UTC seconds -> ns, memoised (consecutive lines share their second). */
  private secondsNs(sec: number): bigint {
    if (sec !== this.lastSec) {
      this.lastSec = sec;
      this.lastSecNs = BigInt(sec) * NS_PER_SECOND;
    }
    return this.lastSecNs;
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
        const y = this.year ?? { startYear: 1970, source: 'none' as const };
        year = y.startYear + this.years.see(rec.month, rec.day);
        attrs.year_inferred = true;
        attrs.year_source = y.source;
      }
      const local = daysFromCivil(year, rec.month, rec.day) * 86400 + rec.hour * 3600 + rec.minute * 60 + rec.second;
      const r = this.conv.toUtc(local);
      time = this.secondsNs(r.utc) + (rec.nanos === 0 ? 0n : BigInt(rec.nanos));
      attrs.tz = this.conv.attrs.tz;
      attrs.tz_source = this.conv.attrs.tz_source;
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
    let source = this.source;
    let containerId: string | undefined;
    let rawTime = rec.rawTime;
    if (rec.program !== undefined && (isDaemonUnit(rec.program) || this.fileUnit) && rec.message.length > 0) {
      const de = daemonEventFromMessage(rec.message, isDaemonUnit(rec.program) ? rec.program : this.fileUnit);
      if (de) {
        source = de.source;
        containerId = de.container_id;
        const { pid: _pid, ...rest } = de.attrs;
        Object.assign(attrs, rest);
        if (de.attrs.pid !== undefined) attrs.daemon_pid = de.attrs.pid;
        if (de.time !== undefined) {
          attrs.syslog_time = rec.rawTime;
          time = de.time;
          rawTime = de.rawTime ?? rawTime;
        }
      }
    } else {
      const auth: AuthAttrs | undefined = parseAuthMessage(rec.program, rec.message);
      if (auth) {
        for (const k in auth) attrs[k in attrs ? `auth_${k}` : k] = auth[k];
      }
    }
    this.push(time, source, rec.message, rawTime, lineNo, offset, attrs, containerId);
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

/** Parses a whole file's bytes (tests): one array or chunks. */
export function parseSyslogBytes(
  data: Uint8Array | Iterable<Uint8Array>,
  info: SyslogFileInfo,
  zone: HostZone,
  year?: YearInfo,
  maxLineBytes = MAX_LINE_BYTES,
): { events: TimelineEvent[]; problems: string[] } {
  const problems: string[] = [];
  const sink = new SyslogSink(info, new LocalTimeConverter(zone), year, (r) => problems.push(r));
  const splitter = new LineSplitter(sink.line, (r) => problems.push(r), maxLineBytes);
  for (const c of data instanceof Uint8Array ? [data] : data) splitter.feed(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  splitter.finish();
  return { events: sink.events, problems };
}

export interface SyslogOptions extends ReadOptions {
  maxLineBytes?: number;
  batchEvents?: number;
}

/** Pre-pass over RFC 3164 lines: roll-overs and the last date; undefined when the file has no such line. */
async function prescanYears(ctx: CollectorContext, path: string, options: SyslogOptions): Promise<YearTracker | undefined> {
  const bytes = openLogBytes(ctx, path, () => undefined, options);
  if (!bytes) return undefined;
  const tracker = new YearTracker();
  let any = false;
  const splitter = new LineSplitter(
    (buf, s, e) => {
      const md = month3164(buf, s, e);
      if (md) {
        any = true;
        tracker.see(md.month, md.day);
      }
    },
    () => undefined,
    options.maxLineBytes ?? MAX_LINE_BYTES,
  );
  for await (const chunk of bytes.chunks) splitter.feed(chunk);
  splitter.finish();
  return any ? tracker : undefined;
}

/** One syslog-family file as an ordered source. */
export function syslogFileSource(ctx: CollectorContext, path: string, kind: string, options: SyslogOptions = {}): EventSource {
  return {
    id: path,
    ordered: true,
    open: () => readSyslogFile(ctx, path, kind, options),
  };
}

export async function* readSyslogFile(
  ctx: CollectorContext,
  path: string,
  kind: string,
  options: SyslogOptions = {},
): AsyncGenerator<TimelineEvent[]> {
  const problems = new FileProblems(ctx, COMPONENT, path);
  try {
    const zone = hostZone(ctx);
    let year: YearInfo | undefined;
    const tracker = await prescanYears(ctx, path, options);
    if (tracker) {
      let mtime: bigint | undefined;
      let src: YearInfo['source'] = 'mtime';
      try {
        const st = ctx.vfs.stat(path);
        mtime = st.mtime;
        if (mtime === undefined) {
          mtime = st.ctime;
          src = 'ctime';
        }
      } catch (err) {
        problems.add(`cannot stat: ${errorMessage(err)}`);
      }
      year = inferStartYear(tracker, mtime, zone, mtime === undefined ? 'none' : src);
      if (year.source === 'none') problems.add('no file time to infer the year of RFC 3164 lines from; counted from 1970');
    }
    const bytes = openLogBytes(ctx, path, problems.add, options);
    if (!bytes) return;
    const sink = new SyslogSink(
      { path, host: ctx.host, inode: bytes.inode, compressed: bytes.compressed, kind },
      new LocalTimeConverter(zone),
      year,
      problems.add,
    );
    yield* streamLines(bytes, sink, problems.add, options.maxLineBytes ?? MAX_LINE_BYTES, options.batchEvents ?? BATCH_EVENTS);
  } finally {
    problems.finish();
  }
}

function listDir(ctx: CollectorContext, dir: string): string[] {
  try {
    return ctx.vfs
      .readdir(dir)
      .filter((d) => d.type === 'file' || d.type === 'symlink')
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

/** Paths of each family in /var/log (and /var/log/upstart for docker.log), oldest first per family. */
export function findLogFamilies(ctx: CollectorContext, bases: string[]): Array<{ path: string; kind: string }> {
  const out: Array<{ path: string; kind: string }> = [];
  for (const dir of ['/var/log', '/var/log/upstart']) {
    const names = listDir(ctx, dir);
    for (const base of bases) {
      if (dir !== '/var/log' && base !== 'docker.log') continue;
      for (const n of rotatedFamily(names, base)) out.push({ path: `${dir}/${n}`, kind: base });
    }
  }
  return out;
}

export const syslogCollector: HostCollector = {
  name: 'syslog',
  collect(ctx) {
    return { sources: findLogFamilies(ctx, SYSLOG_FILES).map((f) => syslogFileSource(ctx, f.path, f.kind)) };
  },
};

export const authLogCollector: HostCollector = {
  name: 'auth-log',
  collect(ctx) {
    return { sources: findLogFamilies(ctx, AUTH_FILES).map((f) => syslogFileSource(ctx, f.path, f.kind)) };
  },
};
