// The lifecycle stage: a pre-pass over lifecycle-relevant evidence only (each source's cheap lifecycle() view),
// run before the timeline. Its transitions join the timeline as one small unordered source (`lifecycle`).
// The timeline itself stays one streaming pass; json-file logs are touched here only at their edges.
import { performance } from 'node:perf_hooks';
import type { TimelineEvent } from '../events/event.js';
import { arraySource, type CollectorContext, type EventSource } from '../collectors/types.js';
import type { ContainerRecord } from '../collectors/docker/containers.js';
import type { DataRoot } from '../collectors/docker/discover.js';
import { jsonLogSource } from '../collectors/docker/json-log.js';
import { changeEvents, diffLayers, resolveLayers } from '../collectors/docker/overlay-diff.js';
import { errorMessage } from '../events/event.js';
import { criLogSource } from './cri-log.js';
import { LifecycleBuilder, type LifecycleLimits } from './reconstruct.js';
import { scanTraces, type TraceScan } from './traces.js';
import { lifecycleEvents } from './output.js';
import type { Lifecycle } from './model.js';

export { computeEventId, fnv1a64 } from '../events/event-id.js';
export { LifecycleBuilder, clusterTransitions, DEFAULT_LIFECYCLE_LIMITS } from './reconstruct.js';
export { LIFECYCLE_COLUMNS, LIFECYCLE_SOURCE, lifecycleEvents, lifecycleJson, lifecycleRow, lifecycleRowFromJson } from './output.js';
export { readJsonLogEdges, fileEdges } from './json-log-edges.js';
export { daemonEventsOnly, dockerCommandsOnly, journaldLifecycle } from './source-readers.js';
export { historyActions, shellSegments } from './history-commands.js';
export { scanTraces } from './traces.js';
export { criLogSource, CRI_LOG_SOURCE } from './cri-log.js';
export * from './model.js';

/** Problems listed for storage-driver directories without an owner (the rest are counted). */
export const MAX_ORPHAN_LAYER_PROBLEMS = 100;

export interface LifecycleStageInput {
  ctx: CollectorContext;
  /** Every timeline source; those with lifecycle() are read. */
  sources: EventSource[];
  containers: ContainerRecord[];
  roots: DataRoot[];
  /** Evidence from elsewhere (carved records: source `carve:*`). */
  extraEvidence?: TimelineEvent[];
  /** Small sources read whole through open() (the carve stage's array sources). */
  evidenceSources?: EventSource[];
  limits?: Partial<LifecycleLimits>;
}

export interface LifecycleStats {
  /** Wall time of the pre-pass, ms. */
  lifecycle_ms: number;
  sources_read: number;
  evidence_events: number;
  lifecycles: number;
  removed: number;
  orphan_layers: number;
}

export interface LifecycleStageResult {
  lifecycles: Lifecycle[];
  /** The transitions as an unordered timeline source (`lifecycle`). */
  source: EventSource;
  /** json-file logs of left-over containers/<id> directories (not in the inventory): add them to the timeline. */
  extraSources: EventSource[];
  orphanLayers: TraceScan['orphanLayers'];
  stats: LifecycleStats;
}

export async function runLifecycleStage(input: LifecycleStageInput): Promise<LifecycleStageResult> {
  const t0 = performance.now();
  const { ctx } = input;
  const builder = new LifecycleBuilder(ctx.host, ctx.problems, input.limits);
  const present = new Set(input.containers.map((c) => c.id));
  for (const c of input.containers) builder.addRecord(c);
  const scan = scanTraces(ctx.vfs, input.roots, present, ctx.problems, ctx.host);
  const extraSources = scan.leftoverLogs.map((l) =>
    jsonLogSource(ctx, l.paths.map((path) => ({ path, containerId: l.containerId }))),
  );
  // Kubernetes CRI logs named by /var/log/containers links (not Docker's json-file logs): timeline events too.
  extraSources.push(...scan.criLogs.map((ref) => criLogSource(ctx, ref)));
  // Writable layers of removed containers whose layerdb mounts entry survived: their file changes, attributed to
  // the container id, like a present container's (src/collectors/docker/overlay-diff.ts).
  for (const m of scan.orphanMounts) {
    try {
      const rec = { id: m.containerId, name: '', root: m.root, storageDriver: m.driver, layer: m.layer } as unknown as ContainerRecord;
      const layers = resolveLayers(ctx.vfs, ctx.problems, ctx.host, rec);
      if (!layers) continue;
      const diff = diffLayers(ctx.vfs, layers, ctx.problems, ctx.host);
      for (const l of diff.limitations) ctx.problems.warn('overlay-diff', l.path, l.reason, ctx.host);
      const events = changeEvents(rec, diff, ctx.host);
      for (const ev of events) delete ev.container_name; // the name died with the config
      if (events.length > 0) extraSources.push(arraySource(`lifecycle:orphan-layer:${m.containerId}`, events));
    } catch (err) {
      ctx.problems.warn('lifecycle', m.layer.path, `writable layer of a removed container not diffed: ${errorMessage(err)}`, ctx.host);
    }
  }
  for (const t of scan.traces) builder.addTrace({ id: t.id, name: t.name }, t.kind, t.path, t.time, t.foreign, t.detail);
  for (const o of scan.orphanLayers) if (o.hasInit) builder.addOrphanLayer(o.path, o.time === undefined ? undefined : BigInt(o.time));
  let n = 0;
  for (const o of scan.orphanLayers) {
    if (n++ < MAX_ORPHAN_LAYER_PROBLEMS) {
      ctx.problems.warn('lifecycle', o.path, `storage-driver directory owned by no layerdb entry${o.hasInit ? ' (with an -init sibling: a removed container\'s writable layer)' : ''}`, ctx.host);
    }
  }
  if (n > MAX_ORPHAN_LAYER_PROBLEMS) {
    ctx.problems.warn('lifecycle', '/', `${n - MAX_ORPHAN_LAYER_PROBLEMS} more orphan storage-driver directories (MAX_ORPHAN_LAYER_PROBLEMS)`, ctx.host);
  }
  let read = 0;
  for (const s of [...input.sources, ...extraSources]) {
    if (!s.lifecycle) continue;
    read++;
    for await (const batch of s.lifecycle()) for (const ev of batch) builder.add(ev);
  }
  for (const s of input.evidenceSources ?? []) {
    if (s.lifecycle) continue; // already read above
    read++;
    for await (const batch of s.open()) for (const ev of batch) builder.add(ev);
  }
  for (const ev of input.extraEvidence ?? []) builder.add(ev);
  const lifecycles = builder.finish();
  const events = lifecycleEvents(lifecycles);
  const stats: LifecycleStats = {
    lifecycle_ms: Math.round((performance.now() - t0) * 1000) / 1000,
    sources_read: read,
    evidence_events: builder.evidenceEvents,
    lifecycles: lifecycles.length,
    removed: lifecycles.filter((l) => l.removed === 'yes' || l.removed === 'inferred').length,
    orphan_layers: scan.orphanLayers.length,
  };
  return { lifecycles, source: arraySource('lifecycle', events), extraSources, orphanLayers: scan.orphanLayers, stats };
}
