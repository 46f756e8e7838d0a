// dockerd and containerd messages -> structured container events (the bridge to lifecycles). Works on one
// message text, wherever it came from: a docker.log line, the message part of a syslog line, or a journald
// entry's MESSAGE (with _SYSTEMD_UNIT=docker.service / containerd.service): `daemonEventFromMessage`.
//
// The patterns (the daemons' own format strings, with the sources they are quoted from) are in daemon-patterns.ts;
// the `time=` parser in rfc3339-nano.ts.
import { type LogfmtPairs, parseLogfmtPairs } from './logfmt.js';
import { type Lifecycle, PATTERNS_ANY, PATTERNS_BY_FIRST, TOPIC_KINDS, TOPIC_MAP } from './daemon-patterns.js';
import { rfc3339Nano } from './rfc3339-nano.js';

export { rfc3339Nano } from './rfc3339-nano.js';

export const DOCKER_DAEMON_SOURCE = 'docker:daemon';
export const CONTAINERD_DAEMON_SOURCE = 'containerd:daemon';

export type DaemonName = 'docker' | 'containerd';

export interface DaemonEvent {
  source: typeof DOCKER_DAEMON_SOURCE | typeof CONTAINERD_DAEMON_SOURCE;
  /** UTC ns of the logfmt `time=` field (nanoseconds kept), when present and valid. */
  time?: bigint;
  /** The `time=` text exactly. */
  rawTime?: string;
  container_id?: string;
  /** level, msg, event_kind, lifecycle, exit_status, pid, signal, ... and the other logfmt fields. */
  attrs: Record<string, unknown>;
}

/** attrs names we set ourselves; a logfmt field of the same name is kept as `field_<name>`. */
const RESERVED = new Set(['msg', 'level', 'event_kind', 'lifecycle', 'task_event', 'logged_by', 'time_unparsed', 'exec_id', 'exited_at']);

const ID64 = /\b([0-9a-f]{64})\b/;

const ID64_ONLY = /^[0-9a-f]{64}$/;

/** The first of a, b, c that is a 64-hex id. */
function firstId64(a: string | undefined, b: string | undefined, c: string | undefined): string | undefined {
  if (a !== undefined && ID64_ONLY.test(a)) return a;
  if (b !== undefined && ID64_ONLY.test(b)) return b;
  if (c !== undefined && ID64_ONLY.test(c)) return c;
  return undefined;
}

const num = (s: string | undefined): number | undefined => (s !== undefined && /^-?\d+$/.test(s) ? Number(s) : undefined);

/**
 * parseLogfmt's fields as arrays in its object's key order: first appearance, except that array-index keys
 * (`0`, `17`) of a dictionary object enumerate first in numeric order, so a line with a key starting with a
 * digit takes its order from a real parseLogfmt object.
 */
function logfmtFields(message: string): LogfmtPairs | undefined {
  const p = parseLogfmtPairs(message);
  if (!p) return undefined;
  for (const k of p.keys) {
    const c = k.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39) {
      const obj: Record<string, string> = Object.create(null);
      for (let i = 0; i < p.keys.length; i++) obj[p.keys[i]] = p.values[i];
      const keys = Object.keys(obj);
      return { keys, values: keys.map((key) => obj[key]) };
    }
  }
  return p;
}

/** daemonOfUnit results of the unit names met so far (a handful per host). */
const UNIT_CACHE = new Map<string, DaemonName | undefined>();
const UNIT_CACHE_MAX = 1024;

function daemonOfUnit(unit: string | undefined): DaemonName | undefined {
  if (!unit) return undefined;
  if (UNIT_CACHE.has(unit)) return UNIT_CACHE.get(unit);
  const d = daemonOfUnitUncached(unit);
  if (UNIT_CACHE.size >= UNIT_CACHE_MAX) UNIT_CACHE.clear();
  UNIT_CACHE.set(unit, d);
  return d;
}

function daemonOfUnitUncached(unit: string): DaemonName | undefined {
  const u = unit.replace(/\.service$/, '').replace(/\[\d+\]$/, '');
  if (u === 'docker' || u === 'dockerd' || u === 'snap.docker.dockerd') return 'docker';
  if (u === 'containerd' || u.startsWith('containerd-shim')) return 'containerd';
  return undefined;
}

/** True when a syslog program / systemd unit name is dockerd's or containerd's. */
export function isDaemonUnit(unit: string | undefined): boolean {
  return daemonOfUnit(unit) !== undefined;
}

/**
 * One dockerd/containerd message -> a structured daemon event; undefined when the message is neither logfmt
 * with `msg=` nor from a docker/containerd unit. `unit` is the systemd unit (`docker.service`) or syslog program
 * (`dockerd`); without it, only logfmt messages with `time=` and `msg=` are taken.
 */
export function daemonEventFromMessage(message: string, unit?: string): DaemonEvent | undefined {
  const fromUnit = daemonOfUnit(unit);
  const fields = message.startsWith('time=') || message.startsWith('level=') || message.startsWith('msg=')
    ? logfmtFields(message)
    : undefined;
  // the fields read by name (fields.x of the parseLogfmt object)
  let fMsg: string | undefined;
  let fTime: string | undefined;
  let fLevel: string | undefined;
  let fTopic: string | undefined;
  let fPath: string | undefined;
  let fContainer: string | undefined;
  let fContainerId: string | undefined;
  let fId: string | undefined;
  let fPid: string | undefined;
  let fExit: string | undefined;
  let fRuntime: string | undefined;
  let fType: string | undefined;
  if (fields) {
    const { keys, values } = fields;
    for (let i = 0; i < keys.length; i++) {
      const v = values[i];
      switch (keys[i]) {
        case 'msg': fMsg = v; break;
        case 'time': fTime = v; break;
        case 'level': fLevel = v; break;
        case 'topic': fTopic = v; break;
        case 'path': fPath = v; break;
        case 'container': fContainer = v; break;
        case 'container_id': fContainerId = v; break;
        case 'id': fId = v; break;
        case 'pid': fPid = v; break;
        case 'exit_status': fExit = v; break;
        case 'runtime': fRuntime = v; break;
        case 'type': fType = v; break;
      }
    }
  }
  let msg: string;
  const attrs: Record<string, unknown> = {};
  let rawTime: string | undefined;
  if (fields && fMsg !== undefined) {
    msg = fMsg;
    rawTime = fTime;
    if (fLevel !== undefined) attrs.level = fLevel;
    attrs.msg = msg;
    const { keys, values } = fields;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (k === 'time' || k === 'level' || k === 'msg') continue;
      attrs[RESERVED.has(k) ? `field_${k}` : k] = values[i];
    }
  } else if (fromUnit) {
    msg = message;
    attrs.msg = msg;
  } else {
    return undefined;
  }
  let origin: DaemonName | undefined;
  let containerId: string | undefined;
  let kind: string | undefined;
  let lifecycle: Lifecycle | undefined;
  for (const p of PATTERNS_BY_FIRST.get(msg.charAt(0)) ?? PATTERNS_ANY) {
    const m = p.re.exec(msg);
    if (!m) continue;
    kind = p.kind;
    origin = p.origin;
    lifecycle = p.lifecycle;
    containerId = p.extract?.(m, attrs) ?? undefined;
    break;
  }
  if (fields) {
    const topic = fTopic;
    if (topic !== undefined) {
      attrs.topic = topic;
      const tk = TOPIC_MAP.get(topic) ?? TOPIC_KINDS[topic];
      if (tk) {
        attrs.task_event = tk[0];
        lifecycle ??= tk[1];
      }
    }
    const pathId = fPath ? /\/([0-9a-f]{64})\/?$/.exec(fPath) : null;
    containerId ??= firstId64(fContainer, fContainerId, fId) ?? pathId?.[1];
    if (fPid !== undefined) attrs.pid = num(fPid) ?? fPid;
    if (fExit !== undefined) attrs.exit_status = num(fExit) ?? fExit;
    if (!origin && (fRuntime?.startsWith('io.containerd') || fType?.startsWith('io.containerd'))) origin = 'containerd';
  }
  if (!containerId && kind === undefined) {
    // e.g. "<id> cleanup: failed to unmount IPC: ..." (moby daemon/container_operations_unix.go)
    const m = ID64.exec(msg);
    if (m && msg.startsWith(m[1])) containerId = m[1];
  }
  // The message's own origin wins: dockerd starts its own containerd on many hosts, whose lines then arrive
  // through dockerd's output (docker.log, the dockerd syslog tag or docker.service).
  const daemon: DaemonName = origin ?? fromUnit ?? 'docker';
  attrs.event_kind = kind ?? 'log';
  if (lifecycle) attrs.lifecycle = lifecycle;
  if (fromUnit && daemon !== fromUnit) attrs.logged_by = fromUnit;
  const out: DaemonEvent = {
    source: daemon === 'containerd' ? CONTAINERD_DAEMON_SOURCE : DOCKER_DAEMON_SOURCE,
    attrs,
  };
  if (containerId) out.container_id = containerId;
  if (rawTime !== undefined) {
    out.rawTime = rawTime;
    const t = rfc3339Nano(rawTime);
    if (t !== undefined) out.time = t;
    else attrs.time_unparsed = rawTime;
  }
  return out;
}
