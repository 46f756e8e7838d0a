// Triage of one evidence source: open it read-only, collect inventory and events, write the per-source outputs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { collectDocker } from '../collectors/docker/index.js';
import { jsonLogSource } from '../collectors/docker/json-log.js';
import { readHostIdentity } from '../collectors/host/identity.js';
import type { CollectorContext, EventSource } from '../collectors/types.js';
import { HOST_COLLECTORS } from '../collectors/registry.js';
import { ProblemLog, errorMessage } from '../events/event.js';
import { EvidenceError, diskProblems, evidenceProblems, openEvidenceDetailed } from '../fs/open-evidence.js';
import { type CarveSetting, runCarveStage, writeCarveReport } from '../carve/triage-carve.js'; // issue 6: carving
import { buildTimeline } from '../timeline/index.js';
import { timelineSinks, writeFindings, writeInventory, writeLifecycles } from './outputs.js';
import { computeFindings, findingEvents, MAX_TIME_STEP_FINDINGS, sortFindings, timeStepFindings } from '../findings/index.js';
import { arraySource } from '../collectors/types.js';
import type { SourceManifest } from './manifest.js';
import type { ProgressInfo, TimelineFormat } from './options.js';
import type { Problem } from '../events/event.js';
import { runLifecycleStage } from '../lifecycle/index.js'; // issue 6: lifecycles

export interface SourceTriageRequest {
  source: string;
  /** Folder for this source's outputs. */
  outDir: string;
  formats: TimelineFormat[];
  since?: bigint;
  until?: bigint;
  /** `--tz`: IANA zone for host logs that record local time without a zone. */
  tz?: string;
  tmpDir: string;
  /** Where a .tar.gz evidence is inflated (an unlinked temporary file); unset: os.tmpdir(). */
  spoolDir?: string;
  onProblem?: (p: Problem) => void;
  onProgress?: (p: ProgressInfo) => void;
  /** `--hash`: sha256 of added/changed writable-layer files. */
  hashChanges?: boolean;
  /** Log sources merged live at once (open-files.ts); default MAX_OPEN_ORDERED_SOURCES. */
  maxOpenSources?: number;
  /** issue 6: carving of disk images (`--carve-all` = 'all', `--no-carve` = 'off'); default 'unallocated'. */
  carve?: CarveSetting;
}

export interface SourceTriageResult {
  manifest: SourceManifest;
  problems: Problem[];
  /** Files written, relative to outDir. */
  outputs: string[];
}

/** Fallback label when the evidence has no /etc/hostname: the source's own folder name. */
function labelFromPath(source: string): string {
  const base = path.basename(path.resolve(source));
  return base || 'source';
}

export async function triageSource(req: SourceTriageRequest): Promise<SourceTriageResult> {
  const problems = new ProblemLog();
  const opened = openEvidenceDetailed(req.source, { tmpDir: req.spoolDir });
  const vfs = opened.vfs;
  try {
    for (const p of evidenceProblems(vfs)) problems.add(p);
    const identity = readHostIdentity(vfs, problems);
    const host = identity.hostname ?? labelFromPath(req.source);
    // Problems met before the host name was known are tagged and replayed once it is.
    for (const p of problems.problems) p.host = host;
    problems.onProblem((p) => (p.host ??= host));
    if (req.onProblem) {
      problems.problems.forEach(req.onProblem);
      problems.onProblem(req.onProblem);
    }
    const ctx: CollectorContext = { vfs, host, problems, tzOverride: req.tz };

    req.onProgress?.({ source: req.source, stage: 'collect' });
    const docker = collectDocker(ctx, { hashChanges: req.hashChanges });
    if (!identity.isLinuxRoot && !docker.roots.some((r) => r.exists)) {
      throw new EvidenceError(`${req.source}: holds no Linux root and no Docker data root`);
    }

    const sources: EventSource[] = [...docker.sources, ...logSources(ctx, docker.logFiles)];
    // --- issue 6: writable-layer limitations of this evidence form; findings (written below, flagged in the timeline) ---
    for (const d of docker.diffs.values()) for (const l of d.limitations) problems.warn('overlay-diff', l.path, l.reason);
    const findings = computeFindings(ctx, { containers: docker.containers, diffs: docker.diffs, isLinuxRoot: identity.isLinuxRoot });
    sources.push(arraySource('finding', findingEvents(findings)));
    for (const collector of HOST_COLLECTORS) {
      try {
        sources.push(...collector.collect(ctx).sources);
      } catch (err) {
        problems.warn(collector.name, '/', `collector failed: ${errorMessage(err)}`);
      }
    }
    // --- issue 6: carving (disk images): carved events join the timeline, carved containers the inventory ---
    const carved = runCarveStage({ ctx, layout: opened.layout, mode: req.carve ?? 'unallocated', live: docker.containers });
    sources.push(...carved.sources);
    // --- end carving ---

    // --- issue 6: lifecycle pre-pass (cheap lifecycle() views of the sources); its transitions join the timeline ---
    const lifecycle = await runLifecycleStage({ ctx, sources, containers: docker.containers, roots: docker.roots, evidenceSources: carved.sources });
    sources.push(...lifecycle.extraSources, lifecycle.source);
    // --- end issue 6 ---

    fs.mkdirSync(req.outDir, { recursive: true });
    req.onProgress?.({ source: req.source, stage: 'timeline', events: 0 });
    const sinks = timelineSinks(req.outDir, req.formats);
    const stats = await buildTimeline(sources, sinks.sinks, {
      tmpDir: req.tmpDir,
      maxOpenSources: req.maxOpenSources,
      since: req.since,
      until: req.until,
      onProgress: (events) => req.onProgress?.({ source: req.source, stage: 'timeline', events }),
    });
    // Damage the image reader met while everything was read (unreadable chunks become zeros plus a problem).
    for (const p of diskProblems(vfs)) problems.add(p);

    req.onProgress?.({ source: req.source, stage: 'write', events: stats.events });
    const inventoryFiles = writeInventory(req.outDir, [...docker.containers, ...carved.containers], docker.images, host); // issue 6: + carved rows
    inventoryFiles.push(...writeCarveReport(req.outDir, carved)); // issue 6: carve.json
    // Logs whose times go back are found while the timeline is merged: findings files only (timeStepFindings).
    findings.push(...timeStepFindings(host, stats.timeStepsBack));
    const unlisted = stats.moreTimeStepsBack + Math.max(0, stats.timeStepsBack.length - MAX_TIME_STEP_FINDINGS);
    if (unlisted > 0) {
      problems.warn('timeline', '/', `${unlisted} more steps back in log times not listed as findings (16 per log, ` + `MAX_TIME_STEP_FINDINGS ${MAX_TIME_STEP_FINDINGS} per host)`, host);
    }
    sortFindings(findings);
    inventoryFiles.push(...writeFindings(req.outDir, findings));
    inventoryFiles.push(...writeLifecycles(req.outDir, lifecycle.lifecycles, lifecycle.orphanLayers)); // issue 6

    const manifest: SourceManifest = {
      path: path.resolve(req.source),
      label: host,
      evidence_kind: vfs.kind,
      hostname: identity.hostname,
      os_release: identity.osPrettyName,
      machine_id: identity.machineId,
      timezone: identity.timezone,
      is_linux_root: identity.isLinuxRoot,
      data_roots: docker.roots.filter((r) => r.exists).map((r) => ({ path: r.path, how: r.how })),
      containers: docker.containers.length,
      images: docker.images.length,
      problems: problems.problems.length,
      events: stats.events,
      events_by_source: stats.countsBySource,
      spilled_runs: stats.spilledRuns,
      timeline_fallbacks: stats.fallbacks,
      timeline_passes: stats.passes,
      time_steps_back: stats.timeStepsBack.length + stats.moreTimeStepsBack,
      lifecycles: lifecycle.stats.lifecycles, // issue 6
      removed_containers: lifecycle.stats.removed,
      lifecycle_stats: lifecycle.stats,
      carve_timing: carved.result?.timing,
    };
    req.onProgress?.({ source: req.source, stage: 'done', events: stats.events });
    return { manifest, problems: problems.problems, outputs: [...sinks.files, ...inventoryFiles] };
  } finally {
    vfs.close();
  }
}

/** One ordered event source per container: its json-file logs, oldest rotation first. */
function logSources(ctx: CollectorContext, logFiles: ReturnType<typeof collectDocker>['logFiles']): EventSource[] {
  const byContainer = new Map<string, typeof logFiles>();
  for (const f of logFiles) {
    if (f.driver !== 'json-file') continue;
    const list = byContainer.get(f.containerId) ?? [];
    list.push(f);
    byContainer.set(f.containerId, list);
  }
  return [...byContainer.values()].map((files) =>
    jsonLogSource(
      ctx,
      files.map((f) => ({ path: f.path, containerId: f.containerId, containerName: f.containerName })),
    ),
  );
}

