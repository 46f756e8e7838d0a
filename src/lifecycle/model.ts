// The lifecycle model: what flotsam claims about each container's life, and the evidence behind every claim.
// docs/formats/lifecycle.md describes the rules (confidence, corroboration, conflicts, removed containers).

/** Transition kinds, in the order they sort when two share a time. */
export const TRANSITION_KINDS = ['created', 'started', 'exec', 'paused', 'unpaused', 'stopped', 'oom', 'died', 'removed'] as const;
export type TransitionKind = (typeof TRANSITION_KINDS)[number];

/**
 * observed: one independent source; corroborated: two or more independent sources agree within
 * CORROBORATION_TOLERANCE_NS; inferred: no source states it, flotsam derives it (first log line => started,
 * no containers/<id> directory => removed).
 */
export type Confidence = 'observed' | 'corroborated' | 'inferred';

/** Two observations of the same transition from independent sources within this many ns corroborate each other. */
export const CORROBORATION_TOLERANCE_NS = 2_000_000_000n;
/** A `docker run/create --name X` history line links X to an id first seen within this window after it. */
export const HISTORY_LINK_WINDOW_NS = 10_000_000_000n;
/** Containers (ids and name-only entries) tracked by one pre-pass. */
export const MAX_LIFECYCLE_CONTAINERS = 100_000;
/** Timed observations kept per container (daemon events of a flapping container are the large ones). */
export const MAX_OBSERVATIONS_PER_CONTAINER = 20_000;
/** Evidence ids listed per transition (the rest are counted). */
export const MAX_EVIDENCE_IDS_PER_TRANSITION = 32;

/** One piece of evidence for one transition, before clustering. */
export interface Observation {
  kind: TransitionKind;
  time: bigint;
  /** Independence family: observations of one family never corroborate each other (`daemon`, `config`, ...). */
  family: string;
  /** Event source as written in the timeline (`docker:daemon`, `bash_history`, ...). */
  source: string;
  /** At most one observation per channel joins one transition (two shim starts are two starts). */
  channel: string;
  /** computeEventId of the timeline event; undefined for evidence that is not a timeline event. */
  eventId?: string;
  path: string;
  /** A request (shell history), not proof that it happened. */
  request?: boolean;
  exitCode?: number;
  signal?: string;
  detail?: string;
  /** Added by the builder: the lifecycle source's own evidence (orphans) carries its text here. */
  note?: string;
}

export interface Evidence {
  id?: string;
  source: string;
  path: string;
  time?: string;
  detail?: string;
}

export interface Transition {
  kind: TransitionKind;
  /** ns since the epoch (for an inferred removal: the last evidence, a lower bound). */
  time: bigint;
  confidence: Confidence;
  /** Sources that state it (sorted). */
  sources: string[];
  evidence: Evidence[];
  /** Evidence beyond MAX_EVIDENCE_IDS_PER_TRANSITION, counted only. */
  more_evidence?: number;
  exit_code?: number;
  signal?: string;
  /** For `started`: the n-th start (1-based); `restart` when it follows a death; `by` policy/user/unknown. */
  start_number?: number;
  restart?: boolean;
  by?: 'policy' | 'user' | 'unknown';
  /** Why an inferred transition was inferred; extra notes. */
  note?: string;
  /** Only shell-history requests state it (a command typed, not proof it succeeded). */
  request_only?: boolean;
  /** A removal the evidence at capture contradicts (containers/<id> still holds its config). */
  contradicted?: boolean;
}

export type RemovedState = 'yes' | 'no' | 'inferred' | 'unknown';

export interface Lifecycle {
  host: string;
  /** Full id, or the prefix known, or '' for a name-only container (shell history without a link). */
  id: string;
  id_complete: boolean;
  names: string[];
  image: string;
  /** containers/<id> with a usable config exists in the evidence. */
  present: boolean;
  state_at_capture: string;
  restart_policy?: string;
  restart_count_config?: number;
  transitions: Transition[];
  removed: RemovedState;
  first_seen?: bigint;
  last_seen?: bigint;
  conflicts: string[];
  /** Events used per source (sorted keys). */
  evidence_counts: Record<string, number>;
  /** Paths that prove the container existed without a time (orphan layerdb mount, leftover log dir, ...). */
  traces: Array<{ kind: string; path: string; time?: string; detail?: string }>;
  /** How names were linked to this id (e.g. shell history paired by time). */
  name_links: string[];
}
