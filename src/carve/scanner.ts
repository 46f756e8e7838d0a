// The carving core: bytes in (a ScanTarget read in large chunks), validated Docker objects out. It knows nothing of
// images or file systems (src/carve/evidence.ts builds the targets), so every guard is testable from a Uint8Array.
//
// A log line ends at its "\n" (at most maxLogLineBytes); consecutive lines form a fragment that one JsonLogParser
// reads, so Docker's 16 KiB partial records are rejoined exactly as in a live file.
// Objects crossing a chunk boundary are found because every chunk is scanned with a lookahead as long as the
// largest object; a hit is only ever started from inside the chunk proper.
// References: moby/moby container/container.go (Container field order), api/types/container/hostconfig.go,
// daemon/logger/jsonfilelog; src/collectors/docker/json-log-parse.ts.
//
// Signatures, the brace matcher and the acceptance checks are in signatures.ts; limits, targets and results in
// scan-types.ts. This module is the scan loop over chunks.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { TimelineEvent } from '../events/event.js';
import { JsonLogParser } from '../collectors/docker/json-log-parse.js';
import type { JsonObject } from '../collectors/docker/json-guard.js';
import {
  type CarveLimits,
  type CarveStats,
  type CarveVia,
  type CarvedKind,
  type CarvedObject,
  DEFAULT_CARVE_LIMITS,
  type ScanTarget,
} from './scan-types.js';
import {
  LBRACE,
  NL,
  OPEN,
  QUOTE,
  RBRACE,
  SIG_BINDS,
  SIG_LOG,
  SIG_STATE,
  SIG_STREAMCONFIG,
  isCarvedConfig,
  isCarvedHostConfig,
  matchAt,
  objectEnd,
  sha256,
} from './signatures.js';

export * from './scan-types.js';
export { isCarvedConfig, isCarvedHostConfig, objectEnd } from './signatures.js';

interface OpenFragment {
  parser: JsonLogParser;
  /** Target position of the fragment's first byte. */
  start: number;
  /** Target position where its next line would start. */
  next: number;
  lines: number;
}

/** Carves any number of targets; results accumulate (deduplicated across targets) until `result()`. */
export class Carver {
  readonly limits: CarveLimits;
  readonly stats: CarveStats = {
    targets: 0,
    bytesScanned: 0,
    hits: 0,
    configs: 0,
    hostconfigs: 0,
    logLines: 0,
    duplicates: 0,
    rejected: 0,
    budgetSkips: 0,
    droppedOverLimit: 0,
  };
  private readonly objects = new Map<string, CarvedObject>();
  readonly events: TimelineEvent[] = [];
  private readonly eventKeys = new Set<string>();
  private buf: Buffer | undefined;

  constructor(
    readonly host: string,
    limits: Partial<CarveLimits> = {},
  ) {
    this.limits = { ...DEFAULT_CARVE_LIMITS, ...limits };
    if (this.limits.maxLogLineBytes > this.limits.maxConfigBytes) this.limits.maxConfigBytes = this.limits.maxLogLineBytes;
  }

  /** Carved objects, in the order first met. */
  get carved(): CarvedObject[] {
    return [...this.objects.values()];
  }

  /** Scans one target. */
  scan(t: ScanTarget): void {
    this.stats.targets++;
    const C = this.limits.chunkBytes;
    const L = this.limits.maxConfigBytes; // lookahead: the longest object (>= the longest log line)
    if (!this.buf || this.buf.length < C + L) this.buf = Buffer.allocUnsafe(C + L);
    const buf = this.buf;
    let filled = 0; // bytes of buf holding target positions [base, base + filled)
    let resume = 0; // target position before which nothing is started again (inside an object already used)
    let frag: OpenFragment | undefined;
    for (let base = 0; base < t.size; base += C) {
      // Keep the lookahead of the previous window (positions [base, prevEnd)) and read the rest.
      if (base > 0) {
        const keep = filled - C;
        if (keep > 0) buf.copyWithin(0, C, filled);
        filled = Math.max(0, keep);
      }
      const want = Math.min(t.size - base, C + L);
      while (filled < want) {
        const n = t.read(buf, filled, want - filled, base + filled);
        if (n <= 0) break;
        filled += n;
      }
      if (filled === 0) break;
      const scanEnd = Math.min(C, filled); // hits start in [0, scanEnd)
      this.stats.bytesScanned += scanEnd;
      let i = Math.max(0, resume - base);
      if (frag && frag.next !== base + i) frag = this.closeFragment(t, frag);
      if (frag) {
        const r = this.continueFragment(t, buf, base, filled, scanEnd, frag, frag.next - base);
        frag = r.frag;
        i = r.next;
      }
      const budget = { n: 0 };
      const maxWalk = C * this.limits.extendBudgetFactor;
      while (i < scanEnd) {
        const j = buf.indexOf(OPEN, i);
        if (j < 0 || j >= scanEnd) break;
        const c2 = buf[j + 2];
        let kind: CarvedKind | 'log' | undefined;
        if (c2 === 0x6c /* l */ && matchAt(buf, j, SIG_LOG, filled)) kind = 'log';
        else if (c2 === 0x53 /* S */ && (matchAt(buf, j, SIG_STREAMCONFIG, filled) || matchAt(buf, j, SIG_STATE, filled))) kind = 'config';
        else if (c2 === 0x42 /* B */ && matchAt(buf, j, SIG_BINDS, filled)) kind = 'hostconfig';
        if (kind === undefined) {
          i = j + 1;
          continue;
        }
        this.stats.hits++;
        if (kind === 'log') {
          const r = this.continueFragment(t, buf, base, filled, scanEnd, { parser: this.newParser(t), start: base + j, next: base + j, lines: 0 }, j);
          frag = r.frag;
          i = r.next;
          continue;
        }
        if (budget.n > maxWalk) {
          this.stats.budgetSkips++;
          i = j + 1;
          continue;
        }
        const e = objectEnd(buf, j, Math.min(this.limits.maxConfigBytes, filled - j), budget);
        if (e < 0) {
          this.stats.rejected++;
          i = j + 1;
          continue;
        }
        if (this.takeObject(t, kind, buf, j, e, base)) {
          i = e;
          resume = base + e;
        } else {
          i = j + 1;
        }
      }
      if (frag) resume = Math.max(resume, frag.next);
      if (filled < Math.min(t.size - base, C)) break; // short read: the source ended early
    }
    if (frag) this.closeFragment(t, frag);
  }

  private newParser(t: ScanTarget): JsonLogParser {
    return new JsonLogParser(
      { path: '', host: this.host, containerId: t.containerId ?? '', compressed: false },
      () => {},
      { maxLineBytes: this.limits.maxLogLineBytes },
    );
  }

  /**
   * Feeds the lines of a fragment starting at buffer index `at` while they start inside the chunk; returns the
   * fragment when its next line starts beyond the chunk (it continues in the next window), else closes it.
   */
  private continueFragment(
    t: ScanTarget,
    buf: Buffer,
    base: number,
    filled: number,
    scanEnd: number,
    frag: OpenFragment,
    at: number,
  ): { frag: OpenFragment | undefined; next: number } {
    let p = at;
    const maxLine = this.limits.maxLogLineBytes;
    while (p < scanEnd) {
      if (!(buf[p] === LBRACE && buf[p + 1] === QUOTE && matchAt(buf, p, SIG_LOG, filled))) break;
      const lim = Math.min(filled, p + maxLine);
      const nl = buf.indexOf(NL, p);
      if (nl < 0 || nl >= lim || buf[nl - 1] !== RBRACE) {
        // no end of line: the record was cut (its next block reused, the line too long); it ends the fragment
        if (frag.lines === 0) this.stats.rejected++;
        break;
      }
      frag.parser.feed(buf.subarray(p, nl + 1));
      if ((++frag.lines & 1023) === 0) this.drainFragment(t, frag);
      p = nl + 1;
      frag.next = base + p;
    }
    if (p >= scanEnd && frag.lines > 0 && base + p < t.size) return { frag, next: p };
    if (frag.lines > 0) this.closeFragment(t, frag);
    return { frag: undefined, next: frag.lines > 0 ? p : at + 1 };
  }

  /** Finishes a fragment: its events, with absolute offsets, deduplicated. */
  private closeFragment(t: ScanTarget, frag: OpenFragment): undefined {
    frag.parser.finish();
    this.drainFragment(t, frag);
    return undefined;
  }

  /** Takes the events the fragment's parser has finished so far (a long fragment is drained as it goes). */
  private drainFragment(t: ScanTarget, frag: OpenFragment): void {
    const evs = frag.parser.take();
    for (const ev of evs) {
      const rel = ev.offset ?? 0;
      const pos = frag.start + rel;
      const key = eventKey(ev);
      if (this.eventKeys.has(key)) {
        this.stats.duplicates++;
        continue;
      }
      if (this.events.length >= this.limits.maxLogEvents) {
        this.stats.droppedOverLimit++;
        continue;
      }
      this.eventKeys.add(key);
      this.stats.logLines++;
      const disk = t.diskOffset(pos);
      const fsOff = t.fsOffset(pos);
      const fs = t.fsAt ? t.fsAt(pos) : t.fs;
      // The parser shares one frozen attrs object between records (the writers encode it once): copy it.
      const attrs: Record<string, unknown> = { ...ev.attrs };
      ev.attrs = attrs;
      attrs.recovered = 'carved';
      attrs.via = t.via;
      attrs.fs = fs;
      if (fsOff !== undefined) attrs.fs_offset = fsOff.toString();
      if (t.inode !== undefined) {
        attrs.file_offset = pos;
        if (t.names?.length) attrs.deleted_names = t.names;
      }
      const partial = attrs.partial as { offsets?: number[]; lines?: number[] } | undefined;
      if (partial?.offsets) {
        partial.offsets = partial.offsets.map((o) => Number(t.diskOffset(frag.start + o) ?? -1));
        delete partial.lines;
      }
      ev.source = 'carve:json-log';
      ev.container_id = t.containerId || undefined;
      ev.container_name = undefined;
      ev.path = `${fs}@${t.via}`;
      ev.inode = t.inode !== undefined ? BigInt(t.inode) : undefined;
      ev.line = undefined;
      ev.offset = disk !== undefined ? Number(disk) : undefined;
      this.events.push(ev);
    }
  }

  /** Validates a config/hostconfig candidate; true when it was used (kept or a duplicate). */
  private takeObject(t: ScanTarget, kind: CarvedKind, buf: Buffer, s: number, e: number, base: number): boolean {
    let value: unknown;
    try {
      value = JSON.parse(buf.toString('utf8', s, e));
    } catch {
      this.stats.rejected++;
      return false;
    }
    const ok = kind === 'config' ? isCarvedConfig(value) : isCarvedHostConfig(value);
    if (!ok) {
      this.stats.rejected++;
      return false;
    }
    const pos = base + s;
    const disk = t.diskOffset(pos);
    const hash = sha256(buf, s, e);
    const seen = this.objects.get(hash);
    if (seen) {
      seen.duplicates++;
      this.stats.duplicates++;
      if (seen.duplicateOffsets.length < 16) seen.duplicateOffsets.push(String(disk ?? `${t.fs}:${pos}`));
      if (seen.inode === undefined && t.inode !== undefined) seen.inode = t.inode;
      return true;
    }
    if (this.objects.size >= this.limits.maxObjects) {
      this.stats.droppedOverLimit++;
      return true;
    }
    if (kind === 'config') this.stats.configs++;
    else this.stats.hostconfigs++;
    this.objects.set(hash, {
      kind,
      value: value as JsonObject,
      fs: t.fsAt ? t.fsAt(pos) : t.fs,
      via: t.via,
      offset: disk,
      fsOffset: t.fsOffset(pos),
      inode: t.inode,
      fileOffset: t.inode !== undefined ? pos : undefined,
      group: t.group,
      bytes: e - s,
      sha256: hash,
      duplicates: 0,
      duplicateOffsets: [],
    });
    return true;
  }
}

/** Identity of a carved log record: its raw time, stream and text (a second copy of a line is the same record). */
function eventKey(ev: TimelineEvent): string {
  const stream = (ev.attrs as { stream?: string } | undefined)?.stream ?? '';
  const k = `${ev.raw_time}\u0000${stream}\u0000${ev.message}`;
  return k.length <= 256 ? k : createHash('sha1').update(k).digest('base64');
}

/** A target over bytes in memory (tests, benchmarks): positions are offsets in `data`, the disk offset is `at + pos`. */
export function memoryTarget(data: Uint8Array, opts: { fs?: string; via?: CarveVia; at?: bigint } = {}): ScanTarget {
  const at = opts.at ?? 0n;
  return {
    fs: opts.fs ?? 'memory',
    via: opts.via ?? 'unallocated',
    size: data.length,
    read(buf, bufOffset, length, position) {
      const n = Math.max(0, Math.min(length, data.length - position, buf.length - bufOffset));
      buf.set(data.subarray(position, position + n), bufOffset);
      return n;
    },
    diskOffset: (pos) => at + BigInt(pos),
    fsOffset: (pos) => BigInt(pos),
  };
}
