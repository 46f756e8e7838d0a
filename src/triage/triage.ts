// triage(options): the library call behind `flotsam triage`, usable from scripts.
// One source writes its outputs straight into `out`; several sources each get `out/<host>/` plus merged
// top-level outputs (timeline merged from the per-host sorted JSONL, inventories with a host column).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Problem } from '../events/event.js';
import { errorMessage } from '../events/event.js';
import { EvidenceError } from '../fs/open-evidence.js';
import { mergeOrdered, readTimelineJsonl } from '../timeline/index.js';
import { writeJson } from '../writers/index.js';
import { type Manifest, type SourceManifest, toolVersion } from './manifest.js';
import { ALL_TIMELINE_FORMATS, type TimelineFormat, type TriageOptions } from './options.js';
import { mergeInventories, timelineSinks } from './outputs.js';
import { type SourceTriageRequest, type SourceTriageResult, triageSource } from './triage-source.js';
import { maxOpenSourcesPerJob } from './open-files.js';

export interface TriageResult {
  manifest: Manifest;
  problems: Problem[];
  outDir: string;
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function realOrResolved(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** Evidence is read-only: refuse an output folder inside any evidence source. */
function checkOutputLocation(out: string, sources: string[]): void {
  const outReal = realOrResolved(out);
  for (const s of sources) {
    if (fs.existsSync(s) && isInside(outReal, realOrResolved(s))) {
      throw new EvidenceError(`output folder ${out} lies inside evidence ${s}; choose a folder outside it`);
    }
  }
}

function uniqueLabels(labels: string[]): string[] {
  const seen = new Map<string, number>();
  return labels.map((l) => {
    const safe = l.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'source';
    const n = (seen.get(safe) ?? 0) + 1;
    seen.set(safe, n);
    return n === 1 ? safe : `${safe}-${n}`;
  });
}

export async function triage(opts: TriageOptions): Promise<TriageResult> {
  const startedAt = new Date();
  if (opts.sources.length === 0) throw new EvidenceError('no evidence source given');
  const formats = dedupe(opts.formats?.length ? opts.formats : [...ALL_TIMELINE_FORMATS]);
  checkOutputLocation(opts.out, opts.sources);
  fs.mkdirSync(opts.out, { recursive: true });
  const tmpRoot = fs.mkdtempSync(path.join(opts.tmpDir ?? opts.out, '.flotsam-tmp-'));
  const multi = opts.sources.length > 1;
  const problems: Problem[] = [];
  const onProblem = (p: Problem): void => {
    problems.push(p);
    opts.onProblem?.(p);
  };

  try {
    // Per-source folder names come from the source path first; renamed to host names after triage.
    const provisional = uniqueLabels(opts.sources.map((s, i) => `source-${i + 1}-${path.basename(path.resolve(s))}`));
    const requests: SourceTriageRequest[] = opts.sources.map((source, i) => ({
      source,
      outDir: multi ? path.join(opts.out, provisional[i]) : opts.out,
      // Merging needs each host's sorted JSONL.
      formats: multi ? dedupe([...formats, 'jsonl']) : formats,
      since: opts.since,
      until: opts.until,
      tz: opts.tz,
      hashChanges: opts.hashChanges,
      carve: opts.carve, // issue 6: carving
      tmpDir: path.join(tmpRoot, String(i)),
      // --tmp-dir also takes the inflated copy of a .tar.gz; without it that copy stays in os.tmpdir().
      spoolDir: opts.tmpDir === undefined ? undefined : path.join(tmpRoot, String(i)),
      maxOpenSources: maxOpenSourcesPerJob(Math.min(Math.max(1, opts.jobs ?? 1), opts.sources.length)),
    }));
    for (const r of requests) fs.mkdirSync(r.tmpDir, { recursive: true });

    const results = await runAll(requests, Math.max(1, opts.jobs ?? 1), onProblem, opts);
    const ok = results.filter((r): r is SourceTriageResult => !(r instanceof Error));
    if (ok.length === 0) {
      const first = results.find((r) => r instanceof Error) as Error;
      throw first instanceof EvidenceError ? first : new EvidenceError(errorMessage(first));
    }

    const sourceManifests: SourceManifest[] = [];
    const outputs: string[] = [];
    const hostDirs: Array<{ dir: string; label: string }> = [];
    const finalLabels = uniqueLabels(results.map((r, i) => (r instanceof Error ? provisional[i] : r.manifest.label)));
    results.forEach((r, i) => {
      if (r instanceof Error) {
        const p: Problem = { component: 'triage', path: opts.sources[i], reason: r.message, severity: 'error' };
        onProblem(p);
        sourceManifests.push(failedManifest(opts.sources[i], r));
        if (multi) fs.rmSync(requests[i].outDir, { recursive: true, force: true });
        return;
      }
      sourceManifests.push(r.manifest);
      if (multi) {
        const dir = path.join(opts.out, finalLabels[i]);
        fs.rmSync(dir, { recursive: true, force: true });
        fs.renameSync(requests[i].outDir, dir);
        hostDirs.push({ dir, label: finalLabels[i] });
        outputs.push(...r.outputs.map((o) => path.join(finalLabels[i], o)));
        writeJson(path.join(dir, 'problems.json'), r.problems);
        outputs.push(path.join(finalLabels[i], 'problems.json'));
      } else {
        outputs.push(...r.outputs);
      }
    });

    if (multi) {
      opts.onProgress?.({ source: '(all)', stage: 'merge' });
      const sinks = timelineSinks(opts.out, formats);
      const streams = hostDirs.map((h) => readTimelineJsonl(path.join(h.dir, 'timeline.jsonl')));
      for await (const batch of mergeOrdered(streams, { verify: true })) for (const s of sinks.sinks) await s.write(batch);
      for (const s of sinks.sinks) await s.close();
      outputs.push(...sinks.files, ...mergeInventories(opts.out, hostDirs));
    }

    writeJson(path.join(opts.out, 'problems.json'), problems);
    outputs.push('problems.json', 'manifest.json');
    const manifest: Manifest = {
      tool: 'flotsam',
      tool_version: toolVersion(),
      command_line: opts.commandLine ?? [],
      node_version: process.version,
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      outputs: [...new Set(outputs)].sort(),
      sources: sourceManifests,
      events: sourceManifests.reduce((n, s) => n + s.events, 0),
      problems: problems.length,
    };
    writeJson(path.join(opts.out, 'manifest.json'), manifest);
    return { manifest, problems, outDir: opts.out };
  } finally {
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  }
}

function dedupe<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function failedManifest(source: string, err: Error): SourceManifest {
  return {
    path: path.resolve(source),
    label: path.basename(path.resolve(source)),
    evidence_kind: 'unknown',
    is_linux_root: false,
    data_roots: [],
    containers: 0,
    images: 0,
    problems: 1,
    events: 0,
    events_by_source: {},
    error: err.message,
  };
}

async function runAll(
  requests: SourceTriageRequest[],
  jobs: number,
  onProblem: (p: Problem) => void,
  opts: TriageOptions,
): Promise<Array<SourceTriageResult | Error>> {
  const results: Array<SourceTriageResult | Error> = new Array(requests.length);
  let next = 0;
  const inWorker = jobs > 1 && requests.length > 1;
  const lane = async (): Promise<void> => {
    while (next < requests.length) {
      const i = next++;
      const req = { ...requests[i], onProblem, onProgress: opts.onProgress };
      try {
        results[i] = inWorker ? await triageInWorker(req) : await triageSource(req);
      } catch (err) {
        results[i] = err instanceof Error ? err : new Error(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, requests.length) }, lane));
  return results;
}

type WorkerMessage =
  | { type: 'problem'; problem: Problem }
  | { type: 'progress'; progress: Parameters<NonNullable<TriageOptions['onProgress']>>[0] }
  | { type: 'result'; result: SourceTriageResult }
  | { type: 'error'; message: string; evidence: boolean };

function triageInWorker(req: SourceTriageRequest): Promise<SourceTriageResult> {
  const { onProblem, onProgress, ...data } = req;
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: data });
    let settled = false;
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'problem') onProblem?.(m.problem);
      else if (m.type === 'progress') onProgress?.(m.progress);
      else if (m.type === 'result') {
        settled = true;
        resolve(m.result);
      } else if (m.type === 'error') {
        settled = true;
        reject(m.evidence ? new EvidenceError(m.message) : new Error(m.message));
      }
    });
    worker.on('error', (err) => {
      if (!settled) reject(err);
      settled = true;
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`triage worker for ${req.source} exited with code ${code}`));
    });
  });
}
