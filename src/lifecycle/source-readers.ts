// lifecycle() readers for the host-log sources: the full read of the source, filtered to what lifecycles use.
// Host logs are therefore read twice per triage (once here, once by the timeline); their daemon and history
// events are few, so the pre-pass keeps only those. Journald entries of Docker's log driver keep only the first
// and last entry per container (a per-container map, capped at MAX_JOURNALD_LOG_CONTAINERS).
import type { TimelineEvent } from '../events/event.js';
import { daemonEventFromMessage, isDaemonUnit } from '../collectors/daemon-events/daemon-events.js';

/** Containers whose journald log-driver edges one journal file tracks. */
export const MAX_JOURNALD_LOG_CONTAINERS = 100_000;

type Open = () => AsyncIterable<TimelineEvent[]>;

/** Daemon events that name a container (docker.log, syslog, daemon.log ...). */
export function daemonEventsOnly(open: Open): Open {
  return async function* () {
    for await (const batch of open()) {
      const keep = batch.filter((ev) => ev.container_id !== undefined && ev.attrs?.event_kind !== undefined);
      if (keep.length > 0) yield keep;
    }
  };
}

/** Shell-history commands of container tools. */
export function dockerCommandsOnly(open: Open): Open {
  return async function* () {
    for await (const batch of open()) {
      const keep = batch.filter((ev) => ev.attrs?.docker_command === true);
      if (keep.length > 0) yield keep;
    }
  };
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

/**
 * journald: dockerd/containerd unit messages as annotated copies (same source, path, offset and time as the
 * timeline event, so the same id; container_id and the daemon attrs added), and the first and last log-driver
 * entry of each container.
 */
export function journaldLifecycle(open: Open, maxContainers = MAX_JOURNALD_LOG_CONTAINERS): Open {
  return async function* () {
    const edges = new Map<string, [TimelineEvent, TimelineEvent]>();
    for await (const batch of open()) {
      const keep: TimelineEvent[] = [];
      for (const ev of batch) {
        if (ev.source === 'docker:journald-log') {
          const k = ev.container_id ?? `name:${ev.container_name ?? ''}`;
          const cur = edges.get(k);
          if (!cur) {
            if (edges.size >= maxContainers) continue; // beyond the cap: only the daemon events count
            edges.set(k, [ev, ev]);
          } else {
            if (ev.time < cur[0].time) cur[0] = ev;
            if (ev.time >= cur[1].time) cur[1] = ev;
          }
          continue;
        }
        const a = ev.attrs ?? {};
        const unit = str(a._SYSTEMD_UNIT) ?? str(a.SYSLOG_IDENTIFIER);
        if (!isDaemonUnit(unit)) continue;
        const de = daemonEventFromMessage(ev.message, unit);
        if (!de?.container_id) continue;
        keep.push({ ...ev, container_id: de.container_id, attrs: { ...de.attrs } });
      }
      if (keep.length > 0) yield keep;
    }
    const out: TimelineEvent[] = [];
    for (const [a, b] of edges.values()) {
      out.push(a);
      if (b !== a) out.push(b);
    }
    if (out.length > 0) yield out;
  };
}
