// The static list of host collectors that only add timeline events (the Docker collector, which also builds the
// container and image inventories, is called by triage directly). Order does not matter for output: the timeline
// sorts everything. Add a collector by adding one entry here.
import { journaldCollector } from './journald/index.js';
import type { CollectorContext, EventSource } from './types.js';
import { auditCollector } from './host-logs/audit.js';
import { shellHistoryCollector } from './host-logs/shell-history.js';
import { authLogCollector, syslogCollector } from './host-logs/syslog.js';
import { utmpCollector } from './host-logs/utmp.js';

export interface HostCollectorResult {
  sources: EventSource[];
}

export interface HostCollector {
  /** Short name used in problems and the manifest, e.g. `journald`. */
  name: string;
  collect(ctx: CollectorContext): HostCollectorResult;
}

export const HOST_COLLECTORS: readonly HostCollector[] = [
  journaldCollector,
  syslogCollector,
  authLogCollector,
  auditCollector,
  utmpCollector,
  shellHistoryCollector,
];
