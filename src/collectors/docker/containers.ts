// Docker container inventory from a data root's `containers/<id>/` directories: which directories, which config
// files, the layerdb mount and the log files beside them. The record itself and how a config fills it are in
// container-config.ts (shared with the carver); this module re-exports them.
//
// References:
//  - moby/moby `layer/filestore.go` + `layer/mounted_layer.go`: image/<driver>/layerdb/mounts/<id>/{mount-id,init-id,parent}.
//  - Docker < 1.10 ("v1") wrote `containers/<id>/config.json` with the same State shape, Image = bare image id,
//    Volumes/VolumesRW maps instead of MountPoints.
//  - The config fields (moby container/container.go, container/state.go, api/types/container/hostconfig.go): see
//    container-config.ts.
import { errorMessage } from '../../events/event.js';
import { baseName, exists, isDir, joinPath, type Vfs } from '../../fs/vfs.js';
import type { CollectorContext } from '../types.js';
import {
  type ContainerRecord,
  type LayerMount,
  type MountRecord,
  MAX_MOUNTS,
  containerFromConfig,
  parseMountPoints,
} from './container-config.js';
import { getObj, getStr, getStrMap, HEX64, readJsonObject, readSmallText, type JsonObject, type Warn } from './json-guard.js';

export {
  MAX_ARGS,
  MAX_ENV_ENTRIES,
  MAX_LABELS,
  MAX_MOUNTS,
  MAX_PORT_BINDINGS,
  containerFromConfig,
  deriveStatus,
  parseMountPoints,
  parsePorts,
  timeValue,
  type ContainerPlace,
  type ContainerRecord,
  type LayerMount,
  type MountRecord,
  type PortBinding,
  type TimeValue,
} from './container-config.js';

export const COMPONENT = 'docker';

/** Largest config.v2.json / config.json / hostconfig.json we read. */
export const MAX_CONTAINER_CONFIG_BYTES = 16 * 1024 * 1024;
/** Container directories processed per data root. */
export const MAX_CONTAINERS = 100_000;
/** Rotated log files (`<id>-json.log.N[.gz]`) listed per container. */
export const MAX_LOG_FILES = 10_000;
/** Largest layerdb mounts file (mount-id, init-id, parent: one short line each). */
export const MAX_LAYERDB_FILE_BYTES = 4096;

const noWarn: Warn = () => {};

const ROTATED = /^(.*)\.(\d+)(\.gz)?$/;

/**
 * Orders log files of one stream chronologically: the highest rotation number is the oldest, the bare file is
 * the newest (moby daemon/logger/loggerutils/logfile.go rotate: `.1` is the most recent rotation).
 */
export function sortRotated(base: string, names: string[]): string[] {
  const rank = (n: string): number => {
    if (n === base) return -1;
    const m = ROTATED.exec(n);
    return m && m[1] === base ? Number(m[2]) : -2;
  };
  return names.filter((n) => rank(n) !== -2).sort((a, b) => rank(b) - rank(a) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Maps a host path below `<data-root>/containers/<id>/` onto the evidence's data root. */
export function mapContainerPath(hostPath: string, root: string, id: string): string | undefined {
  const marker = `/containers/${id}/`;
  const i = hostPath.lastIndexOf(marker);
  if (i < 0) return undefined;
  return joinPath(root, 'containers', id, hostPath.slice(i + marker.length));
}

interface ParsedParts {
  cfg: JsonObject;
  hc?: JsonObject;
}

function readParts(
  ctx: CollectorContext,
  dir: string,
): { layout: 'v2' | 'v1'; configPath: string; hostConfigPath?: string; parts?: ParsedParts } | undefined {
  const { vfs, problems, host } = ctx;
  const v2 = joinPath(dir, 'config.v2.json');
  const v1 = joinPath(dir, 'config.json');
  let layout: 'v2' | 'v1';
  let configPath: string;
  if (exists(vfs, v2)) {
    layout = 'v2';
    configPath = v2;
  } else if (exists(vfs, v1)) {
    layout = 'v1';
    configPath = v1;
  } else {
    problems.warn(COMPONENT, dir, 'container directory has neither config.v2.json nor config.json', host);
    return undefined;
  }
  const cfg = readJsonObject(vfs, problems, COMPONENT, configPath, MAX_CONTAINER_CONFIG_BYTES, host);
  const hcPath = joinPath(dir, 'hostconfig.json');
  let hc: JsonObject | undefined;
  let hostConfigPath: string | undefined;
  if (exists(vfs, hcPath)) {
    hostConfigPath = hcPath;
    hc = readJsonObject(vfs, problems, COMPONENT, hcPath, MAX_CONTAINER_CONFIG_BYTES, host);
  }
  return { layout, configPath, hostConfigPath, parts: cfg ? { cfg, hc } : undefined };
}

function parseMounts(
  vfs: Vfs,
  root: string,
  layout: 'v1' | 'v2',
  cfg: JsonObject,
  warn: Warn,
): MountRecord[] {
  if (layout === 'v2') return parseMountPoints(cfg, warn, { vfs, root });
  // v1: Volumes { destination: host path }, VolumesRW { destination: bool }.
  const out: MountRecord[] = [];
  const vols = getStrMap(cfg, 'Volumes', warn, MAX_MOUNTS);
  const rw = getObj(cfg, 'VolumesRW', warn) ?? {};
  for (const [dest, src] of Object.entries(vols)) {
    out.push({ destination: dest, source: src, type: '', name: '', driver: '', rw: rw[dest] === true });
  }
  return out;
}

function listLogs(
  ctx: CollectorContext,
  root: string,
  id: string,
  dir: string,
  logPath: string,
): { logFiles: string[]; localLogFiles: string[] } {
  const { vfs, problems, host } = ctx;
  let names: string[] = [];
  try {
    const entries = vfs.readdir(dir);
    names = entries.filter((e) => e.type === 'file' || e.type === 'symlink').map((e) => e.name);
    // dockerd never writes symlinks here: follow them (confined to the evidence) but flag the anomaly.
    for (const e of entries) {
      if (e.type === 'symlink' && e.name.includes('-json.log')) {
        let target = '?';
        try {
          target = vfs.readlink(joinPath(dir, e.name));
        } catch {
          // keep '?'
        }
        problems.warn(COMPONENT, joinPath(dir, e.name), `log file is a symlink to ${target}; followed inside the evidence`, host);
      }
    }
  } catch (err) {
    problems.warn(COMPONENT, dir, `cannot list: ${errorMessage(err)}`, host);
  }
  // The json-file log is `<id>-json.log` in the container directory; LogPath (a host path) normally names the same
  // file. Take its base name when it points into this container's directory, else look for it literally.
  const bases = new Set<string>([`${id}-json.log`]);
  const extra: string[] = [];
  if (logPath !== '') {
    const mapped = mapContainerPath(logPath, root, id);
    if (mapped !== undefined && mapped === joinPath(dir, baseName(mapped))) {
      bases.add(baseName(mapped));
    } else if (mapped === undefined && logPath.startsWith('/') && exists(vfs, logPath)) {
      extra.push(joinPath(logPath));
    }
  }
  const logFiles: string[] = [...extra];
  for (const base of bases) {
    let sorted = sortRotated(base, names);
    if (sorted.length > MAX_LOG_FILES) {
      problems.warn(COMPONENT, dir, `${sorted.length} rotated logs, limit ${MAX_LOG_FILES}; kept the newest`, host);
      sorted = sorted.slice(sorted.length - MAX_LOG_FILES);
    }
    for (const n of sorted) logFiles.push(joinPath(dir, n));
  }
  let localLogFiles: string[] = [];
  const localDir = joinPath(dir, 'local-logs');
  if (isDir(vfs, localDir)) {
    try {
      const ln = vfs.readdir(localDir).filter((e) => e.type === 'file').map((e) => e.name);
      localLogFiles = sortRotated('container.log', ln).slice(-MAX_LOG_FILES).map((n) => joinPath(localDir, n));
    } catch (err) {
      problems.warn(COMPONENT, localDir, `cannot list: ${errorMessage(err)}`, host);
    }
  }
  return { logFiles, localLogFiles };
}

function readLayerMount(ctx: CollectorContext, root: string, driver: string, id: string): LayerMount | undefined {
  const { vfs, problems, host } = ctx;
  const drivers: string[] = [];
  if (driver !== '' && !driver.includes('/') && driver !== '..' && driver !== '.') drivers.push(driver);
  else {
    try {
      for (const e of vfs.readdir(joinPath(root, 'image'))) if (e.type === 'dir') drivers.push(e.name);
    } catch {
      // no image/ directory
    }
  }
  for (const d of drivers) {
    const path = joinPath(root, 'image', d, 'layerdb', 'mounts', id);
    if (!isDir(vfs, path)) continue;
    const read = (f: string): string | undefined =>
      readSmallText(vfs, problems, COMPONENT, joinPath(path, f), MAX_LAYERDB_FILE_BYTES, host, true);
    return { path, mountId: read('mount-id'), initId: read('init-id'), parent: read('parent') };
  }
  if (isDir(vfs, joinPath(root, 'image'))) {
    problems.warn(COMPONENT, joinPath(root, 'image', driver || '*', 'layerdb', 'mounts', id), 'no layerdb mounts entry for the container', host);
  }
  return undefined;
}

/** Parses one container directory; undefined when it has no usable config (a problem was reported). */
export function readContainer(ctx: CollectorContext, root: string, id: string): ContainerRecord | undefined {
  const { vfs, problems, host } = ctx;
  const dir = joinPath(root, 'containers', id);
  const idValid = HEX64.test(id);
  if (!idValid) problems.warn(COMPONENT, dir, `container id ${JSON.stringify(id)} is not 64 hex characters`, host);
  const got = readParts(ctx, dir);
  if (!got?.parts) return undefined;
  const { layout, configPath, hostConfigPath } = got;
  const { cfg, hc } = got.parts;
  const warn: Warn = (reason) => problems.warn(COMPONENT, configPath, reason, host);
  const hwarn: Warn = hostConfigPath ? (reason) => problems.warn(COMPONENT, hostConfigPath, reason, host) : noWarn;

  const cfgId = getStr(cfg, 'ID', warn);
  if (cfgId !== undefined && cfgId !== id) warn(`ID ${JSON.stringify(cfgId.slice(0, 80))} differs from the directory name`);
  const place = { id, idValid, layout, root, dir, configPath, hostConfigPath };
  const rec = containerFromConfig(place, cfg, hc, warn, hwarn, () => parseMounts(vfs, root, layout, cfg, warn));
  if (layout === 'v2') rec.layer = readLayerMount(ctx, root, rec.storageDriver, id);
  const logs = listLogs(ctx, root, id, dir, rec.logPath);
  rec.logFiles = logs.logFiles;
  rec.localLogFiles = logs.localLogFiles;
  return rec;
}

/** Every container of one data root, sorted by creation time (then id). */
export function readContainers(ctx: CollectorContext, root: string): ContainerRecord[] {
  const { vfs, problems, host } = ctx;
  const cdir = joinPath(root, 'containers');
  if (!isDir(vfs, cdir)) return [];
  let entries: string[];
  try {
    entries = vfs.readdir(cdir).filter((e) => e.type === 'dir').map((e) => e.name);
  } catch (err) {
    problems.warn(COMPONENT, cdir, `cannot list: ${errorMessage(err)}`, host);
    return [];
  }
  if (entries.length > MAX_CONTAINERS) {
    problems.warn(COMPONENT, cdir, `${entries.length} container directories, limit ${MAX_CONTAINERS}`, host);
    entries = entries.slice(0, MAX_CONTAINERS);
  }
  const out: ContainerRecord[] = [];
  for (const id of entries) {
    try {
      const rec = readContainer(ctx, root, id);
      if (rec) out.push(rec);
    } catch (err) {
      problems.warn(COMPONENT, joinPath(cdir, id), `unexpected error: ${errorMessage(err)}`, host);
    }
  }
  const key = (r: ContainerRecord): bigint => r.created.ns ?? 0n;
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
