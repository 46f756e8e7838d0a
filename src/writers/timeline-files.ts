// All timeline files of one output folder behind one sink, encoded straight into bytes (row-bytes.ts) and
// written in the background (byte-file-writer.ts). Each event's JSON object is encoded once: into timeline.jsonl,
// and copied from there into timeline.json. The output is byte-identical to CsvTimelineSink, JsonlTimelineSink and
// JsonArrayTimelineSink, which stay as the readable reference encoders (tested against each other).
// (A CSV writer in a worker thread fed with JSON text was measured and dropped: parsing the JSON back cost 50%
// more CPU in all for at best 20% less wall time, and twice the memory.)
import type { TimelineEvent } from '../events/event.js';
import { ByteFileWriter, MAX_IN_FLIGHT_BYTES } from './byte-file-writer.js';
import { TIMELINE_CSV_COLUMNS } from './csv.js';
import { TimelineRowEncoder } from './row-bytes.js';
import type { EventSink } from './sink.js';

export interface TimelineFilePaths {
  csv?: string;
  jsonl?: string;
  json?: string;
}

const CSV_HEADER = TIMELINE_CSV_COLUMNS.join(',') + '\n';

export class TimelineFilesSink implements EventSink {
  private readonly rows = new TimelineRowEncoder();
  private readonly jsonl?: ByteFileWriter;
  private readonly json?: ByteFileWriter;
  private readonly csv?: ByteFileWriter;
  private jsonCount = 0;
  private closed = false;

  constructor(paths: TimelineFilePaths) {
    if (paths.jsonl) this.jsonl = new ByteFileWriter(paths.jsonl);
    if (paths.json) this.json = new ByteFileWriter(paths.json);
    if (paths.csv) this.csv = new ByteFileWriter(paths.csv);
    this.start();
  }

  private start(): void {
    if (this.json) {
      this.json.ensure(1);
      this.json.ascii('[');
    }
    if (this.csv) {
      this.csv.ensure(CSV_HEADER.length);
      this.csv.ascii(CSV_HEADER);
    }
    this.jsonCount = 0;
  }

  write(batch: TimelineEvent[]): void | Promise<void> {
    const rows = this.rows;
    const { csv, jsonl, json } = this;
    for (let i = 0; i < batch.length; i++) {
      rows.prepare(batch[i]);
      if (csv) rows.csv(csv);
      if (jsonl) {
        jsonl.ensure(rows.jsonBound + 1); // before taking `start`: ensure may switch buffers
        const start = jsonl.pos;
        rows.json(jsonl);
        if (json) {
          // The row is contiguous in jsonl's buffer (json() ensured room for all of it).
          const row = jsonl.buf.subarray(start, jsonl.pos);
          json.ensure(row.length + 2);
          if (this.jsonCount++ > 0) json.buf[json.pos++] = 44; // ,
          json.buf[json.pos++] = 10;
          json.buf.set(row, json.pos);
          json.pos += row.length;
        }
        jsonl.buf[jsonl.pos++] = 10; // json() left one byte of room in its bound
      } else if (json) {
        json.ensure(2 + rows.jsonBound);
        if (this.jsonCount++ > 0) json.buf[json.pos++] = 44;
        json.buf[json.pos++] = 10;
        rows.json(json);
      }
    }
    const queued = (csv?.inFlightBytes ?? 0) + (jsonl?.inFlightBytes ?? 0) + (json?.inFlightBytes ?? 0);
    if (queued > MAX_IN_FLIGHT_BYTES) return this.drain();
  }

  private async drain(): Promise<void> {
    const each = MAX_IN_FLIGHT_BYTES / 2;
    await Promise.all([this.csv?.drain(each), this.jsonl?.drain(each), this.json?.drain(each)]);
  }

  async reset(): Promise<void> {
    await Promise.all([this.csv?.truncate(), this.jsonl?.truncate(), this.json?.truncate()]);
    this.start();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.json) {
      this.json.ensure(3);
      this.json.ascii(this.jsonCount === 0 ? ']\n' : '\n]\n');
    }
    const closing = await Promise.allSettled([this.csv?.close(), this.jsonl?.close(), this.json?.close()]);
    for (const c of closing) if (c.status === 'rejected') throw c.reason;
  }
}
