// Worker-thread entry of ParallelTimelineFilesSink: receives transport chunks (row-transport.ts) in order,
// prints the rows into the timeline files and hands each chunk back for reuse. Messages are handled strictly in
// order (one promise chain); the first failure is reported once and everything after it is ignored.
import { parentPort, workerData } from 'node:worker_threads';
import { ByteFileWriter } from './byte-file-writer.js';
import { TIMELINE_CSV_COLUMNS } from './csv.js';
import { RowTransportDecoder, type RowOutputs } from './row-transport-decode.js';
import type { EncoderRequest, EncoderReply, TimelineFilePaths } from './parallel-timeline-files.js';

const CSV_HEADER = TIMELINE_CSV_COLUMNS.join(',') + '\n';
/** Bytes queued for writing (all files) before the thread waits for the disk. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

const port = parentPort;
if (port) {
  const paths = workerData as TimelineFilePaths;
  const out: RowOutputs = {};
  const decoder = new RowTransportDecoder();
  let failed = false;
  let chain: Promise<void> = Promise.resolve();
  const reply = (m: EncoderReply, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

  const start = (): void => {
    decoder.jsonCount = 0;
    if (out.json) {
      out.json.ensure(1);
      out.json.ascii('[');
    }
    if (out.csv) {
      out.csv.ensure(CSV_HEADER.length);
      out.csv.ascii(CSV_HEADER);
    }
  };
  const writers = (): ByteFileWriter[] => [out.csv, out.jsonl, out.json].filter((w): w is ByteFileWriter => w !== undefined);

  const handle = async (m: EncoderRequest): Promise<void> => {
    switch (m.type) {
      case 'chunk': {
        decoder.decode(Buffer.from(m.buffer), m.length, out);
        reply({ type: 'chunk-done', buffer: m.buffer }, [m.buffer]);
        const queued = writers().reduce((n, w) => n + w.inFlightBytes, 0);
        if (queued > MAX_QUEUED_BYTES) await Promise.all(writers().map((w) => w.drain(MAX_QUEUED_BYTES / 2)));
        return;
      }
      case 'reset':
        await Promise.all(writers().map((w) => w.truncate()));
        start();
        reply({ type: 'reset-done' });
        return;
      case 'close':
        if (out.json) {
          out.json.ensure(3);
          out.json.ascii(decoder.jsonCount === 0 ? ']\n' : '\n]\n');
        }
        await Promise.all(writers().map((w) => w.close()));
        reply({ type: 'closed' });
        return;
    }
  };

  try {
    if (paths.jsonl) out.jsonl = new ByteFileWriter(paths.jsonl);
    if (paths.json) out.json = new ByteFileWriter(paths.json);
    if (paths.csv) out.csv = new ByteFileWriter(paths.csv);
    start();
  } catch (err) {
    failed = true;
    reply({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }

  port.on('message', (m: EncoderRequest) => {
    chain = chain.then(async () => {
      if (failed) return;
      try {
        await handle(m);
      } catch (err) {
        failed = true;
        for (const w of writers()) await w.close().catch(() => undefined);
        reply({ type: 'error', message: err instanceof Error ? err.message : String(err) });
      }
    });
  });
}
