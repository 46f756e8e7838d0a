// Evidence events -> lifecycle observations. One function per kind of evidence; each says which container the
// event is about (id, id prefix or name), what transition it shows, and how independent it is (its family).
// The events are the ones the collectors put in the timeline (or exact copies from a source's lifecycle()
// reader), so computeEventId of the event is the id of the timeline event it proves.
// References: src/collectors/daemon-events/daemon-events.ts (event_kind, lifecycle, topic),
// src/collectors/docker/container-events.ts (attrs.event created/started/finished),
// src/collectors/journald/index.ts (docker:journald-log), history-commands.ts.
import type { TimelineEvent } from '../events/event.js';
import { historyActions, type HistoryAction } from './history-commands.js';
import { computeEventId } from '../events/event-id.js';
import type { Observation, TransitionKind } from './model.js';

export const FAMILY = {
  config: 'config',
  daemon: 'daemon',
  log: 'container-log',
  history: 'shell-history',
  carve: 'carve',
  state: 'state',
} as const;

/** What one evidence event says about one container. */
export interface Sighting {
  /** Full id or a prefix (lowercase hex). */
  id?: string;
  /** Name without the leading `/`. */
  name?: string;
  image?: string;
  obs: Observation[];
  /** A log record: the container was running (or at least existed) at this time. */
  presence?: { time: bigint; source: string; eventId: string; path: string };
  /** The id belongs to a non-Docker runtime (containerd namespace k8s.io, ...): never inferred removed. */
  foreign?: boolean;
}

const HEX_ID = /^[0-9a-f]{12,64}$/;
const LOG_SOURCES = new Set(['docker:json-log', 'docker:journald-log', 'docker:local-log', 'kubernetes:cri-log']);

function ob(ev: TimelineEvent, eventId: string, kind: TransitionKind, family: string, channel: string, extra: Partial<Observation> = {}): Observation {
  return { kind, time: ev.time, family, source: ev.source, channel, eventId, path: ev.path, ...extra };
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}

/** Config events (docker:container) and carved config records (carve:* with attrs.event). */
function configSightings(ev: TimelineEvent, id: string, prefix: string): Sighting[] {
  // A carved copy of a config was written by the same dockerd: same family (never corroborates the live config),
  // its own channel (an older state's StartedAt is another start).
  const family = FAMILY.config;
  const a = ev.attrs ?? {};
  const event = a.event;
  const s: Sighting = { id, name: ev.container_name || undefined, obs: [] };
  if (typeof a.image === 'string' && a.image !== '') s.image = a.image;
  if (event !== 'created' && event !== 'started' && event !== 'finished') return [s];
  const eventId = computeEventId(ev);
  const channel = `${prefix}:${String(a.field ?? event)}`;
  if (event === 'created') s.obs.push(ob(ev, eventId, 'created', family, channel));
  else if (event === 'started') s.obs.push(ob(ev, eventId, 'started', family, channel));
  else {
    const exit = num(a.exit_code);
    s.obs.push(ob(ev, eventId, 'died', family, channel, exit !== undefined ? { exitCode: exit } : {}));
    if (a.oom_killed === true) s.obs.push(ob(ev, eventId, 'oom', family, `${channel}:oom`));
  }
  return [s];
}

/** dockerd / containerd messages (docker.log, syslog, journald copies annotated by the lifecycle reader). */
function daemonSightings(ev: TimelineEvent): Sighting[] {
  const a = ev.attrs ?? {};
  const id = ev.container_id;
  if (!id || !HEX_ID.test(id)) return [];
  const kind = a.event_kind;
  const topic = typeof a.topic === 'string' ? a.topic : undefined;
  let t: TransitionKind | undefined;
  let channel = '';
  const extra: Partial<Observation> = {};
  if (topic !== undefined) {
    channel = `daemon:topic:${topic}`;
    if (topic === '/tasks/start' || topic === '/tasks/create') t = 'started';
    else if (topic === '/tasks/exit' || topic === '/tasks/delete') t = 'died';
    else if (topic === '/tasks/oom') t = 'oom';
    else if (topic === '/tasks/paused') t = 'paused';
    else if (topic === '/tasks/resumed') t = 'unpaused';
    else if (topic === '/tasks/exec-added' || topic === '/tasks/exec-started') t = 'exec';
  } else if (kind === 'shim-start') {
    t = 'started';
    channel = 'daemon:shim-start';
  } else if (kind === 'shim-disconnected' || kind === 'shim-reaped') {
    t = 'died';
    channel = 'daemon:shim-exit';
  } else if (kind === 'task-exit') {
    t = 'died';
    channel = 'daemon:task-exit';
  } else if (kind === 'task-start') {
    t = 'started';
    channel = 'daemon:cri-start';
  } else if (kind === 'task-create') {
    t = 'created';
    channel = 'daemon:cri-create';
  } else if (kind === 'task-stop') {
    t = 'stopped';
    channel = 'daemon:cri-stop';
  } else if (kind === 'task-delete') {
    t = 'removed';
    channel = 'daemon:cri-remove';
  } else if (kind === 'oom') {
    t = 'oom';
    channel = 'daemon:oom';
  } else if (kind === 'kill-forced') {
    t = 'stopped';
    channel = 'daemon:kill-forced';
    if (a.signal !== undefined) extra.signal = String(a.signal);
    extra.detail = 'failed to exit in time; killed';
  }
  const exit = num(a.exit_status);
  if (exit !== undefined && t === 'died') extra.exitCode = exit;
  const s: Sighting = { id, obs: [] };
  if (a.namespace !== undefined && a.namespace !== 'moby' && a.namespace !== 'plugins.moby') s.foreign = true;
  if (t) s.obs.push(ob(ev, computeEventId(ev), t, FAMILY.daemon, channel, extra));
  return [s];
}

function historySightings(ev: TimelineEvent): Sighting[] {
  const a = ev.attrs ?? {};
  if (a.docker_command !== true || a.time_is_upper_bound === true) return [];
  const out: Sighting[] = [];
  const eventId = computeEventId(ev);
  let n = 0;
  for (const act of historyActions(ev.message)) {
    for (const target of act.targets) {
      const s: Sighting = HEX_ID.test(target) ? { id: target, obs: [] } : { name: target.replace(/^\//, ''), obs: [] };
      if (act.image !== undefined) s.image = act.image;
      for (const [kind, extra] of historyKinds(act)) {
        s.obs.push(ob(ev, eventId, kind, FAMILY.history, `history:${n}:${kind}`, { request: true, detail: `docker ${act.action}`, ...extra }));
      }
      out.push(s);
    }
    n++;
  }
  return out;
}

function historyKinds(act: HistoryAction): Array<[TransitionKind, Partial<Observation>]> {
  switch (act.action) {
    case 'run':
      return [['created', {}], ['started', {}]];
    case 'create':
      return [['created', {}]];
    case 'start':
      return [['started', {}]];
    case 'restart':
      return [['stopped', {}], ['started', {}]];
    case 'stop':
      return [['stopped', {}]];
    case 'kill':
      return [['stopped', act.signal !== undefined ? { signal: act.signal } : {}]];
    case 'rm':
      return [['removed', act.force ? { detail: 'docker rm -f' } : {}]];
    case 'exec':
      return [['exec', {}]];
    case 'pause':
      return [['paused', {}]];
    case 'unpause':
      return [['unpaused', {}]];
  }
}

function logSighting(ev: TimelineEvent): Sighting[] {
  const a = ev.attrs ?? {};
  const id = ev.container_id;
  const name = ev.container_name;
  if (!id && !name) return [];
  const s: Sighting = { obs: [], presence: { time: ev.time, source: ev.source, eventId: computeEventId(ev), path: ev.path } };
  if (id) s.id = id.toLowerCase();
  if (name) s.name = name.replace(/^\//, '');
  if (typeof a.IMAGE_NAME === 'string') s.image = a.IMAGE_NAME;
  return [s];
}

/** What one evidence event says, container by container (usually zero or one sighting). */
export function sightings(ev: TimelineEvent): Sighting[] {
  const src = ev.source;
  if (src === 'docker:container') return ev.container_id ? configSightings(ev, ev.container_id, 'config') : [];
  if (src.startsWith('carve:')) {
    const event = ev.attrs?.event;
    if (ev.container_id && (event === 'created' || event === 'started' || event === 'finished')) {
      return configSightings(ev, ev.container_id.toLowerCase(), 'carve');
    }
    return logSighting(ev);
  }
  if (src === 'bash_history') return historySightings(ev);
  if (LOG_SOURCES.has(src)) return logSighting(ev);
  if (ev.attrs?.event_kind !== undefined && ev.container_id) return daemonSightings(ev);
  return [];
}
