// Reads flotsam's own timeline.jsonl back into events, batch by batch, so per-host timelines (each already
// sorted) can be merged into a combined one with `mergeOrdered`. The inverse of TimelineJsonEncoder
// (src/writers/jsonl.ts): `time` comes from `datetime` (nine fractional digits, so exact), `timestamp` is
// ignored, inode numbers or strings become bigint, every non-core key is an attr (one `attr_` prefix stripped).
// Lossy only where the writer is: bigint attrs come back as strings, an empty attrs object as no attrs.

import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { TimelineEvent } from '../events/event.js';
import { daysFromCivil, NS_PER_SECOND, parseRfc3339Nano } from '../events/time.js';
import { attrInputKey, TIMELINE_JSON_CORE_FIELDS } from './jsonl.js';

/** Longest line accepted (a guard against a file that is not ours). */
export const MAX_JSONL_LINE = 64 * 1024 * 1024;
const READ_CHUNK = 1024 * 1024;
const BATCH = 4096;

const CORE = new Set<string>(TIMELINE_JSON_CORE_FIELDS);
/** formatIsoNano's shape, years beyond 0000-9999 included (`-000001`, `+10000`). */
const ISO_NANO = /^([+-]\d{4,}|\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{9})Z$/;

export class TimelineJsonlError extends Error {
  constructor(
    readonly path: string,
    readonly line: number,
    reason: string,
  ) {
    super(`${path}:${line}: ${reason}`);
    this.name = 'TimelineJsonlError';
  }
}

/** Parses `datetime` as formatIsoNano writes it (any RFC 3339 accepted as a fallback). */
export function parseIsoNano(text: string): bigint | undefined {
  const m = ISO_NANO.exec(text);
  if (m === null) return parseRfc3339Nano(text);
  const days = daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]));
  const secs = days * 86400 + Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]);
  return BigInt(secs) * NS_PER_SECOND + BigInt(m[7]);
}

function str(o: Record<string, unknown>, key: string, required: true): string;
function str(o: Record<string, unknown>, key: string, required: false): string | undefined;
function str(o: Record<string, unknown>, key: string, required: boolean): string | undefined {
  const v = o[key];
  if (typeof v === 'string') return v;
  if (v === undefined && !required) return undefined;
  throw new Error(`field ${key} is ${v === undefined ? 'missing' : typeof v}, expected a string`);
}

function int(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new Error(`field ${key} is ${JSON.stringify(v)}, expected a number`);
}

/** One timeline.jsonl line to an event. */
export function parseTimelineJsonLine(line: string): TimelineEvent {
  const o = JSON.parse(line) as unknown;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('not a JSON object');
  const r = o as Record<string, unknown>;
  const datetime = str(r, 'datetime', true);
  const time = parseIsoNano(datetime);
  if (time === undefined) throw new Error(`datetime ${JSON.stringify(datetime)} is not an ISO 8601 UTC time`);
  const ev: TimelineEvent = {
    time,
    timestamp_desc: str(r, 'timestamp_desc', true),
    source: str(r, 'source', true),
    host: str(r, 'host', true),
    message: str(r, 'message', true),
    path: str(r, 'path', true),
    raw_time: str(r, 'raw_time', true),
  };
  const cid = str(r, 'container_id', false);
  if (cid !== undefined) ev.container_id = cid;
  const cname = str(r, 'container_name', false);
  if (cname !== undefined) ev.container_name = cname;
  const inode = r.inode;
  if (inode !== undefined) {
    if ((typeof inode === 'number' && Number.isSafeInteger(inode)) || (typeof inode === 'string' && /^-?\d+$/.test(inode))) {
      ev.inode = BigInt(inode);
    } else {
      throw new Error(`field inode is ${JSON.stringify(inode)}, expected an integer`);
    }
  }
  const lineNo = int(r, 'line');
  if (lineNo !== undefined) ev.line = lineNo;
  const offset = int(r, 'offset');
  if (offset !== undefined) ev.offset = offset;
  let attrs: Record<string, unknown> | undefined;
  for (const key of Object.keys(r)) {
    if (CORE.has(key)) continue;
    attrs ??= {};
    Object.defineProperty(attrs, attrInputKey(key), {
      value: r[key],
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  if (attrs !== undefined) ev.attrs = attrs;
  return ev;
}

/** Streams a timeline.jsonl file as batches of events (in file order). Blank lines are skipped. */
export async function* readTimelineJsonl(path: string): AsyncGenerator<TimelineEvent[], void, undefined> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    const decoder = new StringDecoder('utf8');
    let carry = '';
    let lineNo = 0;
    let batch: TimelineEvent[] = [];
    const take = (text: string): void => {
      lineNo++;
      if (text.length === 0 || text === '\r') return;
      try {
        batch.push(parseTimelineJsonLine(text));
      } catch (err) {
        throw new TimelineJsonlError(path, lineNo, err instanceof Error ? err.message : String(err));
      }
    };
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      const text = carry + decoder.write(buf.subarray(0, bytesRead));
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        take(text.slice(start, nl));
        start = nl + 1;
      }
      carry = text.slice(start);
      if (carry.length > MAX_JSONL_LINE) {
        throw new TimelineJsonlError(path, lineNo + 1, `line longer than ${MAX_JSONL_LINE} characters`);
      }
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
      }
    }
    carry += decoder.end();
    if (carry.length > 0) take(carry);
    if (batch.length > 0) yield batch;
  } finally {
    await fh.close();
  }
}
