// The Docker json-file parser's general path: any record the fast path (json-log-parse.ts) does not recognise is
// decoded by JSON.parse and its fields checked here, which also words the problem for a line that is skipped.
// Apart from the parser because it is cold (Docker's own lines take the fast path) and holds no parser state.
// References: RFC 8259 (JSON), moby/moby daemon/logger/jsonfilelog/jsonlog/jsonlogbytes.go (the record's fields).
import type { Buffer } from 'node:buffer';
import type { DockerTimeParser } from './json-log-time.js';

/** One record decoded by JSON.parse. */
export interface JsonLogRecord {
  stream: string;
  /** `log` without its one trailing "\n". */
  text: string;
  /** `log` ended in "\n" (the last record of a message). */
  endsNewline: boolean;
  rawTime: string;
  time: bigint;
  /** Docker's `attrs` as parsed (undefined when absent). */
  attrs: unknown;
}

/** A short, printable excerpt of a bad line for a problem message. */
export function excerpt(buf: Buffer, s: number, e: number): string {
  const text = buf.toString('utf8', s, Math.min(e, s + 60));
  return JSON.stringify(e - s > 60 ? text + '…' : text);
}

/**
 * Any valid JSON record in buf[s, e) (`line` is those bytes decoded as UTF-8): JSON.parse, then check the fields.
 * Returns why it was skipped otherwise.
 */
export function decodeJsonRecord(
  buf: Buffer,
  s: number,
  e: number,
  line: string,
  timeParser: DockerTimeParser,
): JsonLogRecord | string {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return `not valid JSON: ${excerpt(buf, s, e)}`;
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return `not a JSON object: ${excerpt(buf, s, e)}`;
  const rec = obj as Record<string, unknown>;
  const log = rec.log;
  const rawTime = rec.time;
  if (typeof rawTime !== 'string') return `record has no "time" string: ${excerpt(buf, s, e)}`;
  if (typeof log !== 'string') return `record has no "log" string: ${excerpt(buf, s, e)}`;
  const time = timeParser.parse(rawTime);
  if (time === undefined) return `time ${JSON.stringify(rawTime.slice(0, 60))} is not RFC 3339`;
  const stream = typeof rec.stream === 'string' ? rec.stream : '';
  const endsNewline = log.length > 0 && log.charCodeAt(log.length - 1) === 10;
  const text = endsNewline ? log.slice(0, -1) : log;
  return { stream, text, endsNewline, rawTime, time, attrs: rec.attrs };
}
