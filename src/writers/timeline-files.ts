// All timeline files of one output folder behind one sink, on one thread: the same transport records and the same
// decoder as the two-thread sink (parallel-timeline-files.ts), run one after the other, so there is one row
// printer. The output is byte-identical to CsvTimelineSink, JsonlTimelineSink and JsonArrayTimelineSink, which
// stay as the readable reference encoders (tested against each other). Used on one-core machines and where the
// encoder thread's compiled file is absent (sources run uncompiled, as under the test runner).
import type { TimelineEvent } from '../events/event.js';
import { MAX_IN_FLIGHT_BYTES } from './byte-file-writer.js';
import { type RecordTarget, RowTransportEncoder } from './row-transport.js';
import type { EventSink } from './sink.js';
import { type TimelineFilePaths, TimelineFileSet } from './timeline-file-set.js';

export type { TimelineFilePaths } from './timeline-file-set.js';

/** Records gathered before they are printed. */
const CHUNK_BYTES = 1024 * 1024;

export class TimelineFilesSink implements EventSink, RecordTarget {
  buf: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  pos = 0;
  private readonly encoder = new RowTransportEncoder();
  private readonly files: TimelineFileSet;
  private closed = false;

  constructor(paths: TimelineFilePaths) {
    this.files = new TimelineFileSet(paths);
  }

  /** RecordTarget: room for n bytes at `pos`; the records gathered so far are printed first when needed. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.print();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n); // one oversized record
  }

  private print(): void {
    if (this.pos > 0) this.files.decode(this.buf, this.pos);
    this.pos = 0;
    if (this.buf.length !== CHUNK_BYTES) this.buf = Buffer.allocUnsafe(CHUNK_BYTES);
  }

  write(batch: TimelineEvent[]): void | Promise<void> {
    for (let i = 0; i < batch.length; i++) this.encoder.append(batch[i], this);
    this.print();
    if (this.files.queuedBytes > MAX_IN_FLIGHT_BYTES) return this.files.drain(MAX_IN_FLIGHT_BYTES / 2);
  }

  async reset(): Promise<void> {
    this.print(); // definitions in these records are still needed after the reset
    await this.files.reset();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.print();
    await this.files.close();
  }
}
