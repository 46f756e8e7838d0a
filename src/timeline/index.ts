// The timeline: one globally time-sorted stream from many event sources (see build.ts for the design).
export {
  buildTimeline,
  MAX_OPEN_ORDERED_SOURCES,
  type EventSink,
  type TimelineOptions,
  type TimelineStats,
} from './build.js';
export { compareEvents, isSorted } from './order.js';
export { MAX_TIME_STEPS_PER_SOURCE, MIN_TIME_STEP_BACK_NS, type TimeStepBack, TimeStepWatch } from './time-steps.js';
export { mergeOrdered, OUTPUT_BATCH, StreamOrderError, type MergeOptions } from './merge.js';
export { DEFAULT_REORDER_WINDOW, reorderWindow, SourceOrderError } from './reorder.js';
export {
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_BUFFERED_EVENTS,
  ExternalSorter,
  MAX_MERGE_FAN_IN,
} from './spill.js';
export {
  MAX_JSONL_LINE,
  parseIsoNano,
  parseTimelineJsonLine,
  readTimelineJsonl,
  TimelineJsonlError,
} from '../writers/jsonl-read.js';
