// Which event a daemon message is: the table of dockerd/containerd message patterns and containerd event topics,
// indexed by first character. Apart from daemon-events.ts (which reads the message and builds the event) because
// this table is what grows with every daemon version, and each entry cites the format string it matches.
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
import type { DaemonName } from './daemon-events.js';

export type Lifecycle = 'create' | 'start' | 'exit' | 'delete' | 'kill' | 'oom' | 'health' | 'daemon-start' | 'daemon-stop';

export interface Pattern {
  re: RegExp;
  kind: string;
  origin?: DaemonName;
  lifecycle?: Lifecycle;
  /** Extra attrs from the match. */
  extract?: (m: RegExpExecArray, attrs: Record<string, unknown>) => string | undefined;
}

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

export const PATTERNS: Pattern[] = [
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
export const TOPIC_KINDS: Record<string, [string, Lifecycle]> = {
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
export const PATTERNS_BY_FIRST = new Map<string, Pattern[]>();
export const PATTERNS_ANY: Pattern[] = [];
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

/** TOPIC_KINDS as a Map (the object lookup with a fresh string key is slow); unknown topics still ask the object. */
export const TOPIC_MAP = new Map(Object.entries(TOPIC_KINDS));
