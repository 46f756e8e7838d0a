// CSV outputs: the timeline (timeline.csv) and generic record tables for inventory outputs.
// References: RFC 4180 (quoting: fields holding `"`, `,`, CR or LF are quoted, `"` doubled); OWASP "CSV Injection"
// (cells starting with = + - @ TAB CR get a leading `'` so spreadsheets show them as text, not formulas).
//
// Encoding: UTF-8, no BOM, `\n` after every record (header included), header row always present.
// Neutralisation applies to every text cell, whatever the column (so `-rw-r--r--` becomes `'-rw-r--r--`);
// numeric cells (timestamp, inode, line, offset in the timeline; JS numbers and bigints in record tables) are
// written as plain numbers and never touched. The JSON outputs are the lossless ones.

import type { TimelineEvent } from '../events/event.js';
import { BufferedFileWriter } from './file-writer.js';
import { compactAttrs, compactJson } from './json.js';
import type { EventSink } from './sink.js';
import { TimeFormatter } from './time-format.js';
import { eventIdOf } from '../events/event-id.js';

/** Timeline CSV columns, in order. */
export const TIMELINE_CSV_COLUMNS = [
  'datetime',
  'timestamp',
  'timestamp_desc',
  'source',
  'host',
  'container_id',
  'container_name',
  'message',
  'path',
  'inode',
  'line',
  'offset',
  'raw_time',
  'event_id',
  'extra',
] as const;

const NEEDS_QUOTES = /[",\r\n]/;
const QUOTE_ALL = /"/g;

/**
 * One text cell: spreadsheet formula triggers neutralised with a leading `'`, then RFC 4180 quoting if needed.
 */
export function csvTextCell(value: string): string {
  if (value.length === 0) return value;
  const c = value.charCodeAt(0);
  // = + - @ TAB CR
  if (c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13) value = "'" + value;
  if (!NEEDS_QUOTES.test(value)) return value;
  return '"' + value.replace(QUOTE_ALL, '""') + '"';
}

/** A one-entry memo of encoded cells: consecutive events usually repeat host, source, path, container. */
class CellMemo {
  private last: string | undefined = undefined;
  private enc = '';
  /** Recent distinct values (interleaved sources repeat a few paths and containers), bounded. */
  private readonly cache = new Map<string, string>();
  get(s: string): string {
    if (s === this.last) return this.enc;
    let e = this.cache.get(s);
    if (e === undefined) {
      e = csvTextCell(s);
      if (this.cache.size >= 1024) this.cache.clear();
      this.cache.set(s, e);
    }
    this.last = s;
    this.enc = e;
    return e;
  }

}

/** The timeline as CSV (see TIMELINE_CSV_COLUMNS). */
export class CsvTimelineSink implements EventSink {
  private readonly out: BufferedFileWriter;
  private readonly time = new TimeFormatter();
  private readonly desc = new CellMemo();
  private readonly source = new CellMemo();
  private readonly host = new CellMemo();
  private readonly cid = new CellMemo();
  private readonly cname = new CellMemo();
  private readonly path_ = new CellMemo();
  private static readonly HEADER = TIMELINE_CSV_COLUMNS.join(',') + '\n';

  constructor(readonly path: string) {
    this.out = new BufferedFileWriter(path);
    this.out.write(CsvTimelineSink.HEADER);
  }

  write(batch: TimelineEvent[]): void {
    const time = this.time;
    const out = this.out;
    for (let i = 0; i < batch.length; i++) {
      const ev = batch[i];
      time.format(ev.time);
      const dt = time.datetime;
      out.write(
        (dt.charCodeAt(0) === 45 ? "'" + dt : dt) + // a negative year starts with `-`
        ',' +
        time.micros +
        ',' +
        this.desc.get(ev.timestamp_desc) +
        ',' +
        this.source.get(ev.source) +
        ',' +
        this.host.get(ev.host) +
        ',' +
        (ev.container_id === undefined ? '' : this.cid.get(ev.container_id)) +
        ',' +
        (ev.container_name === undefined ? '' : this.cname.get(ev.container_name)) +
        ',' +
        csvTextCell(ev.message) +
        ',' +
        this.path_.get(ev.path) +
        ',' +
        (ev.inode === undefined ? '' : ev.inode.toString()) +
        ',' +
        (ev.line === undefined ? '' : String(ev.line)) +
        ',' +
        (ev.offset === undefined ? '' : String(ev.offset)) +
        ',' +
        csvTextCell(ev.raw_time) +
        ',' +
        eventIdOf(ev) +
        ',' +
        (ev.attrs === undefined ? '' : csvTextCell(compactAttrs(ev.attrs))) +
        '\n');
    }
  }

  async reset(): Promise<void> {
    this.out.truncate();
    this.out.write(CsvTimelineSink.HEADER);
  }

  async close(): Promise<void> {
    this.out.close();
  }
}

/** A record-table column: a key of the row, or a header with a getter. */
export type CsvColumn<R> = string | { header: string; value: (row: R) => unknown };

/**
 * One cell of a record table: undefined/null empty; numbers (finite) and bigints as plain digits, untouched;
 * booleans `true`/`false`; strings neutralised and quoted as text; Dates as ISO 8601; arrays and objects as
 * compact JSON (bigint as string), neutralised and quoted as text.
 */
export function csvCell(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return csvTextCell(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : '';
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return '';
    default:
      if (value === null) return '';
      if (value instanceof Date) return csvTextCell(Number.isNaN(value.getTime()) ? '' : value.toISOString());
      return csvTextCell(compactJson(value) ?? '');
  }
}

/**
 * Writes a CSV table (header row, then one record per row; same encoding rules as timeline.csv) and returns the
 * number of rows. Synchronous; `await` on it is harmless.
 */
export function writeRecordsCsv<R = Record<string, unknown>>(
  path: string,
  columns: ReadonlyArray<CsvColumn<R>>,
  rows: Iterable<R>,
): number {
  const getters = columns.map((c) =>
    typeof c === 'string' ? (row: R) => (row as Record<string, unknown>)[c] : c.value,
  );
  const out = new BufferedFileWriter(path);
  let n = 0;
  try {
    out.write(columns.map((c) => csvTextCell(typeof c === 'string' ? c : c.header)).join(',') + '\n');
    for (const row of rows) {
      let line = '';
      for (let i = 0; i < getters.length; i++) line += (i === 0 ? '' : ',') + csvCell(getters[i](row));
      out.write(line + '\n');
      n++;
    }
  } finally {
    out.close();
  }
  return n;
}
