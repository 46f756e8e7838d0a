// The files triage writes, by name, in one place.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CONTAINER_COLUMNS,
  type ContainerRecord,
  type ImageRecord,
  containerRow,
} from '../collectors/docker/index.js';
import {
  type EventSink,
  type TimelineFilePaths,
  createTimelineFilesSink,
  writeJson,
  writeRecordsCsv,
} from '../writers/index.js';
import type { TimelineFormat } from './options.js';
import { FINDING_COLUMNS, type Finding, findingJson, findingRow } from '../findings/index.js';
import {
  LIFECYCLE_COLUMNS,
  lifecycleJson,
  lifecycleRow,
  lifecycleRowFromJson,
  type Lifecycle,
  type LifecycleStageResult,
} from '../lifecycle/index.js'; // issue 6

export const TIMELINE_FILES: Record<TimelineFormat, string> = {
  csv: 'timeline.csv',
  jsonl: 'timeline.jsonl',
  json: 'timeline.json',
};

export function timelineSinks(outDir: string, formats: TimelineFormat[]): { sinks: EventSink[]; files: string[] } {
  const paths: TimelineFilePaths = {};
  for (const f of formats) paths[f] = path.join(outDir, TIMELINE_FILES[f]);
  return { sinks: [createTimelineFilesSink(paths)], files: formats.map((f) => TIMELINE_FILES[f]) };
}

/** containers.csv columns: the host first, then the collector's documented columns. */
const CONTAINER_CSV_COLUMNS = ['host', ...CONTAINER_COLUMNS.map(([name]) => name)];

type HostContainer = ContainerRecord & { host: string };
type HostImage = ImageRecord & { host: string };

function containerRows(containers: HostContainer[]): Array<Record<string, string>> {
  return containers.map((c) => ({ host: c.host, ...containerRow(c) }));
}

/** Writes containers.csv, containers.json and images.json for one host; returns the file names. */
export function writeInventory(outDir: string, containers: ContainerRecord[], images: ImageRecord[], host: string): string[] {
  const hc = containers.map((c) => ({ host, ...c }));
  const hi = images.map((i) => ({ host, ...i }));
  writeRecordsCsv(path.join(outDir, 'containers.csv'), CONTAINER_CSV_COLUMNS, containerRows(hc));
  writeJson(path.join(outDir, 'containers.json'), hc);
  writeJson(path.join(outDir, 'images.json'), hi);
  return ['containers.csv', 'containers.json', 'images.json'];
}

// --- issue 6: findings.csv / findings.json ---
/** Writes findings.csv and findings.json for one host; returns the file names. */
export function writeFindings(outDir: string, findings: Finding[]): string[] {
  writeRecordsCsv(path.join(outDir, 'findings.csv'), FINDING_COLUMNS, findings.map(findingRow));
  writeJson(path.join(outDir, 'findings.json'), findings.map(findingJson));
  return ['findings.csv', 'findings.json'];
}

/** Top-level findings of a multi-source run: every host's, host by host in the order given. */
function mergeFindings(outDir: string, hostDirs: Array<{ dir: string; label: string }>): string[] {
  const all: Array<Record<string, unknown>> = [];
  for (const h of hostDirs) {
    const f = path.join(h.dir, 'findings.json');
    if (fs.existsSync(f)) all.push(...(JSON.parse(fs.readFileSync(f, 'utf8')) as Array<Record<string, unknown>>));
  }
  const rows = all.map((f) => {
    const row: Record<string, string> = {};
    for (const c of FINDING_COLUMNS) row[c] = c === 'time' ? String(f.time_iso ?? '') : String(f[c] ?? '');
    return row;
  });
  writeRecordsCsv(path.join(outDir, 'findings.csv'), FINDING_COLUMNS, rows);
  writeJson(path.join(outDir, 'findings.json'), all);
  return ['findings.csv', 'findings.json'];
}

/** Writes lifecycles.csv and lifecycles.json for one host; returns the file names. */
export function writeLifecycles(outDir: string, lifecycles: Lifecycle[], orphanLayers: LifecycleStageResult['orphanLayers'] = []): string[] {
  writeRecordsCsv(path.join(outDir, 'lifecycles.csv'), LIFECYCLE_COLUMNS, lifecycles.map(lifecycleRow));
  writeJson(path.join(outDir, 'lifecycles.json'), { lifecycles: lifecycles.map(lifecycleJson), orphan_layers: orphanLayers });
  return ['lifecycles.csv', 'lifecycles.json'];
}

/** Top-level lifecycles of a multi-source run: every host's, host by host. */
function mergeLifecycles(outDir: string, hostDirs: Array<{ dir: string; label: string }>): string[] {
  const all: Array<Record<string, unknown>> = [];
  const orphans: unknown[] = [];
  for (const h of hostDirs) {
    const f = path.join(h.dir, 'lifecycles.json');
    if (!fs.existsSync(f)) continue;
    const j = JSON.parse(fs.readFileSync(f, 'utf8')) as { lifecycles: Array<Record<string, unknown>>; orphan_layers: unknown[] };
    all.push(...j.lifecycles);
    orphans.push(...j.orphan_layers.map((o) => ({ host: h.label, ...(o as object) })));
  }
  const rows = all.map((l) => {
    const row: Record<string, string> = {};
    for (const c of LIFECYCLE_COLUMNS) row[c] = '';
    return { ...row, ...lifecycleRowFromJson(l) };
  });
  writeRecordsCsv(path.join(outDir, 'lifecycles.csv'), LIFECYCLE_COLUMNS, rows);
  writeJson(path.join(outDir, 'lifecycles.json'), { lifecycles: all, orphan_layers: orphans });
  return ['lifecycles.csv', 'lifecycles.json'];
}
// --- end issue 6 ---

/** Top-level inventories of a multi-source run: every host's rows, host by host in the order given. */
export function mergeInventories(outDir: string, hostDirs: Array<{ dir: string; label: string }>): string[] {
  const containers: HostContainer[] = [];
  const images: HostImage[] = [];
  for (const h of hostDirs) {
    containers.push(...(JSON.parse(fs.readFileSync(path.join(h.dir, 'containers.json'), 'utf8')) as HostContainer[]));
    images.push(...(JSON.parse(fs.readFileSync(path.join(h.dir, 'images.json'), 'utf8')) as HostImage[]));
  }
  writeRecordsCsv(path.join(outDir, 'containers.csv'), CONTAINER_CSV_COLUMNS, containerRows(containers));
  writeJson(path.join(outDir, 'containers.json'), containers);
  writeJson(path.join(outDir, 'images.json'), images);
  return ['containers.csv', 'containers.json', 'images.json', ...mergeFindings(outDir, hostDirs), ...mergeLifecycles(outDir, hostDirs)];
}

export { CONTAINER_CSV_COLUMNS };
