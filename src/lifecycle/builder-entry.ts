// What the lifecycle builder keeps per container while evidence streams in, and its limits: shared by the builder
// (reconstruct.ts) and the removal verdict (removal.ts), which reads an entry but never changes the builder.
import type { ContainerRecord } from '../collectors/docker/containers.js';
import {
  CORROBORATION_TOLERANCE_NS,
  HISTORY_LINK_WINDOW_NS,
  MAX_LIFECYCLE_CONTAINERS,
  MAX_OBSERVATIONS_PER_CONTAINER,
  type Observation,
} from './model.js';

export interface LifecycleLimits {
  maxContainers: number;
  maxObservationsPerContainer: number;
  toleranceNs: bigint;
  historyLinkWindowNs: bigint;
}

export const DEFAULT_LIFECYCLE_LIMITS: Readonly<LifecycleLimits> = Object.freeze({
  maxContainers: MAX_LIFECYCLE_CONTAINERS,
  maxObservationsPerContainer: MAX_OBSERVATIONS_PER_CONTAINER,
  toleranceNs: CORROBORATION_TOLERANCE_NS,
  historyLinkWindowNs: HISTORY_LINK_WINDOW_NS,
});

export interface Presence {
  time: bigint;
  source: string;
  eventId: string;
  path: string;
}

export interface Entry {
  /** id (lowercase hex, full or prefix) or `name:<name>` */
  key: string;
  id?: string;
  names: Set<string>;
  image?: string;
  obs: Observation[];
  dropped: number;
  firstLog?: Presence;
  lastLog?: Presence;
  counts: Map<string, number>;
  foreign: boolean;
  record?: ContainerRecord;
  traces: Array<{ kind: string; path: string; time?: bigint; detail?: string }>;
  nameLinks: string[];
  /** A writable layer without an owner: the container is known only by that directory (no id, no name). */
  anonymousLayer?: boolean;
}
