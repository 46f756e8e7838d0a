// Worker-thread entry of ParallelTimelineFilesSink: receives transport chunks (row-transport.ts) in order,
// prints the rows into the timeline files (timeline-file-set.ts) and hands each chunk back for reuse. Messages are
// handled strictly in order (one promise chain); the first failure is reported once and everything after it is
// ignored.
import { parentPort, workerData } from 'node:worker_threads';
import type { EncoderReply, EncoderRequest } from './parallel-timeline-files.js';
import { type TimelineFilePaths, TimelineFileSet } from './timeline-file-set.js';

/** Bytes queued for writing (all files) before the thread waits for the disk. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

const port = parentPort;
if (port) {
  let files: TimelineFileSet | undefined;
  let failed = false;
  let chain: Promise<void> = Promise.resolve();
  const reply = (m: EncoderReply, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

  const handle = async (set: TimelineFileSet, m: EncoderRequest): Promise<void> => {
    switch (m.type) {
      case 'chunk':
        set.decode(Buffer.from(m.buffer), m.length);
        reply({ type: 'chunk-done', buffer: m.buffer }, [m.buffer]);
        if (set.queuedBytes > MAX_QUEUED_BYTES) await set.drain(MAX_QUEUED_BYTES / 2);
        return;
      case 'reset':
        await set.reset();
        reply({ type: 'reset-done' });
        return;
      case 'close':
        await set.close();
        reply({ type: 'closed' });
        return;
    }
  };

  try {
    files = new TimelineFileSet(workerData as TimelineFilePaths);
  } catch (err) {
    failed = true;
    reply({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }

  port.on('message', (m: EncoderRequest) => {
    chain = chain.then(async () => {
      if (failed || files === undefined) return;
      try {
        await handle(files, m);
      } catch (err) {
        failed = true;
        await files.abort();
        reply({ type: 'error', message: err instanceof Error ? err.message : String(err) });
      }
    });
  });
}
