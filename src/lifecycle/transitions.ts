// Observations -> transitions, and the per-container checks made on them (restart numbering, conflicts with the
// config). Pure functions of their arguments: the builder (reconstruct.ts) calls them once per container at finish(),
// and tests call clusterTransitions directly.
import type { ContainerRecord } from '../collectors/docker/containers.js';
import {
  MAX_EVIDENCE_IDS_PER_TRANSITION,
  TRANSITION_KINDS,
  type Confidence,
  type Observation,
  type Transition,
  type TransitionKind,
} from './model.js';
import { formatNs } from './time.js';

const KIND_ORDER = new Map<TransitionKind, number>(TRANSITION_KINDS.map((k, i) => [k, i]));
/** Which observation gives a transition its time: the most precise family first. */
const FAMILY_PRIORITY: Record<string, number> = { config: 0, daemon: 1, carve: 2, 'container-log': 3, 'shell-history': 4, state: 5 };

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
export function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortTransitions(ts: Transition[]): void {
  ts.sort((a, b) => cmpBig(a.time, b.time) || (KIND_ORDER.get(a.kind) as number) - (KIND_ORDER.get(b.kind) as number));
}

interface Cluster {
  kind: TransitionKind;
  anchor: bigint;
  obs: Observation[];
  channels: Set<string>;
}

/**
 * Observations -> transitions. Sorted by time; each joins the open transition of its kind when it lies within
 * `tol` of that transition's first observation, its channel is not in it yet, and (for started/died) no
 * transition of the opposite phase came after it. created and removed happen once per id: all their
 * observations join one transition (a conflict when they disagree by more than tol).
 */
export function clusterTransitions(obs: Observation[], tol: bigint, conflicts: string[]): Transition[] {
  // State.StartedAt and State.FinishedAt describe the same (last) run. dockerd records StartedAt after the start
  // returns, so a process that exits within milliseconds can get a FinishedAt before its StartedAt; sort such a
  // StartedAt just before the FinishedAt so the pair stays one run (its time is kept; the conflict is reported).
  const sortTime = new Map<Observation, bigint>();
  for (const f of obs) {
    if (f.kind !== 'died' || !f.channel.endsWith(':State.FinishedAt')) continue;
    const fam = f.channel.slice(0, f.channel.indexOf(':'));
    const s = obs.find((o) => o.kind === 'started' && o.channel === `${fam}:State.StartedAt`);
    if (s && f.time < s.time && s.time - f.time <= tol) sortTime.set(s, f.time - 1n);
  }
  const at = (o: Observation): bigint => sortTime.get(o) ?? o.time;
  const sorted = obs.slice().sort((a, b) => cmpBig(at(a), at(b)) || (KIND_ORDER.get(a.kind) as number) - (KIND_ORDER.get(b.kind) as number) || cmp(a.channel, b.channel));
  const clusters: Cluster[] = [];
  const lastOfKind = new Map<TransitionKind, Cluster>();
  let lastPhase: Cluster | undefined;
  for (const o of sorted) {
    const prev = lastOfKind.get(o.kind);
    let join = false;
    if (prev) {
      if (o.kind === 'created' || o.kind === 'removed') join = true;
      else if (at(o) - prev.anchor <= tol && !prev.channels.has(o.channel)) {
        join = o.kind === 'started' || o.kind === 'died' ? lastPhase === prev : true;
      }
    }
    if (join && prev) {
      prev.obs.push(o);
      prev.channels.add(o.channel);
      continue;
    }
    const c: Cluster = { kind: o.kind, anchor: at(o), obs: [o], channels: new Set([o.channel]) };
    clusters.push(c);
    lastOfKind.set(o.kind, c);
    if (o.kind === 'started' || o.kind === 'died') lastPhase = c;
  }
  return clusters.map((c) => toTransition(c, tol, conflicts, sortTime));
}

function toTransition(c: Cluster, tol: bigint, conflicts: string[], raced: Map<Observation, bigint>): Transition {
  // A StartedAt recorded after a fast exit (see clusterTransitions) does not give the start its time when another
  // observation of the same start does.
  const rank = (o: Observation): number => (FAMILY_PRIORITY[o.family] ?? 9) + (raced.has(o) ? 10 : 0);
  const obs = c.obs.slice().sort((a, b) => rank(a) - rank(b) || cmpBig(a.time, b.time));
  const main = obs[0];
  const families = new Set(obs.map((o) => o.family));
  const requestOnly = obs.every((o) => o.request === true);
  let confidence: Confidence = families.size >= 2 ? 'corroborated' : 'observed';
  const times = obs.map((o) => o.time);
  const spread = times.reduce((m, t) => (t > m ? t : m), times[0]) - times.reduce((m, t) => (t < m ? t : m), times[0]);
  if ((c.kind === 'created' || c.kind === 'removed') && spread > tol) {
    conflicts.push(`${c.kind} times disagree by ${formatSpread(spread)}: ${obs.map((o) => `${o.source} ${formatNs(o.time)}`).join(', ')}`);
    // only observations within tol of the main one corroborate it
    const near = new Set(obs.filter((o) => absDiff(o.time, main.time) <= tol).map((o) => o.family));
    confidence = near.size >= 2 ? 'corroborated' : 'observed';
  }
  const sources = [...new Set(obs.map((o) => o.source))].sort();
  const ev = obs.slice(0, MAX_EVIDENCE_IDS_PER_TRANSITION).map((o) => {
    const x: Transition['evidence'][number] = { source: o.source, path: o.path, time: formatNs(o.time) };
    if (o.eventId !== undefined) x.id = o.eventId;
    if (o.detail !== undefined) x.detail = o.detail;
    return x;
  });
  const t: Transition = { kind: c.kind, time: main.time, confidence, sources, evidence: ev };
  if (obs.length > MAX_EVIDENCE_IDS_PER_TRANSITION) t.more_evidence = obs.length - MAX_EVIDENCE_IDS_PER_TRANSITION;
  const exit = obs.find((o) => o.exitCode !== undefined);
  if (exit) t.exit_code = exit.exitCode;
  const codes = new Set(obs.filter((o) => o.exitCode !== undefined).map((o) => o.exitCode));
  if (codes.size > 1) conflicts.push(`exit codes disagree at ${formatNs(main.time)}: ${[...codes].join(' vs ')}`);
  const sig = obs.find((o) => o.signal !== undefined);
  if (sig) t.signal = sig.signal;
  if (requestOnly) {
    t.request_only = true;
    t.note = 'only a command typed in a shell history states it (a request, not proof)';
  }
  return t;
}

function absDiff(a: bigint, b: bigint): bigint {
  return a > b ? a - b : b - a;
}

function formatSpread(ns: bigint): string {
  return `${Number(ns / 1_000_000n) / 1000} s`;
}

/** Numbers the starts; a start after a death is a restart, by policy unless a user command asked for it. */
export function numberStarts(ts: Transition[], policy: string): void {
  let n = 0;
  let died = false;
  const auto = policy === 'always' || policy === 'unless-stopped' || policy === 'on-failure';
  for (const t of ts) {
    if (t.kind === 'died') died = true;
    if (t.kind !== 'started') continue;
    t.start_number = ++n;
    if (n > 1 && died) {
      t.restart = true;
      const byUser = t.evidence.some((e) => e.source === 'bash_history');
      t.by = byUser ? 'user' : auto ? 'policy' : 'unknown';
    }
    died = false;
  }
}

/** Conflicts between a present container's config and the transitions the other evidence shows. */
export function configConflicts(rec: ContainerRecord, ts: Transition[], conflicts: string[]): void {
  const starts = ts.filter((t) => t.kind === 'started');
  const policyRestarts = starts.filter((t) => t.restart && t.by !== 'user').length;
  const rc = rec.restartCount;
  if (rc !== undefined && starts.length > 0) {
    // RestartCount is raised when the restart is scheduled: a container caught `restarting` has one pending.
    const expected = rec.restarting ? rc - 1 : rc;
    if (expected !== policyRestarts) {
      conflicts.push(
        `RestartCount ${rc} in config${rec.restarting ? ' (restarting: one restart pending)' : ''} but ${policyRestarts} ` +
          `policy restart${policyRestarts === 1 ? '' : 's'} in the evidence (${starts.length} start${starts.length === 1 ? '' : 's'})` +
          (expected > policyRestarts ? '; older starts may be in rotated-away or missing logs' : '; a manual start resets the count'),
      );
    }
  }
  const s = rec.started.ns;
  const f = rec.finished.ns;
  if (s !== undefined && f !== undefined && f < s && !rec.running && !rec.restarting) {
    conflicts.push(
      `State.FinishedAt ${rec.finished.raw} is before State.StartedAt ${rec.started.raw} while not running` +
        (s - f <= 2_000_000_000n ? ' (dockerd records StartedAt after a very fast exit; kept as one run)' : ''),
    );
  }
  const lastStart = starts[starts.length - 1];
  const lastDie = [...ts].reverse().find((t) => t.kind === 'died');
  if (rec.running && !rec.restarting && lastDie && lastStart && lastDie.time > lastStart.time) {
    conflicts.push(`config says running, but the evidence shows it died at ${formatNs(lastDie.time)} after its last start`);
  }
  if (!rec.running && rec.started.zero && starts.some((t) => t.confidence !== 'inferred' && !t.request_only)) {
    conflicts.push('config says never started, but starts are recorded');
  }
  if (rec.oomKilled && !ts.some((t) => t.kind === 'oom')) conflicts.push('State.OOMKilled is true but no OOM time is known');
}
