// The bytes of one log file, plain or gzip, for every streaming log reader (json-file, local driver, host text
// logs): gzip is recognised by its magic, inflated through node:zlib with a named inflate limit, and a read error
// or a damaged stream ends the file with a problem, keeping what came before. References: gzip RFC 1952.
import { Buffer } from 'node:buffer';
import { Readable, type TransformOptions } from 'node:stream';
import { type ZlibOptions, createGunzip } from 'node:zlib';
import { type TimelineEvent, errorMessage } from '../events/event.js';
import type { VfsFile } from '../fs/vfs.js';
import type { ReadBudget } from './types.js';

/** A streaming reader's buffer and batch sizes. */
export interface ReaderSizes {
  readChunkBytes: number;
  feedBytes: number;
  batchEvents: number;
}

/** Bytes fed to a parser per batch event it may yield, under a budget (about twice a typical log line). */
const FEED_BYTES_PER_BATCH_EVENT = 256;

/**
 * A reader's own sizes, capped by the timeline's ReadBudget. The feed is also capped by the batch: one feed's
 * events are yielded together, so a small batch needs a small feed to hold few events.
 */
export function budgetedSizes(own: ReaderSizes, budget: ReadBudget | undefined): ReaderSizes {
  if (budget === undefined) return own;
  const bufferBytes = Math.max(1, Math.floor(budget.bufferBytes));
  const batchEvents = Math.max(1, Math.min(own.batchEvents, Math.floor(budget.batchEvents)));
  return {
    readChunkBytes: Math.min(own.readChunkBytes, bufferBytes),
    feedBytes: Math.min(own.feedBytes, bufferBytes, batchEvents * FEED_BYTES_PER_BATCH_EVENT),
    batchEvents,
  };
}

/** True when the file starts with the gzip magic 1f 8b (a read error counts as not gzip; the reader reports it). */
export function startsWithGzipMagic(file: VfsFile): boolean {
  const magic = new Uint8Array(2);
  try {
    return file.read(magic, 0, 2, 0) === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } catch {
    return false;
  }
}

/** Chunks of a plain file from one reused buffer: each chunk is valid only until the next is requested. */
export async function* plainChunks(file: VfsFile, warn: (reason: string) => void, size: number): AsyncGenerator<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  for (;;) {
    let n: number;
    try {
      n = file.read(buf, 0, size, pos);
    } catch (err) {
      warn(`read error at offset ${pos}: ${errorMessage(err)}; kept what was read before`);
      return;
    }
    if (n <= 0) return;
    pos += n;
    yield buf.subarray(0, n);
  }
}

/** Input chunks for gunzip: fresh buffers (a stream may hold on to them). */
function* freshChunks(file: VfsFile, size: number): Generator<Buffer> {
  let pos = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(size);
    const n = file.read(buf, 0, size, pos);
    if (n <= 0) return;
    pos += n;
    yield n === size ? buf : buf.subarray(0, n);
  }
}

export interface InflateOptions {
  /** Inflated bytes after which reading stops with a problem (a gzip bomb guard). */
  maxInflated: number;
  /** Name of that limit, quoted in the problem. */
  limitName: string;
  readChunkBytes: number;
  /** Size of the inflated chunks. */
  outChunkBytes: number;
  /** What the reader keeps when it stops early (`events`, `lines`), quoted in the problems. */
  kept: string;
  /** Also say what was kept in the over-limit problem. */
  keptOnLimit?: boolean;
}

/** Inflated chunks of a gzip file; never holds more than a few chunks in memory. */
export async function* inflatedChunks(
  file: VfsFile,
  warn: (reason: string) => void,
  opts: InflateOptions,
): AsyncGenerator<Buffer> {
  // Each stream buffers about one chunk on either side: thousands of these may be open at once (ReadBudget).
  const input = Readable.from(freshChunks(file, opts.readChunkBytes), { objectMode: false, highWaterMark: opts.readChunkBytes });
  // Node passes the options on to its Transform (highWaterMark), though ZlibOptions does not declare it.
  const gunzipOptions: ZlibOptions & TransformOptions = { chunkSize: opts.outChunkBytes, highWaterMark: opts.outChunkBytes };
  const gunzip = createGunzip(gunzipOptions);
  input.on('error', (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  let inflated = 0;
  try {
    for await (const out of gunzip as AsyncIterable<Buffer>) {
      if (inflated + out.length > opts.maxInflated) {
        yield out.subarray(0, opts.maxInflated - inflated);
        inflated = opts.maxInflated;
        const kept = opts.keptOnLimit === false ? '' : `, kept the ${opts.kept} before`;
        warn(`inflates to more than ${opts.maxInflated} bytes (${opts.limitName}); stopped there${kept}`);
        break;
      }
      inflated += out.length;
      yield out;
    }
  } catch (err) {
    warn(`gzip stream damaged after ${inflated} inflated bytes (${errorMessage(err)}); kept the ${opts.kept} before`);
  } finally {
    input.unpipe(gunzip);
    input.destroy();
    gunzip.destroy();
  }
}

/** A byte-fed log parser (json-file, local driver) that gathers events until taken. */
export interface ChunkParser {
  readonly events: { length: number };
  feed(bytes: Uint8Array): void;
  finish(): void;
  take(): TimelineEvent[];
}

/** Feeds chunks to the parser `feedBytes` at a time and yields its events in batches of about `batch`. */
export async function* parseInBatches(
  parser: ChunkParser,
  chunks: AsyncIterable<Uint8Array>,
  feedBytes: number,
  batch: number,
): AsyncGenerator<TimelineEvent[]> {
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i += feedBytes) {
      parser.feed(chunk.subarray(i, Math.min(chunk.length, i + feedBytes)));
      if (parser.events.length >= batch) yield parser.take();
    }
  }
  parser.finish();
  if (parser.events.length > 0) yield parser.take();
}
