// The named limits, per-file info and event attrs of the Docker json-file reader, apart from the parser
// (json-log-parse.ts, which re-exports them) so the guards can be read in one place and the partial-chain and
// slow-path modules share them without importing the parser.
// References: moby/moby daemon/logger/copier.go (16 KiB partial messages), STYLE.md habit 5 (named limits).

/** Longest line we buffer; Docker's own lines are about 16 KiB of message plus JSON escaping (<= ~100 KiB). */
export const MAX_LOG_LINE_BYTES = 8 * 1024 * 1024;
/** Largest rejoined partial message (summed record bytes); beyond it the event is emitted truncated. */
export const MAX_PARTIAL_CHAIN_BYTES = 64 * 1024 * 1024;
/** Most records in one partial chain (tiny hostile chunks would otherwise grow the per-chunk arrays). */
export const MAX_PARTIAL_CHAIN_CHUNKS = 16384;
/** Partial chains open at once (Docker has two: stdout and stderr; a hostile file may invent streams). */
export const MAX_OPEN_PARTIAL_CHAINS = 4;
/** Problems listed per file; the rest are counted in one summary problem. */
export const MAX_PROBLEMS_PER_FILE = 100;
/** Docker's copier buffer: a line longer than this is split into partial records (moby daemon/logger/copier.go). */
export const DOCKER_PARTIAL_CHUNK_BYTES = 16 * 1024;

export interface JsonLogLimits {
  maxLineBytes: number;
  maxPartialChainBytes: number;
  maxPartialChainChunks: number;
  maxOpenPartialChains: number;
  maxProblemsPerFile: number;
}

export const DEFAULT_JSON_LOG_LIMITS: Readonly<JsonLogLimits> = Object.freeze({
  maxLineBytes: MAX_LOG_LINE_BYTES,
  maxPartialChainBytes: MAX_PARTIAL_CHAIN_BYTES,
  maxPartialChainChunks: MAX_PARTIAL_CHAIN_CHUNKS,
  maxOpenPartialChains: MAX_OPEN_PARTIAL_CHAINS,
  maxProblemsPerFile: MAX_PROBLEMS_PER_FILE,
});

/** What every event of one file carries. */
export interface JsonLogFileInfo {
  path: string;
  host: string;
  containerId: string;
  containerName?: string;
  inode?: bigint;
  /** The bytes were inflated from a .gz file (offsets are then offsets in the inflated stream). */
  compressed: boolean;
}

export const JSON_LOG_SOURCE = 'docker:json-log';

/** attrs of one event: `{stream, attrs?, compressed?: true}` (a rejoined partial message adds `partial`). */
export function recordAttrs(info: JsonLogFileInfo, stream: string, dockerAttrs: unknown): Record<string, unknown> {
  const attrs: Record<string, unknown> = { stream };
  if (dockerAttrs !== undefined) attrs.attrs = dockerAttrs;
  if (info.compressed) attrs.compressed = true;
  return attrs;
}
