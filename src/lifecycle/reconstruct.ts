// The lifecycle builder: evidence events in (any order, any number of sources), one Lifecycle per container out.
// Memory: per container a summary (names, image, first/last log record) and its timed observations, capped at
// MAX_OBSERVATIONS_PER_CONTAINER (a problem names the container when the cap drops some); containers are capped
// at MAX_LIFECYCLE_CONTAINERS. Log records are never kept: only the first and the last per container.
//
// finish(): (1) id prefixes (journald CONTAINER_ID, history `docker rm 3f2a...`) merge into the one full id they
// start with; (2) names from shell history link to ids: a `docker run/create --name X` with no id known for X is
// paired with the one unnamed container first seen within HISTORY_LINK_WINDOW_NS after it; every other history
// line naming X goes to the container that held the name closest in time; (3) per container, observations are
// clustered into transitions (clusterTransitions) and checked for conflicts.
import type { ProblemLog, TimelineEvent } from '../events/event.js';
import type { ContainerRecord } from '../collectors/docker/containers.js';
import { FAMILY, sightings, type Sighting } from './observe.js';
import {
  CORROBORATION_TOLERANCE_NS,
  HISTORY_LINK_WINDOW_NS,
  MAX_EVIDENCE_IDS_PER_TRANSITION,
  MAX_LIFECYCLE_CONTAINERS,
  MAX_OBSERVATIONS_PER_CONTAINER,
  TRANSITION_KINDS,
  type Confidence,
  type Lifecycle,
  type Observation,
  type RemovedState,
  type Transition,
  type TransitionKind,
} from './model.js';
import { formatNs } from './time.js';

const COMPONENT = 'lifecycle';
const KIND_ORDER = new Map<TransitionKind, number>(TRANSITION_KINDS.map((k, i) => [k, i]));
/** Which observation gives a transition its time: the most precise family first. */
const FAMILY_PRIORITY: Record<string, number> = { config: 0, daemon: 1, carve: 2, 'container-log': 3, 'shell-history': 4, state: 5 };

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

interface Presence {
  time: bigint;
  source: string;
  eventId: string;
  path: string;
}

interface Entry {
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

export class LifecycleBuilder {
  private readonly entries = new Map<string, Entry>();
  private readonly limits: LifecycleLimits;
  private droppedContainers = 0;
  /** Evidence events seen (for stats). */
  evidenceEvents = 0;

  constructor(
    private readonly host: string,
    private readonly problems: ProblemLog,
    limits: Partial<LifecycleLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIFECYCLE_LIMITS, ...limits };
  }

  private entry(key: string, id: string | undefined): Entry | undefined {
    let e = this.entries.get(key);
    if (e) return e;
    if (this.entries.size >= this.limits.maxContainers) {
      if (this.droppedContainers++ === 0) {
        this.problems.warn(COMPONENT, '/', `more than ${this.limits.maxContainers} containers (MAX_LIFECYCLE_CONTAINERS); evidence of the rest ignored`, this.host);
      }
      return undefined;
    }
    e = { key, id, names: new Set(), obs: [], dropped: 0, counts: new Map(), foreign: false, traces: [], nameLinks: [] };
    this.entries.set(key, e);
    return e;
  }

  /** One evidence event (of any source; irrelevant events are ignored). */
  add(ev: TimelineEvent): void {
    const ss = sightings(ev);
    if (ss.length === 0) return;
    this.evidenceEvents++;
    for (const s of ss) this.addSighting(s);
  }

  addSighting(s: Sighting): void {
    const id = s.id?.toLowerCase();
    const key = id ?? (s.name !== undefined ? `name:${s.name}` : undefined);
    if (key === undefined) return;
    const e = this.entry(key, id);
    if (!e) return;
    if (s.name && id) e.names.add(s.name);
    else if (s.name) e.names.add(s.name);
    if (s.image && !e.image) e.image = s.image;
    if (s.foreign) e.foreign = true;
    for (const o of s.obs) {
      if (e.obs.length >= this.limits.maxObservationsPerContainer) {
        if (e.dropped++ === 0) {
          this.problems.warn(
            COMPONENT,
            o.path,
            `container ${key.slice(0, 64)}: more than ${this.limits.maxObservationsPerContainer} lifecycle observations (MAX_OBSERVATIONS_PER_CONTAINER); later ones ignored`,
            this.host,
          );
        }
        continue;
      }
      e.obs.push(o);
      e.counts.set(o.source, (e.counts.get(o.source) ?? 0) + 1);
    }
    const p = s.presence;
    if (p) {
      e.counts.set(p.source, (e.counts.get(p.source) ?? 0) + 1);
      if (!e.firstLog || p.time < e.firstLog.time) e.firstLog = p;
      if (!e.lastLog || p.time > e.lastLog.time) e.lastLog = p;
    }
  }

  /** A container whose containers/<id> directory holds a usable config (present at capture). */
  addRecord(rec: ContainerRecord): void {
    const e = this.entry(rec.id.toLowerCase(), rec.id.toLowerCase());
    if (!e) return;
    e.record = rec;
    if (rec.name) e.names.add(rec.name);
    if (rec.imageName) e.image = rec.imageName;
  }

  /** A trace without a time of its own (orphan layerdb mount, leftover log dir, Kubernetes log path ...). */
  addTrace(idOrName: { id?: string; name?: string }, kind: string, path: string, time?: bigint, foreign = false, detail?: string): void {
    const id = idOrName.id?.toLowerCase();
    const key = id ?? (idOrName.name !== undefined ? `name:${idOrName.name}` : undefined);
    if (key === undefined) return;
    const e = this.entry(key, id);
    if (!e) return;
    if (idOrName.name && id) e.names.add(idOrName.name);
    if (foreign) e.foreign = true;
    e.traces.push(detail === undefined ? { kind, path, time } : { kind, path, time, detail });
    e.counts.set(`trace:${kind}`, (e.counts.get(`trace:${kind}`) ?? 0) + 1);
  }

  /**
   * A storage-driver directory with an `-init` sibling that no layerdb entry owns: the writable layer of a
   * container whose id is lost. One lifecycle per directory (id '', no name), removed `inferred`.
   */
  addOrphanLayer(path: string, time?: bigint): void {
    const e = this.entry(`layer:${path}`, undefined);
    if (!e) return;
    e.anonymousLayer = true;
    const kind = 'orphan-layer-dir';
    e.traces.push({ kind, path, time, detail: 'writable layer (with an -init sibling) owned by no layerdb mounts entry' });
    e.counts.set(`trace:${kind}`, (e.counts.get(`trace:${kind}`) ?? 0) + 1);
  }

  finish(): Lifecycle[] {
    this.mergePrefixes();
    this.linkNames();
    const out: Lifecycle[] = [];
    for (const e of this.entries.values()) out.push(this.lifecycleOf(e));
    return out.sort((a, b) => cmpBig(a.first_seen ?? 0n, b.first_seen ?? 0n) || cmp(a.id, b.id) || cmp(a.names.join(','), b.names.join(',')));
  }

  private merge(from: Entry, into: Entry): void {
    for (const n of from.names) into.names.add(n);
    if (!into.image && from.image) into.image = from.image;
    for (const o of from.obs) {
      if (into.obs.length < this.limits.maxObservationsPerContainer) into.obs.push(o);
      else into.dropped++;
    }
    into.dropped += from.dropped;
    for (const [k, v] of from.counts) into.counts.set(k, (into.counts.get(k) ?? 0) + v);
    if (from.firstLog && (!into.firstLog || from.firstLog.time < into.firstLog.time)) into.firstLog = from.firstLog;
    if (from.lastLog && (!into.lastLog || from.lastLog.time > into.lastLog.time)) into.lastLog = from.lastLog;
    into.traces.push(...from.traces);
    into.nameLinks.push(...from.nameLinks);
    into.foreign ||= from.foreign;
    this.entries.delete(from.key);
  }

  private mergePrefixes(): void {
    const full = [...this.entries.values()].filter((e) => e.id !== undefined && e.id.length === 64);
    for (const e of [...this.entries.values()]) {
      if (e.id === undefined || e.id.length === 64) continue;
      const matches = full.filter((f) => (f.id as string).startsWith(e.id as string));
      if (matches.length === 1) this.merge(e, matches[0]);
      else if (matches.length > 1) {
        this.problems.warn(COMPONENT, '/', `id prefix ${e.id} matches ${matches.length} containers; kept on its own`, this.host);
      }
    }
  }

  private span(e: Entry): [bigint, bigint] | undefined {
    let lo: bigint | undefined;
    let hi: bigint | undefined;
    const see = (t: bigint): void => {
      if (lo === undefined || t < lo) lo = t;
      if (hi === undefined || t > hi) hi = t;
    };
    for (const o of e.obs) if (o.family !== FAMILY.history) see(o.time);
    if (e.firstLog) see(e.firstLog.time);
    if (e.lastLog) see(e.lastLog.time);
    if (e.record?.created.ns !== undefined) see(e.record.created.ns);
    return lo === undefined || hi === undefined ? undefined : [lo, hi];
  }

  private linkNames(): void {
    const nameEntries = [...this.entries.values()].filter((e) => e.id === undefined && !e.anonymousLayer);
    if (nameEntries.length === 0) return;
    const idEntries = [...this.entries.values()].filter((e) => e.id !== undefined);
    const spans = new Map<Entry, [bigint, bigint] | undefined>(idEntries.map((e) => [e, this.span(e)]));
    const tol = this.limits.toleranceNs;
    // (a) pair `docker run/create --name X` with an unnamed id first seen just after it
    for (const ne of nameEntries) {
      const name = [...ne.names][0];
      if (idEntries.some((e) => e.names.has(name))) continue;
      const creates = ne.obs.filter((o) => o.kind === 'created').sort((a, b) => cmpBig(a.time, b.time));
      for (const c of creates) {
        const cands = idEntries.filter((e) => {
          if (e.names.size > 0) return false;
          const sp = spans.get(e);
          return sp !== undefined && sp[0] >= c.time - tol && sp[0] <= c.time + this.limits.historyLinkWindowNs;
        });
        if (cands.length === 1) {
          const target = cands[0];
          target.names.add(name);
          const sp = spans.get(target) as [bigint, bigint];
          target.nameLinks.push(
            `name ${name} linked by time: \`${c.detail ?? 'docker run'} --name ${name}\` in ${c.path} at ${formatNs(c.time)}, ` +
              `first evidence of ${(target.id as string).slice(0, 12)} at ${formatNs(sp[0])}`,
          );
        } else if (cands.length > 1) {
          ne.nameLinks.push(
            `name ${name} not linked: ${cands.length} unnamed containers appear within the link window after ${formatNs(c.time)} ` +
              `(${cands.map((x) => (x.id as string).slice(0, 12)).join(', ')})`,
          );
        }
      }
    }
    // (b) every name-only observation goes to the id that held the name closest in time
    for (const ne of nameEntries) {
      const name = [...ne.names][0];
      const holders = idEntries.filter((e) => e.names.has(name));
      if (holders.length === 0) continue;
      const rest: Observation[] = [];
      for (const o of ne.obs) {
        let best: Entry | undefined;
        let bestD: bigint | undefined;
        for (const h of holders) {
          const sp = spans.get(h);
          const d = sp === undefined ? 0n : o.time < sp[0] ? sp[0] - o.time : o.time > sp[1] ? o.time - sp[1] : 0n;
          if (bestD === undefined || d < bestD) {
            best = h;
            bestD = d;
          }
        }
        if (best) {
          if (best.obs.length < this.limits.maxObservationsPerContainer) best.obs.push(o);
          best.counts.set(o.source, (best.counts.get(o.source) ?? 0) + 1);
        } else rest.push(o);
      }
      ne.obs = rest;
      if (holders.length === 1) {
        const h = holders[0];
        if (!h.image && ne.image) h.image = ne.image;
        h.traces.push(...ne.traces);
      }
      if (ne.obs.length === 0 && !ne.firstLog && (holders.length === 1 || ne.traces.length === 0)) this.entries.delete(ne.key);
    }
  }

  private lifecycleOf(e: Entry): Lifecycle {
    const rec = e.record;
    const conflicts: string[] = [];
    const transitions = clusterTransitions(e.obs, this.limits.toleranceNs, conflicts);
    // Log presence: a start must precede the first log record; when none does, the first record infers one.
    if (e.firstLog) {
      const fl = e.firstLog;
      const startBefore = transitions.some((t) => t.kind === 'started' && t.time <= fl.time + this.limits.toleranceNs);
      if (!startBefore) {
        transitions.push({
          kind: 'started',
          time: fl.time,
          confidence: 'inferred',
          sources: [fl.source],
          evidence: [{ id: fl.eventId, source: fl.source, path: fl.path, time: formatNs(fl.time), detail: 'first log record' }],
          note: 'no start recorded before the first log record',
        });
      }
      const created = transitions.find((t) => t.kind === 'created');
      if (created && fl.time + this.limits.toleranceNs < created.time) {
        conflicts.push(`first log record ${formatNs(fl.time)} is before the creation ${formatNs(created.time)}`);
      }
    }
    sortTransitions(transitions);
    numberStarts(transitions, rec?.restartPolicy.name ?? '');
    const present = rec !== undefined;
    const removed = this.removal(e, transitions, present, conflicts);
    sortTransitions(transitions);
    // first/last seen
    let first: bigint | undefined;
    let last: bigint | undefined;
    const see = (t: bigint | undefined): void => {
      if (t === undefined) return;
      if (first === undefined || t < first) first = t;
      if (last === undefined || t > last) last = t;
    };
    for (const t of transitions) if (t.confidence !== 'inferred' || t.kind !== 'removed') see(t.time);
    see(e.firstLog?.time);
    see(e.lastLog?.time);
    for (const tr of e.traces) see(tr.time);
    if (rec) configConflicts(rec, transitions, conflicts);
    if (e.dropped > 0) conflicts.push(`${e.dropped} observations beyond MAX_OBSERVATIONS_PER_CONTAINER not used`);
    const counts: Record<string, number> = {};
    for (const k of [...e.counts.keys()].sort()) counts[k] = e.counts.get(k) as number;
    const id = e.id ?? '';
    return {
      host: this.host,
      id,
      id_complete: id.length === 64,
      names: [...e.names].sort(),
      image: e.image ?? '',
      present,
      state_at_capture: rec ? rec.status : removed === 'yes' || removed === 'inferred' ? 'removed' : 'unknown',
      restart_policy: rec?.restartPolicy.name || undefined,
      restart_count_config: rec?.restartCount,
      transitions,
      removed,
      first_seen: first,
      last_seen: last,
      conflicts,
      evidence_counts: counts,
      traces: e.traces.map((t) => ({ kind: t.kind, path: t.path, time: t.time !== undefined ? formatNs(t.time) : undefined, ...(t.detail !== undefined ? { detail: t.detail } : {}) })),
      name_links: e.nameLinks,
    };
  }

  private removal(e: Entry, transitions: Transition[], present: boolean, conflicts: string[]): RemovedState {
    const rm = transitions.find((t) => t.kind === 'removed');
    if (present) {
      if (rm) {
        conflicts.push(`removal at ${formatNs(rm.time)} (${rm.sources.join(', ')}) but containers/${(e.id ?? '').slice(0, 12)} still holds its config`);
        // Kept (conflicts are shown, not hidden) but marked: the evidence at capture says it did not happen.
        rm.contradicted = true;
        rm.note = (rm.note ? rm.note + '; ' : '') + 'contradicted: containers/<id> still holds its config at capture (a failed `docker rm`, or the name was reused)';
      }
      return 'no';
    }
    // Paths that show the container existed and is gone (left-over directories, orphan layers, log links).
    const traceEvidence = e.traces.map((t) => ({ source: 'state', path: t.path, ...(t.time !== undefined ? { time: formatNs(t.time) } : {}), detail: t.kind + (t.detail ? `: ${t.detail}` : '') }));
    if (e.anonymousLayer) {
      const t = e.traces.find((x) => x.time !== undefined)?.time;
      if (t === undefined) return 'inferred';
      transitions.push({
        kind: 'removed',
        time: t,
        confidence: 'inferred',
        sources: ['state'],
        evidence: traceEvidence,
        note: 'a writable layer no container and no layerdb entry owns: its container was removed (id unknown) at or after this time (the layer directory\'s mtime)',
      });
      return 'inferred';
    }
    if (e.id === undefined) return rm ? 'yes' : 'unknown';
    const leftover = e.traces.filter((t) => t.kind === 'leftover-log-dir' || t.kind === 'leftover-dir');
    if (leftover.length > 0) conflicts.push(`removed container left ${leftover.map((t) => t.path).join(', ')} behind`);
    if (e.foreign && !rm) return 'unknown';
    const absent = { source: 'state', path: `containers/${e.id}`, detail: 'no containers/<id> directory with a config in the evidence' };
    if (rm) {
      rm.evidence.push(absent, ...traceEvidence);
      if (!rm.sources.includes('state')) rm.sources.push('state');
      rm.sources.sort();
      if (rm.confidence === 'observed') rm.confidence = 'corroborated';
      rm.note = (rm.note ? rm.note + '; ' : '') + 'the container directory is gone';
      return 'yes';
    }
    let last: bigint | undefined;
    for (const t of transitions) if (last === undefined || t.time > last) last = t.time;
    if (e.lastLog && (last === undefined || e.lastLog.time > last)) last = e.lastLog.time;
    for (const tr of e.traces) if (tr.time !== undefined && (last === undefined || tr.time > last)) last = tr.time;
    if (last === undefined) return 'inferred';
    transitions.push({
      kind: 'removed',
      time: last,
      confidence: 'inferred',
      sources: ['state'],
      evidence: [absent, ...traceEvidence],
      note: 'no containers/<id> directory; removed at or after this time (the last evidence of the container)',
    });
    return 'inferred';
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortTransitions(ts: Transition[]): void {
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
function numberStarts(ts: Transition[], policy: string): void {
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
function configConflicts(rec: ContainerRecord, ts: Transition[], conflicts: string[]): void {
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
