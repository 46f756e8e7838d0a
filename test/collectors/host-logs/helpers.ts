// Generated evidence trees for the host-log collector tests.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProblemLog, type TimelineEvent } from '../../../src/events/event.js';
import { HostDirVfs } from '../../../src/fs/host-dir/host-dir.js';
import type { CollectorContext, EventSource } from '../../../src/collectors/types.js';

export function tempRoot(prefix = 'flotsam-hostlogs-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes files (path -> content) under root; a `mtime` map sets modification times (epoch seconds). */
export function writeTree(root: string, files: Record<string, string | Uint8Array>, mtimes: Record<string, number> = {}): void {
  for (const [p, content] of Object.entries(files)) {
    const full = path.join(root, p);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content);
  }
  for (const [p, t] of Object.entries(mtimes)) fs.utimesSync(path.join(root, p), t, t);
}

export function contextFor(root: string, tzOverride?: string): CollectorContext {
  return { vfs: new HostDirVfs(root), host: 'testhost', problems: new ProblemLog(), tzOverride };
}

export async function drain(sources: EventSource[]): Promise<TimelineEvent[]> {
  const out: TimelineEvent[] = [];
  for (const s of sources) for await (const batch of s.open()) out.push(...batch);
  return out;
}

export const iso = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString();
