// Timeline events of one container from its config (created, started, finished) and the MACB times of its files.
// References: moby/moby container/state.go (StartedAt/FinishedAt semantics); docs/formats/docker-state.md.
import { TimeDesc, type ProblemLog, type TimelineEvent } from '../../events/event.js';
import { baseName, exists, joinPath } from '../../fs/vfs.js';
import type { CollectorContext } from '../types.js';
import { COMPONENT, type ContainerRecord } from './containers.js';
import { macbEvents } from './macb.js';

/** `name (short id)` of a container, as event messages name it. */
export function containerLabel(rec: ContainerRecord): string {
  return `${rec.name || '?'} (${rec.id.slice(0, 12)})`;
}

/** The provenance fields of a container's lifecycle events (everything but time, description, message, attrs). */
export type LifecycleEventBase = Omit<TimelineEvent, 'time' | 'timestamp_desc' | 'message' | 'raw_time' | 'attrs'>;

/**
 * The created / started / finished events of a container's config, `who` naming it in messages ("Container x (id)").
 * `finished` adds to the finished event's message (after "finished") and attrs. Shared by the live reader and the
 * carver (carve/records.ts).
 */
export function lifecycleEvents(
  rec: ContainerRecord,
  base: LifecycleEventBase,
  attrs: Record<string, unknown>,
  who: string,
  finished: { note: string; attrs: Record<string, unknown> } = { note: '', attrs: {} },
): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  if (rec.created.ns !== undefined) {
    out.push({
      ...base,
      time: rec.created.ns,
      timestamp_desc: TimeDesc.creation,
      message: `${who} created from image ${rec.imageName || rec.imageId || '?'}`,
      raw_time: rec.created.raw,
      attrs: { ...attrs, event: 'created', field: 'Created' },
    });
  }
  const cmd = [rec.path, ...rec.args].filter((s) => s !== '').join(' ');
  if (rec.started.ns !== undefined) {
    out.push({
      ...base,
      time: rec.started.ns,
      timestamp_desc: TimeDesc.start,
      message: `${who} started` + (cmd ? `: ${cmd.slice(0, 512)}` : ''),
      raw_time: rec.started.raw,
      attrs: { ...attrs, event: 'started', field: 'State.StartedAt', pid: rec.pid, restart_count: rec.restartCount },
    });
  }
  if (rec.finished.ns !== undefined) {
    let msg = `${who} finished${finished.note}, exit code ${rec.exitCode ?? '?'}`;
    if (rec.oomKilled) msg += ', OOMKilled';
    if (rec.error) msg += `, error: ${rec.error.slice(0, 512)}`;
    out.push({
      ...base,
      time: rec.finished.ns,
      timestamp_desc: TimeDesc.end,
      message: msg,
      raw_time: rec.finished.raw,
      attrs: { ...attrs, event: 'finished', field: 'State.FinishedAt', exit_code: rec.exitCode, oom_killed: rec.oomKilled, ...finished.attrs },
    });
  }
  return out;
}

/** Lifecycle events (created, started, finished) of one container. */
export function containerEvents(rec: ContainerRecord, host: string, problems: ProblemLog): TimelineEvent[] {
  const base = {
    source: 'docker:container',
    host,
    container_id: rec.id,
    container_name: rec.name,
    path: rec.configPath,
  };
  const attrs = { image: rec.imageName, image_id: rec.imageId, status: rec.status, layout: rec.layout };
  const previousRun = rec.running && rec.started.ns !== undefined && rec.finished.ns !== undefined && rec.finished.ns < rec.started.ns;
  const out = lifecycleEvents(rec, base, attrs, `Container ${containerLabel(rec)}`, {
    note: previousRun ? ' (previous run)' : '',
    attrs: { error: rec.error, previous_run: previousRun },
  });
  if (rec.finished.ns !== undefined && !previousRun && rec.started.ns !== undefined && rec.finished.ns < rec.started.ns) {
    problems.warn(
      COMPONENT,
      rec.configPath,
      `State.FinishedAt ${rec.finished.raw} is before State.StartedAt ${rec.started.raw} ` +
        `(${rec.started.ns - rec.finished.ns} ns); both kept as events`,
      host,
    );
  }
  return out;
}

/** MACB events of a container's own files: its directory, configs, logs, and its layerdb mounts entry. */
export function containerMacb(ctx: CollectorContext, rec: ContainerRecord): TimelineEvent[] {
  const { vfs, problems, host } = ctx;
  const out: TimelineEvent[] = [];
  const subj = (path: string, what: string): void =>
    macbEvents(vfs, problems, COMPONENT, host, { path, what, containerId: rec.id, containerName: rec.name }, out);
  subj(rec.dir, 'container directory');
  subj(rec.configPath, baseName(rec.configPath));
  if (rec.hostConfigPath) subj(rec.hostConfigPath, 'hostconfig.json');
  for (const f of rec.logFiles) subj(f, 'json-file log');
  for (const f of rec.localLogFiles) subj(f, 'local log');
  if (rec.layer) {
    subj(rec.layer.path, 'layerdb mounts entry');
    for (const f of ['mount-id', 'init-id', 'parent']) {
      const p = joinPath(rec.layer.path, f);
      if (exists(vfs, p)) subj(p, `layerdb ${f}`);
    }
  }
  return out;
}
