// The one event model every collector emits and every writer reads.
// References: Timesketch "import from JSON/CSV" (message, datetime, timestamp_desc, timestamp in µs);
// plaso `plaso/lib/definitions.py` TIME_DESCRIPTION_* for timestamp_desc vocabulary.

/** plaso's timestamp_desc vocabulary, plus the few flotsam adds where none fits. */
export const TimeDesc = {
  creation: 'Creation Time',
  start: 'Start Time',
  end: 'End Time',
  modification: 'Content Modification Time',
  metadataModification: 'Metadata Modification Time',
  lastAccess: 'Last Access Time',
  lastUpdate: 'Last Update Time',
  recorded: 'Event Recorded Time',
  written: 'Written Time',
} as const;

export interface TimelineEvent {
  /** UTC nanoseconds since the epoch. */
  time: bigint;
  timestamp_desc: string;
  /** Artifact kind, e.g. `docker:container`, `docker:json-log`, `fs:macb`. */
  source: string;
  host: string;
  container_id?: string;
  container_name?: string;
  message: string;
  /** Provenance: the file the value was read from (path inside the evidence), inode where known. */
  path: string;
  inode?: bigint;
  line?: number;
  offset?: number;
  /** The time exactly as the artifact stored it. */
  raw_time: string;
  /** Kind-specific fields (JSON outputs only). */
  attrs?: Record<string, unknown>;
  /** Cache of computeEventId (src/events/event-id.ts); set by eventIdOf, never by collectors. */
  event_id?: string;
}

export interface Problem {
  /** Path inside the evidence (or the evidence source itself). */
  path: string;
  reason: string;
  /** Which part of flotsam met it, e.g. `docker`, `json-log`, `vfs`. */
  component: string;
  severity: 'warning' | 'error';
  host?: string;
}

/** Collects problems; the CLI prints each as a warning on stderr. */
export class ProblemLog {
  readonly problems: Problem[] = [];
  private readonly listeners: Array<(p: Problem) => void> = [];

  add(p: Problem): void {
    this.problems.push(p);
    for (const l of this.listeners) l(p);
  }

  warn(component: string, path: string, reason: string, host?: string): void {
    this.add({ component, path, reason, severity: 'warning', host });
  }

  onProblem(listener: (p: Problem) => void): void {
    this.listeners.push(listener);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
