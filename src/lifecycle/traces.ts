// Traces of containers in the Docker data roots and /var/log that have no time of their own but prove a container
// existed: containers/<id> directories without a config (left-over logs), layerdb mounts entries and overlay2
// directories whose container is gone (with the writable layer of an orphan mount, diffed by index.ts), and
// Kubernetes log paths naming container ids (CRI-format targets are read by cri-log.ts).
// volumes/metadata.db (BoltDB) is not read: it maps volume names to options and never names the containers
// that used a volume; container references in volume options are rare. Volume directories' own MACB times are
// in the timeline already.
// References: moby/moby layer/filestore.go (layerdb/mounts/<container id>/{mount-id,init-id,parent},
// layerdb/sha256/<chain>/cache-id), daemon/graphdriver/overlay2 (one <cache id> dir per layer, `<id>-init` for
// a container's init layer, `l/` short links), Kubernetes kubelet pkg/kubelet/kuberuntime/logs
// (/var/log/containers/<pod>_<namespace>_<container>-<container id>.log -> /var/log/pods/...).
import { errorMessage, type ProblemLog } from '../events/event.js';
import type { DataRoot } from '../collectors/docker/discover.js';
import type { LayerMount } from '../collectors/docker/containers.js';
import { baseName, isDir, joinPath, readTextLimited, type Vfs } from '../fs/vfs.js';
import type { CriLogRef } from './cri-log.js';

const COMPONENT = 'lifecycle';
/** Directory entries examined per directory by the trace scan. */
export const MAX_TRACE_DIR_ENTRIES = 200_000;
/** Largest mount-id / init-id / cache-id file read. */
const MAX_ID_FILE_BYTES = 4096;

export interface Trace {
  id?: string;
  name?: string;
  kind: 'leftover-log-dir' | 'leftover-dir' | 'orphan-layerdb-mount' | 'orphan-writable-layer' | 'kubernetes-log-path';
  path: string;
  time?: bigint;
  foreign?: boolean;
  detail?: string;
}

export interface TraceScan {
  traces: Trace[];
  /** json-file logs in left-over container directories (not in the inventory), oldest first per container. */
  leftoverLogs: Array<{ containerId: string; paths: string[] }>;
  /** Storage-driver directories that no layerdb entry owns (writable layers of unknown containers). */
  orphanLayers: Array<{ path: string; hasInit: boolean; time?: string }>;
  /** Orphan layerdb mounts whose overlay2 writable layer is still there (diffed like a present container's). */
  orphanMounts: Array<{ containerId: string; root: string; driver: string; layer: LayerMount }>;
  /** CRI-format logs named by /var/log/containers links that do not point into a Docker data root. */
  criLogs: CriLogRef[];
}

const HEX64 = /^[0-9a-f]{64}$/;

function list(vfs: Vfs, dir: string, problems: ProblemLog, host: string): Array<{ name: string; type: string }> {
  try {
    const entries = vfs.readdir(dir);
    if (entries.length > MAX_TRACE_DIR_ENTRIES) {
      problems.warn(COMPONENT, dir, `${entries.length} entries, limit ${MAX_TRACE_DIR_ENTRIES} (MAX_TRACE_DIR_ENTRIES); the rest not examined`, host);
      return entries.slice(0, MAX_TRACE_DIR_ENTRIES);
    }
    return entries;
  } catch {
    return [];
  }
}

function mtime(vfs: Vfs, path: string): bigint | undefined {
  try {
    return vfs.stat(path).mtime;
  } catch {
    return undefined;
  }
}

function readId(vfs: Vfs, path: string): string | undefined {
  try {
    return readTextLimited(vfs, path, MAX_ID_FILE_BYTES).trim();
  } catch {
    return undefined;
  }
}

function logRank(name: string, id: string): number | undefined {
  const m = new RegExp(`^${id}-json\\.log(?:\\.(\\d{1,6}))?(?:\\.gz)?$`).exec(name);
  if (!m) return undefined;
  return m[1] === undefined ? -1 : Number(m[1]);
}

/** Scans the data roots and /var/log; `present` are the ids whose containers/<id> has a usable config. */
export function scanTraces(vfs: Vfs, roots: DataRoot[], present: Set<string>, problems: ProblemLog, host: string): TraceScan {
  const out: TraceScan = { traces: [], leftoverLogs: [], orphanLayers: [], orphanMounts: [], criLogs: [] };
  for (const root of roots) {
    if (!root.exists) continue;
    try {
      scanRoot(vfs, root.path, present, problems, host, out);
    } catch (err) {
      problems.warn(COMPONENT, root.path, `trace scan: unexpected error: ${errorMessage(err)}`, host);
    }
  }
  try {
    scanKubernetes(vfs, out, problems, host);
  } catch (err) {
    problems.warn(COMPONENT, '/var/log/containers', `trace scan: unexpected error: ${errorMessage(err)}`, host);
  }
  return out;
}

function scanRoot(vfs: Vfs, root: string, present: Set<string>, problems: ProblemLog, host: string, out: TraceScan): void {
  const cdir = joinPath(root, 'containers');
  for (const e of list(vfs, cdir, problems, host)) {
    if (e.type !== 'dir' || present.has(e.name)) continue;
    const dir = joinPath(cdir, e.name);
    const names = list(vfs, dir, problems, host).map((x) => x.name);
    const id = HEX64.test(e.name) ? e.name : undefined;
    const logs = id
      ? names
          .map((n) => ({ n, r: logRank(n, id) }))
          .filter((x): x is { n: string; r: number } => x.r !== undefined)
          .sort((a, b) => b.r - a.r)
          .map((x) => joinPath(dir, x.n))
      : [];
    const hasLocal = names.includes('local-logs');
    const kind = logs.length > 0 || hasLocal ? 'leftover-log-dir' : 'leftover-dir';
    out.traces.push({ id, kind, path: dir, time: mtime(vfs, dir), detail: names.slice(0, 20).join(' ') });
    if (id && logs.length > 0) out.leftoverLogs.push({ containerId: id, paths: logs });
  }
  const imageDir = joinPath(root, 'image');
  const owned = new Set<string>();
  for (const d of list(vfs, imageDir, problems, host)) {
    if (d.type !== 'dir') continue;
    const layerdb = joinPath(imageDir, d.name, 'layerdb');
    const mounts = joinPath(layerdb, 'mounts');
    for (const m of list(vfs, mounts, problems, host)) {
      if (m.type !== 'dir') continue;
      const mp = joinPath(mounts, m.name);
      const mountId = readId(vfs, joinPath(mp, 'mount-id'));
      const initId = readId(vfs, joinPath(mp, 'init-id'));
      if (mountId) owned.add(mountId);
      if (initId) owned.add(initId);
      if (!present.has(m.name) && HEX64.test(m.name)) {
        out.traces.push({
          id: m.name,
          kind: 'orphan-layerdb-mount',
          path: mp,
          time: mtime(vfs, joinPath(mp, 'mount-id')) ?? mtime(vfs, mp),
          detail: mountId ? `mount-id ${mountId}` : undefined,
        });
        // The container's writable layer, if the storage driver still holds it: its upper dir's mtime is the
        // last time an entry directly under the container's / was added, removed or renamed.
        const layerDir = mountId && /^[0-9a-zA-Z_.-]+$/.test(mountId) && mountId !== '.' && mountId !== '..' ? joinPath(root, d.name, mountId) : undefined;
        if (layerDir && isDir(vfs, layerDir)) {
          const upper = joinPath(layerDir, 'diff');
          out.traces.push({ id: m.name, kind: 'orphan-writable-layer', path: layerDir, time: mtime(vfs, upper) ?? mtime(vfs, layerDir), detail: `${d.name} writable layer of the removed container` });
          if (d.name === 'overlay2' && isDir(vfs, upper)) {
            out.orphanMounts.push({ containerId: m.name, root, driver: d.name, layer: { path: mp, mountId, initId, parent: readId(vfs, joinPath(mp, 'parent')) } });
          }
        }
      }
    }
    const sha = joinPath(layerdb, 'sha256');
    for (const l of list(vfs, sha, problems, host)) {
      if (l.type !== 'dir') continue;
      const c = readId(vfs, joinPath(sha, l.name, 'cache-id'));
      if (c) owned.add(c);
    }
    // The driver's own layer directories (overlay2/<cache id>, ...).
    const driverDir = joinPath(root, d.name);
    if (owned.size === 0 || !isDir(vfs, driverDir)) continue;
    const names = new Set(list(vfs, driverDir, problems, host).filter((x) => x.type === 'dir').map((x) => x.name));
    for (const n of names) {
      if (n === 'l' || n.endsWith('-init') || owned.has(n)) continue;
      const p = joinPath(driverDir, n);
      const t = mtime(vfs, p);
      out.orphanLayers.push({ path: p, hasInit: names.has(`${n}-init`), time: t === undefined ? undefined : t.toString() });
    }
  }
}

/** /var/log/containers/<pod>_<namespace>_<container>-<id>.log (kubelet's symlinks). */
function scanKubernetes(vfs: Vfs, out: TraceScan, problems: ProblemLog, host: string): void {
  const dir = '/var/log/containers';
  for (const e of list(vfs, dir, problems, host)) {
    const m = /^(.+)_([^_]+)_(.+)-([0-9a-f]{64})\.log$/.exec(e.name);
    if (!m) continue;
    const path = joinPath(dir, e.name);
    let target = '';
    try {
      target = vfs.realpath(path);
    } catch {
      // dangling link: the pod's log is gone
    }
    const docker = target.includes(`/containers/${m[4]}/`);
    if (!docker && target !== '') {
      try {
        if (vfs.stat(target).type === 'file') out.criLogs.push({ containerId: m[4], name: m[3], pod: m[1], namespace: m[2], path: target });
      } catch {
        // unreadable target: the link is the only trace
      }
    }
    out.traces.push({
      id: m[4],
      name: m[3],
      kind: 'kubernetes-log-path',
      path,
      time: mtime(vfs, path),
      foreign: !docker,
      detail: `pod ${m[1]} namespace ${m[2]} container ${m[3]}${target ? ` -> ${baseName(target)}` : ' (dangling)'}`,
    });
  }
}
