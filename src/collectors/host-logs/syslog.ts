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
import { type TimelineEvent } from '../../events/event.js';
import { NS_PER_SECOND } from '../../events/time.js';
import { errorMessage } from '../../events/event.js';
import type { HostCollector } from '../registry.js';
import type { CollectorContext, EventSource } from '../types.js';
import { monthDay3164 } from './syslog-parse.js';
import { type SyslogFileInfo, SyslogSink, YearTracker, type YearInfo } from './syslog-sink.js';
import {
  BATCH_EVENTS,
  FileProblems,
  LineSplitter,
  MAX_LINE_BYTES,
  type ReadOptions,
  openLogBytes,
  rotatedFamily,
  streamLines,
} from './text-file.js';
import { type HostZone, LocalTimeConverter, hostZone } from './timezone.js';
import { daemonEventsOnly } from '../../lifecycle/source-readers.js'; // issue 6

export { AUTH_SOURCE, SYSLOG_SOURCE, SyslogSink, YEAR_ROLLOVER_MONTH_DROP, YearTracker } from './syslog-sink.js';
export type { SyslogFileInfo, YearInfo } from './syslog-sink.js';
const COMPONENT = 'host-logs';

/** The syslog family files under /var/log (each with its rotations). */
export const SYSLOG_FILES = ['syslog', 'messages', 'daemon.log', 'kern.log', 'docker.log', 'containerd.log', 'user.log'];
export const AUTH_FILES = ['auth.log', 'secure'];

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

/** Parses a whole file's bytes (tests): one array or chunks. */
export function parseSyslogBytes(
  data: Uint8Array | Iterable<Uint8Array>,
  info: SyslogFileInfo,
  zone: HostZone,
  year?: YearInfo,
  maxLineBytes = MAX_LINE_BYTES,
  fastPath = true,
): { events: TimelineEvent[]; problems: string[] } {
  const problems: string[] = [];
  const sink = new SyslogSink(info, new LocalTimeConverter(zone), year, (r) => problems.push(r));
  sink.fastPath = fastPath;
  const splitter = new LineSplitter(sink.line, (r) => problems.push(r), maxLineBytes);
  for (const c of data instanceof Uint8Array ? [data] : data) splitter.feed(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  splitter.finish();
  return { events: sink.events, problems };
}

export interface SyslogOptions extends ReadOptions {
  maxLineBytes?: number;
  batchEvents?: number;
  /** Benchmarks and tests only: every line through the reference parser (parseSyslogLine). */
  disableFastPath?: boolean;
}

/** Pre-pass over RFC 3164 lines: roll-overs and the last date; undefined when the file has no such line. */
async function prescanYears(ctx: CollectorContext, path: string, options: SyslogOptions): Promise<YearTracker | undefined> {
  const bytes = openLogBytes(ctx, path, () => undefined, options);
  if (!bytes) return undefined;
  const tracker = new YearTracker();
  let any = false;
  const splitter = new LineSplitter(
    (buf, s, e) => {
      const md = monthDay3164(buf, s, e);
      if (md >= 0) {
        any = true;
        tracker.see(md >> 6, md & 63);
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
  const src: EventSource = {
    id: path,
    ordered: true,
    open: () => readSyslogFile(ctx, path, kind, options),
  };
  // issue 6: daemon events naming a container, for the lifecycle pre-pass (a second full read of the file)
  if (!AUTH_FILES.includes(kind)) src.lifecycle = daemonEventsOnly(src.open);
  return src;
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
    if (options.disableFastPath) sink.fastPath = false;
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
