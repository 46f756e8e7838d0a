// Carved config.v2.json / hostconfig.json objects -> container inventory rows and timeline events, with the same
// field extraction as the live reader (json-guard.ts getters, containers.ts timeValue/deriveStatus), plus where the
// bytes were found. A carved config is what Docker wrote at some moment: a removed container, or an older state of
// a live one (Docker rewrites config.v2.json through a temporary file, leaving earlier versions in free blocks).
// References: moby/moby container/container.go, container/state.go, api/types/container/hostconfig.go.
import { TimeDesc, type TimelineEvent } from '../events/event.js';
import {
  type ContainerRecord,
  type MountRecord,
  type PortBinding,
  MAX_ARGS,
  MAX_ENV_ENTRIES,
  MAX_LABELS,
  MAX_MOUNTS,
  MAX_PORT_BINDINGS,
  deriveStatus,
  timeValue,
} from '../collectors/docker/containers.js';
import {
  getArr,
  getBool,
  getNum,
  getObj,
  getStr,
  getStrArray,
  getStrMap,
  HEX64,
  type JsonObject,
  type Warn,
} from '../collectors/docker/json-guard.js';
import type { CarvedObject } from './scanner.js';

export const CARVE_CONFIG_SOURCE = 'carve:docker-config';
export const CARVE_LOG_SOURCE = 'carve:json-log';

/** A container row rebuilt from carved bytes: a ContainerRecord plus its provenance. */
export interface CarvedContainerRecord extends ContainerRecord {
  recovered: 'carved';
  /** Absolute byte offset of config.v2.json on the disk. */
  carve_offset?: string;
  /** File system (label) and offset inside it. */
  carve_fs: string;
  carve_fs_offset?: string;
  /** `unallocated`, `deleted-inode` or `disk`. */
  carve_via: string;
  /** Inode number when read through a deleted inode. */
  carve_inode?: number;
  /** Offset of the carved hostconfig.json matched to it, and how it was matched. */
  hostconfig_offset?: string;
  hostconfig_match?: 'same-deleted-directory' | 'adjacent';
  /** The same id has a live containers/<id> directory: this is an older state of a live container. */
  live: boolean;
  carve_sha256: string;
  duplicates: number;
}

function mounts(cfg: JsonObject, warn: Warn): MountRecord[] {
  const out: MountRecord[] = [];
  const mp = getObj(cfg, 'MountPoints', warn) ?? {};
  for (const k of Object.keys(mp).slice(0, MAX_MOUNTS)) {
    const m = getObj(mp, k, warn);
    if (!m) continue;
    out.push({
      destination: getStr(m, 'Destination', warn) ?? k,
      source: getStr(m, 'Source', warn) ?? '',
      type: getStr(m, 'Type', warn) ?? '',
      name: getStr(m, 'Name', warn) ?? '',
      driver: getStr(m, 'Driver', warn) ?? '',
      rw: getBool(m, 'RW', warn) ?? false,
    });
  }
  return out;
}

function ports(hc: JsonObject | undefined, warn: Warn): PortBinding[] {
  const pb = getObj(hc, 'PortBindings', warn);
  const out: PortBinding[] = [];
  if (!pb) return out;
  for (const port of Object.keys(pb)) {
    for (const b of getArr(pb, port, warn, MAX_PORT_BINDINGS)) {
      if (out.length >= MAX_PORT_BINDINGS) return out;
      const o = typeof b === 'object' && b !== null && !Array.isArray(b) ? (b as JsonObject) : undefined;
      out.push({ containerPort: port, hostIp: getStr(o, 'HostIp', warn) ?? '', hostPort: getStr(o, 'HostPort', warn) ?? '' });
    }
  }
  return out;
}

function where(o: CarvedObject): string {
  return `${o.fs}@${o.via}`;
}

/** The inventory row of a carved config (and its hostconfig when one was matched). */
export function carvedContainer(
  cfgObj: CarvedObject,
  hcObj: CarvedObject | undefined,
  opts: { live: boolean; hostconfigMatch?: CarvedContainerRecord['hostconfig_match'] },
): CarvedContainerRecord {
  const cfg = cfgObj.value;
  const hc = hcObj?.value;
  const warn: Warn = () => {};
  const id = getStr(cfg, 'ID', warn) ?? '';
  const state = getObj(cfg, 'State', warn);
  const config = getObj(cfg, 'Config', warn);
  const labels = getStrMap(config, 'Labels', warn, MAX_LABELS);
  const logConfig = getObj(hc, 'LogConfig', warn);
  const restart = getObj(hc, 'RestartPolicy', warn);
  const rec: CarvedContainerRecord = {
    id,
    idValid: HEX64.test(id),
    layout: typeof cfg.StreamConfig === 'object' || 'MountPoints' in cfg ? 'v2' : 'v1',
    root: '',
    dir: '',
    configPath: where(cfgObj),
    hostConfigPath: hcObj ? where(hcObj) : undefined,
    name: (getStr(cfg, 'Name', warn) ?? '').replace(/^\//, ''),
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
    privileged: getBool(hc, 'Privileged', warn) ?? false,
    capAdd: getStrArray(hc, 'CapAdd', warn, MAX_ARGS),
    capDrop: getStrArray(hc, 'CapDrop', warn, MAX_ARGS),
    pidMode: getStr(hc, 'PidMode', warn) ?? '',
    ipcMode: getStr(hc, 'IpcMode', warn) ?? '',
    networkMode: getStr(hc, 'NetworkMode', warn) ?? '',
    mounts: mounts(cfg, warn),
    binds: getStrArray(hc, 'Binds', warn, MAX_ARGS),
    portBindings: ports(hc, warn),
    restartPolicy: { name: getStr(restart, 'Name', warn) ?? '', maximumRetryCount: getNum(restart, 'MaximumRetryCount', warn) },
    autoRemove: getBool(hc, 'AutoRemove', warn) ?? false,
    logDriver: hc ? getStr(logConfig, 'Type', warn) || 'json-file' : '',
    logOptions: getStrMap(logConfig, 'Config', warn, MAX_LABELS),
    logPath: getStr(cfg, 'LogPath', warn) ?? '',
    storageDriver: getStr(cfg, 'Driver', warn) ?? '',
    logFiles: [],
    localLogFiles: [],
    recovered: 'carved',
    carve_offset: cfgObj.offset?.toString(),
    carve_fs: cfgObj.fs,
    carve_fs_offset: cfgObj.fsOffset?.toString(),
    carve_via: cfgObj.via,
    carve_inode: cfgObj.inode,
    hostconfig_offset: hcObj?.offset?.toString(),
    hostconfig_match: hcObj ? opts.hostconfigMatch : undefined,
    live: opts.live,
    carve_sha256: cfgObj.sha256,
    duplicates: cfgObj.duplicates,
  };
  rec.status = deriveStatus(rec);
  return rec;
}

/** created / started / finished events of a carved container (source carve:docker-config). */
export function carvedContainerEvents(rec: CarvedContainerRecord, host: string): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  const label = `${rec.name || '?'} (${rec.id.slice(0, 12)})`;
  const base = {
    source: CARVE_CONFIG_SOURCE,
    host,
    container_id: rec.id,
    container_name: rec.name || undefined,
    path: rec.configPath,
    inode: rec.carve_inode !== undefined ? BigInt(rec.carve_inode) : undefined,
    offset: rec.carve_offset !== undefined ? Number(rec.carve_offset) : undefined,
  };
  const attrs: Record<string, unknown> = {
    recovered: 'carved',
    via: rec.carve_via,
    fs: rec.carve_fs,
    fs_offset: rec.carve_fs_offset,
    image: rec.imageName,
    image_id: rec.imageId,
    status: rec.status,
    live: rec.live,
    sha256: rec.carve_sha256,
  };
  const what = rec.live ? 'earlier state of live container' : 'removed container';
  if (rec.created.ns !== undefined) {
    out.push({
      ...base,
      time: rec.created.ns,
      timestamp_desc: TimeDesc.creation,
      message: `Carved config (${what}) ${label} created from image ${rec.imageName || rec.imageId || '?'}`,
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
      message: `Carved config (${what}) ${label} started` + (cmd ? `: ${cmd.slice(0, 512)}` : ''),
      raw_time: rec.started.raw,
      attrs: { ...attrs, event: 'started', field: 'State.StartedAt', pid: rec.pid, restart_count: rec.restartCount },
    });
  }
  if (rec.finished.ns !== undefined) {
    let msg = `Carved config (${what}) ${label} finished, exit code ${rec.exitCode ?? '?'}`;
    if (rec.oomKilled) msg += ', OOMKilled';
    if (rec.error) msg += `, error: ${rec.error.slice(0, 512)}`;
    out.push({
      ...base,
      time: rec.finished.ns,
      timestamp_desc: TimeDesc.end,
      message: msg,
      raw_time: rec.finished.raw,
      attrs: { ...attrs, event: 'finished', field: 'State.FinishedAt', exit_code: rec.exitCode, oom_killed: rec.oomKilled },
    });
  }
  return out;
}
