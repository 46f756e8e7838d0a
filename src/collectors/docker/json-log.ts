// Docker json-file logs as an ordered event source: reads one container's log files (rotated ones first,
// `.log.N.gz` inflated as a stream) from the VFS and hands the bytes to the parser in json-log-parse.ts.
// References: moby/moby daemon/logger/jsonfilelog/jsonfilelog.go, daemon/logger/jsonfilelog/jsonlog/jsonlogbytes.go,
// daemon/logger/loggerutils/logfile.go (rotate, compressFile: `<id>-json.log.N[.gz]`); docs/formats/docker-json-file.md.
import { type TimelineEvent, errorMessage } from '../../events/event.js';
import { type VfsFile, baseName } from '../../fs/vfs.js';
import { budgetedSizes, inflatedChunks, parseInBatches, plainChunks, startsWithGzipMagic } from '../file-bytes.js';
import type { CollectorContext, EventSource, ReadBudget } from '../types.js';
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
export const JSON_LOG_READ_CHUNK_BYTES = 32 * 1024;
/** Bytes handed to the parser at once (keeps batches near BATCH_EVENTS). */
const FEED_BYTES = 32 * 1024;
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
    open: (budget) => readJsonLogFiles(ctx, files, options, budget),
    // issue 6: first/last records only, for the lifecycle pre-pass
    lifecycle: () => readJsonLogEdges(ctx, files),
  };
}

async function* readJsonLogFiles(
  ctx: CollectorContext,
  files: JsonLogFileRef[],
  options: JsonLogOptions,
  budget: ReadBudget | undefined,
): AsyncGenerator<TimelineEvent[]> {
  for (const ref of files) yield* readJsonLogFile(ctx, ref, options, budget);
}

/** Every event of one json-file log file (plain or gzip), in batches. */
export async function* readJsonLogFile(
  ctx: CollectorContext,
  ref: JsonLogFileRef,
  options: JsonLogOptions = {},
  budget?: ReadBudget,
): AsyncGenerator<TimelineEvent[]> {
  const warn = (reason: string): void => ctx.problems.warn(COMPONENT, ref.path, reason, ctx.host);
  let file: VfsFile;
  try {
    file = ctx.vfs.open(ref.path);
  } catch (err) {
    warn(`cannot open: ${errorMessage(err)}`);
    return;
  }
  const sizes = budgetedSizes(
    {
      readChunkBytes: options.readChunkBytes ?? JSON_LOG_READ_CHUNK_BYTES,
      feedBytes: FEED_BYTES,
      batchEvents: options.batchEvents ?? JSON_LOG_BATCH_EVENTS,
    },
    budget,
  );
  try {
    const gz = startsWithGzipMagic(file);
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
    const chunks = gz
      ? inflatedChunks(file, warn, {
          maxInflated: options.maxGzInflatedBytes ?? MAX_GZ_INFLATED_BYTES,
          limitName: 'MAX_GZ_INFLATED_BYTES',
          readChunkBytes: sizes.readChunkBytes,
          outChunkBytes: sizes.feedBytes,
          kept: 'events',
        })
      : plainChunks(file, warn, sizes.readChunkBytes);
    yield* parseInBatches(parser, chunks, sizes.feedBytes, sizes.batchEvents);
  } finally {
    file.close();
  }
}

/** `<id>-json.log`, `.log.N`, `.log.N.gz` → rotation index (0 = current), or undefined for other names. */
export function jsonLogRotationIndex(path: string): number | undefined {
  const m = /-json\.log(?:\.(\d{1,6}))?(?:\.gz)?$/.exec(baseName(path));
  if (!m) return undefined;
  return m[1] === undefined ? 0 : Number(m[1]);
}
