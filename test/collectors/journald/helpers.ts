// Shared helpers of the journald tests: read a journal file from the real file system through HostDirVfs, and
// normalise events and journalctl JSON to comparable {field: [bytes...]} maps.
import { Buffer } from 'node:buffer';
import * as path from 'node:path';
import { ProblemLog, type TimelineEvent } from '../../../src/events/event.js';
import { HostDirVfs } from '../../../src/fs/host-dir/host-dir.js';
import type { CollectorContext } from '../../../src/collectors/types.js';
import { type JournaldOptions, JOURNALD_BASE64_KEY, readJournalFile } from '../../../src/collectors/journald/index.js';

export interface ReadResult {
  events: TimelineEvent[];
  problems: ProblemLog;
}

/** Reads `file` (a real path) as `/<basename>` inside a HostDirVfs rooted at its directory. */
export async function readJournal(file: string, options: JournaldOptions = {}): Promise<ReadResult> {
  const vfs = new HostDirVfs(path.dirname(file));
  const problems = new ProblemLog();
  const ctx: CollectorContext = { vfs, host: 'h', problems };
  const events: TimelineEvent[] = [];
  for await (const batch of readJournalFile(ctx, '/' + path.basename(file), options)) events.push(...batch);
  vfs.close();
  return { events, problems };
}

const META = new Set(['__REALTIME_TIMESTAMP', '__MONOTONIC_TIMESTAMP', '__BOOT_ID', '__SEQNUM', '__RECOVERED_BY_SCAN', JOURNALD_BASE64_KEY]);

/** An event's journal fields as name → values (bytes, base64 for the invalid UTF-8 ones). */
export function eventFields(ev: TimelineEvent): Map<string, Buffer[]> {
  const attrs = ev.attrs ?? {};
  const b64 = (attrs[JOURNALD_BASE64_KEY] ?? {}) as Record<string, string | string[]>;
  const out = new Map<string, Buffer[]>();
  for (const [k, v] of Object.entries(attrs)) {
    if (META.has(k)) continue;
    const raw = b64[k];
    if (raw !== undefined) out.set(k, (Array.isArray(raw) ? raw : [raw]).map((s) => Buffer.from(s, 'base64')));
    else out.set(k, (Array.isArray(v) ? v : [v]).map((s) => Buffer.from(s as string, 'utf8')));
  }
  return out;
}

const JOURNALCTL_META = new Set(['__CURSOR', '__REALTIME_TIMESTAMP', '__MONOTONIC_TIMESTAMP', '__SEQNUM', '__SEQNUM_ID']);

/** journalctl -o json --all values: a string, an array of byte numbers (binary), or an array of those. */
export function journalctlFields(j: Record<string, unknown>): Map<string, Buffer[]> {
  const one = (v: unknown): Buffer => (typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v as number[]));
  const out = new Map<string, Buffer[]>();
  for (const [k, v] of Object.entries(j)) {
    if (JOURNALCTL_META.has(k)) continue;
    if (typeof v === 'string') out.set(k, [one(v)]);
    else if (Array.isArray(v) && v.length > 0 && typeof v[0] === 'number') out.set(k, [one(v)]);
    else out.set(k, (v as unknown[]).map(one));
  }
  return out;
}

/** Seqnum from a journalctl cursor (`i=` is hexadecimal). */
export function cursorSeqnum(cursor: string): string {
  const m = /(?:^|;)i=([0-9a-f]+)/.exec(cursor);
  return m ? BigInt('0x' + m[1]).toString() : '';
}

/** Walks the objects of an intact journal file: offset, type, flags and size of each (test-side, no checks). */
export function listObjects(b: Buffer): Array<{ off: number; type: number; flags: number; size: number }> {
  const out: Array<{ off: number; type: number; flags: number; size: number }> = [];
  const headerSize = Number(b.readBigUInt64LE(88));
  const tail = Number(b.readBigUInt64LE(136));
  for (let p = headerSize; p <= tail && p + 16 <= b.length; ) {
    const size = Number(b.readBigUInt64LE(p + 8));
    if (size < 16) break;
    out.push({ off: p, type: b[p], flags: b[p + 1], size });
    p += (size + 7) & ~7;
  }
  return out;
}

/** Offsets of the global entry-array chain, from the header's entry_array_offset. */
export function entryArrayChain(b: Buffer): number[] {
  const out: number[] = [];
  for (let p = Number(b.readBigUInt64LE(176)); p !== 0 && out.length < 100; p = Number(b.readBigUInt64LE(p + 16))) out.push(p);
  return out;
}
