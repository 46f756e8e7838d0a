// Docker `local` log driver files as an ordered event source: `containers/<id>/local-logs/container.log` and its
// rotated siblings `container.log.N[.gz]`, and the dual-logging cache that Docker >= 20.10 keeps for drivers that
// cannot be read back (`containers/<id>/container-cached.log[.N[.gz]]`, same format). Reads the bytes (inflating
// .gz as a stream) and hands them to local-log-parse.ts.
// References: moby/moby daemon/logger/local/{doc.go,local.go,read.go}; daemon/logger/loggerutils/logfile.go
// (rotation, compression); container/container.go StartLogger (`local-logs/container.log`; the cache path from
// GetRootResourcePath("container-cached.log")); daemon/logger/loggerutils/cache/local_cache.go.
// docs/formats/docker-local-log.md.
import { errorMessage, type TimelineEvent } from '../../events/event.js';
import { baseName, joinPath, type Vfs, type VfsFile } from '../../fs/vfs.js';
import { budgetedSizes, inflatedChunks, parseInBatches, plainChunks, startsWithGzipMagic } from '../file-bytes.js';
import type { CollectorContext, EventSource, ReadBudget } from '../types.js';
import { sortRotated } from './containers.js';
import { type LocalLogFileInfo, type LocalLogLimits, LocalLogParser } from './local-log-parse.js';

export {
  DEFAULT_LOCAL_LOG_LIMITS,
  DOCKER_LOCAL_MAX_MSG_LEN,
  LOCAL_LOG_SOURCE,
  LocalLogParser,
  MAX_LOCAL_LOG_RECORD_BYTES,
  MAX_LOCAL_OPEN_PARTIAL_CHAINS,
  MAX_LOCAL_PARTIAL_CHAIN_BYTES,
  MAX_LOCAL_PARTIAL_CHAIN_CHUNKS,
  MAX_LOCAL_PROBLEMS_PER_FILE,
  parseLocalLogBytes,
} from './local-log-parse.js';
export type { LocalLogFileInfo, LocalLogLimits, LocalPartialInfo } from './local-log-parse.js';

/** Inflated bytes read from one .gz before stopping (gzip bomb guard). */
export const MAX_LOCAL_GZ_INFLATED_BYTES = 4 * 1024 * 1024 * 1024;
/** Rotated files listed per container and kind. */
export const MAX_LOCAL_LOG_FILES = 10_000;
const READ_CHUNK = 1 << 20;
const FEED_BYTES = 256 * 1024;
const BATCH_EVENTS = 256;
const COMPONENT = 'local-log';

export interface LocalLogFileRef {
  path: string;
  containerId: string;
  containerName?: string;
  kind: 'local' | 'cache';
}

export interface LocalLogOptions extends Partial<LocalLogLimits> {
  maxGzInflatedBytes?: number;
  batchEvents?: number;
}

/** The dual-logging cache files of one container directory, oldest rotation first. */
export function listCacheLogFiles(vfs: Vfs, containerDir: string): string[] {
  let names: string[];
  try {
    names = vfs.readdir(containerDir).filter((e) => e.type === 'file').map((e) => e.name);
  } catch {
    return [];
  }
  return sortRotated('container-cached.log', names)
    .slice(-MAX_LOCAL_LOG_FILES)
    .map((n) => joinPath(containerDir, n));
}

/** One container's local-driver (or cache) files as one ordered source; `files` oldest first. */
export function localLogSource(ctx: CollectorContext, files: LocalLogFileRef[], options: LocalLogOptions = {}): EventSource {
  const current = files.find((f) => /(container\.log|container-cached\.log)$/.test(f.path)) ?? files[files.length - 1];
  return {
    id: current?.path ?? '',
    ordered: true,
    async *open(budget) {
      for (const ref of files) yield* readLocalLogFile(ctx, ref, options, budget);
    },
  };
}

/** Every event of one local log file (plain or gzip), in batches. */
export async function* readLocalLogFile(
  ctx: CollectorContext,
  ref: LocalLogFileRef,
  options: LocalLogOptions = {},
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
    { readChunkBytes: READ_CHUNK, feedBytes: FEED_BYTES, batchEvents: options.batchEvents ?? BATCH_EVENTS },
    budget,
  );
  try {
    const gz = startsWithGzipMagic(file);
    if (!gz && ref.path.endsWith('.gz')) warn('named .gz but does not start with the gzip magic 1f 8b; read as is');
    const info: LocalLogFileInfo = {
      path: ref.path,
      host: ctx.host,
      containerId: ref.containerId,
      containerName: ref.containerName,
      inode: file.ino,
      compressed: gz,
      kind: ref.kind,
    };
    const parser = new LocalLogParser(info, warn, options);
    const chunks = gz
      ? inflatedChunks(file, warn, {
          maxInflated: options.maxGzInflatedBytes ?? MAX_LOCAL_GZ_INFLATED_BYTES,
          limitName: 'MAX_LOCAL_GZ_INFLATED_BYTES',
          readChunkBytes: sizes.readChunkBytes,
          outChunkBytes: sizes.feedBytes,
          kept: 'events',
          keptOnLimit: false,
        })
      : plainChunks(file, warn, sizes.readChunkBytes);
    yield* parseInBatches(parser, chunks, sizes.feedBytes, sizes.batchEvents);
  } finally {
    file.close();
  }
}

/** True for `container.log`, `container.log.N`, `container.log.N.gz` and the `container-cached.log` family. */
export function isLocalLogName(path: string): boolean {
  return /^(container\.log|container-cached\.log)(\.\d{1,6})?(\.gz)?$/.test(baseName(path));
}
