import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface SourceManifest {
  path: string;
  label: string;
  evidence_kind: string;
  hostname?: string;
  os_release?: string;
  machine_id?: string;
  timezone?: string;
  is_linux_root: boolean;
  data_roots: Array<{ path: string; how: string[] }>;
  containers: number;
  images: number;
  problems: number;
  events: number;
  events_by_source: Record<string, number>;
  timeline_fallbacks?: string[];
  /** Merge passes the timeline took: 1, plus one per rerun after logs were found out of order. */
  timeline_passes?: number;
  /** Steps back of a second or more inside logs (findings rule log-time-steps-back lists the first 16 per log). */
  time_steps_back?: number;
  spilled_runs?: number;
  // issue 6: lifecycles (one per container ever seen), removed ones, and the pre-pass cost (lifecycle_ms)
  lifecycles?: number;
  removed_containers?: number;
  lifecycle_stats?: import('../lifecycle/index.js').LifecycleStats;
  /** Duration of the carving scan (disk images); run-dependent like started_at, so not in carve.json. */
  carve_timing?: { seconds: number; mb_per_second: number };
  error?: string;
}

export interface Manifest {
  tool: 'flotsam';
  tool_version: string;
  command_line: string[];
  node_version: string;
  started_at: string;
  finished_at: string;
  outputs: string[];
  sources: SourceManifest[];
  events: number;
  problems: number;
}

let cachedVersion: string | undefined;

export function toolVersion(): string {
  if (cachedVersion) return cachedVersion;
  // dist/src/triage/manifest.js and src/triage/manifest.ts both sit three levels below the package root.
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const p = fileURLToPath(new URL(rel, import.meta.url));
      const pkg = JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'flotsam' && pkg.version) return (cachedVersion = pkg.version);
    } catch {
      // try the next candidate
    }
  }
  return (cachedVersion = 'unknown');
}
