// `flotsam containers` output: an aligned table for people, CSV or JSON for scripts.
import { containerRow } from '../collectors/docker/index.js';
import { formatIsoNano } from '../events/time.js';
import type { Inventory } from '../triage/inventory.js';
import { CONTAINER_CSV_COLUMNS } from '../triage/outputs.js';
import { csvCell, formatJson } from '../writers/index.js';

/** Terminal-safe: control characters in names/images from evidence must not drive the analyst's terminal. */
function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function shortTime(ns: bigint | undefined): string {
  return ns === undefined ? '-' : formatIsoNano(ns).replace(/\.\d+Z$/, 'Z');
}

export function printContainers(inv: Inventory, format: 'table' | 'csv' | 'json', out: NodeJS.WritableStream): void {
  if (format === 'json') {
    out.write(formatJson(inv.containers.map((c) => ({ host: inv.host, ...c }))));
    return;
  }
  if (format === 'csv') {
    out.write(CONTAINER_CSV_COLUMNS.join(',') + '\n');
    for (const c of inv.containers) {
      const row: Record<string, string> = { host: inv.host, ...containerRow(c) };
      out.write(CONTAINER_CSV_COLUMNS.map((k) => csvCell(row[k])).join(',') + '\n');
    }
    return;
  }
  const header = ['CONTAINER ID', 'NAME', 'IMAGE', 'STATUS', 'CREATED', 'STARTED', 'FINISHED', 'RESTARTS'];
  const rows = inv.containers.map((c) => [
    c.id.slice(0, 12),
    c.name,
    c.imageName,
    c.status,
    shortTime(c.created.ns),
    shortTime(c.started.ns),
    shortTime(c.finished.ns),
    String(c.restartCount ?? ''),
  ].map(printable));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n';
  out.write(line(header));
  for (const r of rows) out.write(line(r));
  if (inv.containers.length === 0) out.write(`(no containers found on ${printable(inv.host)})\n`);
}
