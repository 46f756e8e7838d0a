// The timeline's total order. Every place that sorts or merges events uses `compareEvents`, so the sorted output
// is the same whatever order the sources were listed in, whatever batches they used and whether or not a sort
// spilled to disk.
//
// Keys, in order (strings compare by UTF-16 code unit, never by locale):
//   1. time            ascending (bigint ns)
//   2. host
//   3. path
//   4. line            (missing = -1)
//   5. offset          (missing = -1)
//   6. source
//   7. timestamp_desc
//   8. message
//   9. container_id    (missing = '')
// Two events can still tie on all nine and differ elsewhere (raw_time, container_name, inode, attrs), and then the
// order between them would depend on the order of the inputs. So that output bytes never depend on input order,
// four final keys settle such ties: raw_time, container_name (missing = ''), inode (missing = -1) and attrs as
// compact JSON (bigint values as strings, i.e. exactly as the writers print them). These final keys are compared
// only when the first nine tie, which is rare, so they cost nothing in the common case. Events that tie on all
// thirteen keys print identically in every output format.

import type { TimelineEvent } from '../events/event.js';

function strCmp(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/** JSON for the attrs tie-break: bigint as string, as every writer prints it. */
export function attrsTieKey(attrs: Record<string, unknown> | undefined): string {
  if (attrs === undefined) return '';
  try {
    return JSON.stringify(attrs) ?? '';
  } catch {
    return JSON.stringify(attrs, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? '';
  }
}

function compareRest(a: TimelineEvent, b: TimelineEvent): number {
  let c = strCmp(a.raw_time, b.raw_time);
  if (c !== 0) return c;
  c = strCmp(a.container_name ?? '', b.container_name ?? '');
  if (c !== 0) return c;
  const ia = a.inode ?? -1n;
  const ib = b.inode ?? -1n;
  if (ia !== ib) return ia < ib ? -1 : 1;
  if (a.attrs === b.attrs) return 0;
  return strCmp(attrsTieKey(a.attrs), attrsTieKey(b.attrs));
}

/** The total order of the timeline (see the file header). Returns <0, 0 or >0. */
export function compareEvents(a: TimelineEvent, b: TimelineEvent): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  if (a.host !== b.host) return a.host < b.host ? -1 : 1;
  if (a.path !== b.path) return a.path < b.path ? -1 : 1;
  const la = a.line ?? -1;
  const lb = b.line ?? -1;
  if (la !== lb) return la < lb ? -1 : 1;
  const oa = a.offset ?? -1;
  const ob = b.offset ?? -1;
  if (oa !== ob) return oa < ob ? -1 : 1;
  if (a.source !== b.source) return a.source < b.source ? -1 : 1;
  if (a.timestamp_desc !== b.timestamp_desc) return a.timestamp_desc < b.timestamp_desc ? -1 : 1;
  if (a.message !== b.message) return a.message < b.message ? -1 : 1;
  const ca = a.container_id ?? '';
  const cb = b.container_id ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  return compareRest(a, b);
}

/** True when `events` is sorted by `compareEvents` (ties allowed). */
export function isSorted(events: readonly TimelineEvent[]): boolean {
  for (let i = 1; i < events.length; i++) if (compareEvents(events[i - 1], events[i]) > 0) return false;
  return true;
}
