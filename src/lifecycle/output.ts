// Lifecycles as timeline events (source `lifecycle`), lifecycles.csv rows and lifecycles.json objects.
import type { TimelineEvent } from '../events/event.js';
import type { Lifecycle, Transition } from './model.js';
import { formatNs } from './time.js';

export const LIFECYCLE_SOURCE = 'lifecycle';

const DESC: Record<Transition['kind'], string> = {
  created: 'Creation Time',
  started: 'Start Time',
  exec: 'Event Recorded Time',
  paused: 'Event Recorded Time',
  unpaused: 'Event Recorded Time',
  stopped: 'Event Recorded Time',
  oom: 'End Time',
  died: 'End Time',
  removed: 'Deletion Time',
};

export function lifecycleLabel(lc: Pick<Lifecycle, 'names' | 'id'>): string {
  const name = lc.names[0] ?? '?';
  return lc.id ? `${name} (${lc.id.slice(0, 12)})` : `${name} (id unknown)`;
}

function transitionText(t: Transition): string {
  switch (t.kind) {
    case 'started':
      return t.restart ? `restarted${t.by === 'policy' ? ' by its restart policy' : t.by === 'user' ? ' by a user' : ''}` : 'started';
    case 'died':
      return `died${t.exit_code !== undefined ? ` with exit code ${t.exit_code}` : ' (exit code not recorded)'}${t.signal ? ` signal ${t.signal}` : ''}`;
    case 'stopped':
      return `stopped${t.signal ? ` (signal ${t.signal})` : ''}`;
    case 'oom':
      return 'OOM-killed';
    case 'exec':
      return 'exec';
    default:
      return t.kind;
  }
}

/** Timeline events of every transition. */
export function lifecycleEvents(lcs: Lifecycle[]): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  for (const lc of lcs) {
    lc.transitions.forEach((t, i) => {
      const detail =
        t.confidence === 'inferred'
          ? `inferred${t.note ? `: ${t.note}` : ''}`
          : `${t.confidence}: ${t.sources.join(', ')}${t.contradicted ? '; contradicted: the container still exists at capture' : ''}`;
      const attrs: Record<string, unknown> = {
        transition: t.kind,
        confidence: t.confidence,
        evidence_ids: t.evidence.filter((e) => e.id !== undefined).map((e) => e.id),
        evidence_sources: t.sources,
        container_names: lc.names,
        index: i,
      };
      if (t.exit_code !== undefined) attrs.exit_code = t.exit_code;
      if (t.signal !== undefined) attrs.signal = t.signal;
      if (t.start_number !== undefined) attrs.start_number = t.start_number;
      if (t.restart) attrs.restart_by = t.by;
      if (t.request_only) attrs.request_only = true;
      if (t.contradicted) attrs.contradicted = true;
      if (t.kind === 'removed' && t.confidence === 'inferred') attrs.time_is_lower_bound = true;
      if (!lc.present) attrs.container_removed = lc.removed;
      const ev: TimelineEvent = {
        time: t.time,
        timestamp_desc: DESC[t.kind],
        source: LIFECYCLE_SOURCE,
        host: lc.host,
        message: `Container ${lifecycleLabel(lc)} ${transitionText(t)} (${detail}) [${i + 1}/${lc.transitions.length}]`,
        path: t.evidence[0]?.path ?? '',
        raw_time: formatNs(t.time),
        attrs,
      };
      if (lc.id) ev.container_id = lc.id;
      if (lc.names[0]) ev.container_name = lc.names[0];
      out.push(ev);
    });
  }
  return out;
}

export const LIFECYCLE_COLUMNS = [
  'host', 'id', 'names', 'image', 'first_seen', 'last_seen', 'created', 'first_start', 'last_start', 'starts',
  'restarts_observed', 'restart_count_config', 'exits', 'oom', 'removed', 'state_at_capture', 'confidence',
  'conflicts', 'evidence',
] as const;

const t2s = (t: bigint | undefined): string => (t === undefined ? '' : formatNs(t));

/** One lifecycles.csv row. */
export function lifecycleRow(lc: Lifecycle): Record<(typeof LIFECYCLE_COLUMNS)[number], string> {
  const starts = lc.transitions.filter((t) => t.kind === 'started');
  const created = lc.transitions.find((t) => t.kind === 'created');
  const dies = lc.transitions.filter((t) => t.kind === 'died');
  const conf = new Map<string, number>();
  for (const t of lc.transitions) conf.set(`${t.kind}:${t.confidence}`, (conf.get(`${t.kind}:${t.confidence}`) ?? 0) + 1);
  return {
    host: lc.host,
    id: lc.id,
    names: lc.names.join(' '),
    image: lc.image,
    first_seen: t2s(lc.first_seen),
    last_seen: t2s(lc.last_seen),
    created: t2s(created?.time),
    first_start: t2s(starts[0]?.time),
    last_start: t2s(starts[starts.length - 1]?.time),
    starts: String(starts.length),
    restarts_observed: String(starts.filter((t) => t.restart).length),
    restart_count_config: lc.restart_count_config === undefined ? '' : String(lc.restart_count_config),
    exits: dies.map((t) => (t.exit_code === undefined ? '?' : String(t.exit_code))).join(' '),
    oom: lc.transitions.some((t) => t.kind === 'oom') ? 'yes' : 'no',
    removed: lc.removed,
    state_at_capture: lc.state_at_capture,
    confidence: [...conf].map(([k, v]) => `${k}=${v}`).join(' '),
    conflicts: lc.conflicts.join(' | '),
    evidence: Object.entries(lc.evidence_counts).map(([k, v]) => `${k}=${v}`).join(' '),
  };
}

/** lifecycles.json: times as RFC 3339 strings and ns strings (JSON has no 64-bit integers). */
export function lifecycleJson(lc: Lifecycle): Record<string, unknown> {
  return {
    ...lc,
    first_seen: t2s(lc.first_seen),
    first_seen_ns: lc.first_seen?.toString(),
    last_seen: t2s(lc.last_seen),
    last_seen_ns: lc.last_seen?.toString(),
    transitions: lc.transitions.map((t) => ({ ...t, time: formatNs(t.time), time_ns: t.time.toString() })),
  };
}

/** The lifecycles.csv row of a lifecycles.json object (merging the hosts of a multi-source run). */
export function lifecycleRowFromJson(j: Record<string, unknown>): Record<string, string> {
  const big = (v: unknown): bigint | undefined => (typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : undefined);
  const lc = {
    ...(j as unknown as Lifecycle),
    first_seen: big(j.first_seen_ns),
    last_seen: big(j.last_seen_ns),
    transitions: ((j.transitions as Array<Record<string, unknown>>) ?? []).map((t) => ({ ...(t as unknown as Transition), time: big(t.time_ns) ?? 0n })),
  };
  return lifecycleRow(lc);
}
