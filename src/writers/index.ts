// Output writers: timeline sinks (CSV, JSONL, JSON array) and inventory helpers (record CSV, pretty JSON).
export type { EventSink } from './sink.js';
export { BufferedFileWriter, FLUSH_BYTES } from './file-writer.js';
export {
  CsvTimelineSink,
  TIMELINE_CSV_COLUMNS,
  csvCell,
  csvTextCell,
  writeRecordsCsv,
  type CsvColumn,
} from './csv.js';
export {
  ATTR_PREFIX,
  JsonArrayTimelineSink,
  JsonlTimelineSink,
  TIMELINE_JSON_CORE_FIELDS,
  TimelineJsonEncoder,
  attrInputKey,
  attrOutputKey,
} from './jsonl.js';
export { compactAttrs, compactJson, formatJson, jsonString, jsonValue, writeJson } from './json.js';
export { TimeFormatter } from './time-format.js';
export { TimelineFilesSink, type TimelineFilePaths } from './timeline-files.js';
export { ParallelTimelineFilesSink, createTimelineFilesSink } from './parallel-timeline-files.js';
export { parseTimelineJsonLine, readTimelineJsonl } from './jsonl-read.js';
