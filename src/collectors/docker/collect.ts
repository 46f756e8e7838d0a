// The Docker state collector: discovers data roots, reads container and image inventories, and returns their
// events as small in-memory sources plus the list of json-file logs for the log reader.
// References: see discover.ts, containers.ts, images.ts; docs/formats/docker-state.md.
import { errorMessage, type TimelineEvent } from '../../events/event.js';
import { arraySource, type CollectorContext, type EventSource } from '../types.js';
import { containerEvents, containerMacb } from './container-events.js';
import { readContainers, type ContainerRecord } from './containers.js';
import { discoverDockerRoots, type DataRoot } from './discover.js';
import { imageEvents, readImages, type ImageRecord } from './images.js';
// --- issue 6 wiring: local-driver logs, writable-layer changes, volume files ---
import { listCacheLogFiles, localLogSource, type LocalLogFileRef } from './local-log.js';
import { changeEvents, containerDiff, type ContainerDiff } from './overlay-diff.js';
import { volumeEvents } from './volumes.js';

export interface DockerCollectOptions {
  /** sha256 of every added/changed regular file of the writable layers (`--hash`). */
  hashChanges?: boolean;
  /** Containers and images only: no events, no layer diffs, no volume walk (`flotsam containers`). */
  inventoryOnly?: boolean;
}
// --- end issue 6 wiring ---

export const COMPONENT = 'docker';

export interface LogFileRef {
  containerId: string;
  containerName: string;
  /** Path inside the evidence. */
  path: string;
  driver: 'json-file';
}

export interface DockerCollection {
  roots: DataRoot[];
  containers: ContainerRecord[];
  images: ImageRecord[];
  sources: EventSource[];
  /** Per container, oldest rotation first and the current file last. */
  logFiles: LogFileRef[];
  /** Writable-layer change sets by container id (overlay2 containers whose layer is in the evidence). */
  diffs: Map<string, ContainerDiff>;
}

export function collectDocker(ctx: CollectorContext, options: DockerCollectOptions = {}): DockerCollection {
  const roots = discoverDockerRoots(ctx);
  const containers: ContainerRecord[] = [];
  const images: ImageRecord[] = [];
  const sources: EventSource[] = [];
  const logFiles: LogFileRef[] = [];
  const diffs = new Map<string, ContainerDiff>();
  for (const root of roots) {
    if (!root.exists) continue;
    let rc: ContainerRecord[] = [];
    let ri: ImageRecord[] = [];
    try {
      rc = readContainers(ctx, root.path);
    } catch (err) {
      ctx.problems.warn(COMPONENT, root.path, `containers: unexpected error: ${errorMessage(err)}`, ctx.host);
    }
    try {
      ri = readImages(ctx, root.path);
    } catch (err) {
      ctx.problems.warn(COMPONENT, root.path, `images: unexpected error: ${errorMessage(err)}`, ctx.host);
    }
    containers.push(...rc);
    images.push(...ri);
    if (options.inventoryOnly) continue;
    const cEvents: TimelineEvent[] = [];
    const mEvents: TimelineEvent[] = [];
    for (const c of rc) {
      cEvents.push(...containerEvents(c, ctx.host, ctx.problems));
      mEvents.push(...containerMacb(ctx, c));
      for (const path of c.logFiles) {
        logFiles.push({ containerId: c.id, containerName: c.name, path, driver: 'json-file' });
      }
    }
    const iEvents: TimelineEvent[] = [];
    for (const img of ri) iEvents.push(...imageEvents(img, ctx.host));
    sources.push(arraySource(`docker:container:${root.path}`, cEvents, { lifecycle: true })); // issue 6: lifecycle evidence
    sources.push(arraySource(`docker:image:${root.path}`, iEvents));
    sources.push(arraySource(`fs:macb:docker:${root.path}`, mEvents));
    // --- issue 6 wiring ---
    const fEvents: TimelineEvent[] = [];
    for (const c of rc) {
      const local: LocalLogFileRef[] = c.localLogFiles.map((path) => ({ path, containerId: c.id, containerName: c.name, kind: 'local' }));
      if (local.length > 0) sources.push(localLogSource(ctx, local));
      const cache: LocalLogFileRef[] = listCacheLogFiles(ctx.vfs, c.dir).map((path) => ({ path, containerId: c.id, containerName: c.name, kind: 'cache' }));
      if (cache.length > 0) sources.push(localLogSource(ctx, cache));
      try {
        const d = containerDiff(ctx.vfs, ctx.problems, ctx.host, c, { hash: options.hashChanges });
        if (d) {
          diffs.set(c.id, d);
          fEvents.push(...changeEvents(c, d, ctx.host));
        }
      } catch (err) {
        ctx.problems.warn(COMPONENT, c.dir, `writable-layer diff: unexpected error: ${errorMessage(err)}`, ctx.host);
      }
    }
    sources.push(arraySource(`docker:fs-change:${root.path}`, fEvents));
    try {
      sources.push(arraySource(`docker:volume-file:${root.path}`, volumeEvents(ctx, root.path, rc)));
    } catch (err) {
      ctx.problems.warn(COMPONENT, root.path, `volumes: unexpected error: ${errorMessage(err)}`, ctx.host);
    }
    // --- end issue 6 wiring ---
  }
  return { roots, containers, images, sources, logFiles, diffs };
}
