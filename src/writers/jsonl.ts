// Timeline JSON outputs, ready for Timesketch's JSONL/JSON import without field mapping.
// References: Timesketch docs "Import from JSON or CSV" (required: message, datetime, timestamp_desc; optional
// timestamp in microseconds).
//
// Each event is one flat object: message, datetime, timestamp (number, µs), timestamp_desc, then source, host,
// container_id, container_name, path, inode, line, offset, raw_time, event_id (absent values omitted), then the attrs
// flattened at top level in their own order. An attr key that is a core field name, or starts with `attr_`, is
// written as `attr_<key>`, so reading back is unambiguous (strip one `attr_`). inode is a number below 2^53, else a
// decimal string; bigint values inside attrs are decimal strings; `timestamp` is written as exact decimal digits.

import type { TimelineEvent } from '../events/event.js';
import { BufferedFileWriter } from './file-writer.js';
import { jsonString, jsonValue } from './json.js';
import type { EventSink } from './sink.js';
import { TimeFormatter } from './time-format.js';
import { eventIdOf } from '../events/event-id.js';

/** Top-level fields of the timeline JSON record, in output order. */
export const TIMELINE_JSON_CORE_FIELDS = [
  'message',
  'datetime',
  'timestamp',
  'timestamp_desc',
  'source',
  'host',
  'container_id',
  'container_name',
  'path',
  'inode',
  'line',
  'offset',
  'raw_time',
  'event_id',
] as const;

const CORE = new Set<string>(TIMELINE_JSON_CORE_FIELDS);
export const ATTR_PREFIX = 'attr_';

/** The top-level key an attr is written under. */
export function attrOutputKey(key: string): string {
  return CORE.has(key) || key.startsWith(ATTR_PREFIX) ? ATTR_PREFIX + key : key;
}

/** The attr key a non-core top-level key came from (inverse of attrOutputKey). */
export function attrInputKey(key: string): string {
  return key.startsWith(ATTR_PREFIX) ? key.slice(ATTR_PREFIX.length) : key;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A one-entry memo: consecutive events usually repeat host, source, path, container. */
class Memo {
  private last: string | undefined = undefined;
  private enc = '';
  constructor(private readonly fn: (s: string) => string) {}
  /** Recent distinct values (interleaved sources repeat a few paths and containers), bounded. */
  private readonly cache = new Map<string, string>();
  get(s: string): string {
    if (s === this.last) return this.enc;
    let e = this.cache.get(s);
    if (e === undefined) {
      e = this.fn(s);
      if (this.cache.size >= 1024) this.cache.clear();
      this.cache.set(s, e);
    }
    this.last = s;
    this.enc = e;
    return e;
  }

}

/** Encodes events as Timesketch-ready JSON objects (one string per event, no newline). */
export class TimelineJsonEncoder {
  private readonly time = new TimeFormatter();
  /** `,"key":` prefixes of attr keys seen, bounded. */
  private readonly keyCache = new Map<string, string>();
  private readonly desc = new Memo((s) => ',"timestamp_desc":' + jsonString(s));
  private readonly source = new Memo((s) => ',"source":' + jsonString(s));
  private readonly host = new Memo((s) => ',"host":' + jsonString(s));
  private readonly cid = new Memo((s) => ',"container_id":' + jsonString(s));
  private readonly cname = new Memo((s) => ',"container_name":' + jsonString(s));
  private readonly path = new Memo((s) => ',"path":' + jsonString(s));

  private attrKeyPrefix(key: string): string {
    let p = this.keyCache.get(key);
    if (p === undefined) {
      p = ',' + jsonString(attrOutputKey(key)) + ':';
      if (this.keyCache.size >= 10_000) this.keyCache.clear();
      this.keyCache.set(key, p);
    }
    return p;
  }

  encode(ev: TimelineEvent): string {
    const t = this.time;
    t.format(ev.time);
    let s =
      '{"message":' +
      jsonString(ev.message) +
      ',"datetime":"' +
      t.datetime +
      '","timestamp":' +
      t.micros +
      this.desc.get(ev.timestamp_desc) +
      this.source.get(ev.source) +
      this.host.get(ev.host);
    if (ev.container_id !== undefined) s += this.cid.get(ev.container_id);
    if (ev.container_name !== undefined) s += this.cname.get(ev.container_name);
    s += this.path.get(ev.path);
    if (ev.inode !== undefined) {
      s += ev.inode <= MAX_SAFE && ev.inode >= -MAX_SAFE ? ',"inode":' + ev.inode : ',"inode":"' + ev.inode + '"';
    }
    if (ev.line !== undefined) s += ',"line":' + JSON.stringify(ev.line);
    if (ev.offset !== undefined) s += ',"offset":' + JSON.stringify(ev.offset);
    s += ',"raw_time":' + jsonString(ev.raw_time) + ',"event_id":"' + eventIdOf(ev) + '"';
    const attrs = ev.attrs;
    if (attrs !== undefined) {
      for (const key of Object.keys(attrs)) {
        const enc = jsonValue(attrs[key]);
        if (enc === undefined) continue;
        s += this.attrKeyPrefix(key) + enc;
      }
    }
    return s + '}';
  }
}

/** timeline.jsonl: one JSON object per line. */
export class JsonlTimelineSink implements EventSink {
  private readonly out: BufferedFileWriter;
  private readonly enc = new TimelineJsonEncoder();

  constructor(readonly path: string) {
    this.out = new BufferedFileWriter(path);
  }

  write(batch: TimelineEvent[]): void {
    let chunk = '';
    for (let i = 0; i < batch.length; i++) {
      chunk += this.enc.encode(batch[i]) + '\n';
      if (chunk.length >= 65536) {
        this.out.write(chunk);
        chunk = '';
      }
    }
    if (chunk.length > 0) this.out.write(chunk);
  }

  async reset(): Promise<void> {
    this.out.truncate();
  }

  async close(): Promise<void> {
    this.out.close();
  }
}

/** timeline.json: one JSON array, streamed: `[\n{...},\n{...}\n]\n`, or `[]\n` when empty. */
export class JsonArrayTimelineSink implements EventSink {
  private readonly out: BufferedFileWriter;
  private readonly enc = new TimelineJsonEncoder();
  private count = 0;

  constructor(readonly path: string) {
    this.out = new BufferedFileWriter(path);
    this.out.write('[');
  }

  write(batch: TimelineEvent[]): void {
    let chunk = '';
    for (let i = 0; i < batch.length; i++) {
      chunk += (this.count++ === 0 ? '\n' : ',\n') + this.enc.encode(batch[i]);
      if (chunk.length >= 65536) {
        this.out.write(chunk);
        chunk = '';
      }
    }
    if (chunk.length > 0) this.out.write(chunk);
  }

  async reset(): Promise<void> {
    this.out.truncate();
    this.count = 0;
    this.out.write('[');
  }

  async close(): Promise<void> {
    if (this.out.closed) return;
    this.out.write(this.count === 0 ? ']\n' : '\n]\n');
    this.out.close();
  }
}
