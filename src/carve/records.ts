// Carved config.v2.json / hostconfig.json objects -> container inventory rows and timeline events, with the same
// field extraction and lifecycle events as the live reader (container-config.ts containerFromConfig,
// container-events.ts lifecycleEvents), plus where the bytes were found. A carved config is what Docker wrote at some
// moment: a removed container, or an older state of a live one (Docker rewrites config.v2.json through a temporary
// file, leaving earlier versions in free blocks).
// References: moby/moby container/container.go, container/state.go, api/types/container/hostconfig.go.
import type { TimelineEvent } from '../events/event.js';
import { containerLabel, lifecycleEvents } from '../collectors/docker/container-events.js';
import { type ContainerRecord, containerFromConfig, parseMountPoints } from '../collectors/docker/containers.js';
import { getStr, HEX64, type Warn } from '../collectors/docker/json-guard.js';
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
  const place = {
    id,
    idValid: HEX64.test(id),
    layout: typeof cfg.StreamConfig === 'object' || 'MountPoints' in cfg ? ('v2' as const) : ('v1' as const),
    root: '',
    dir: '',
    configPath: where(cfgObj),
    hostConfigPath: hcObj ? where(hcObj) : undefined,
  };
  const base = containerFromConfig(place, cfg, hc, warn, warn, () => parseMountPoints(cfg, warn));
  // Without a hostconfig.json the carved row names no log driver (the live reader assumes dockerd's default).
  if (!hc) base.logDriver = '';
  const rec: CarvedContainerRecord = {
    ...base,
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
  return rec;
}

/** created / started / finished events of a carved container (source carve:docker-config). */
export function carvedContainerEvents(rec: CarvedContainerRecord, host: string): TimelineEvent[] {
  const label = containerLabel(rec);
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
  return lifecycleEvents(rec, base, attrs, `Carved config (${what}) ${label}`);
}
