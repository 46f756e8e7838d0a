// V8 heap tuning for long streaming runs. A triage keeps a small live set (reorder windows, one batch per log,
// the inventories: about 60-70 MB on the 1 GB benchmark host), but every log line becomes a short-lived event
// that often outlives a young-generation cycle, so the old generation fills with garbage between major
// collections. With V8's default growth factor (up to 4x the live heap after each major GC) the process peaked at
// 430-500 MB RSS on that host; with growth capped at 1.5x it peaks at about 240 MB, at the same speed (measured,
// docs/formats/timeline-outputs.md). Unlike --max-old-space-size this is not a ceiling: a host whose inventories
// need more memory still gets it, just with more frequent major collections.
import { setFlagsFromString } from 'node:v8';

/** Old-generation growth after a major GC, in percent (V8's --heap-growing-percent; 0 = V8's own heuristics). */
export const HEAP_GROWING_PERCENT = 50;

/**
 * Caps V8's heap growth factor for this process (the flag is read at every major GC, so setting it at run time
 * works). The CLI calls it at start; scripts that triage large hosts may call it too. Process-wide: it also
 * applies to worker threads.
 */
export function tuneHeapForStreaming(percent: number = HEAP_GROWING_PERCENT): void {
  if (!Number.isInteger(percent) || percent < 0 || percent > 1000) throw new RangeError(`heap growing percent ${percent}`);
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
