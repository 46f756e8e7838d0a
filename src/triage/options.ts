import type { Problem } from '../events/event.js';

export type TimelineFormat = 'csv' | 'jsonl' | 'json';
export const ALL_TIMELINE_FORMATS: readonly TimelineFormat[] = ['csv', 'jsonl', 'json'];

export interface TriageOptions {
  /** Evidence paths: mounted Linux roots or bare Docker data roots (images in later readers). */
  sources: string[];
  /** Output directory (created; must not lie inside any evidence source). */
  out: string;
  formats?: TimelineFormat[];
  /** Inclusive lower and exclusive upper bound, UTC ns. */
  since?: bigint;
  until?: bigint;
  /** IANA zone for host logs that record local time without a zone (overrides the evidence's own zone). */
  tz?: string;
  /** Sources triaged in parallel (worker threads). */
  jobs?: number;
  /**
   * Folder for temporary files: sort spill files (default: a folder inside `out`) and the inflated copy of a
   * .tar.gz evidence (default: os.tmpdir()). flotsam works in a `.flotsam-tmp-*` folder inside it, removed at the end.
   */
  tmpDir?: string;
  /** Recorded in the manifest. */
  commandLine?: string[];
  onProblem?: (p: Problem) => void;
  onProgress?: (p: ProgressInfo) => void;
  /** `--hash`: sha256 of every added/changed regular file in containers' writable layers. */
  hashChanges?: boolean;
  /**
   * issue 6: carving of disk images for removed containers' configs and log lines: 'unallocated' (default; free
   * blocks and deleted inodes of every ext file system), 'all' (`--carve-all`: the whole disk minus live files),
   * 'off' (`--no-carve`). Mounted directories are never carved.
   */
  carve?: 'unallocated' | 'all' | 'off';
}

export interface ProgressInfo {
  source: string;
  stage: 'collect' | 'timeline' | 'write' | 'merge' | 'done';
  events?: number;
}
