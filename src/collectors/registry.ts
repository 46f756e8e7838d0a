// The static list of host collectors that only add timeline events (the Docker collector, which also builds the
// container and image inventories, is called by triage directly). Order does not matter for output: the timeline
// sorts everything. Add a collector by adding one entry here.
import type { CollectorContext, EventSource } from './types.js';

export interface HostCollectorResult {
  sources: EventSource[];
}

export interface HostCollector {
  /** Short name used in problems and the manifest, e.g. `journald`. */
  name: string;
  collect(ctx: CollectorContext): HostCollectorResult;
}

export const HOST_COLLECTORS: readonly HostCollector[] = [];
