// File MACB events of Docker volumes (`<data-root>/volumes/<name>/_data`, named and anonymous) and of bind-mount
// sources that exist inside the evidence, attributed to the containers that mounted them.
//
// Attribution: a file is attributed to every container whose MountPoints name the volume (or whose bind source
// contains it); the event carries the first of them (containers in creation order, as readContainers sorts them)
// in container_id/container_name and all of them in attrs.containers. A volume no container references (left by a
// removed container, or created and never used) is still walked; its events carry no container and
// attrs.orphan = true.
// References: moby/moby `volume/local/local.go` (`<root>/volumes/<name>/_data`, `metadata.db` beside them),
// `volume/mounts/mounts.go` (MountPoint Type bind/volume, Source, Name); docs/formats/docker-state.md.
import { errorMessage, TimeDesc, type TimelineEvent } from '../../events/event.js';
import { joinPath, type VfsStat } from '../../fs/vfs.js';
import type { CollectorContext } from '../types.js';
import type { ContainerRecord } from './containers.js';

export const VOLUME_FILE_SOURCE = 'docker:volume-file';
const COMPONENT = 'volumes';

/** Files and directories walked per volume or bind source. */
export const MAX_VOLUME_FILES = 100_000;
/** Directory depth walked per volume or bind source. */
export const MAX_VOLUME_DEPTH = 32;
/** Volume directories listed per data root. */
export const MAX_VOLUMES = 10_000;

/** Bind sources never walked: the host root (a finding reports it; its files are the host's, not the volume's). */
const NOT_WALKED = new Set(['/']);

export interface VolumeOptions {
  maxFiles?: number;
  maxDepth?: number;
}

interface Mounter {
  id: string;
  name: string;
  destination: string;
}

interface Target {
  kind: 'volume' | 'bind';
  /** Volume name, or the bind source (host path). */
  name: string;
  /** Evidence path walked. */
  dir: string;
  mounters: Mounter[];
}

function tryLstat(ctx: CollectorContext, p: string): VfsStat | undefined {
  try {
    return ctx.vfs.lstat(p);
  } catch {
    return undefined;
  }
}

function targets(ctx: CollectorContext, root: string, containers: ContainerRecord[]): Target[] {
  const byKey = new Map<string, Target>();
  const add = (kind: Target['kind'], name: string, dir: string, m?: Mounter): void => {
    const key = `${kind}\u0000${name}`;
    let t = byKey.get(key);
    if (!t) {
      t = { kind, name, dir, mounters: [] };
      byKey.set(key, t);
    }
    if (m && !t.mounters.some((x) => x.id === m.id && x.destination === m.destination)) t.mounters.push(m);
  };
  // Every local volume in the data root, referenced or not.
  const vroot = joinPath(root, 'volumes');
  try {
    let dirs = ctx.vfs.readdir(vroot).filter((e) => e.type === 'dir').map((e) => e.name).sort();
    if (dirs.length > MAX_VOLUMES) {
      ctx.problems.warn(COMPONENT, vroot, `${dirs.length} volumes, limit ${MAX_VOLUMES} (MAX_VOLUMES)`, ctx.host);
      dirs = dirs.slice(0, MAX_VOLUMES);
    }
    for (const name of dirs) add('volume', name, joinPath(vroot, name, '_data'));
  } catch {
    // no volumes/ directory
  }
  for (const c of containers) {
    if (c.root !== root) continue;
    for (const m of c.mounts) {
      const mounter = { id: c.id, name: c.name, destination: m.destination };
      if (m.name !== '' && (m.type === 'volume' || m.type === '') && (m.driver === 'local' || m.driver === '')) {
        if (m.name.includes('/') || m.name === '..' || m.name === '.') continue;
        add('volume', m.name, joinPath(vroot, m.name, '_data'), mounter);
      } else if ((m.type === 'bind' || m.type === '') && m.source.startsWith('/')) {
        if (NOT_WALKED.has(m.source)) continue;
        add('bind', m.source, joinPath(m.source), mounter);
      }
    }
  }
  return [...byKey.values()].sort((a, b) => (a.kind + a.name < b.kind + b.name ? -1 : a.kind + a.name > b.kind + b.name ? 1 : 0));
}

const TIMES: Array<['atime' | 'mtime' | 'ctime' | 'birthtime', string, string]> = [
  ['mtime', TimeDesc.modification, 'modified'],
  ['atime', TimeDesc.lastAccess, 'accessed'],
  ['ctime', TimeDesc.metadataModification, 'metadata changed'],
  ['birthtime', TimeDesc.creation, 'created'],
];

/** MACB events of every volume of one data root and of the bind sources found in the evidence. */
export function volumeEvents(
  ctx: CollectorContext,
  root: string,
  containers: ContainerRecord[],
  options: VolumeOptions = {},
): TimelineEvent[] {
  const maxFiles = options.maxFiles ?? MAX_VOLUME_FILES;
  const maxDepth = options.maxDepth ?? MAX_VOLUME_DEPTH;
  const out: TimelineEvent[] = [];
  for (const t of targets(ctx, root, containers)) {
    const top = tryLstat(ctx, t.dir);
    // A missing volume is already in containers.json (mounts[].volumeExists = false); bind sources outside the
    // evidence are common (a bare data root, sockets, ...). Neither is a problem of this reader.
    if (!top) continue;
    let count = 0;
    let stopped = false;
    const emit = (p: string, rel: string, st: VfsStat): void => {
      const first = t.mounters[0];
      const label = t.kind === 'volume' ? `volume ${t.name}` : `bind source ${t.name}`;
      const attrs: Record<string, unknown> = {
        kind: t.kind,
        volume: t.kind === 'volume' ? t.name : undefined,
        bind_source: t.kind === 'bind' ? t.name : undefined,
        relative_path: rel,
        file_type: st.type,
        mode: '0' + st.mode.toString(8),
        uid: st.uid,
        gid: st.gid,
        size: st.size.toString(),
      };
      if (t.mounters.length > 0) {
        attrs.containers = t.mounters.map((m) => ({ id: m.id, name: m.name, container_path: joinPath(m.destination, rel) }));
      } else attrs.orphan = true;
      for (const [key, desc, verb] of TIMES) {
        const time = st[key];
        if (time === undefined) continue;
        const ev: TimelineEvent = {
          time,
          timestamp_desc: desc,
          source: VOLUME_FILE_SOURCE,
          host: ctx.host,
          message:
            `${label} file ${verb}: ${rel || '/'}` +
            (first ? ` (in container ${first.name || '?'} (${first.id.slice(0, 12)}) at ${joinPath(first.destination, rel)})` : ' (no container references it)'),
          path: p,
          inode: st.ino,
          raw_time: time.toString(),
          attrs,
        };
        if (first) {
          ev.container_id = first.id;
          if (first.name) ev.container_name = first.name;
        }
        out.push(ev);
      }
    };
    const walk = (dir: string, rel: string, depth: number): void => {
      if (stopped) return;
      if (depth > maxDepth) {
        ctx.problems.warn(COMPONENT, dir, `deeper than ${maxDepth} levels (MAX_VOLUME_DEPTH); not walked further`, ctx.host);
        return;
      }
      let names: string[];
      try {
        names = ctx.vfs.readdir(dir).map((e) => e.name).sort();
      } catch (err) {
        ctx.problems.warn(COMPONENT, dir, `cannot list: ${errorMessage(err)}`, ctx.host);
        return;
      }
      for (const name of names) {
        if (++count > maxFiles) {
          ctx.problems.warn(COMPONENT, t.dir, `more than ${maxFiles} entries (MAX_VOLUME_FILES); the rest not listed`, ctx.host);
          stopped = true;
          return;
        }
        const p = joinPath(dir, name);
        const st = tryLstat(ctx, p);
        if (!st) continue;
        const r = rel === '' ? name : `${rel}/${name}`;
        emit(p, r, st);
        if (st.type === 'dir') walk(p, r, depth + 1);
      }
    };
    emit(t.dir, '', top);
    if (top.type === 'dir') walk(t.dir, '', 1);
  }
  return out;
}
