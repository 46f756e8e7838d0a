// The Docker state collector: discovers data roots, reads container and image inventories, and returns their
// events as small in-memory sources plus the list of json-file logs for the log reader.
// References: see discover.ts, containers.ts, images.ts; docs/formats/docker-state.md.
import { errorMessage, type TimelineEvent } from '../../events/event.js';
import { arraySource, type CollectorContext, type EventSource } from '../types.js';
import { containerEvents, containerMacb } from './container-events.js';
import { readContainers, type ContainerRecord } from './containers.js';
import { discoverDockerRoots, type DataRoot } from './discover.js';
import { imageEvents, readImages, type ImageRecord } from './images.js';

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
}

export function collectDocker(ctx: CollectorContext): DockerCollection {
  const roots = discoverDockerRoots(ctx);
  const containers: ContainerRecord[] = [];
  const images: ImageRecord[] = [];
  const sources: EventSource[] = [];
  const logFiles: LogFileRef[] = [];
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
    sources.push(arraySource(`docker:container:${root.path}`, cEvents));
    sources.push(arraySource(`docker:image:${root.path}`, iEvents));
    sources.push(arraySource(`fs:macb:docker:${root.path}`, mEvents));
    containers.push(...rc);
    images.push(...ri);
  }
  return { roots, containers, images, sources, logFiles };
}
