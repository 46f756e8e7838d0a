// dockerd and containerd messages -> structured container events (the bridge to lifecycles). Works on one
// message text, wherever it came from: a docker.log line, the message part of a syslog line, or a journald
// entry's MESSAGE (with _SYSTEMD_UNIT=docker.service / containerd.service): `daemonEventFromMessage`.
//
// The patterns are the daemons' own format strings, matched as the real logs print them; the fixtures are
// the docker.log captured while the sample host was built (sample-images/sample-host/var/log/docker.log) plus
// lines quoted from the daemons' sources:
//   moby/moby cmd/dockerd/daemon.go ("Starting up", "Daemon has completed initialization", "API listen on %s",
//     "Daemon shutdown complete", "Docker daemon" commit= graphdriver= version=), cmd/dockerd/trap
//     ("Processing signal '%v'"), daemon/daemon.go ("Loading containers: start." / "done."),
//     daemon/stop.go ("Container %s failed to exit within %d seconds of signal %d - using the force"; since
//     moby 23 "Container failed to exit within %s of signal %d - using the force" with container=<id>),
//     daemon/health.go ("Health check for container %s error: %v"), libcontainerd/remote/client.go
//     ("ignoring event" module=libcontainerd namespace= topic= type=), daemon/images ("Layer %s cleaned up");
//   containerd/containerd runtime/v2/shim.go ("shim disconnected" id=, "cleaning up after shim disconnected",
//     "cleaning up dead shim"), runtime/v2/runc shim ("starting signal loop" namespace= path= pid=),
//     cmd/containerd ("starting containerd" revision= version=, "containerd successfully booted in %fs"),
//     pkg/cri/server events.go ("TaskExit event %+v", "TaskOOM event %+v"), image_pull.go
//     ("PullImage %q", "PullImage %q returns image reference %q"), container_start.go
//     ("StartContainer for %q returns successfully"), container_create.go, container_stop.go,
//     container_remove.go.
import { NS_PER_SECOND, daysFromCivil, parseRfc3339Nano } from '../../events/time.js';
import { type LogfmtPairs, parseLogfmtPairs } from './logfmt.js';

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

type Lifecycle = 'create' | 'start' | 'exit' | 'delete' | 'kill' | 'oom' | 'health' | 'daemon-start' | 'daemon-stop';

interface Pattern {
  re: RegExp;
  kind: string;
  origin?: DaemonName;
  lifecycle?: Lifecycle;
  /** Extra attrs from the match. */
  extract?: (m: RegExpExecArray, attrs: Record<string, unknown>) => string | undefined;
}


const ID64_ONLY = /^[0-9a-f]{64}$/;

/** The first of a, b, c that is a 64-hex id. */
function firstId64(a: string | undefined, b: string | undefined, c: string | undefined): string | undefined {
  if (a !== undefined && ID64_ONLY.test(a)) return a;
  if (b !== undefined && ID64_ONLY.test(b)) return b;
  if (c !== undefined && ID64_ONLY.test(c)) return c;
  return undefined;
}

const num = (s: string | undefined): number | undefined => (s !== undefined && /^-?\d+$/.test(s) ? Number(s) : undefined);

/** Pulls `Key:value` / `key:value` pairs out of a containerd event dump (Go %+v or protobuf text). */
function eventDump(text: string, attrs: Record<string, unknown>): string | undefined {
  const cid = /(?:ContainerID:|container_id:)"?([0-9a-f]{64})/.exec(text);
  const exit = /(?:ExitStatus:|exit_status:)(\d+)/.exec(text);
  const pid = /(?:\bPid:|\bpid:)(\d+)/.exec(text);
  const id = /(?:[,{ ]ID:|(?:^|[ {])id:)"?([0-9a-f]{64})/.exec(text);
  const at = /(?:ExitedAt:)(\S+?)[,}]/.exec(text);
  if (exit) attrs.exit_status = Number(exit[1]);
  if (pid) attrs.pid = Number(pid[1]);
  if (id) attrs.exec_id = id[1];
  if (at) attrs.exited_at = at[1];
  return cid?.[1];
}

const PATTERNS: Pattern[] = [
  { re: /^Starting up$/, kind: 'daemon-start', origin: 'docker', lifecycle: 'daemon-start' },
  { re: /^libcontainerd: started new containerd process$/, kind: 'containerd-spawned', origin: 'docker' },
  { re: /^Loading containers: start\.$/, kind: 'loading-containers-start', origin: 'docker' },
  { re: /^Loading containers: done\.$/, kind: 'loading-containers-done', origin: 'docker' },
  { re: /^Docker daemon$/, kind: 'daemon-version', origin: 'docker' },
  { re: /^Daemon has completed initialization$/, kind: 'daemon-ready', origin: 'docker' },
  { re: /^API listen on (.+)$/, kind: 'api-listen', origin: 'docker', extract: (m, a) => void (a.address = m[1]) },
  {
    re: /^Processing signal '([^']+)'$/,
    kind: 'daemon-signal',
    origin: 'docker',
    extract: (m, a) => void (a.signal = m[1]),
  },
  { re: /^stopping event stream following graceful shutdown$/, kind: 'daemon-stopping', origin: 'docker' },
  { re: /^Daemon shutdown complete$/, kind: 'daemon-stop', origin: 'docker', lifecycle: 'daemon-stop' },
  {
    re: /^Container ([0-9a-f]{64}) failed to exit within (\d+) seconds of signal (\d+) - using the force$/,
    kind: 'kill-forced',
    origin: 'docker',
    lifecycle: 'kill',
    extract: (m, a) => {
      a.timeout_seconds = Number(m[2]);
      a.signal = Number(m[3]);
      return m[1];
    },
  },
  {
    re: /^Container failed to exit within (\S+) of signal (\d+) - using the force$/,
    kind: 'kill-forced',
    origin: 'docker',
    lifecycle: 'kill',
    extract: (m, a) => {
      a.timeout = m[1];
      a.signal = Number(m[2]);
      return undefined;
    },
  },
  {
    re: /^Health check for container ([0-9a-f]{64}) error: (.*)$/s,
    kind: 'health-check-error',
    origin: 'docker',
    lifecycle: 'health',
    extract: (m, a) => {
      a.error = m[2];
      return m[1];
    },
  },
  {
    re: /^Layer (sha256:[0-9a-f]{64}) cleaned up$/,
    kind: 'layer-cleanup',
    origin: 'docker',
    extract: (m, a) => void (a.layer = m[1]),
  },
  { re: /^ignoring event$/, kind: 'ignoring-event', origin: 'docker' },
  // containerd and its shims
  { re: /^starting containerd$/, kind: 'containerd-start', origin: 'containerd', lifecycle: 'daemon-start' },
  {
    re: /^containerd successfully booted in ([\d.]+)s$/,
    kind: 'containerd-ready',
    origin: 'containerd',
    extract: (m, a) => void (a.boot_seconds = Number(m[1])),
  },
  { re: /^starting signal loop$/, kind: 'shim-start', origin: 'containerd', lifecycle: 'create' },
  { re: /^shim (?:docker-)?containerd-shim started$/, kind: 'shim-start', origin: 'containerd', lifecycle: 'create' },
  { re: /^shim disconnected$/, kind: 'shim-disconnected', origin: 'containerd', lifecycle: 'exit' },
  { re: /^cleaning up after shim disconnected$/, kind: 'shim-cleanup', origin: 'containerd' },
  { re: /^cleanup warnings /, kind: 'shim-cleanup-warnings', origin: 'containerd' },
  { re: /^cleaning up dead shim$/, kind: 'shim-cleanup-dead', origin: 'containerd' },
  { re: /^shim reaped$/, kind: 'shim-reaped', origin: 'containerd', lifecycle: 'exit' },
  { re: /^TaskExit event (.*)$/s, kind: 'task-exit', origin: 'containerd', lifecycle: 'exit', extract: (m, a) => eventDump(m[1], a) },
  { re: /^TaskOOM event (.*)$/s, kind: 'oom', origin: 'containerd', lifecycle: 'oom', extract: (m, a) => eventDump(m[1], a) },
  {
    re: /^PullImage "([^"]*)"(?: returns image reference "([^"]*)")?/,
    kind: 'image-pull',
    origin: 'containerd',
    extract: (m, a) => {
      a.image = m[1];
      if (m[2] !== undefined) {
        a.image_ref = m[2];
        a.pull_done = true;
      }
      return undefined;
    },
  },
  {
    re: /^ImageCreate event (.*)$/s,
    kind: 'image-create',
    origin: 'containerd',
    extract: (m, a) => {
      const name = /(?:Name:|name:)"?([^,"}\s]+)/.exec(m[1]);
      if (name) a.image = name[1];
      return undefined;
    },
  },
  {
    re: /^CreateContainer within sandbox "([0-9a-f]{64})" for .* returns container id "([0-9a-f]{64})"$/s,
    kind: 'task-create',
    origin: 'containerd',
    lifecycle: 'create',
    extract: (m, a) => {
      a.sandbox_id = m[1];
      return m[2];
    },
  },
  {
    re: /^StartContainer for "([0-9a-f]{64})" returns successfully$/,
    kind: 'task-start',
    origin: 'containerd',
    lifecycle: 'start',
    extract: (m) => m[1],
  },
  {
    re: /^StopContainer for "([0-9a-f]{64})" with timeout (\d+) \(s\)$/,
    kind: 'task-stop',
    origin: 'containerd',
    lifecycle: 'kill',
    extract: (m, a) => {
      a.timeout_seconds = Number(m[2]);
      return m[1];
    },
  },
  {
    re: /^RemoveContainer for "([0-9a-f]{64})" returns successfully$/,
    kind: 'task-delete',
    origin: 'containerd',
    lifecycle: 'delete',
    extract: (m) => m[1],
  },
  { re: /^loading plugin "([^"]+)"\.\.\.$/, kind: 'plugin-load', origin: 'containerd', extract: (m, a) => void (a.plugin = m[1]) },
  { re: /^skip loading plugin "([^"]+)"\.\.\.$/, kind: 'plugin-skip', origin: 'containerd', extract: (m, a) => void (a.plugin = m[1]) },
];

/** containerd event topics (`/tasks/exit`) -> event kinds (containerd runtime/events.go). */
const TOPIC_KINDS: Record<string, [string, Lifecycle]> = {
  '/tasks/create': ['task-create', 'create'],
  '/tasks/start': ['task-start', 'start'],
  '/tasks/exit': ['task-exit', 'exit'],
  '/tasks/delete': ['task-delete', 'delete'],
  '/tasks/oom': ['oom', 'oom'],
  '/tasks/exec-added': ['exec-added', 'start'],
  '/tasks/exec-started': ['exec-started', 'start'],
  '/tasks/paused': ['task-paused', 'kill'],
};

/**
 * PATTERNS grouped by the literal first character of their regex (every one is `^<letter>...`), in order, so a
 * message is tried only against the patterns that can match it. Patterns without such a start go in every list.
 */
const PATTERNS_BY_FIRST = new Map<string, Pattern[]>();
const PATTERNS_ANY: Pattern[] = [];
for (const p of PATTERNS) {
  const src = p.re.source;
  const literal = !p.re.ignoreCase && /^\^[A-Za-z]/.test(src) && !/^[?*+{]/.test(src.slice(2, 3));
  if (!literal) {
    PATTERNS_ANY.push(p);
    for (const list of PATTERNS_BY_FIRST.values()) list.push(p);
    continue;
  }
  let list = PATTERNS_BY_FIRST.get(src[1]);
  if (!list) PATTERNS_BY_FIRST.set(src[1], (list = [...PATTERNS_ANY]));
  list.push(p);
}

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

let lastSecs = Number.NaN;
let lastSecsNs = 0n;

/**
 * parseRfc3339Nano for the usual `YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)` by character positions (no regex, one
 * BigInt per new second); anything else goes to parseRfc3339Nano itself.
 */
export function rfc3339Nano(text: string): bigint | undefined {
  const n = text.length;
  const dig = (i: number): number => {
    const c = text.charCodeAt(i) - 0x30;
    return c >= 0 && c <= 9 ? c : -1e6; // any sum of place values with one of these is negative
  };
  if (n < 20) return parseRfc3339Nano(text);
  const sep = text.charCodeAt(10);
  const year = dig(0) * 1000 + dig(1) * 100 + dig(2) * 10 + dig(3);
  const month = dig(5) * 10 + dig(6);
  const day = dig(8) * 10 + dig(9);
  const hour = dig(11) * 10 + dig(12);
  const minute = dig(14) * 10 + dig(15);
  const second = dig(17) * 10 + dig(18);
  if (
    year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || text.charCodeAt(4) !== 0x2d ||
    text.charCodeAt(7) !== 0x2d || (sep !== 0x54 && sep !== 0x74 && sep !== 0x20) || text.charCodeAt(13) !== 0x3a ||
    text.charCodeAt(16) !== 0x3a
  ) {
    return parseRfc3339Nano(text);
  }
  let p = 19;
  let frac = 0;
  if (text.charCodeAt(p) === 0x2e) {
    let scale = 100_000_000;
    const start = p + 1;
    p = start;
    while (p < n && dig(p) >= 0) {
      if (p - start < 9) frac += dig(p) * scale;
      scale /= 10;
      p++;
    }
    if (p === start) return parseRfc3339Nano(text);
  }
  let offsetSeconds = 0;
  const z = text.charCodeAt(p);
  if (z === 0x5a || z === 0x7a) {
    if (p + 1 !== n) return parseRfc3339Nano(text);
  } else if (z === 0x2b || z === 0x2d) {
    const oh = dig(p + 1) * 10 + dig(p + 2);
    const q = text.charCodeAt(p + 3) === 0x3a ? p + 4 : p + 3;
    const om = dig(q) * 10 + dig(q + 1);
    if (oh < 0 || om < 0 || q + 2 !== n) return parseRfc3339Nano(text);
    offsetSeconds = (z === 0x2d ? -1 : 1) * (oh * 60 + om) * 60;
  } else {
    return parseRfc3339Nano(text);
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const secs = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds;
  if (secs !== lastSecs) {
    lastSecs = secs;
    lastSecsNs = BigInt(secs) * NS_PER_SECOND;
  }
  return frac === 0 ? lastSecsNs : lastSecsNs + BigInt(frac);
}

/** daemonOfUnit results of the unit names met so far (a handful per host). */
const UNIT_CACHE = new Map<string, DaemonName | undefined>();
const UNIT_CACHE_MAX = 1024;

/** TOPIC_KINDS as a Map (the object lookup with a fresh string key is slow); unknown topics still ask the object. */
const TOPIC_MAP = new Map(Object.entries(TOPIC_KINDS));

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
