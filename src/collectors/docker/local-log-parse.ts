// The synchronous core of the Docker `local` log driver reader: framed protobuf bytes in (any chunking),
// TimelineEvents out. Knows nothing about files or gzip (local-log.ts reads those), so every guard is tested from
// literal bytes.
//
// Framing (moby daemon/logger/local/doc.go, local.go marshal): [uint32be size][LogEntry protobuf][uint32be size].
// moby's own reader (local/read.go) refuses a size above 1,000,000 bytes (maxMsgLen) and reports a header/footer
// mismatch as data loss; we report both as problems and resynchronise by scanning forward for the next offset
// where a plausible size is followed, size bytes later, by the same size and the bytes between decode as a LogEntry.
//
// Lines: the copier strips the "\n"; `docker logs` adds it back unless the record is a non-last partial
// (read.go decodeLogEntry). Long lines (> 16 KiB copier buffer) arrive as several records with partial=true and
// partial_log_metadata {id, ordinal (1-based), last}; very old writers set only `partial` (the record completing
// the message has partial=false). Both are rejoined into one event.
import { TimeDesc, type TimelineEvent } from '../../events/event.js';
import { decodeLogEntry, type LogEntry, ProtoError } from './local-log-proto.js';

export const LOCAL_LOG_SOURCE = 'docker:local-log';
/** moby local/read.go maxMsgLen: the largest record its reader accepts. */
export const DOCKER_LOCAL_MAX_MSG_LEN = 1_000_000;
/** Largest record size we accept (a size above it is "absurd": corruption, resync). Four times moby's limit. */
export const MAX_LOCAL_LOG_RECORD_BYTES = 4 * DOCKER_LOCAL_MAX_MSG_LEN;
/** Smallest plausible record: an empty LogEntry is never written (Docker always sets source and time_nano). */
export const MIN_LOCAL_LOG_RECORD_BYTES = 2;
/** Largest rejoined partial message; beyond it the event is emitted truncated. */
export const MAX_LOCAL_PARTIAL_CHAIN_BYTES = 64 * 1024 * 1024;
/** Most records in one partial chain. */
export const MAX_LOCAL_PARTIAL_CHAIN_CHUNKS = 16384;
/** Partial chains open at once (Docker has one per stream; a hostile file may invent ids). */
export const MAX_LOCAL_OPEN_PARTIAL_CHAINS = 16;
/** Problems listed per file; the rest are counted in one summary problem. */
export const MAX_LOCAL_PROBLEMS_PER_FILE = 100;

export interface LocalLogLimits {
  maxRecordBytes: number;
  maxPartialChainBytes: number;
  maxPartialChainChunks: number;
  maxOpenPartialChains: number;
  maxProblemsPerFile: number;
}

export const DEFAULT_LOCAL_LOG_LIMITS: Readonly<LocalLogLimits> = Object.freeze({
  maxRecordBytes: MAX_LOCAL_LOG_RECORD_BYTES,
  maxPartialChainBytes: MAX_LOCAL_PARTIAL_CHAIN_BYTES,
  maxPartialChainChunks: MAX_LOCAL_PARTIAL_CHAIN_CHUNKS,
  maxOpenPartialChains: MAX_LOCAL_OPEN_PARTIAL_CHAINS,
  maxProblemsPerFile: MAX_LOCAL_PROBLEMS_PER_FILE,
});

export interface LocalLogFileInfo {
  path: string;
  host: string;
  containerId: string;
  containerName?: string;
  inode?: bigint;
  /** Offsets are in the inflated stream of a .gz file. */
  compressed: boolean;
  /** `local` (the driver's own file) or `cache` (dual-logging cache of another driver). */
  kind: 'local' | 'cache';
}

export interface LocalPartialInfo {
  chunks: number;
  complete: boolean;
  truncated?: boolean;
  /** partial_log_metadata.id (empty for the legacy flag). */
  id: string;
  ordinals: number[];
  offsets: number[];
  times: string[];
  /** Ordinals missing or out of order. */
  gaps?: boolean;
}

interface Chain {
  key: string;
  stream: string;
  id: string;
  legacy: boolean;
  parts: Uint8Array[];
  bytes: number;
  time: bigint;
  offset: number;
  ordinals: number[];
  offsets: number[];
  times: string[];
  truncated: boolean;
  attrs?: Array<[string, string]>;
}

const utf8 = new TextDecoder('utf-8');

function u32(buf: Uint8Array, at: number): number {
  return ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
}

export class LocalLogParser {
  readonly events: TimelineEvent[] = [];
  readonly limits: LocalLogLimits;
  /** Records decoded (partial chunks counted one by one). */
  records = 0;
  private pending = new Uint8Array(0);
  /** Stream offset of pending[0]. */
  private base = 0;
  /** Scanning for a record boundary after damage; `skipFrom` is where the damaged bytes began. */
  private resyncing = false;
  private skipFrom = 0;
  private skipReason = '';
  private chains: Chain[] = [];
  private problemCount = 0;

  constructor(
    readonly info: LocalLogFileInfo,
    private readonly warn: (reason: string) => void,
    limits: Partial<LocalLogLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LOCAL_LOG_LIMITS, ...limits };
  }

  /** Feeds the next bytes of the stream; complete records become events. */
  feed(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.pending.length === 0) this.pending = new Uint8Array(chunk); // a copy: callers reuse their buffers
    else {
      const b = new Uint8Array(this.pending.length + chunk.length);
      b.set(this.pending);
      b.set(chunk, this.pending.length);
      this.pending = b;
    }
    this.run(false);
  }

  /** End of the stream: a truncated tail and open partial chains are reported / emitted. */
  finish(): void {
    this.run(true);
    const left = this.pending.length;
    if (this.resyncing) {
      this.problem(`${this.base + left - this.skipFrom} bytes from offset ${this.skipFrom} skipped (${this.skipReason}); no further record found`);
      this.resyncing = false;
    } else if (left > 0) {
      this.problem(`truncated record at offset ${this.base}: ${left} bytes left at the end of the file`);
    }
    this.pending = new Uint8Array(0);
    this.base += left;
    for (const c of this.chains) this.emitChain(c, false);
    this.chains = [];
    if (this.problemCount > this.limits.maxProblemsPerFile) {
      this.warn(`${this.problemCount - this.limits.maxProblemsPerFile} more problems in this file not listed (MAX_LOCAL_PROBLEMS_PER_FILE)`);
    }
  }

  take(): TimelineEvent[] {
    return this.events.splice(0, this.events.length);
  }

  private problem(reason: string): void {
    this.problemCount++;
    if (this.problemCount <= this.limits.maxProblemsPerFile) this.warn(reason);
  }

  private plausible(size: number): boolean {
    return size >= MIN_LOCAL_LOG_RECORD_BYTES && size <= this.limits.maxRecordBytes;
  }

  /** Consumes every complete record in `pending`; keeps a partial tail for the next feed. */
  private run(atEnd: boolean): void {
    const buf = this.pending;
    let p = 0;
    for (;;) {
      if (buf.length - p < 4) break;
      const size = u32(buf, p);
      if (!this.plausible(size)) {
        if (!this.resyncing) this.startResync(p, `record size ${size} at offset ${this.base + p} is outside ${MIN_LOCAL_LOG_RECORD_BYTES}..${this.limits.maxRecordBytes} (MAX_LOCAL_LOG_RECORD_BYTES)`);
        p++;
        continue;
      }
      if (buf.length - p < size + 8) {
        if (!atEnd) break; // wait for more bytes (bounded: size <= maxRecordBytes)
        if (this.resyncing) {
          p++;
          continue;
        }
        break; // truncated tail, reported by finish()
      }
      const trailer = u32(buf, p + 4 + size);
      if (trailer !== size) {
        if (!this.resyncing) this.startResync(p, `record at offset ${this.base + p}: size header ${size} but trailer ${trailer}`);
        p++;
        continue;
      }
      let entry: LogEntry;
      try {
        entry = decodeLogEntry(buf, p + 4, p + 4 + size);
      } catch (err) {
        if (this.resyncing) {
          p++;
          continue;
        }
        // Framing is consistent: skip just this record.
        this.problem(`record at offset ${this.base + p} (${size} bytes): not a LogEntry: ${err instanceof ProtoError ? err.message : String(err)}; skipped`);
        p += size + 8;
        continue;
      }
      if (this.resyncing) {
        if (!entry.hasTime) {
          p++;
          continue; // a resync candidate must at least carry a time
        }
        this.problem(`${this.base + p - this.skipFrom} bytes from offset ${this.skipFrom} skipped (${this.skipReason}); resynchronised at offset ${this.base + p}`);
        this.resyncing = false;
      }
      this.record(entry, this.base + p);
      p += size + 8;
    }
    this.pending = p === 0 ? buf : buf.slice(p);
    this.base += p;
  }

  private startResync(at: number, reason: string): void {
    this.resyncing = true;
    this.skipFrom = this.base + at;
    this.skipReason = reason;
  }

  private attrsFor(stream: string, dockerAttrs?: Array<[string, string]>): Record<string, unknown> {
    const a: Record<string, unknown> = { stream };
    if (dockerAttrs && dockerAttrs.length > 0) a.attrs = Object.fromEntries(dockerAttrs);
    if (this.info.compressed) a.compressed = true;
    if (this.info.kind === 'cache') a.dual_logging_cache = true;
    return a;
  }

  private emit(time: bigint, message: string, offset: number, attrs: Record<string, unknown>): void {
    const info = this.info;
    this.events.push({
      time,
      timestamp_desc: TimeDesc.recorded,
      source: LOCAL_LOG_SOURCE,
      host: info.host,
      container_id: info.containerId,
      container_name: info.containerName,
      message,
      path: info.path,
      inode: info.inode,
      offset,
      raw_time: time.toString(),
      attrs,
    });
  }

  private record(e: LogEntry, offset: number): void {
    this.records++;
    if (!e.hasTime) this.problem(`record at offset ${offset} has no time_nano; its time is the epoch`);
    const md = e.partialMetadata;
    if (e.partial && md) {
      const key = `id:${md.id}`;
      let c = this.chains.find((x) => x.key === key);
      if (!c) c = this.openChain(key, e.source, md.id, false, e, offset);
      this.append(c, e, offset, md.ordinal);
      if (md.last) this.closeChain(c, true);
      return;
    }
    const legacyKey = `legacy:${e.source}`;
    const open = this.chains.find((x) => x.key === legacyKey);
    if (e.partial) {
      const c = open ?? this.openChain(legacyKey, e.source, '', true, e, offset);
      this.append(c, e, offset, 0);
      return;
    }
    if (open) {
      this.append(open, e, offset, 0);
      this.closeChain(open, true);
      return;
    }
    this.emit(e.timeNano, utf8.decode(e.line), offset, this.attrsFor(e.source, e.attrs));
  }

  private openChain(key: string, stream: string, id: string, legacy: boolean, e: LogEntry, offset: number): Chain {
    if (this.chains.length >= this.limits.maxOpenPartialChains) {
      const oldest = this.chains.shift() as Chain;
      this.problem(
        `more than ${this.limits.maxOpenPartialChains} partial messages open at once (MAX_LOCAL_OPEN_PARTIAL_CHAINS); ` +
          `emitted the one from offset ${oldest.offset} unfinished`,
      );
      this.emitChain(oldest, false);
    }
    const c: Chain = {
      key,
      stream,
      id,
      legacy,
      parts: [],
      bytes: 0,
      time: e.timeNano,
      offset,
      ordinals: [],
      offsets: [],
      times: [],
      truncated: false,
      attrs: e.attrs,
    };
    this.chains.push(c);
    return c;
  }

  private append(c: Chain, e: LogEntry, offset: number, ordinal: number): void {
    if (c.truncated) return;
    if (c.parts.length >= this.limits.maxPartialChainChunks || c.bytes + e.line.length > this.limits.maxPartialChainBytes) {
      c.truncated = true;
      this.problem(
        `partial message from offset ${c.offset} exceeds ${c.parts.length >= this.limits.maxPartialChainChunks ? `${this.limits.maxPartialChainChunks} chunks (MAX_LOCAL_PARTIAL_CHAIN_CHUNKS)` : `${this.limits.maxPartialChainBytes} bytes (MAX_LOCAL_PARTIAL_CHAIN_BYTES)`}; the rest is dropped`,
      );
      return;
    }
    c.parts.push(e.line.slice());
    c.bytes += e.line.length;
    c.ordinals.push(ordinal);
    c.offsets.push(offset);
    c.times.push(e.timeNano.toString());
  }

  private closeChain(c: Chain, complete: boolean): void {
    this.chains = this.chains.filter((x) => x !== c);
    this.emitChain(c, complete);
  }

  private emitChain(c: Chain, complete: boolean): void {
    const joined = new Uint8Array(c.bytes);
    let at = 0;
    for (const p of c.parts) {
      joined.set(p, at);
      at += p.length;
    }
    const info: LocalPartialInfo = {
      chunks: c.parts.length,
      complete,
      id: c.id,
      ordinals: c.ordinals,
      offsets: c.offsets,
      times: c.times,
    };
    if (c.truncated) info.truncated = true;
    if (!c.legacy && c.ordinals.some((o, i) => o !== i + 1)) info.gaps = true;
    const attrs = this.attrsFor(c.stream, c.attrs);
    attrs.partial = info;
    this.emit(c.time, utf8.decode(joined), c.offset, attrs);
  }
}

/** Parses a whole in-memory local log (tests, small files). */
export function parseLocalLogBytes(
  bytes: Uint8Array,
  info: LocalLogFileInfo,
  warn: (reason: string) => void = () => {},
  limits: Partial<LocalLogLimits> = {},
): TimelineEvent[] {
  const p = new LocalLogParser(info, warn, limits);
  p.feed(bytes);
  p.finish();
  return p.events;
}
