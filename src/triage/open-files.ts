// How many log sources one triage may keep open at once. Each live ordered source (a container's log) may hold a
// file descriptor while the timeline merges them; past the limit build.ts pre-merges groups through temporary
// run files, which is correct but several times slower. Node raises the soft RLIMIT_NOFILE to the hard one at
// start, so on Linux the limit in /proc/self/limits is what this process may really use.
import * as fs from 'node:fs';
import { MAX_OPEN_ORDERED_SOURCES } from '../timeline/index.js';

/** Live sources per triage at most, however many descriptors are allowed: memory grows with them too. */
export const MAX_LIVE_SOURCES = 4096;
/** Descriptors left for everything else (outputs, spool, image files, temporary runs, the other libraries). */
const RESERVED_DESCRIPTORS = 512;

/** The soft "Max open files" of /proc/self/limits, or undefined when unknown (not Linux, unlimited, unreadable). */
export function parseOpenFileLimit(limitsText: string): number | undefined {
  const m = /^Max open files\s+(\d+)\s/m.exec(limitsText);
  return m ? Number(m[1]) : undefined;
}

/**
 * Ordered sources each of `jobs` parallel triages may keep open: half of what the descriptor limit leaves after
 * RESERVED_DESCRIPTORS, shared by the jobs, between 64 and MAX_LIVE_SOURCES; MAX_OPEN_ORDERED_SOURCES when the
 * limit is unknown.
 */
export function maxOpenSourcesPerJob(jobs: number, limitsText?: string): number {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return MAX_OPEN_ORDERED_SOURCES;
    }
  }
  const limit = parseOpenFileLimit(text);
  if (limit === undefined) return MAX_OPEN_ORDERED_SOURCES;
  const perJob = Math.floor((limit - RESERVED_DESCRIPTORS) / 2 / Math.max(1, jobs));
  return Math.max(64, Math.min(MAX_LIVE_SOURCES, perJob));
}
