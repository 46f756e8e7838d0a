// Findings for logs whose times go back (rule log-time-steps-back): the timeline finds the steps while it merges
// (src/timeline/time-steps.ts); this turns them into findings. docs/formats/findings.md describes the rule.
import type { TimelineEvent } from '../events/event.js';
import { formatIsoNano } from '../events/time.js';
import { type Finding, RULES } from './findings.js';

/** Where in its file an event is: `line N`, `offset N`, or the file alone. */
function position(ev: TimelineEvent): string {
  if (ev.line !== undefined) return `line ${ev.line}`;
  if (ev.offset !== undefined) return `offset ${ev.offset}`;
  return '';
}

/** A duration in ns as `1 h 2 min 3.000000004 s` (whole units only when present). */
function durationText(ns: bigint): string {
  const s = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  const parts: string[] = [];
  if (s >= 86_400n) parts.push(`${s / 86_400n} d`);
  if (s >= 3600n) parts.push(`${(s % 86_400n) / 3600n} h`);
  if (s >= 60n) parts.push(`${(s % 3600n) / 60n} min`);
  parts.push(`${s % 60n}${frac ? '.' + frac : ''} s`);
  return parts.join(' ');
}

/** log-time-steps-back findings per host at most (a garbled host could otherwise list 16 per log). */
export const MAX_TIME_STEP_FINDINGS = 1000;

/**
 * Findings for logs whose times go back (the timeline's TimeStepBack): one per step, at the time of the record
 * that starts the earlier clock, the first MAX_TIME_STEP_FINDINGS only (the caller reports the rest). They reach
 * findings.csv/json; the timeline itself is written while they are found, so they are not flagged in it (its
 * rows are still in time order).
 */
export function timeStepFindings(host: string, steps: ReadonlyArray<{ before: TimelineEvent; after: TimelineEvent }>): Finding[] {
  return steps.slice(0, MAX_TIME_STEP_FINDINGS).map(({ before, after }) => {
    const where = position(after);
    const samePath = before.path === after.path;
    const beforeWhere = samePath ? position(before) : `${before.path} ${position(before)}`.trim();
    const who = after.container_name ? `${after.container_name} (${(after.container_id ?? '').slice(0, 12)})` : '';
    return {
      rule: 'log-time-steps-back',
      severity: RULES['log-time-steps-back'].severity,
      host,
      container_id: after.container_id ?? '',
      container_name: after.container_name ?? '',
      evidence_path: after.path,
      evidence_field: where,
      message:
        `${who ? who + ': ' : ''}time goes back ${durationText(before.time - after.time)} in ${after.path}` +
        `${where ? ' at ' + where : ''}: ${formatIsoNano(after.time)} follows ${formatIsoNano(before.time)}` +
        `${beforeWhere ? ' (' + beforeWhere + ')' : ''}; the host clock was set back, or the file was edited`,
      time: after.time,
      time_desc: after.timestamp_desc,
      raw_time: after.raw_time,
    };
  });
}
