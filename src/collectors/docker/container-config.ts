// The ContainerRecord and how its fields are read from a container's config.v2.json / config.json and
// hostconfig.json. Apart from containers.ts (which finds and reads those files in a data root) because the carver
// builds records from configs carved out of free blocks (carve/records.ts), with no directory around them.
//
// References:
//  - moby/moby `container/container.go` (Container: ID, Created, Path, Args, Config, Image, LogPath, Name, Driver,
//    RestartCount, HasBeenStartedBefore, HasBeenManuallyStopped, MountPoints; written as config.v2.json) and
//    `container/state.go` (State: Running, Paused, Restarting, OOMKilled, RemovalInProgress, Dead, Pid, ExitCode,
//    Error, StartedAt, FinishedAt; State.String/StateString for the `docker ps` status).
//  - moby/moby `api/types/container/hostconfig.go` (hostconfig.json: Binds, LogConfig, NetworkMode, PortBindings,
//    RestartPolicy, AutoRemove, CapAdd/CapDrop, Privileged, PidMode, IpcMode, Mounts).
//  - moby/moby `volume/mounts/mounts.go` (MountPoint: Source, Destination, RW, Name, Driver, Type).
//  - Docker < 1.10 ("v1") wrote `containers/<id>/config.json` with the same State shape, Image = bare image id,
//    Volumes/VolumesRW maps instead of MountPoints.
//  - Go's zero time.Time (`0001-01-01T00:00:00Z`) means "never": never an event.
import { GO_ZERO_TIME_NS, parseRfc3339Nano } from '../../events/time.js';
import { isDir, joinPath, type Vfs } from '../../fs/vfs.js';
import {
  getArr,
  getBool,
  getNum,
  getObj,
  getStr,
  getStrArray,
  getStrMap,
  type JsonObject,
  type Warn,
} from './json-guard.js';

/** Environment entries kept per container. */
export const MAX_ENV_ENTRIES = 4_096;
/** Labels / log options kept per container. */
export const MAX_LABELS = 4_096;
/** Args, Cmd, Entrypoint, CapAdd, CapDrop, Binds entries kept. */
export const MAX_ARGS = 4_096;
/** Mount points kept per container. */
export const MAX_MOUNTS = 4_096;
/** Port bindings (container ports x host bindings) kept per container. */
export const MAX_PORT_BINDINGS = 4_096;

/** A time as the artifact stored it, and its value; `ns` is undefined for Go's zero time and for unparseable text. */
export interface TimeValue {
  raw: string;
  ns?: bigint;
  /** Go's zero time: "never happened". */
  zero: boolean;
}

export interface MountRecord {
  destination: string;
  source: string;
  /** `bind`, `volume`, `tmpfs`, ... (empty in old configs). */
  type: string;
  /** Volume name (named or anonymous volume); empty for binds. */
  name: string;
  driver: string;
  rw: boolean;
  /** For local volumes: whether `<root>/volumes/<name>` exists in the evidence. */
  volumeExists?: boolean;
}

export interface PortBinding {
  /** `80/tcp` */
  containerPort: string;
  hostIp: string;
  hostPort: string;
}

export interface LayerMount {
  /** image/<driver>/layerdb/mounts/<id> */
  path: string;
  mountId?: string;
  initId?: string;
  /** Chain id of the image's top layer. */
  parent?: string;
}

export interface ContainerRecord {
  /** Directory name under containers/ (what every path is built from). */
  id: string;
  /** False when the id is not 64 lowercase hex characters (still reported). */
  idValid: boolean;
  /** `v2` = config.v2.json (Docker >= 1.10), `v1` = config.json. */
  layout: 'v2' | 'v1';
  /** Data root (path inside the evidence). */
  root: string;
  dir: string;
  configPath: string;
  hostConfigPath?: string;
  /** Without the leading `/`. */
  name: string;
  /** Config.Image: what the user asked for (`nginx:latest`). */
  imageName: string;
  /** Image id (`sha256:...` in v2, bare hex in v1). */
  imageId: string;
  created: TimeValue;
  started: TimeValue;
  finished: TimeValue;
  running: boolean;
  paused: boolean;
  restarting: boolean;
  dead: boolean;
  removalInProgress: boolean;
  oomKilled: boolean;
  pid?: number;
  exitCode?: number;
  error: string;
  restartCount?: number;
  hasBeenStartedBefore?: boolean;
  hasBeenManuallyStopped?: boolean;
  /** Derived, like `docker ps`: running, paused, restarting(N), removing, dead, created, exited(N). */
  status: string;
  path: string;
  args: string[];
  entrypoint: string[];
  cmd: string[];
  env: string[];
  labels: Record<string, string>;
  composeProject?: string;
  composeService?: string;
  hostname: string;
  domainname: string;
  user: string;
  workingDir: string;
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  pidMode: string;
  ipcMode: string;
  networkMode: string;
  mounts: MountRecord[];
  binds: string[];
  portBindings: PortBinding[];
  restartPolicy: { name: string; maximumRetryCount?: number };
  autoRemove: boolean;
  /** LogConfig.Type (`json-file` when empty, dockerd's default). */
  logDriver: string;
  logOptions: Record<string, string>;
  /** LogPath exactly as stored (a host path). */
  logPath: string;
  /** Storage driver (Driver). */
  storageDriver: string;
  layer?: LayerMount;
  /** json-file logs found in the evidence, oldest rotation first, current last. */
  logFiles: string[];
  /** `local` driver files (containers/<id>/local-logs/*), sorted like logFiles. */
  localLogFiles: string[];
}

export function timeValue(raw: string | undefined, what: string, warn: Warn): TimeValue {
  if (raw === undefined || raw === '') return { raw: raw ?? '', zero: true };
  const ns = parseRfc3339Nano(raw);
  if (ns === undefined) {
    warn(`${what} ${JSON.stringify(raw.slice(0, 64))} is not an RFC 3339 time`);
    return { raw, zero: false };
  }
  if (ns === GO_ZERO_TIME_NS) return { raw, zero: true };
  return { raw, ns, zero: false };
}

/** `docker ps`-style status (moby container/state.go StateString, with exit code / restart count). */
export function deriveStatus(r: Pick<ContainerRecord, 'running' | 'paused' | 'restarting' | 'removalInProgress' | 'dead' | 'started' | 'exitCode' | 'restartCount'>): string {
  if (r.running) {
    if (r.paused) return 'paused';
    if (r.restarting) return `restarting(${r.exitCode ?? '?'})`;
    return 'running';
  }
  if (r.restarting) return `restarting(${r.exitCode ?? '?'})`;
  if (r.removalInProgress) return 'removing';
  if (r.dead) return 'dead';
  if (r.started.zero) return 'created';
  return `exited(${r.exitCode ?? '?'})`;
}

/**
 * MountPoints of a v2 config. With `evidence`, local volumes also get `volumeExists` (whether
 * `<root>/volumes/<name>` is in the evidence); without it (carved configs) that is left unset.
 */
export function parseMountPoints(cfg: JsonObject, warn: Warn, evidence?: { vfs: Vfs; root: string }): MountRecord[] {
  const out: MountRecord[] = [];
  const mp = getObj(cfg, 'MountPoints', warn) ?? {};
  let keys = Object.keys(mp);
  if (keys.length > MAX_MOUNTS) {
    warn(`MountPoints has ${keys.length} entries, limit ${MAX_MOUNTS}`);
    keys = keys.slice(0, MAX_MOUNTS);
  }
  for (const k of keys) {
    const m = getObj(mp, k, warn);
    if (!m) continue;
    const rec: MountRecord = {
      destination: getStr(m, 'Destination', warn) ?? k,
      source: getStr(m, 'Source', warn) ?? '',
      type: getStr(m, 'Type', warn) ?? '',
      name: getStr(m, 'Name', warn) ?? '',
      driver: getStr(m, 'Driver', warn) ?? '',
      rw: getBool(m, 'RW', warn) ?? false,
    };
    if (evidence && rec.name !== '' && (rec.type === 'volume' || rec.type === '') && (rec.driver === 'local' || rec.driver === '')) {
      rec.volumeExists = !rec.name.includes('/') && rec.name !== '..' && isDir(evidence.vfs, joinPath(evidence.root, 'volumes', rec.name));
    }
    out.push(rec);
  }
  return out;
}

/** HostConfig.PortBindings, at most MAX_PORT_BINDINGS of them. */
export function parsePorts(hc: JsonObject | undefined, warn: Warn): PortBinding[] {
  const pb = getObj(hc, 'PortBindings', warn);
  const out: PortBinding[] = [];
  if (!pb) return out;
  for (const port of Object.keys(pb)) {
    for (const b of getArr(pb, port, warn, MAX_PORT_BINDINGS)) {
      if (out.length >= MAX_PORT_BINDINGS) {
        warn(`PortBindings exceed ${MAX_PORT_BINDINGS} entries; the rest dropped`);
        return out;
      }
      const o = typeof b === 'object' && b !== null && !Array.isArray(b) ? (b as JsonObject) : undefined;
      out.push({ containerPort: port, hostIp: getStr(o, 'HostIp', warn) ?? '', hostPort: getStr(o, 'HostPort', warn) ?? '' });
    }
  }
  return out;
}

/** Where a container's config was found: the ContainerRecord fields that do not come from its JSON. */
export type ContainerPlace = Pick<ContainerRecord, 'id' | 'idValid' | 'layout' | 'root' | 'dir' | 'configPath' | 'hostConfigPath'>;

/**
 * The ContainerRecord fields read from a config (config.v2.json / config.json, problems to `warn`) and its
 * hostconfig.json (`hc`, problems to `hwarn`), status derived; `mounts` reads the mounts where the record puts them.
 * Shared by the live reader and the carver (carve/records.ts). Log file lists are left empty, `layer` unset.
 */
export function containerFromConfig(
  place: ContainerPlace,
  cfg: JsonObject,
  hc: JsonObject | undefined,
  warn: Warn,
  hwarn: Warn,
  mounts: () => MountRecord[],
): ContainerRecord {
  const state = getObj(cfg, 'State', warn);
  const config = getObj(cfg, 'Config', warn);
  const name = (getStr(cfg, 'Name', warn) ?? '').replace(/^\//, '');
  const labels = getStrMap(config, 'Labels', warn, MAX_LABELS);
  const logConfig = getObj(hc, 'LogConfig', hwarn);
  const restart = getObj(hc, 'RestartPolicy', hwarn);
  const logPath = getStr(cfg, 'LogPath', warn) ?? '';
  const storageDriver = getStr(cfg, 'Driver', warn) ?? '';

  const rec: ContainerRecord = {
    id: place.id,
    idValid: place.idValid,
    layout: place.layout,
    root: place.root,
    dir: place.dir,
    configPath: place.configPath,
    hostConfigPath: place.hostConfigPath,
    name,
    imageName: getStr(config, 'Image', warn) ?? '',
    imageId: getStr(cfg, 'Image', warn) ?? '',
    created: timeValue(getStr(cfg, 'Created', warn), 'Created', warn),
    started: timeValue(getStr(state, 'StartedAt', warn), 'State.StartedAt', warn),
    finished: timeValue(getStr(state, 'FinishedAt', warn), 'State.FinishedAt', warn),
    running: getBool(state, 'Running', warn) ?? false,
    paused: getBool(state, 'Paused', warn) ?? false,
    restarting: getBool(state, 'Restarting', warn) ?? false,
    dead: getBool(state, 'Dead', warn) ?? false,
    removalInProgress: getBool(state, 'RemovalInProgress', warn) ?? false,
    oomKilled: getBool(state, 'OOMKilled', warn) ?? false,
    pid: getNum(state, 'Pid', warn),
    exitCode: getNum(state, 'ExitCode', warn),
    error: getStr(state, 'Error', warn) ?? '',
    restartCount: getNum(cfg, 'RestartCount', warn),
    hasBeenStartedBefore: getBool(cfg, 'HasBeenStartedBefore', warn),
    hasBeenManuallyStopped: getBool(cfg, 'HasBeenManuallyStopped', warn),
    status: '',
    path: getStr(cfg, 'Path', warn) ?? '',
    args: getStrArray(cfg, 'Args', warn, MAX_ARGS),
    entrypoint: getStrArray(config, 'Entrypoint', warn, MAX_ARGS),
    cmd: getStrArray(config, 'Cmd', warn, MAX_ARGS),
    env: getStrArray(config, 'Env', warn, MAX_ENV_ENTRIES),
    labels,
    composeProject: labels['com.docker.compose.project'],
    composeService: labels['com.docker.compose.service'],
    hostname: getStr(config, 'Hostname', warn) ?? '',
    domainname: getStr(config, 'Domainname', warn) ?? '',
    user: getStr(config, 'User', warn) ?? '',
    workingDir: getStr(config, 'WorkingDir', warn) ?? '',
    privileged: getBool(hc, 'Privileged', hwarn) ?? false,
    capAdd: getStrArray(hc, 'CapAdd', hwarn, MAX_ARGS),
    capDrop: getStrArray(hc, 'CapDrop', hwarn, MAX_ARGS),
    pidMode: getStr(hc, 'PidMode', hwarn) ?? '',
    ipcMode: getStr(hc, 'IpcMode', hwarn) ?? '',
    networkMode: getStr(hc, 'NetworkMode', hwarn) ?? '',
    mounts: mounts(),
    binds: getStrArray(hc, 'Binds', hwarn, MAX_ARGS),
    portBindings: parsePorts(hc, hwarn),
    restartPolicy: {
      name: getStr(restart, 'Name', hwarn) ?? '',
      maximumRetryCount: getNum(restart, 'MaximumRetryCount', hwarn),
    },
    autoRemove: getBool(hc, 'AutoRemove', hwarn) ?? false,
    logDriver: getStr(logConfig, 'Type', hwarn) || 'json-file',
    logOptions: getStrMap(logConfig, 'Config', hwarn, MAX_LABELS),
    logPath,
    storageDriver,
    logFiles: [],
    localLogFiles: [],
  };
  rec.status = deriveStatus(rec);
  return rec;
}
