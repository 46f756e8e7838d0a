// The three timeline files of one output folder, filled from transport records (row-transport.ts) by one
// RowTransportDecoder: the header, the JSON array's brackets, reset and close live here once, for both the
// encoder thread (encoder-worker.ts) and the one-thread sink (timeline-files.ts).
import { ByteFileWriter } from './byte-file-writer.js';
import { TIMELINE_CSV_COLUMNS } from './csv.js';
import { type RowOutputs, RowTransportDecoder } from './row-transport-decode.js';

export interface TimelineFilePaths {
  csv?: string;
  jsonl?: string;
  json?: string;
}

const CSV_HEADER = TIMELINE_CSV_COLUMNS.join(',') + '\n';

export class TimelineFileSet {
  private readonly out: RowOutputs = {};
  private readonly decoder = new RowTransportDecoder();
  private readonly writers: ByteFileWriter[];

  constructor(paths: TimelineFilePaths) {
    try {
      if (paths.jsonl) this.out.jsonl = new ByteFileWriter(paths.jsonl);
      if (paths.json) this.out.json = new ByteFileWriter(paths.json);
      if (paths.csv) this.out.csv = new ByteFileWriter(paths.csv);
    } catch (err) {
      // Do not leak the files already opened.
      for (const w of [this.out.jsonl, this.out.json]) void w?.close().catch(() => undefined);
      throw err;
    }
    this.writers = [this.out.csv, this.out.jsonl, this.out.json].filter((w): w is ByteFileWriter => w !== undefined);
    this.start();
  }

  private start(): void {
    this.decoder.jsonCount = 0;
    if (this.out.json) {
      this.out.json.ensure(1);
      this.out.json.ascii('[');
    }
    if (this.out.csv) {
      this.out.csv.ensure(CSV_HEADER.length);
      this.out.csv.ascii(CSV_HEADER);
    }
  }

  /** Prints the rows of the records in chunk[0, length). */
  decode(chunk: Buffer, length: number): void {
    this.decoder.decode(chunk, length, this.out);
  }

  /** Bytes queued for writing in all files. */
  get queuedBytes(): number {
    return this.writers.reduce((n, w) => n + w.inFlightBytes, 0);
  }

  /** Waits until each file has at most `limitEach` bytes queued. */
  async drain(limitEach: number): Promise<void> {
    await Promise.all(this.writers.map((w) => w.drain(limitEach)));
  }

  /** Empties every file and starts again (header and `[` included). */
  async reset(): Promise<void> {
    await Promise.all(this.writers.map((w) => w.truncate()));
    this.start();
  }

  /** Writes the JSON array's end and closes every file. */
  async close(): Promise<void> {
    if (this.out.json && !this.out.json.closed) {
      this.out.json.ensure(3);
      this.out.json.ascii(this.decoder.jsonCount === 0 ? ']\n' : '\n]\n');
    }
    const closing = await Promise.allSettled(this.writers.map((w) => w.close()));
    for (const c of closing) if (c.status === 'rejected') throw c.reason;
  }

  /** Closes every file after a failure, ignoring further errors. */
  async abort(): Promise<void> {
    await Promise.allSettled(this.writers.map((w) => w.close()));
  }
}
