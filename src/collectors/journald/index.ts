// journald: every entry of every systemd journal file on the host as a timeline event; entries written by Docker's
// `journald` log driver (CONTAINER_ID / CONTAINER_ID_FULL / CONTAINER_NAME / IMAGE_NAME fields) become that
// container's log events, whether or not the container still exists.
// References: systemd/systemd docs/JOURNAL_FILE_FORMAT.md, src/libsystemd/sd-journal/journal-def.h,
// man/systemd-journald.service.xml (file locations and names), man/systemd.journal-fields.xml;
// moby/moby daemon/logger/journald/journald.go (the fields the driver writes); docs/formats/journald.md.
import { Buffer } from 'node:buffer';
import { type TimelineEvent, TimeDesc, errorMessage } from '../../events/event.js';
import { NS_PER_MICRO } from '../../events/time.js';
import { type VfsFile, joinPath } from '../../fs/vfs.js';
import type { HostCollector } from '../registry.js';
import type { CollectorContext, EventSource } from '../types.js';
import { MAX_PROBLEMS_PER_FILE } from './format.js';
import { type JournalEntry, JournalReader, type JournalReaderOptions } from './reader.js';
import { journaldLifecycle } from '../../lifecycle/source-readers.js'; // issue 6

export { JournalReader } from './reader.js';
export type { JournalEntry, JournalField, JournalReaderOptions } from './reader.js';

export const JOURNALD_SOURCE = 'journald';
export const JOURNALD_DOCKER_SOURCE = 'docker:journald-log';
const COMPONENT = 'journald';
/** A batch is yielded once it holds this many events. */
export const JOURNALD_BATCH_EVENTS = 512;
/** Journal directories: persistent and volatile storage (systemd-journald.service(8)). */
export const JOURNAL_DIRS = ['/var/log/journal', '/run/log/journal'] as const;
/** Most journal files taken from one directory (a guard against hostile trees). */
export const MAX_JOURNAL_FILES_PER_DIR = 10000;

/** Keys flotsam adds to attrs next to the entry's own fields (journald forbids field names starting with `__`). */
export const JOURNALD_META_KEYS = ['__REALTIME_TIMESTAMP', '__MONOTONIC_TIMESTAMP', '__BOOT_ID', '__SEQNUM'] as const;
/** attrs key holding, per field name, the base64 of values that are not valid UTF-8. */
export const JOURNALD_BASE64_KEY = '__BASE64';

export interface JournaldOptions extends JournalReaderOptions {
  batchEvents?: number;
  maxProblemsPerFile?: number;
}

/** `system.journal`, `user-1000.journal`, `system@<seqnum_id>-<seqnum>-<realtime>.journal`, dirty `…journal~`. */
export function isJournalFileName(name: string): boolean {
  return name.endsWith('.journal') || name.endsWith('.journal~');
}

/**
 * Journal files on the host: directly in the journal directories and one level below (`<machine-id>/`, and
 * `remote/` for systemd-journal-remote), sorted by path so the output does not depend on directory order.
 */
export function findJournalFiles(ctx: CollectorContext): string[] {
  const out: string[] = [];
  const visit = (dir: string, depth: number): void => {
    let entries;
    try {
      entries = ctx.vfs.readdir(dir);
    } catch (err) {
      if (depth > 0) ctx.problems.warn(COMPONENT, dir, `cannot list: ${errorMessage(err)}`, ctx.host);
      return;
    }
    let taken = 0;
    for (const e of entries.slice().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = joinPath(dir, e.name);
      if (e.type === 'dir' && depth === 0) visit(p, 1);
      else if ((e.type === 'file' || e.type === 'symlink') && isJournalFileName(e.name)) {
        if (++taken > MAX_JOURNAL_FILES_PER_DIR) {
          ctx.problems.warn(COMPONENT, dir, `more than ${MAX_JOURNAL_FILES_PER_DIR} journal files (MAX_JOURNAL_FILES_PER_DIR); the rest ignored`, ctx.host);
          break;
        }
        out.push(p);
      }
    }
  };
  for (const d of JOURNAL_DIRS) visit(d, 0);
  return out.sort();
}

/** One journal file as an ordered source (entries are in seqnum order; realtime mostly increases). */
export function journalSource(ctx: CollectorContext, path: string, options: JournaldOptions = {}): EventSource {
  const open = (): AsyncIterable<TimelineEvent[]> => readJournalFile(ctx, path, options);
  // issue 6: daemon messages and log-driver first/last per container, for the lifecycle pre-pass
  return { id: path, ordered: true, open, lifecycle: journaldLifecycle(open) };
}

/** Every readable entry of one journal file as events, in batches. */
export async function* readJournalFile(
  ctx: CollectorContext,
  path: string,
  options: JournaldOptions = {},
): AsyncGenerator<TimelineEvent[]> {
  const maxProblems = options.maxProblemsPerFile ?? MAX_PROBLEMS_PER_FILE;
  let problems = 0;
  const warn = (reason: string): void => {
    problems++;
    if (problems <= maxProblems) ctx.problems.warn(COMPONENT, path, reason, ctx.host);
  };
  let file: VfsFile;
  try {
    file = ctx.vfs.open(path);
  } catch (err) {
    warn(`cannot open: ${errorMessage(err)}`);
    return;
  }
  try {
    let reader: JournalReader;
    try {
      reader = new JournalReader(file, warn, options);
    } catch (err) {
      warn(`not read: ${errorMessage(err)}`);
      return;
    }
    const batchSize = options.batchEvents ?? JOURNALD_BATCH_EVENTS;
    const inode = file.ino;
    let batch: TimelineEvent[] = [];
    for (const item of reader.entries()) {
      const entry = item instanceof Promise ? await item : item;
      batch.push(entryEvent(entry, ctx.host, path, inode));
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    if (problems > maxProblems) {
      ctx.problems.warn(COMPONENT, path, `${problems - maxProblems} more problems not listed (MAX_PROBLEMS_PER_FILE)`, ctx.host);
    }
    file.close();
  }
}

function setAttr(attrs: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') Object.defineProperty(attrs, name, { value, enumerable: true, writable: true, configurable: true });
  else attrs[name] = value;
}

/** The event of one entry (exported for tests and other collectors that read journal entries). */
export function entryEvent(entry: JournalEntry, host: string, path: string, inode?: bigint): TimelineEvent {
  const attrs: Record<string, unknown> = {};
  let base64: Record<string, unknown> | undefined;
  let message: string | undefined;
  let binaryNames: Set<string> | undefined;
  for (const f of entry.fields) {
    const prev = Object.prototype.hasOwnProperty.call(attrs, f.name) ? attrs[f.name] : undefined;
    if (prev === undefined) setAttr(attrs, f.name, f.text);
    else if (Array.isArray(prev)) prev.push(f.text);
    else setAttr(attrs, f.name, [prev, f.text]);
    if (f.name === 'MESSAGE' && message === undefined) message = f.text;
    if (f.raw) (binaryNames ??= new Set()).add(f.name);
  }
  if (binaryNames) {
    // Every value of a field that has an invalid one, base64, in the same shape as attrs[name].
    base64 = {};
    for (const name of binaryNames) {
      const values = entry.fields.filter((f) => f.name === name).map((f) => Buffer.from(f.raw ?? Buffer.from(f.text, 'utf8')).toString('base64'));
      setAttr(base64, name, values.length === 1 ? values[0] : values);
    }
    attrs[JOURNALD_BASE64_KEY] = base64;
  }
  const realtime = entry.realtime.toString();
  attrs.__REALTIME_TIMESTAMP = realtime;
  attrs.__MONOTONIC_TIMESTAMP = entry.monotonic.toString();
  attrs.__BOOT_ID = entry.bootId;
  attrs.__SEQNUM = entry.seqnum.toString();
  if (entry.scanned) attrs.__RECOVERED_BY_SCAN = true;
  const ev: TimelineEvent = {
    time: entry.realtime * NS_PER_MICRO,
    timestamp_desc: TimeDesc.recorded,
    source: JOURNALD_SOURCE,
    host,
    message: message ?? '',
    path,
    inode,
    offset: entry.offset,
    raw_time: realtime,
    attrs,
  };
  const full = firstString(attrs.CONTAINER_ID_FULL);
  const short = firstString(attrs.CONTAINER_ID);
  const name = firstString(attrs.CONTAINER_NAME);
  if (full !== undefined || short !== undefined || name !== undefined || attrs.IMAGE_NAME !== undefined) {
    ev.source = JOURNALD_DOCKER_SOURCE;
    const id = full ?? short;
    if (id !== undefined) ev.container_id = id;
    if (name !== undefined) ev.container_name = name;
  }
  return ev;
}

function firstString(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (Array.isArray(v)) return firstString(v[0]);
  return undefined;
}

export const journaldCollector: HostCollector = {
  name: COMPONENT,
  collect(ctx: CollectorContext) {
    return { sources: findJournalFiles(ctx).map((p) => journalSource(ctx, p)) };
  },
};
