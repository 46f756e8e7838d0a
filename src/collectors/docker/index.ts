// Public surface of the Docker state collector (the json-file log reader lives in json-log.ts).
export { collectDocker, type DockerCollection, type LogFileRef } from './collect.js';
export { discoverDockerRoots, looksLikeDataRoot, type DataRoot } from './discover.js';
export { CONTAINER_COLUMNS, containerRow } from './container-row.js';
export { containerEvents, containerMacb } from './container-events.js';
export {
  deriveStatus,
  readContainer,
  readContainers,
  type ContainerRecord,
  type LayerMount,
  type MountRecord,
  type PortBinding,
  type TimeValue,
} from './containers.js';
export { chainIds, imageEvents, readImages, type ImageHistoryStep, type ImageLayer, type ImageRecord } from './images.js';
