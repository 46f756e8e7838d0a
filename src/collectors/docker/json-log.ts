// Docker json-file logs as an ordered event source: reads one container's log files (rotated ones first,
// `.log.N.gz` inflated as a stream) from the VFS and hands the bytes to the parser in json-log-parse.ts.
// References: moby/moby daemon/logger/jsonfilelog/jsonfilelog.go, daemon/logger/jsonfilelog/jsonlog/jsonlogbytes.go,
// daemon/logger/loggerutils/logfile.go (rotate, compressFile: `<id>-json.log.N[.gz]`); docs/formats/docker-json-file.md.
import { Buffer } from 'node:buffer';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { type TimelineEvent, errorMessage } from '../../events/event.js';
import { type VfsFile, baseName } from '../../fs/vfs.js';
import type { CollectorContext, EventSource } from '../types.js';
import { type JsonLogFileInfo, type JsonLogLimits, JsonLogParser } from './json-log-parse.js';
import { readJsonLogEdges } from '../../lifecycle/json-log-edges.js'; // issue 6

export {
  DEFAULT_JSON_LOG_LIMITS,
  DOCKER_PARTIAL_CHUNK_BYTES,
  JSON_LOG_SOURCE,
  JsonLogParser,
  MAX_LOG_LINE_BYTES,
  MAX_OPEN_PARTIAL_CHAINS,
  MAX_PARTIAL_CHAIN_BYTES,
  MAX_PARTIAL_CHAIN_CHUNKS,
  MAX_PROBLEMS_PER_FILE,
  parseJsonLogBytes,
} from './json-log-parse.js';
export type { JsonLogFileInfo, JsonLogLimits, PartialChainInfo } from './json-log-parse.js';

/** Inflated bytes we read from one .gz before stopping (a gzip bomb guard). */
export const MAX_GZ_INFLATED_BYTES = 4 * 1024 * 1024 * 1024;
/** Bytes per read from the VFS (one buffer per open log: small, since a host may have thousands of containers). */
export const JSON_LOG_READ_CHUNK_BYTES = 128 * 1024;
/** Bytes handed to the parser at once (keeps batches near BATCH_EVENTS). */
const FEED_BYTES = 64 * 1024;
/** A batch is yielded once it holds this many events. */
export const JSON_LOG_BATCH_EVENTS = 128;

export interface JsonLogFileRef {
  path: string;
  containerId: string;
  containerName?: string;
}

export interface JsonLogOptions extends Partial<JsonLogLimits> {
  maxGzInflatedBytes?: number;
  readChunkBytes?: number;
  batchEvents?: number;
  /** Benchmarks only: JSON.parse every line. */
  disableFastPath?: boolean;
}

const COMPONENT = 'json-log';

/**
 * One container's json-file logs as an ordered source. `files` are that container's files, oldest first
 * (`…-json.log.3.gz`, `….log.2.gz`, `….log.1`, `…-json.log`); each file is parsed on its own (a partial
 * message cut by rotation is emitted from the file it started in, marked incomplete).
 */
export function jsonLogSource(ctx: CollectorContext, files: JsonLogFileRef[], options: JsonLogOptions = {}): EventSource {
  const current = files.find((f) => f.path.endsWith('-json.log')) ?? files[files.length - 1];
  return {
    id: current?.path ?? '',
    ordered: true,
    open: () => readJsonLogFiles(ctx, files, options),
    // issue 6: first/last records only, for the lifecycle pre-pass
    lifecycle: () => readJsonLogEdges(ctx, files),
  };
}

async function* readJsonLogFiles(
  ctx: CollectorContext,
  files: JsonLogFileRef[],
  options: JsonLogOptions,
): AsyncGenerator<TimelineEvent[]> {
  for (const ref of files) yield* readJsonLogFile(ctx, ref, options);
}

/** Every event of one json-file log file (plain or gzip), in batches. */
export async function* readJsonLogFile(
  ctx: CollectorContext,
  ref: JsonLogFileRef,
  options: JsonLogOptions = {},
): AsyncGenerator<TimelineEvent[]> {
  const warn = (reason: string): void => ctx.problems.warn(COMPONENT, ref.path, reason, ctx.host);
  let file: VfsFile;
  try {
    file = ctx.vfs.open(ref.path);
  } catch (err) {
    warn(`cannot open: ${errorMessage(err)}`);
    return;
  }
  const batch = options.batchEvents ?? JSON_LOG_BATCH_EVENTS;
  const readChunk = options.readChunkBytes ?? JSON_LOG_READ_CHUNK_BYTES;
  try {
    const magic = new Uint8Array(2);
    let gz = false;
    try {
      gz = file.read(magic, 0, 2, 0) === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
    } catch {
      // reported by the read loop below
    }
    if (!gz && ref.path.endsWith('.gz')) warn('named .gz but does not start with the gzip magic 1f 8b; read as text');
    const info: JsonLogFileInfo = {
      path: ref.path,
      host: ctx.host,
      containerId: ref.containerId,
      containerName: ref.containerName,
      inode: file.ino,
      compressed: gz,
    };
    const parser = new JsonLogParser(info, warn, options);
    if (options.disableFastPath) parser.disableFastPath = true;
    if (gz) {
      yield* inflateInto(file, parser, warn, options.maxGzInflatedBytes ?? MAX_GZ_INFLATED_BYTES, readChunk, batch);
    } else {
      const buf = new Uint8Array(readChunk);
      let pos = 0;
      for (;;) {
        let n: number;
        try {
          n = file.read(buf, 0, readChunk, pos);
        } catch (err) {
          warn(`read error at offset ${pos}: ${errorMessage(err)}; kept what was read before`);
          break;
        }
        if (n <= 0) break;
        pos += n;
        for (let i = 0; i < n; i += FEED_BYTES) {
          parser.feed(buf.subarray(i, Math.min(n, i + FEED_BYTES)));
          if (parser.events.length >= batch) yield parser.take();
        }
      }
    }
    parser.finish();
    if (parser.events.length > 0) yield parser.take();
  } finally {
    file.close();
  }
}

/** Input chunks for gunzip: fresh buffers (a stream may hold on to them). */
function* fileChunks(file: VfsFile, size: number): Generator<Buffer> {
  let pos = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(size);
    const n = file.read(buf, 0, size, pos);
    if (n <= 0) return;
    pos += n;
    yield n === size ? buf : buf.subarray(0, n);
  }
}

/** Streams a gzip file through node:zlib into the parser; never holds more than a few chunks in memory. */
async function* inflateInto(
  file: VfsFile,
  parser: JsonLogParser,
  warn: (reason: string) => void,
  maxInflated: number,
  readChunk: number,
  batch: number,
): AsyncGenerator<TimelineEvent[]> {
  const input = Readable.from(fileChunks(file, readChunk), { objectMode: false });
  const gunzip = createGunzip({ chunkSize: FEED_BYTES });
  input.on('error', (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  let inflated = 0;
  try {
    for await (const out of gunzip as AsyncIterable<Buffer>) {
      if (inflated + out.length > maxInflated) {
        parser.feed(out.subarray(0, maxInflated - inflated));
        inflated = maxInflated;
        warn(
          `inflates to more than ${maxInflated} bytes (MAX_GZ_INFLATED_BYTES); stopped there, kept the events before`,
        );
        break;
      }
      inflated += out.length;
      parser.feed(out);
      if (parser.events.length >= batch) yield parser.take();
    }
  } catch (err) {
    warn(`gzip stream damaged after ${inflated} inflated bytes (${errorMessage(err)}); kept the events before`);
  } finally {
    input.unpipe(gunzip);
    input.destroy();
    gunzip.destroy();
  }
}

/** `<id>-json.log`, `.log.N`, `.log.N.gz` → rotation index (0 = current), or undefined for other names. */
export function jsonLogRotationIndex(path: string): number | undefined {
  const m = /-json\.log(?:\.(\d{1,6}))?(?:\.gz)?$/.exec(baseName(path));
  if (!m) return undefined;
  return m[1] === undefined ? 0 : Number(m[1]);
}
