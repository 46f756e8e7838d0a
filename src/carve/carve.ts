// Carving of one piece of evidence through its RecoverySource: deleted inodes first (they name what they held),
// then the free blocks of every file system ('unallocated') or the whole disk minus what live files own ('all').
// Free blocks are read in spans: free ranges separated by small allocated gaps are read in one go and the
// allocated bytes zeroed before the scan (zeros end any object), so fragmented free space costs few reads.
import type { TimelineEvent } from '../events/event.js';
import type { RecoveryFs, RecoverySource } from '../fs/recovery.js';
import type { ByteSource } from '../io/byte-source.js';
import { type CarvedContainerRecord, carvedContainer, carvedContainerEvents } from './records.js';
import { type CarveLimits, type CarveStats, type CarvedObject, Carver, type ScanTarget } from './scanner.js';

export type CarveMode = 'unallocated' | 'all';

/** Free ranges closer than this are read together (the allocated bytes between them are zeroed). */
export const SPAN_GAP_BYTES = 256 * 1024;
/** Carved hostconfig.json within this many bytes of a carved config.v2.json is matched to it ('adjacent'). */
export const HOSTCONFIG_ADJACENT_BYTES = 64 * 1024;

export interface CarveOptions {
  mode: CarveMode;
  host: string;
  limits?: Partial<CarveLimits>;
  /** Ids with a live containers/<id> directory. */
  liveIds?: ReadonlySet<string>;
  /** sha256 of live config.v2.json / hostconfig.json files: carved copies identical to them are dropped. */
  liveHashes?: ReadonlySet<string>;
  /** Read deleted inodes (default true). */
  deletedInodes?: boolean;
}

/** carve.json's summary: only what the evidence determines (same input, same bytes). */
export interface CarveSummary extends CarveStats {
  mode: CarveMode;
  deleted_files_read: number;
  deleted_bytes_read: number;
  unallocated_bytes: number;
  live_copies_dropped: number;
}

export interface CarveResult {
  containers: CarvedContainerRecord[];
  /** Carved hostconfig.json objects matched to no carved config. */
  hostconfigs: CarvedObject[];
  events: TimelineEvent[];
  summary: CarveSummary;
  /** How long the scan took: run-dependent, so it goes to manifest.json, not carve.json. */
  timing: { seconds: number; mb_per_second: number };
  problems: string[];
}

interface Interval {
  start: bigint;
  end: bigint;
}

/** A target reading `[spanStart, spanEnd)` of `read` where only `allowed` (sorted, inside the span) is kept. */
function spanTarget(
  read: (buf: Uint8Array, off: number, len: number, pos: bigint) => number,
  allowed: Interval[],
  meta: { fs: string; via: ScanTarget['via']; absBase: bigint; fsBase?: bigint; fsAt?: (abs: bigint) => RecoveryFs | undefined },
): ScanTarget {
  const spanStart = allowed[0]!.start;
  const size = Number(allowed[allowed.length - 1]!.end - spanStart);
  const rel = allowed.map((a) => [Number(a.start - spanStart), Number(a.end - spanStart)] as const);
  return {
    fs: meta.fs,
    via: meta.via,
    size,
    read(buf, bufOffset, length, position) {
      const want = Math.min(length, size - position, buf.length - bufOffset);
      if (want <= 0) return 0;
      let got = 0;
      while (got < want) {
        const n = read(buf, bufOffset + got, want - got, spanStart + BigInt(position + got));
        if (n <= 0) break;
        got += n;
      }
      // zero what is not allowed in [position, position + got)
      const end = position + got;
      let cur = position;
      for (const [s, e] of rel) {
        if (e <= cur) continue;
        if (s >= end) break;
        if (s > cur) buf.fill(0, bufOffset + (cur - position), bufOffset + (s - position));
        cur = Math.max(cur, e);
      }
      if (cur < end) buf.fill(0, bufOffset + (cur - position), bufOffset + got);
      return got;
    },
    diskOffset: (pos) => meta.absBase + spanStart + BigInt(pos),
    fsOffset: (pos) => {
      if (meta.fsAt) {
        const abs = meta.absBase + spanStart + BigInt(pos);
        const f = meta.fsAt(abs);
        return f ? abs - f.diskOffset : undefined;
      }
      return (meta.fsBase ?? 0n) + spanStart + BigInt(pos);
    },
    fsAt: meta.fsAt
      ? (pos) => meta.fsAt!(meta.absBase + spanStart + BigInt(pos))?.label ?? 'disk'
      : undefined,
  };
}

/** Groups sorted intervals into spans whose gaps are at most `gap`. */
function spans(intervals: Interval[], gap: bigint): Interval[][] {
  const out: Interval[][] = [];
  let cur: Interval[] = [];
  for (const iv of intervals) {
    if (iv.end <= iv.start) continue;
    const last = cur[cur.length - 1];
    if (last && iv.start - last.end > gap) {
      out.push(cur);
      cur = [];
    }
    cur.push(iv);
  }
  if (cur.length) out.push(cur);
  return out;
}

/** Matches carved hostconfigs to carved configs: same deleted directory first, then the nearest within the window. */
function matchHostConfigs(
  configs: CarvedObject[],
  hostconfigs: CarvedObject[],
): Map<CarvedObject, { hc: CarvedObject; how: 'same-deleted-directory' | 'adjacent' }> {
  const out = new Map<CarvedObject, { hc: CarvedObject; how: 'same-deleted-directory' | 'adjacent' }>();
  const used = new Set<CarvedObject>();
  for (const c of configs) {
    if (!c.group) continue;
    const hc = hostconfigs.find((h) => !used.has(h) && h.group === c.group);
    if (hc) {
      used.add(hc);
      out.set(c, { hc, how: 'same-deleted-directory' });
    }
  }
  for (const c of configs) {
    if (out.has(c) || c.offset === undefined) continue;
    let best: CarvedObject | undefined;
    let bestDist = BigInt(HOSTCONFIG_ADJACENT_BYTES) + 1n;
    for (const h of hostconfigs) {
      if (used.has(h) || h.offset === undefined || h.fs !== c.fs) continue;
      const d = h.offset > c.offset ? h.offset - c.offset : c.offset - h.offset;
      if (d < bestDist) {
        best = h;
        bestDist = d;
      }
    }
    if (best) {
      used.add(best);
      out.set(c, { hc: best, how: 'adjacent' });
    }
  }
  return out;
}

/** Carves what `rs` exposes. Synchronous; bounded by the carver's limits. */
export function carveRecovery(rs: RecoverySource, opts: CarveOptions): CarveResult {
  const t0 = performance.now();
  const problems: string[] = [];
  const carver = new Carver(opts.host, opts.limits);
  const fss = rs.filesystems();
  let deletedFiles = 0;
  let deletedBytes = 0;
  let unallocatedBytes = 0;

  // 1. deleted inodes
  if (opts.deletedInodes !== false && rs.deletedFiles) {
    for (const d of rs.deletedFiles()) {
      const f = fss.find((x) => x.label === d.fs);
      deletedFiles++;
      deletedBytes += Number(d.size);
      carver.scan({
        fs: d.fs,
        via: 'deleted-inode',
        size: Number(d.size),
        read: (buf, off, len, pos) => d.read(buf, off, len, pos),
        diskOffset: (pos) => d.diskOffset(pos),
        fsOffset: (pos) => {
          const o = d.diskOffset(pos);
          return o === undefined || !f ? undefined : o - f.diskOffset;
        },
        inode: d.ino,
        containerId: d.containerId,
        names: d.names,
        group: d.dirInos.length ? `${d.fs}:dir:${d.dirInos[0]}` : undefined,
      });
    }
  }

  // 2. free space
  const gap = BigInt(SPAN_GAP_BYTES);
  let disk: ByteSource | undefined;
  if (opts.mode === 'all') {
    try {
      disk = rs.wholeDisk?.();
    } catch (err) {
      problems.push(`--carve-all: ${err instanceof Error ? err.message : String(err)}; carving free blocks only`);
    }
    if (!rs.wholeDisk) problems.push('--carve-all: this evidence has no disk to carve; carving free blocks only');
  }
  if (disk) {
    // the whole disk minus the allocated blocks of every readable file system
    const d = disk;
    const allowed: Interval[] = [];
    const byFs = new Map<string, Interval[]>();
    for (const r of rs.unallocatedRanges()) {
      const list = byFs.get(r.fs) ?? [];
      list.push({ start: r.start, end: r.start + r.length });
      byFs.set(r.fs, list);
    }
    let cursor = 0n;
    for (const f of [...fss].sort((a, b) => (a.diskOffset < b.diskOffset ? -1 : 1))) {
      if (f.diskOffset > cursor) allowed.push({ start: cursor, end: f.diskOffset });
      for (const r of byFs.get(f.label) ?? []) allowed.push({ start: f.diskOffset + r.start, end: f.diskOffset + r.end });
      if (f.diskOffset + f.size > cursor) cursor = f.diskOffset + f.size;
    }
    if (d.size > cursor) allowed.push({ start: cursor, end: d.size });
    allowed.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const fsAt = (abs: bigint) => fss.find((f) => abs >= f.diskOffset && abs < f.diskOffset + f.size);
    for (const sp of spans(allowed, gap)) {
      for (const iv of sp) unallocatedBytes += Number(iv.end - iv.start);
      carver.scan(
        spanTarget((buf, off, len, pos) => d.read(buf, off, len, pos), sp, { fs: 'disk', via: 'disk', absBase: 0n, fsAt }),
      );
    }
  } else {
    const byFs = new Map<string, Interval[]>();
    for (const r of rs.unallocatedRanges()) {
      const list = byFs.get(r.fs) ?? [];
      list.push({ start: r.start, end: r.start + r.length });
      byFs.set(r.fs, list);
    }
    for (const f of fss) {
      for (const sp of spans(byFs.get(f.label) ?? [], gap)) {
        for (const iv of sp) unallocatedBytes += Number(iv.end - iv.start);
        carver.scan(
          spanTarget((buf, off, len, pos) => rs.readRaw(f.label, pos, buf, off, len), sp, {
            fs: f.label,
            via: 'unallocated',
            absBase: f.diskOffset,
            fsBase: 0n,
          }),
        );
      }
    }
  }
  problems.push(...rs.problems);

  // 3. records
  let liveDropped = 0;
  const objects = carver.carved.filter((o) => {
    if (opts.liveHashes?.has(o.sha256)) {
      liveDropped++;
      return false;
    }
    return true;
  });
  const configs = objects.filter((o) => o.kind === 'config');
  const hostconfigs = objects.filter((o) => o.kind === 'hostconfig');
  const matches = matchHostConfigs(configs, hostconfigs);
  const matched = new Set([...matches.values()].map((m) => m.hc));
  const containers: CarvedContainerRecord[] = [];
  const events: TimelineEvent[] = [];
  for (const c of configs) {
    const m = matches.get(c);
    const id = typeof c.value.ID === 'string' ? c.value.ID : '';
    const rec = carvedContainer(c, m?.hc, { live: opts.liveIds?.has(id) ?? false, hostconfigMatch: m?.how });
    containers.push(rec);
    events.push(...carvedContainerEvents(rec, opts.host));
  }
  // Carved log lines named by a deleted `<id>-json.log` carry the id; give them the name of a carved config too.
  const names = new Map(containers.filter((c) => c.name).map((c) => [c.id, c.name]));
  for (const ev of carver.events) {
    if (ev.container_id && !ev.container_name) ev.container_name = names.get(ev.container_id);
    events.push(ev);
  }
  const seconds = (performance.now() - t0) / 1000;
  const stats = carver.stats;
  return {
    containers,
    hostconfigs: hostconfigs.filter((h) => !matched.has(h)),
    events,
    summary: {
      ...stats,
      mode: disk ? 'all' : 'unallocated',
      deleted_files_read: deletedFiles,
      deleted_bytes_read: deletedBytes,
      unallocated_bytes: unallocatedBytes,
      live_copies_dropped: liveDropped,
    },
    timing: { seconds, mb_per_second: seconds > 0 ? stats.bytesScanned / 1e6 / seconds : 0 },
    problems,
  };
}
