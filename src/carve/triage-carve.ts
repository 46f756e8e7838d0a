// The carving stage of triage: for a disk image, carve (per --carve-all / --no-carve), hand back the carved events
// as an EventSource and the carved containers for containers.csv/json, and write carve.json (what was scanned,
// how fast, what was found and not matched).
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { ContainerRecord } from '../collectors/docker/containers.js';
import { type CollectorContext, type EventSource, arraySource } from '../collectors/types.js';
import { errorMessage } from '../events/event.js';
import type { AssembledImage } from '../fs/assemble/assemble.js';
import { attachRecovery } from '../fs/recovery.js';
import { readFileLimited } from '../fs/vfs.js';
import { writeJson } from '../writers/index.js';
import { type CarveMode, type CarveResult, carveRecovery } from './carve.js';
import { recoveryFromLayout } from './evidence.js';
import type { CarvedContainerRecord } from './records.js';

export const COMPONENT = 'carve';
export type CarveSetting = CarveMode | 'off';

export interface CarveStageResult {
  sources: EventSource[];
  containers: CarvedContainerRecord[];
  result?: CarveResult;
}

/** sha256 of the live config files, so identical stale copies in free blocks are not reported again. */
function liveHashes(ctx: CollectorContext, live: readonly ContainerRecord[]): Set<string> {
  const out = new Set<string>();
  for (const c of live) {
    for (const p of [c.configPath, c.hostConfigPath]) {
      if (!p) continue;
      try {
        out.add(createHash('sha256').update(readFileLimited(ctx.vfs, p, 16 * 1024 * 1024)).digest('hex'));
      } catch {
        // unreadable live file: nothing to compare with
      }
    }
  }
  return out;
}

export function runCarveStage(opts: {
  ctx: CollectorContext;
  layout: AssembledImage | undefined;
  mode: CarveSetting;
  live: readonly ContainerRecord[];
}): CarveStageResult {
  const { ctx, layout, mode } = opts;
  if (mode === 'off' || !layout) return { sources: [], containers: [] };
  const rs = recoveryFromLayout(layout);
  if (!rs) return { sources: [], containers: [] };
  attachRecovery(ctx.vfs, rs);
  let result: CarveResult;
  try {
    result = carveRecovery(rs, {
      mode,
      host: ctx.host,
      liveIds: new Set(opts.live.map((c) => c.id)),
      liveHashes: liveHashes(ctx, opts.live),
    });
  } catch (err) {
    ctx.problems.warn(COMPONENT, layout.location, `carving failed: ${errorMessage(err)}`);
    return { sources: [], containers: [] };
  }
  for (const p of result.problems) ctx.problems.warn(COMPONENT, layout.location, p);
  const s = result.summary;
  if (s.droppedOverLimit > 0) {
    ctx.problems.warn(COMPONENT, layout.location, `${s.droppedOverLimit} carved items over the limits were counted, not kept`);
  }
  if (s.budgetSkips > 0) {
    ctx.problems.warn(COMPONENT, layout.location, `${s.budgetSkips} signature hits skipped (brace-matching budget per chunk spent: dense look-alike data)`);
  }
  return { sources: result.events.length ? [arraySource('carve', result.events)] : [], containers: result.containers, result };
}

/** carve.json: the summary, the carved containers' provenance and the hostconfigs matched to no config. */
export function writeCarveReport(outDir: string, stage: CarveStageResult): string[] {
  if (!stage.result) return [];
  const r = stage.result;
  writeJson(path.join(outDir, 'carve.json'), {
    summary: r.summary,
    containers: r.containers.map((c) => ({
      id: c.id,
      name: c.name,
      live: c.live,
      fs: c.carve_fs,
      via: c.carve_via,
      offset: c.carve_offset,
      fs_offset: c.carve_fs_offset,
      inode: c.carve_inode,
      hostconfig_offset: c.hostconfig_offset,
      hostconfig_match: c.hostconfig_match,
      duplicates: c.duplicates,
      sha256: c.carve_sha256,
    })),
    unmatched_hostconfigs: r.hostconfigs.map((h) => ({
      fs: h.fs,
      via: h.via,
      offset: h.offset?.toString(),
      fs_offset: h.fsOffset?.toString(),
      inode: h.inode,
      sha256: h.sha256,
      value: h.value,
    })),
  });
  return ['carve.json'];
}
