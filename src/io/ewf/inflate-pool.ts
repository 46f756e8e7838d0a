// A small pool of worker threads that inflates zlib chunks for a synchronous caller.
// ByteSource.read is synchronous, so the calling thread hands a batch to the workers (postMessage), inflates its own
// share meanwhile, then blocks on Atomics.wait until every worker has bumped a shared counter, and collects the results
// with receiveMessageOnPort (which dequeues without the event loop). A worker that does not answer within
// POOL_TIMEOUT_MS is abandoned and its share inflated on the calling thread, so a dead worker can slow reads but never
// hang them. Every output is bounded by the chunk size (maxOutputLength), as on the single-threaded path.
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import * as zlib from 'node:zlib';

/** Longest wait for one worker's batch before its share is redone on the calling thread. */
export const POOL_TIMEOUT_MS = 30_000;
/** Most workers a pool may start. */
export const MAX_POOL_WORKERS = 16;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const zlib = require('node:zlib');
const flag = new Int32Array(workerData.flag);
const port = workerData.port;
const max = workerData.chunkSize;
parentPort.on('message', (msg) => {
  const results = [];
  const transfer = [];
  for (const input of msg.inputs) {
    try {
      const out = zlib.inflateSync(input, { maxOutputLength: max, chunkSize: Math.max(max, 64) });
      const copy = new Uint8Array(out.length);
      copy.set(out);
      results.push(copy);
      transfer.push(copy.buffer);
    } catch (err) {
      results.push({ error: String(err && err.message), code: err && err.code });
    }
  }
  port.postMessage({ batch: msg.batch, results }, transfer);
  Atomics.add(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

interface PoolWorker {
  worker: Worker;
  port: MessagePort;
  flag: Int32Array;
  broken: boolean;
}

export class InflatePool {
  private readonly workers: PoolWorker[] = [];
  private batch = 0;

  constructor(
    count: number,
    private readonly chunkSize: number,
  ) {
    const n = Math.max(1, Math.min(MAX_POOL_WORKERS, Math.floor(count)));
    for (let i = 0; i < n; i++) {
      const flag = new Int32Array(new SharedArrayBuffer(4));
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { flag: flag.buffer, port: port2, chunkSize }, transferList: [port2] });
      worker.unref();
      port1.unref();
      const w: PoolWorker = { worker, port: port1, flag, broken: false };
      worker.on('error', () => {
        w.broken = true;
      });
      this.workers.push(w);
    }
  }

  private inflateHere(input: Uint8Array): Uint8Array | Error {
    try {
      return zlib.inflateSync(input, { maxOutputLength: this.chunkSize, chunkSize: Math.max(this.chunkSize, 64) });
    } catch (err) {
      return err as Error;
    }
  }

  /** Inflates every input; each result is the output or the Error zlib raised (same order as `inputs`). */
  inflateAll(inputs: Uint8Array[]): Array<Uint8Array | Error> {
    const results: Array<Uint8Array | Error> = new Array(inputs.length);
    const live = this.workers.filter((w) => !w.broken);
    const shares = live.length + 1;
    const per = Math.ceil(inputs.length / shares);
    const sent: Array<{ w: PoolWorker; from: number; to: number; target: number }> = [];
    const batch = ++this.batch;
    // Workers take the first shares; the calling thread takes the last one.
    for (let k = 0; k < live.length; k++) {
      const from = k * per;
      const to = Math.min(inputs.length, from + per);
      if (from >= to) break;
      const w = live[k] as PoolWorker;
      const target = Atomics.load(w.flag, 0) + 1;
      // Copied, not transferred: the caller keeps its bytes to redo the share if the worker fails.
      w.worker.postMessage({ batch, inputs: inputs.slice(from, to) });
      sent.push({ w, from, to, target });
    }
    const mineFrom = sent.length * per;
    for (let i = mineFrom; i < inputs.length; i++) results[i] = this.inflateHere(inputs[i] as Uint8Array);
    for (const s of sent) {
      const deadline = Date.now() + POOL_TIMEOUT_MS;
      let ok = true;
      for (;;) {
        const v = Atomics.load(s.w.flag, 0);
        if (v >= s.target) break;
        const left = deadline - Date.now();
        if (left <= 0 || s.w.broken) {
          ok = false;
          break;
        }
        Atomics.wait(s.w.flag, 0, v, Math.min(left, 1000));
      }
      let got: { batch: number; results: Array<Uint8Array | { error: string; code?: string }> } | undefined;
      if (ok) {
        // Drain stale answers of abandoned batches, keep ours.
        for (;;) {
          const m = receiveMessageOnPort(s.w.port);
          if (!m) break;
          if ((m.message as { batch: number }).batch === batch) got = m.message as typeof got;
        }
      }
      if (!got) {
        s.w.broken = true;
        for (let i = s.from; i < s.to; i++) results[i] = this.inflateHere(inputs[i] as Uint8Array);
        continue;
      }
      for (let i = s.from; i < s.to; i++) {
        const r = got.results[i - s.from];
        if (r instanceof Uint8Array) results[i] = r;
        else {
          const e = new Error(r?.error ?? 'inflate worker gave no result') as NodeJS.ErrnoException;
          if (r?.code) e.code = r.code;
          results[i] = e;
        }
      }
    }
    return results;
  }

  close(): void {
    for (const w of this.workers) {
      w.port.close();
      void w.worker.terminate();
    }
    this.workers.length = 0;
  }
}
