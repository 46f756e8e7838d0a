// The cheap read of one container's json-file logs for the lifecycle pre-pass: the first record of every file
// (its beginning only, gzip inflated from a prefix of the compressed bytes) and the last record of every plain
// file (a window at the end, widened until it holds a line start); a .gz that is the newest file of the set is
// inflated whole when it is small (MAX_GZ_TAIL_INFLATE_BYTES), else the set's last record stays unknown.
// The first record of the oldest file and the last of the newest bound the container's logging; per-file edges
// show rotation boundaries. Events are exactly those the full reader emits for the same records (same path,
// byte offset, time), so their computeEventId is the id of the timeline event. Line numbers are unknown from a
// tail window and left out.
// References: json-log.ts, json-log-parse.ts; zlib Z_SYNC_FLUSH (inflate a truncated stream without an error).
import { Buffer } from 'node:buffer';
import { constants as zc, gunzipSync } from 'node:zlib';
import { errorMessage, type TimelineEvent } from '../events/event.js';
import type { VfsFile } from '../fs/vfs.js';
import type { CollectorContext } from '../collectors/types.js';
import { JsonLogParser, MAX_LOG_LINE_BYTES, type JsonLogFileInfo } from '../collectors/docker/json-log-parse.js';

/** First read at the start / end of a file; doubled until a whole record fits. */
export const EDGE_WINDOW_BYTES = 16 * 1024;
/** Largest window read for one edge (a record is at most MAX_LOG_LINE_BYTES). */
export const MAX_EDGE_WINDOW_BYTES = MAX_LOG_LINE_BYTES + 64 * 1024;
/** .gz files up to this size are inflated whole to find their last record; larger ones give only their first. */
export const MAX_GZ_TAIL_INFLATE_BYTES = 1024 * 1024;
/** Inflated bytes taken from one gzip prefix. */
const MAX_PREFIX_INFLATED_BYTES = 2 * MAX_LOG_LINE_BYTES;

export interface EdgeFileRef {
  path: string;
  containerId: string;
  containerName?: string;
}

export interface EdgeOptions {
  windowBytes?: number;
}

const noWarn = (): void => {};

function readAt(file: VfsFile, pos: number, len: number): Buffer {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = file.read(buf, got, len - got, pos + got);
    if (n <= 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

function parse(info: JsonLogFileInfo, bytes: Buffer, finish: boolean): TimelineEvent[] {
  const p = new JsonLogParser(info, noWarn);
  p.feed(bytes);
  if (finish) p.finish();
  return p.take();
}

function edge(ev: TimelineEvent | undefined, which: string, base = 0): TimelineEvent | undefined {
  if (!ev) return undefined;
  const out: TimelineEvent = { ...ev, attrs: { ...ev.attrs, lifecycle_edge: which } };
  if (base !== 0) {
    out.offset = (ev.offset ?? 0) + base;
    out.line = undefined;
  }
  return out;
}

/** First and last record of one file (either may be undefined). */
export function fileEdges(
  ctx: CollectorContext,
  ref: EdgeFileRef,
  want: { first: boolean; last: boolean; /** also inflate a small .gz whole for its last record */ gzLast?: boolean },
  options: EdgeOptions = {},
): { first?: TimelineEvent; last?: TimelineEvent } {
  const warn = (reason: string): void => ctx.problems.warn('lifecycle', ref.path, reason, ctx.host);
  let file: VfsFile;
  try {
    file = ctx.vfs.open(ref.path);
  } catch (err) {
    warn(`cannot open: ${errorMessage(err)}`);
    return {};
  }
  try {
    const size = Number(file.size);
    const magic = readAt(file, 0, 2);
    const gz = magic.length === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
    const info: JsonLogFileInfo = {
      path: ref.path,
      host: ctx.host,
      containerId: ref.containerId,
      containerName: ref.containerName,
      inode: file.ino,
      compressed: gz,
    };
    const out: { first?: TimelineEvent; last?: TimelineEvent } = {};
    const window0 = options.windowBytes ?? EDGE_WINDOW_BYTES;
    if (gz && want.last && want.gzLast !== false && size <= MAX_GZ_TAIL_INFLATE_BYTES) {
      let all: Buffer | undefined;
      try {
        all = gunzipSync(readAt(file, 0, size), { finishFlush: zc.Z_SYNC_FLUSH, maxOutputLength: MAX_PREFIX_INFLATED_BYTES * 8 });
      } catch (err) {
        warn(`gzip: ${errorMessage(err)}; last record not read`);
      }
      if (all) {
        const evs = parse(info, all, true);
        out.first = edge(evs[0], 'file-first');
        out.last = edge(evs[evs.length - 1], 'file-last');
      }
      return out;
    }
    if (want.first) {
      for (let w = window0; ; w *= 4) {
        // gzip: a compressed prefix of w/8 bytes inflates to about w (log text compresses ~10:1); only the first w
        // inflated bytes are parsed
        const raw = readAt(file, 0, Math.min(gz ? Math.max(4096, w >> 3) : w, size));
        let bytes: Buffer = raw;
        if (gz) {
          try {
            bytes = gunzipSync(raw, { finishFlush: zc.Z_SYNC_FLUSH, maxOutputLength: MAX_PREFIX_INFLATED_BYTES });
          } catch (err) {
            warn(`gzip prefix: ${errorMessage(err)}; first record not read`);
            break;
          }
          if (bytes.length > w) bytes = bytes.subarray(0, w);
        }
        // everything there is was parsed: the whole file, and (gzip) all of its inflated bytes
        const complete = raw.length >= size && bytes.length < w;
        const evs = parse(info, bytes, complete);
        if (evs.length > 0 || complete || w >= MAX_EDGE_WINDOW_BYTES) {
          out.first = edge(evs[0], 'file-first');
          break;
        }
      }
    }
    if (want.last && !gz && size > 0) {
      for (let w = window0; ; w *= 4) {
        const start = Math.max(0, size - w);
        const raw = readAt(file, start, size - start);
        let from = 0;
        if (start > 0) {
          const nl = raw.indexOf(0x0a);
          // the last byte is normally the final newline: a line start needs a newline before it
          if (nl < 0 || nl === raw.length - 1) {
            if (w >= MAX_EDGE_WINDOW_BYTES) break;
            continue;
          }
          from = nl + 1;
        }
        const evs = parse(info, raw.subarray(from), true);
        if (evs.length > 0 || start === 0 || w >= MAX_EDGE_WINDOW_BYTES) {
          out.last = edge(evs[evs.length - 1], 'file-last', start + from);
          break;
        }
      }
    }
    return out;
  } finally {
    file.close();
  }
}

/**
 * The lifecycle view of one container's json-file logs (files oldest first): per file its first record and, where
 * cheap, its last; the container's first record is marked `first`, its last `last` (attrs.lifecycle_edge).
 */
export async function* readJsonLogEdges(ctx: CollectorContext, files: EdgeFileRef[], options: EdgeOptions = {}): AsyncGenerator<TimelineEvent[]> {
  const out: TimelineEvent[] = [];
  for (let i = 0; i < files.length; i++) {
    // a rotated .gz is inflated whole only when it is the newest file (its last record is the container's last)
    const e = fileEdges(ctx, files[i], { first: true, last: true, gzLast: i === files.length - 1 }, options);
    if (e.first) out.push(e.first);
    if (e.last && !(e.first && e.last.offset === e.first.offset && e.last.path === e.first.path)) out.push(e.last);
  }
  if (out.length > 0) {
    const first = out[0];
    first.attrs = { ...first.attrs, lifecycle_edge: 'first' };
    const last = out[out.length - 1];
    if (last !== first) last.attrs = { ...last.attrs, lifecycle_edge: 'last' };
    yield out;
  }
}
