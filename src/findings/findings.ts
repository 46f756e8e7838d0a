// Findings: what a responder looks at first on a container host, derived from what the collectors read.
// Every finding names its rule, a severity, the container, and the evidence (file + field) that proves it.
// Rules are a static table (RULES) so docs/formats/findings.md and the tests can list them.
//
// References: moby/moby `api/types/container/hostconfig.go` (Privileged, CapAdd, PidMode, IpcMode, NetworkMode,
// PortBindings, LogConfig), `oci/caps/` (capability names, "ALL"), daemon/config (daemon.json log-driver/log-opts);
// systemd `journald.conf(5)` (Storage= volatile|persistent|auto|none; auto = persistent only if /var/log/journal
// exists); CIS Docker Benchmark sections 5.x (privileged, host namespaces, sensitive mounts, docker.sock, capabilities).
import { TimeDesc, type TimelineEvent } from '../events/event.js';
import { formatIsoNano } from '../events/time.js';
import { exists, isDir, joinPath, readTextLimited, type Vfs, type VfsStat } from '../fs/vfs.js';
import type { ContainerRecord } from '../collectors/docker/containers.js';
import type { ContainerDiff, FsChange } from '../collectors/docker/overlay-diff.js';
import type { CollectorContext } from '../collectors/types.js';
import { getObj, readJsonObject } from '../collectors/docker/json-guard.js';

export const FINDING_SOURCE = 'finding';
const COMPONENT = 'findings';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

export interface Finding {
  rule: string;
  severity: Severity;
  host: string;
  container_id: string;
  container_name: string;
  /** Evidence file (path inside the evidence). */
  evidence_path: string;
  /** The field or entry in that file (`HostConfig.Privileged`, `A /tmp/evil.sh`, ...). */
  evidence_field: string;
  message: string;
  /** When the fact became true as far as the evidence says (ns); the timeline event's time. */
  time?: bigint;
  time_desc?: string;
  raw_time?: string;
}

/** Rule id -> severity and what it means (docs/formats/findings.md lists the same table). */
export const RULES: Readonly<Record<string, { severity: Severity; title: string }>> = {
  'privileged-container': { severity: 'critical', title: 'container runs --privileged' },
  'runtime-socket-mount': { severity: 'critical', title: 'Docker/containerd socket bind-mounted into a container' },
  'host-root-mount': { severity: 'critical', title: 'the host root / bind-mounted into a container' },
  'sensitive-host-mount': { severity: 'high', title: 'a sensitive host path (/etc, /root, /proc, /var/lib/docker ...) bind-mounted' },
  'host-pid-namespace': { severity: 'high', title: 'container shares the host PID namespace (--pid=host)' },
  'host-network-namespace': { severity: 'medium', title: 'container shares the host network namespace (--network=host)' },
  'host-ipc-namespace': { severity: 'medium', title: 'container shares the host IPC namespace (--ipc=host)' },
  'dangerous-capability': { severity: 'high', title: 'a dangerous capability added (--cap-add)' },
  'port-all-interfaces': { severity: 'medium', title: 'a port published on all host interfaces' },
  'runs-as-root': { severity: 'low', title: 'container process runs as root (Config.User empty, 0 or root)' },
  'added-file-in-tmp': { severity: 'medium', title: 'file added in the writable layer under /tmp, /var/tmp or /dev/shm' },
  'executable-in-writable-layer': { severity: 'high', title: 'executable file added or changed in the writable layer' },
  'json-file-no-size-limit': { severity: 'medium', title: 'readiness: json-file log without max-size (container and daemon.json)' },
  'no-persistent-journal': { severity: 'medium', title: 'readiness: journald keeps no persistent journal' },
  'log-file-missing': { severity: 'medium', title: 'readiness: a started container has no log file in the evidence' },
  'log-driver-none': { severity: 'high', title: 'readiness: container logs discarded (--log-driver none)' },
  'log-time-steps-back': { severity: 'medium', title: 'a log\'s times go back by a second or more: the host clock was set back, or the file edited' },
};

const SOCKETS = new Set([
  '/var/run/docker.sock',
  '/run/docker.sock',
  '/var/run/containerd/containerd.sock',
  '/run/containerd/containerd.sock',
  '/var/run/crio/crio.sock',
  '/run/podman/podman.sock',
]);
/** Sensitive host directories (exact bind sources). */
const SENSITIVE_EXACT = new Set([
  '/etc', '/root', '/home', '/boot', '/proc', '/sys', '/dev', '/var', '/var/run', '/run', '/usr', '/lib', '/bin',
  '/sbin', '/var/log', '/var/lib', '/var/lib/docker', '/var/lib/containerd', '/var/lib/kubelet', '/etc/kubernetes',
]);
/** Sensitive host paths whose sub-paths are sensitive too. */
const SENSITIVE_PREFIX = ['/root/', '/etc/ssh', '/etc/shadow', '/etc/sudoers', '/etc/passwd', '/etc/cron', '/etc/systemd', '/var/lib/docker/', '/var/lib/containerd/', '/proc/', '/sys/', '/boot/', '/etc/kubernetes/'];
/** Capabilities that break container isolation or give host-level power. */
export const DANGEROUS_CAPS = new Set([
  'ALL', 'SYS_ADMIN', 'SYS_PTRACE', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_BOOT', 'SYS_TIME', 'NET_ADMIN', 'NET_RAW',
  'DAC_READ_SEARCH', 'DAC_OVERRIDE', 'BPF', 'PERFMON', 'MAC_ADMIN', 'MAC_OVERRIDE', 'SYSLOG', 'SETFCAP', 'LINUX_IMMUTABLE',
]);
const TMP_DIRS = ['/tmp/', '/var/tmp/', '/dev/shm/'];
const ALL_INTERFACES = new Set(['', '0.0.0.0', '::', '[::]']);

function short(c: ContainerRecord): string {
  return `${c.name || '?'} (${c.id.slice(0, 12)})`;
}

function normCap(cap: string): string {
  const u = cap.trim().toUpperCase();
  return u.startsWith('CAP_') ? u.slice(4) : u;
}

interface Host {
  daemonJsonPath?: string;
  daemonLogOpts?: Record<string, unknown>;
  daemonLogDriver?: string;
}

function tryLstat(vfs: Vfs, p: string): VfsStat | undefined {
  try {
    return vfs.lstat(p);
  } catch {
    return undefined;
  }
}

function readDaemonJson(ctx: CollectorContext): Host {
  for (const p of ['/etc/docker/daemon.json', '/var/snap/docker/current/config/daemon.json']) {
    if (!exists(ctx.vfs, p)) continue;
    const obj = readJsonObject(ctx.vfs, ctx.problems, COMPONENT, p, 1024 * 1024, ctx.host);
    if (!obj) return { daemonJsonPath: p };
    const warn = (): void => {};
    const opts = getObj(obj, 'log-opts', warn);
    const drv = typeof obj['log-driver'] === 'string' ? (obj['log-driver'] as string) : undefined;
    return { daemonJsonPath: p, daemonLogOpts: opts, daemonLogDriver: drv };
  }
  return {};
}

/** journald's Storage= from journald.conf and its drop-ins (last assignment wins), or undefined (default auto). */
export function journaldStorage(vfs: Vfs): { value?: string; path?: string } {
  const files = ['/etc/systemd/journald.conf'];
  for (const d of ['/usr/lib/systemd/journald.conf.d', '/etc/systemd/journald.conf.d', '/run/systemd/journald.conf.d']) {
    try {
      for (const e of vfs.readdir(d).map((x) => x.name).filter((n) => n.endsWith('.conf')).sort()) files.push(joinPath(d, e));
    } catch {
      // absent
    }
  }
  let value: string | undefined;
  let path: string | undefined;
  for (const f of files) {
    let text: string;
    try {
      text = readTextLimited(vfs, f, 1024 * 1024);
    } catch {
      continue;
    }
    let inJournal = false;
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line.startsWith('[')) inJournal = line === '[Journal]';
      else if (inJournal) {
        const m = /^Storage\s*=\s*(\S*)/.exec(line);
        if (m) {
          value = m[1].toLowerCase();
          path = f;
        }
      }
    }
  }
  return { value, path };
}

export interface FindingsInput {
  containers: ContainerRecord[];
  diffs: Map<string, ContainerDiff>;
  /** The evidence is a Linux root (host-level readiness rules apply). */
  isLinuxRoot: boolean;
}

/** Every finding of one host, in a deterministic order. */
export function computeFindings(ctx: CollectorContext, input: FindingsInput): Finding[] {
  const out: Finding[] = [];
  const host = ctx.host;
  const daemon = input.isLinuxRoot ? readDaemonJson(ctx) : {};
  for (const c of input.containers) {
    const hc = c.hostConfigPath ?? c.configPath;
    const at: { time?: bigint; time_desc: string; raw_time: string } = { time: c.created.ns, time_desc: TimeDesc.creation, raw_time: c.created.raw };
    const add = (rule: string, path: string, field: string, message: string, severity?: Severity, when = at): void => {
      out.push({
        rule,
        severity: severity ?? RULES[rule].severity,
        host,
        container_id: c.id,
        container_name: c.name,
        evidence_path: path,
        evidence_field: field,
        message: `${short(c)}: ${message}`,
        ...when,
      });
    };
    if (c.privileged) add('privileged-container', hc, 'HostConfig.Privileged', 'runs privileged: all capabilities, all devices, no seccomp/AppArmor confinement');
    for (const m of c.mounts) {
      const src = m.source;
      if (m.type !== 'bind' && m.type !== '') continue;
      if (m.type === '' && m.name !== '') continue;
      const field = `MountPoints[${JSON.stringify(m.destination)}].Source`;
      if (SOCKETS.has(src)) {
        add('runtime-socket-mount', c.configPath, field, `container runtime socket ${src} mounted at ${m.destination}${m.rw ? ' (read-write)' : ''}: full control of the host's containers`);
      } else if (src === '/') {
        add('host-root-mount', c.configPath, field, `host root / mounted at ${m.destination}${m.rw ? ' read-write' : ' read-only'}`);
      } else if (SENSITIVE_EXACT.has(src) || SENSITIVE_PREFIX.some((p) => src.startsWith(p))) {
        add('sensitive-host-mount', c.configPath, field, `sensitive host path ${src} mounted at ${m.destination}${m.rw ? ' read-write' : ' read-only'}`, m.rw ? 'high' : 'medium');
      }
    }
    if (c.pidMode === 'host') add('host-pid-namespace', hc, 'HostConfig.PidMode', 'shares the host PID namespace: sees and can signal every host process');
    if (c.networkMode === 'host') add('host-network-namespace', hc, 'HostConfig.NetworkMode', 'shares the host network namespace');
    if (c.ipcMode === 'host') add('host-ipc-namespace', hc, 'HostConfig.IpcMode', 'shares the host IPC namespace');
    const seenCaps = new Set<string>();
    for (const cap of c.capAdd) {
      const n = normCap(cap);
      if (!DANGEROUS_CAPS.has(n) || seenCaps.has(n)) continue;
      seenCaps.add(n);
      add('dangerous-capability', hc, `HostConfig.CapAdd[${JSON.stringify(cap)}]`, `capability ${n} added`, n === 'ALL' || n === 'SYS_ADMIN' || n === 'SYS_MODULE' ? 'critical' : 'high');
    }
    for (const p of c.portBindings) {
      if (!ALL_INTERFACES.has(p.hostIp)) continue;
      add('port-all-interfaces', hc, `HostConfig.PortBindings[${JSON.stringify(p.containerPort)}]`, `port ${p.containerPort} published on all interfaces (${p.hostIp || '0.0.0.0'}:${p.hostPort || 'random'})`);
    }
    const user = c.user.trim();
    if (user === '' || /^(0|root)(:.*)?$/.test(user)) {
      add('runs-as-root', c.configPath, 'Config.User', `runs as root (Config.User ${JSON.stringify(c.user)})`);
    }
    // Writable-layer files.
    const diff = input.diffs.get(c.id);
    // Mount destinations Docker created in the writable layer (an empty 0755 file or a directory) are stubs.
    const mountStubs = new Set(c.mounts.map((m) => m.destination));
    for (const ch of diff?.changes ?? []) if (!mountStubs.has(ch.path)) fileFindings(ch, (rule, msg, severity) => {
      const st = ch.stat;
      add(rule, ch.evidencePath ?? '', `${ch.kind} ${ch.path}`, msg, severity, {
        time: st?.mtime,
        time_desc: TimeDesc.modification,
        raw_time: st?.mtime?.toString() ?? '',
      });
    });
    // Forensic readiness: logs.
    if (c.logDriver === 'none') add('log-driver-none', hc, 'HostConfig.LogConfig.Type', 'logs are discarded (--log-driver none)');
    if (c.logDriver === 'json-file') {
      const daemonMax = daemon.daemonLogOpts?.['max-size'];
      if (!c.logOptions['max-size'] && !(typeof daemonMax === 'string' && daemonMax !== '')) {
        add('json-file-no-size-limit', hc, 'HostConfig.LogConfig.Config["max-size"]', `json-file log has no max-size (none in the container's log options nor in ${daemon.daemonJsonPath ?? 'daemon.json (absent)'}): logs grow unbounded and may fill the disk`);
      }
    }
    const started = !c.started.zero || c.hasBeenStartedBefore === true;
    if (started && c.logDriver === 'json-file' && c.logFiles.length === 0) {
      add('log-file-missing', c.configPath, 'LogPath', `has been started but its json-file log ${c.logPath || '(LogPath empty)'} is not in the evidence`);
    }
    if (started && c.logDriver === 'local' && c.localLogFiles.length === 0) {
      add('log-file-missing', c.configPath, 'local-logs/container.log', 'has been started but its local-driver log is not in the evidence');
    }
  }
  if (input.isLinuxRoot) journalFinding(ctx, out);
  return sortFindings(out);
}

function fileFindings(ch: FsChange, add: (rule: string, msg: string, severity?: Severity) => void): void {
  const st = ch.stat;
  if (!st || ch.kind === 'D') return;
  if (ch.kind === 'A' && st.type !== 'dir' && TMP_DIRS.some((d) => ch.path.startsWith(d))) {
    add('added-file-in-tmp', `file added in the writable layer: ${ch.path} (${st.size} bytes, mode 0${(st.mode & 0o7777).toString(8)})`);
  }
  if (st.type === 'file' && (st.mode & 0o111) !== 0) {
    add('executable-in-writable-layer', `executable ${ch.kind === 'A' ? 'added' : 'changed'} in the writable layer: ${ch.path} (mode 0${(st.mode & 0o7777).toString(8)})${ch.sha256 ? ` sha256 ${ch.sha256}` : ''}`);
  }
}

function journalFinding(ctx: CollectorContext, out: Finding[]): void {
  const { vfs, host } = ctx;
  const hasJournalDir = isDir(vfs, '/var/log/journal');
  const storage = journaldStorage(vfs);
  const value = storage.value ?? 'auto';
  let reason: string | undefined;
  if (value === 'none') reason = 'Storage=none: journald stores nothing';
  else if (value === 'volatile') reason = 'Storage=volatile: the journal lives in /run and is lost at reboot';
  else if (value !== 'persistent' && !hasJournalDir) reason = `Storage=${value} and /var/log/journal does not exist: the journal is kept in /run only and lost at reboot`;
  if (!reason) return;
  const path = storage.path ?? '/etc/systemd/journald.conf';
  const st = tryLstat(vfs, path) ?? tryLstat(vfs, '/var/log');
  out.push({
    rule: 'no-persistent-journal',
    severity: RULES['no-persistent-journal'].severity,
    host,
    container_id: '',
    container_name: '',
    evidence_path: storage.path ?? (exists(vfs, path) ? path : '/var/log/journal'),
    evidence_field: storage.path ? 'Journal.Storage' : '(absent)',
    message: `host: no persistent journald: ${reason}`,
    time: st?.mtime,
    time_desc: TimeDesc.modification,
    raw_time: st?.mtime?.toString() ?? '',
  });
}

export function sortFindings(fs: Finding[]): Finding[] {
  const k = (f: Finding): string[] => [f.host, f.rule, f.container_name, f.container_id, f.evidence_path, f.evidence_field, f.message];
  return fs.sort((a, b) => {
    const r = SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
    if (r !== 0) return r;
    const ka = k(a);
    const kb = k(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
    return 0;
  });
}

/** Findings as flagged timeline events (only those with a time). */
export function findingEvents(findings: Finding[]): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  for (const f of findings) {
    if (f.time === undefined) continue;
    const ev: TimelineEvent = {
      time: f.time,
      timestamp_desc: f.time_desc ?? TimeDesc.recorded,
      source: FINDING_SOURCE,
      host: f.host,
      message: `[${f.severity}] ${f.rule}: ${f.message}`,
      path: f.evidence_path,
      raw_time: f.raw_time ?? f.time.toString(),
      attrs: { severity: f.severity, rule: f.rule, evidence_field: f.evidence_field },
    };
    if (f.container_id) ev.container_id = f.container_id;
    if (f.container_name) ev.container_name = f.container_name;
    out.push(ev);
  }
  return out;
}

/** findings.csv columns, in order. */
export const FINDING_COLUMNS = [
  'severity',
  'rule',
  'host',
  'container_id',
  'container_name',
  'evidence_path',
  'evidence_field',
  'message',
  'time',
] as const;

export function findingRow(f: Finding): Record<string, string> {
  return {
    severity: f.severity,
    rule: f.rule,
    host: f.host,
    container_id: f.container_id,
    container_name: f.container_name,
    evidence_path: f.evidence_path,
    evidence_field: f.evidence_field,
    message: f.message,
    time: f.time !== undefined ? formatIsoNano(f.time) : '',
  };
}

/** JSON form (bigint time as a decimal string). */
export function findingJson(f: Finding): Record<string, unknown> {
  const { time, ...rest } = f;
  return { ...rest, time_ns: time?.toString(), time_iso: time !== undefined ? formatIsoNano(time) : undefined };
}
