// Whether a container was removed (RemovedState), and the inferred `removed` transition when nothing observed the
// removal: a verdict on one finished entry, made apart from the builder because it needs none of its state.
import type { Entry } from './builder-entry.js';
import type { RemovedState, Transition } from './model.js';
import { formatNs } from './time.js';

export function removal(e: Entry, transitions: Transition[], present: boolean, conflicts: string[]): RemovedState {
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
