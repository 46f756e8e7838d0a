// The run file format shared by its writer (run-file.ts) and reader (run-file-read.ts); run-file.ts describes it.

/** Bytes buffered before each write of a run file (a larger record gets a buffer of its own size). */
export const RUN_WRITE_CHUNK = 1024 * 1024;
/** Bytes per read when streaming a run back (at most; see runReadFor). */
export const RUN_READ_CHUNK = 256 * 1024;
/** Bytes per read when streaming a run back, at least. */
export const MIN_RUN_READ_CHUNK = 64 * 1024;
/** Read buffer bytes of all the runs one merge reads back at once (each run's share is a power of two). */
export const RUN_MERGE_BUDGET_BYTES = 16 * 1024 * 1024;
/** Events per batch when reading a run back (at most; see runReadFor). */
export const RUN_BATCH = 4096;
/** Events per batch when reading a run back, at least. */
export const MIN_RUN_BATCH = 256;
/**
 * Decoded events held by all the runs one merge reads back at once: each run's batch is this divided by their
 * number. Up to 256 runs are merged at once (spill.ts); 64 full batches of 4096 events held about 140 MB.
 */
export const RUN_MERGE_BUDGET_EVENTS = 32_768;

/** How each of `runs` runs read back by one merge is read: its batch (events) and read buffer (bytes). */
export interface RunReadShare {
  batchEvents: number;
  readBytes: number;
}

/** Each run's share of RUN_MERGE_BUDGET_EVENTS and RUN_MERGE_BUDGET_BYTES, within the bounds above. */
export function runReadFor(runs: number): RunReadShare {
  const n = Math.max(1, runs);
  return {
    batchEvents: Math.min(RUN_BATCH, Math.max(MIN_RUN_BATCH, Math.floor(RUN_MERGE_BUDGET_EVENTS / n))),
    readBytes: Math.min(RUN_READ_CHUNK, Math.max(MIN_RUN_READ_CHUNK, 2 ** Math.floor(Math.log2(RUN_MERGE_BUDGET_BYTES / n)))),
  };
}
/** Interned strings and attrs per run before both tables start over. */
export const MAX_RUN_TABLE_ENTRIES = 65_536;
/** Longest record a reader accepts: these files are our own, so more means a damaged temporary directory. */
export const MAX_RUN_RECORD_BYTES = 1 << 30;

/** Record kinds. */
export const Kind = { string: 1, attrs: 2, event: 3, reset: 4 } as const;

/** Bits of an event record's flags: which optional fields follow, and in which form. */
export const Flag = {
  timeText: 1,
  containerId: 2,
  containerName: 4,
  inode: 8,
  inodeText: 16,
  line: 32,
  offset: 64,
  attrsId: 128,
  attrsInline: 256,
} as const;

const BIGINT_TAG = '$flotsam_bigint';

/** A run file that does not parse (truncated or damaged while flotsam was running). */
export class RunFileError extends Error {
  constructor(path: string, reason: string) {
    super(`temporary sort run ${path}: ${reason}`);
    this.name = 'RunFileError';
  }
}

/** JSON.stringify replacer: a bigint becomes {"$flotsam_bigint": "<n>"}. */
export function bigintReplacer(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? { [BIGINT_TAG]: v.toString() } : v;
}

/** Turns the tagged bigints of bigintReplacer back into bigints (in place). */
export function reviveBigints(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = reviveBigints(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0] === BIGINT_TAG && typeof o[BIGINT_TAG] === 'string') return BigInt(o[BIGINT_TAG]);
  for (const k of keys) {
    const r = reviveBigints(o[k]);
    if (r !== o[k]) Object.defineProperty(o, k, { value: r, writable: true, enumerable: true, configurable: true });
  }
  return o;
}
