// flotsam's library API: what scripts import. The CLI (src/cli) is a thin shell over these calls.
export { triage, type TriageResult } from './triage/triage.js';
export { inventory, type Inventory } from './triage/inventory.js';
export { HEAP_GROWING_PERCENT, tuneHeapForStreaming } from './triage/heap.js';
export type { TriageOptions, TimelineFormat, ProgressInfo } from './triage/options.js';
export type { Manifest, SourceManifest } from './triage/manifest.js';
export type { TimelineEvent, Problem } from './events/event.js';
export { EvidenceError, openEvidence } from './fs/open-evidence.js';
export type { Vfs, VfsStat, DirEntry } from './fs/vfs.js';
