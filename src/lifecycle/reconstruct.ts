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
// The steps that need no builder state live beside it: transitions.ts (step 3) and removal.ts (the removal verdict).
import type { ProblemLog, TimelineEvent } from '../events/event.js';
import type { ContainerRecord } from '../collectors/docker/containers.js';
import { DEFAULT_LIFECYCLE_LIMITS, type Entry, type LifecycleLimits } from './builder-entry.js';
import { FAMILY, sightings, type Sighting } from './observe.js';
import type { Lifecycle, Observation } from './model.js';
import { removal } from './removal.js';
import { formatNs } from './time.js';
import { clusterTransitions, cmp, cmpBig, configConflicts, numberStarts, sortTransitions } from './transitions.js';

export { DEFAULT_LIFECYCLE_LIMITS, type LifecycleLimits } from './builder-entry.js';
export { clusterTransitions } from './transitions.js';

const COMPONENT = 'lifecycle';

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
    const removed = removal(e, transitions, present, conflicts);
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
}
