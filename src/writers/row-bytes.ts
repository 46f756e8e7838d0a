// Timeline rows encoded straight into output bytes: the same CSV and JSON rows as CsvTimelineSink and
// TimelineJsonEncoder (byte-identical, tested against them), without building per-row strings. The string
// encoders stay as the readable reference; this is the hot path of `triage`, where ~70% of the time went into
// concatenating and re-encoding strings (docs/formats/timeline-outputs.md, "Performance").
//
// What makes it fast: the fields that repeat from row to row (host, source, timestamp_desc, path, container id
// and name, attrs) are encoded once to bytes and copied; text is written byte by byte while it is ASCII and
// needs no quoting or escaping, and only otherwise goes through the string encoders; the time columns are
// printed from cached per-second prefixes plus nine digits; the event id is hashed and printed as hex without
// building its key string.

import type { TimelineEvent } from '../events/event.js';
import { eventIdHalves, eventIdResult } from '../events/event-id.js';
import { formatIsoNano, NS_PER_SECOND, toMicros } from '../events/time.js';
import type { ByteFileWriter } from './byte-file-writer.js';
import { csvTextCell } from './csv.js';
import { compactAttrs, jsonString, jsonValue } from './json.js';
import { attrOutputKey } from './jsonl.js';
import { NOT_PLAIN, putAscii, putCsvText, putHex8, putJsonString, putNumber, putText, fillFraction } from './bytes.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Entries kept per field cache before it is cleared (bounded memory whatever the number of distinct values). */
export const FIELD_CACHE_ENTRIES = 1024;
/** attrs texts longer than this are encoded per row instead of cached. */
export const MAX_CACHED_ATTRS_CHARS = 256;

/** Encoded bytes of a repeating part of the row, for CSV and for JSON. */
export interface PartBytes {
  csv: Buffer;
  json: Buffer;
}

/**
 * The fields every event of one artifact shares: timestamp_desc, source, host, container id and name (CSV: the
 * five cells with their commas; JSON: their `,"key":value` members and the path's), and the path (CSV cell).
 */
export interface FieldGroup {
  desc: string;
  source: string;
  host: string;
  cid: string | undefined;
  cname: string | undefined;
  csv: Buffer;
  csvPath: Buffer;
  json: Buffer;
}

export function makeGroup(ev: TimelineEvent): FieldGroup {
  const csv =
    csvTextCell(ev.timestamp_desc) +
    ',' +
    csvTextCell(ev.source) +
    ',' +
    csvTextCell(ev.host) +
    ',' +
    (ev.container_id === undefined ? '' : csvTextCell(ev.container_id)) +
    ',' +
    (ev.container_name === undefined ? '' : csvTextCell(ev.container_name));
  const json =
    ',"timestamp_desc":' +
    jsonString(ev.timestamp_desc) +
    ',"source":' +
    jsonString(ev.source) +
    ',"host":' +
    jsonString(ev.host) +
    (ev.container_id === undefined ? '' : ',"container_id":' + jsonString(ev.container_id)) +
    (ev.container_name === undefined ? '' : ',"container_name":' + jsonString(ev.container_name)) +
    ',"path":' +
    jsonString(ev.path);
  return {
    desc: ev.timestamp_desc,
    source: ev.source,
    host: ev.host,
    cid: ev.container_id,
    cname: ev.container_name,
    csv: Buffer.from(csv, 'utf8'),
    csvPath: Buffer.from(csvTextCell(ev.path), 'utf8'),
    json: Buffer.from(json, 'utf8'),
  };
}

const NO_BYTES = Buffer.alloc(0);

/** The CSV `extra` cell and the JSON members of attrs whose compact JSON is `compact`. */
export function attrsParts(attrs: Record<string, unknown>, compact: string = compactAttrs(attrs)): PartBytes {
  let tail = '';
  for (const key of Object.keys(attrs)) {
    const enc = jsonValue(attrs[key]);
    if (enc === undefined) continue;
    tail += ',' + jsonString(attrOutputKey(key)) + ':' + enc;
  }
  return { csv: Buffer.from(csvTextCell(compact), 'utf8'), json: Buffer.from(tail, 'utf8') };
}

/** Encodes one event at a time: `prepare(ev)`, then `csv(writer)` and/or `json(writer)`. */
export class TimelineRowEncoder {
  /** Field groups by path, bounded. */
  private readonly groups = new Map<string, FieldGroup>();
  /** attrs encodings by their compact JSON, bounded. */
  private readonly attrsByText = new Map<string, PartBytes>();
  /** attrs encodings of frozen (hence unchanging) attrs objects, which sources share between events. */
  private readonly attrsByObject = new WeakMap<object, PartBytes>();

  // Per-second time cache: [lo, hi) is the second; prefix is `YYYY-MM-DDTHH:MM:SS.` and secs its decimal seconds.
  private lo = 1n;
  private hi = 0n;
  /** `YYYY-MM-DDTHH:MM:SS.fffffffffZ`: the prefix is set once per second, the nine digits per event. */
  private datetime = NO_BYTES;
  private negativeYear = false;
  /** Decimal microseconds: the seconds digits once per second, the six sub-second digits per event. */
  private micros = NO_BYTES;
  /** The event id's 16 hex digits, per event. */
  private readonly id = Buffer.alloc(16);
  /** Decimal seconds since the epoch when > 0, else '' (then micros and the id use the slow path). */
  private secs = '';
  private lastInode: bigint | undefined = undefined;
  private lastInodeText = '';

  // Per-event state set by prepare().
  private ev!: TimelineEvent;
  private slowMicros = '';
  private idText: string | undefined = undefined;
  private group!: FieldGroup;
  private attrs: PartBytes | undefined;
  private inodeText = '';
  private messagePlain = false;
  private rawTimePlain = false;
  /** Upper bounds of the row's bytes. */
  csvBound = 0;
  jsonBound = 0;

  prepare(ev: TimelineEvent): void {
    this.ev = ev;
    const ns = ev.time;
    if (!(ns >= this.lo && ns < this.hi)) this.newSecond(ns);
    const frac = Number(ns - this.lo);
    fillFraction(this.datetime, this.micros, frac);
    if (this.secs === '') this.slowMicros = toMicros(ns).toString();
    if (ev.event_id !== undefined) {
      this.idText = ev.event_id;
    } else {
      this.idText = undefined;
      if (this.secs === '') eventIdHalves(ev, ns.toString());
      else eventIdHalves(ev, this.secs, this.datetime, this.datetime.length - 10);
      putHex8(this.id, 0, eventIdResult.hi);
      putHex8(this.id, 8, eventIdResult.lo);
    }
    this.messagePlain = !NOT_PLAIN.test(ev.message);
    this.rawTimePlain = !NOT_PLAIN.test(ev.raw_time);
    let g = this.groups.get(ev.path);
    if (
      g === undefined ||
      g.desc !== ev.timestamp_desc ||
      g.source !== ev.source ||
      g.host !== ev.host ||
      g.cid !== ev.container_id ||
      g.cname !== ev.container_name
    ) {
      g = makeGroup(ev);
      if (this.groups.size >= FIELD_CACHE_ENTRIES) this.groups.clear();
      this.groups.set(ev.path, g);
    }
    this.group = g;
    const attrs = ev.attrs;
    if (attrs === undefined) this.attrs = undefined;
    else if (Object.isFrozen(attrs)) {
      let e = this.attrsByObject.get(attrs);
      if (e === undefined) {
        e = this.attrsBytes(attrs);
        this.attrsByObject.set(attrs, e);
      }
      this.attrs = e;
    } else this.attrs = this.attrsBytes(attrs);
    if (ev.inode !== undefined) {
      if (ev.inode !== this.lastInode) {
        this.lastInode = ev.inode;
        this.lastInodeText = ev.inode.toString();
      }
      this.inodeText = this.lastInodeText;
    }
    const cached = g.json.length + g.csvPath.length + (this.attrs?.json.length ?? 0);
    // Escaping grows a UTF-16 code unit to at most 6 bytes (`\u001f`); numbers, time and id fit in 512.
    const text = 6 * (ev.message.length + ev.raw_time.length + (this.idText?.length ?? 0)) + 512;
    this.csvBound = cached + g.csv.length + (this.attrs?.csv.length ?? 0) + text;
    this.jsonBound = cached + text + 128;
  }

  private newSecond(ns: bigint): void {
    let secs = ns / NS_PER_SECOND;
    let lo = secs * NS_PER_SECOND;
    if (lo > ns) {
      secs -= 1n;
      lo -= NS_PER_SECOND;
    }
    this.lo = lo;
    this.hi = lo + NS_PER_SECOND;
    const iso = formatIsoNano(lo); // `...:SS.000000000Z`: the digits are overwritten per event
    this.datetime = Buffer.from(iso, 'latin1');
    this.negativeYear = iso.charCodeAt(0) === 45;
    this.secs = secs > 0n ? secs.toString() : '';
    this.micros = Buffer.from(this.secs + '000000', 'latin1');
  }

  private attrsBytes(attrs: Record<string, unknown>): PartBytes {
    const compact = compactAttrs(attrs);
    const hit = this.attrsByText.get(compact);
    if (hit !== undefined) return hit;
    const e = attrsParts(attrs, compact);
    if (compact.length <= MAX_CACHED_ATTRS_CHARS) {
      if (this.attrsByText.size >= FIELD_CACHE_ENTRIES) this.attrsByText.clear();
      this.attrsByText.set(compact, e);
    }
    return e;
  }

  /** Microseconds since the epoch at p. */
  private putMicros(b: Buffer, p: number): number {
    if (this.secs === '') return putText(b, p, this.slowMicros);
    b.set(this.micros, p);
    return p + this.micros.length;
  }

  private putId(b: Buffer, p: number): number {
    if (this.idText !== undefined) return putText(b, p, this.idText);
    b.set(this.id, p);
    return p + 16;
  }

  /** The CSV row (with its newline) of the prepared event. */
  csv(w: ByteFileWriter): void {
    w.ensure(this.csvBound);
    const b = w.buf;
    const ev = this.ev;
    let p = w.pos;
    if (this.negativeYear) b[p++] = 39; // a negative year starts with `-`
    b.set(this.datetime, p);
    p += this.datetime.length;
    b[p++] = 44;
    p = this.putMicros(b, p);
    b[p++] = 44;
    b.set(this.group.csv, p);
    p += this.group.csv.length;
    b[p++] = 44;
    p = putCsvText(b, p, ev.message, this.messagePlain);
    b[p++] = 44;
    b.set(this.group.csvPath, p);
    p += this.group.csvPath.length;
    b[p++] = 44;
    if (ev.inode !== undefined) p = putText(b, p, this.inodeText);
    b[p++] = 44;
    if (ev.line !== undefined) p = putNumber(b, p, ev.line, false);
    b[p++] = 44;
    if (ev.offset !== undefined) p = putNumber(b, p, ev.offset, false);
    b[p++] = 44;
    p = putCsvText(b, p, ev.raw_time, this.rawTimePlain);
    b[p++] = 44;
    p = this.putId(b, p);
    b[p++] = 44;
    if (this.attrs !== undefined) {
      b.set(this.attrs.csv, p);
      p += this.attrs.csv.length;
    }
    b[p++] = 10;
    w.pos = p;
  }

  /** The JSON object of the prepared event at the writer's position (no separator, no newline). */
  json(w: ByteFileWriter): void {
    w.ensure(this.jsonBound);
    const b = w.buf;
    const ev = this.ev;
    let p = w.pos;
    p = putAscii(b, p, '{"message":');
    p = putJsonString(b, p, ev.message, this.messagePlain);
    p = putAscii(b, p, ',"datetime":"');
    b.set(this.datetime, p);
    p += this.datetime.length;
    p = putAscii(b, p, '","timestamp":');
    p = this.putMicros(b, p);
    b.set(this.group.json, p);
    p += this.group.json.length;
    if (ev.inode !== undefined) {
      p = putAscii(b, p, ',"inode":');
      if (ev.inode <= MAX_SAFE && ev.inode >= -MAX_SAFE) p = putText(b, p, this.inodeText);
      else {
        b[p++] = 34;
        p = putText(b, p, this.inodeText);
        b[p++] = 34;
      }
    }
    if (ev.line !== undefined) {
      p = putAscii(b, p, ',"line":');
      p = putNumber(b, p, ev.line, true);
    }
    if (ev.offset !== undefined) {
      p = putAscii(b, p, ',"offset":');
      p = putNumber(b, p, ev.offset, true);
    }
    p = putAscii(b, p, ',"raw_time":');
    p = putJsonString(b, p, ev.raw_time, this.rawTimePlain);
    p = putAscii(b, p, ',"event_id":"');
    p = this.putId(b, p);
    b[p++] = 34;
    if (this.attrs !== undefined) {
      b.set(this.attrs.json, p);
      p += this.attrs.json.length;
    }
    b[p++] = 125; // }
    w.pos = p;
  }
}
