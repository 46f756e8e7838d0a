// EwfSource: an EWF (E01/S01) segment set read as one disk, read-only, as a ByteSource.
// References: libyal/libewf `documentation/Expert Witness Compression Format (EWF).asciidoc` and the headers cited in
// ./structures.ts. Layout met in practice (docs/formats/ewf.md):
//   EnCase 2-6, FTK, linen, ewfacquire: header2 x2, header, volume, { sectors, table, table2 }..., [data], [error2],
//     [digest], [hash], done (or next, when another segment follows); later segments start with a data section.
//     Table entries are relative to the table's base offset (EnCase 6) or to the file start (base 0).
//   SMART / original EWF (ewfacquire -f ewf|smart): header, volume (94 bytes), table (entries, then the chunks
//     inside the table section), hash, done. No table2, no entry-array checksum.
// Opening walks every section descriptor of every segment and reads the table headers; the 4-byte entries of a table
// are read when a chunk of it is first needed (a small LRU of decoded tables), and chunks go through a bounded LRU
// cache, so memory stays flat in the image size. Damage becomes a recorded EwfProblem and zeros, never a silent hole.
// Layout: limits and shapes in ./source-types.ts, the open-time walk in ./set-walker.ts, chunk tables in
// ./chunk-table.ts, case metadata in ./header-info.ts, the signature probe in ./probe.ts; the reader is here.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as zlib from 'node:zlib';
import { type ByteSource, ByteSourceError, clampRead } from '../byte-source.js';
import { decodeTable } from './chunk-table.js';
import { EwfError, type EwfProblem, type EwfProblemCode } from './errors.js';
import { InflatePool } from './inflate-pool.js';
import { SetWalker } from './set-walker.js';
import {
  BAD_ORDER,
  BAD_OUTSIDE,
  type ChunkLocation,
  DEFAULT_CHUNK_CACHE_BYTES,
  type EwfMetadata,
  type EwfOpenOptions,
  type LoadedTable,
  MAX_RECORDED_PROBLEMS,
  READAHEAD_CHUNKS,
  type Segment,
  TABLE_CACHE_TABLES,
  type TableRef,
  closeQuietly,
  maxStoredChunkBytes,
  u32le,
} from './source-types.js';
import { COMPRESSION_LEVELS, MEDIA_TYPES, adler32, checkGeometry, formatGuidLe } from './structures.js';

export {
  DEFAULT_CHUNK_CACHE_BYTES,
  TABLE_CACHE_TABLES,
  MAX_SECTIONS_PER_SEGMENT,
  MAX_RECORDED_PROBLEMS,
  READAHEAD_CHUNKS,
  maxStoredChunkBytes,
  type EwfOpenOptions,
  type HeaderDate,
  type EwfHeaderInfo,
  type EwfSegmentInfo,
  type EwfMetadata,
} from './source-types.js';
export { probeEwfFile } from './probe.js';

const ZERO = new Uint8Array(0);

export class EwfSource implements ByteSource {
  readonly size: bigint;
  readonly description: string;
  readonly metadata: EwfMetadata;
  readonly problems: EwfProblem[] = [];
  problemCount = 0;
  readonly chunkSize: number;

  private readonly segments: Segment[];
  private readonly tables: TableRef[];
  private readonly tableCache = new Map<number, LoadedTable>();
  private readonly cache = new Map<number, Uint8Array>();
  private cachedBytes = 0;
  private readonly cacheLimit: number;
  private readonly mediaSizeN: number;
  private readonly chunkTotal: number;
  private readonly reportedChunks = new Set<number>();
  private readonly onProblem?: (p: EwfProblem) => void;
  private scratch: Uint8Array;
  private closed = false;
  private pool: InflatePool | undefined;
  private lastChunkRead = -2;

  /** Opens the set whose first segment is `path` (read-only). */
  static open(path: string, options: EwfOpenOptions = {}): EwfSource {
    return new EwfSource(nodePath.resolve(path), options);
  }

  private constructor(first: string, options: EwfOpenOptions) {
    this.onProblem = options.onProblem;
    this.description = first;
    const opened: Segment[] = [];
    try {
      const walk = new SetWalker(first, options, (p) => this.problem(p));
      walk.run();
      opened.push(...walk.segments);
      this.segments = walk.segments;
      const vol = walk.volume;
      if (!vol) throw new EwfError('CORRUPT', first, 'no usable volume, disk or data section: the media geometry is unknown');
      const geo = checkGeometry(vol, first);
      if (geo.mediaSize > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new EwfError('LIMIT', first, `media of ${geo.mediaSize} bytes exceeds ${Number.MAX_SAFE_INTEGER}`);
      }
      this.chunkSize = geo.chunkSize;
      this.size = geo.mediaSize;
      this.mediaSizeN = Number(geo.mediaSize);
      this.chunkTotal = geo.chunksNeeded;
      if (vol.number_of_chunks !== geo.chunksNeeded) {
        this.problem({
          code: 'VOLUME',
          path: first,
          reason: `volume declares ${vol.number_of_chunks} chunks, ${vol.number_of_sectors} sectors need ${geo.chunksNeeded}`,
        });
      }
      this.tables = walk.assignChunks(geo.chunksNeeded);
      const indexed = this.tables.reduce((n, t) => n + t.count, 0);
      if (indexed !== geo.chunksNeeded) {
        this.problem({
          code: 'CHUNK_COUNT',
          path: first,
          reason: `tables index ${indexed} chunks, the media needs ${geo.chunksNeeded}` +
            (indexed < geo.chunksNeeded ? ' (the rest read as zeros)' : ''),
        });
      }
      const lastEnd = walk.segments[walk.segments.length - 1]?.end;
      this.cacheLimit = Math.max(options.cacheBytes ?? DEFAULT_CHUNK_CACHE_BYTES, 2 * geo.chunkSize);
      this.scratch = new Uint8Array(maxStoredChunkBytes(geo.chunkSize));
      this.metadata = {
        format: vol.variant === 'smart' ? 'EWF-S01' : 'EWF-E01',
        segments: walk.segments.map((s) => ({ path: s.path, number: s.number, size: s.size, end: s.end })),
        header: walk.header(),
        mediaType: MEDIA_TYPES[vol.media_type] ?? `unknown (0x${vol.media_type.toString(16)})`,
        mediaFlags: vol.media_flags,
        isPhysical: (vol.media_flags & 0x02) !== 0,
        bytesPerSector: vol.bytes_per_sector,
        sectorsPerChunk: vol.sectors_per_chunk,
        chunkSize: geo.chunkSize,
        chunkCount: vol.number_of_chunks,
        chunksIndexed: Math.min(indexed, geo.chunksNeeded),
        sectorCount: vol.number_of_sectors,
        mediaSize: geo.mediaSize,
        compressionLevel: COMPRESSION_LEVELS[vol.compression_level] ?? `unknown (${vol.compression_level})`,
        errorGranularity: vol.error_granularity,
        setIdentifier: vol.set_identifier.some((b) => b !== 0) ? formatGuidLe(vol.set_identifier) : '',
        storedHashes: walk.storedHashes(),
        acquisitionErrors: walk.acquisitionErrors,
        unknownSections: [...walk.unknownSections],
        complete: lastEnd === 'done' && indexed >= geo.chunksNeeded,
      };
      if ((options.inflateWorkers ?? 0) > 0) this.pool = new InflatePool(options.inflateWorkers as number, geo.chunkSize);
    } catch (err) {
      for (const s of opened) closeQuietly(s);
      throw err;
    }
  }

  private problem(p: EwfProblem): void {
    this.problemCount++;
    if (this.problems.length < MAX_RECORDED_PROBLEMS) this.problems.push(p);
    else if (this.problems.length === MAX_RECORDED_PROBLEMS) {
      this.problems.push({ code: 'LIMIT', path: this.description, reason: `more than ${MAX_RECORDED_PROBLEMS} problems; the rest are only counted` });
    }
    this.onProblem?.(p);
  }

  private chunkProblem(chunk: number, code: EwfProblemCode, path: string, offset: number | undefined, reason: string): void {
    if (this.reportedChunks.has(chunk)) return;
    if (this.reportedChunks.size < 1_000_000) this.reportedChunks.add(chunk);
    this.problem({ code, path, offset, chunk, reason: `chunk ${chunk}: ${reason}` });
  }

  /** Bytes of media in chunk `i` (the last chunk may be short). */
  chunkLength(i: number): number {
    return Math.min(this.chunkSize, this.mediaSizeN - i * this.chunkSize);
  }

  get chunkCount(): number {
    return this.chunkTotal;
  }

  read(buf: Uint8Array, bufOffset: number, length: number, position: number | bigint): number {
    if (this.closed) throw new ByteSourceError('ECLOSED', this.description, 'read after close');
    const n = clampRead(this, buf, bufOffset, length, position);
    if (n === 0) return 0;
    let pos = Number(position);
    let got = 0;
    const firstChunk = Math.floor(pos / this.chunkSize);
    const lastChunk = Math.floor((pos + n - 1) / this.chunkSize);
    if (this.pool && !this.cache.has(firstChunk)) this.prefetch(firstChunk, lastChunk);
    while (got < n) {
      const c = Math.floor(pos / this.chunkSize);
      const within = pos - c * this.chunkSize;
      const data = this.chunk(c);
      const take = Math.min(n - got, data.length - within);
      if (take <= 0) break; // cannot happen: chunk() always returns chunkLength bytes
      buf.set(data.subarray(within, within + take), bufOffset + got);
      got += take;
      pos += take;
    }
    this.lastChunkRead = lastChunk;
    return got;
  }

  /** The media bytes of chunk `i` (from the cache, or read and decoded; zeros + a problem when unreadable). */
  chunk(i: number): Uint8Array {
    const hit = this.cache.get(i);
    if (hit) {
      this.cache.delete(i);
      this.cache.set(i, hit);
      return hit;
    }
    const data = this.decodeChunk(i);
    this.remember(i, data);
    return data;
  }

  private remember(i: number, data: Uint8Array): void {
    this.cache.set(i, data);
    this.cachedBytes += data.length;
    while (this.cachedBytes > this.cacheLimit) {
      const oldest = this.cache.keys().next();
      if (oldest.done) break;
      const d = this.cache.get(oldest.value) as Uint8Array;
      this.cache.delete(oldest.value);
      this.cachedBytes -= d.length;
    }
  }

  /** Reads the stored bytes of chunk `i`; undefined (and a problem) when they cannot be had. */
  private loadStored(i: number, loc: ChunkLocation, into?: Uint8Array): { bytes: Uint8Array; loc: ChunkLocation } | undefined {
    const want = loc.compressed ? loc.size : this.chunkLength(i) + 4;
    if (!loc.compressed && loc.size < want) {
      this.chunkProblem(i, 'CHUNK_SIZE', loc.seg.path, loc.offset, `stored chunk has ${loc.size} bytes, expected ${want} (data + Adler-32)`);
      return undefined;
    }
    const target = into ?? this.scratch;
    if (want > target.length) {
      this.chunkProblem(i, 'CHUNK_SIZE', loc.seg.path, loc.offset, `stored size ${want} exceeds the limit ${target.length}`);
      return undefined;
    }
    if (loc.seg.fd === undefined) throw new ByteSourceError('ECLOSED', this.description, 'read after close');
    let got: number;
    try {
      got = fs.readSync(loc.seg.fd, target, 0, want, loc.offset);
    } catch (err) {
      this.chunkProblem(i, 'CHUNK_READ', loc.seg.path, loc.offset, (err as Error).message);
      return undefined;
    }
    if (got < want) {
      this.chunkProblem(i, 'TRUNCATED', loc.seg.path, loc.offset, `segment ends after ${got} of ${want} stored bytes`);
      return undefined;
    }
    return { bytes: target.subarray(0, want), loc };
  }

  private decodeChunk(i: number): Uint8Array {
    const expected = this.chunkLength(i);
    if (i < 0 || expected <= 0) return ZERO;
    const loc = this.locate(i);
    const stored = loc && this.loadStored(i, loc);
    if (!stored) return new Uint8Array(expected);
    return this.finish(i, stored.bytes, stored.loc, undefined);
  }

  /** Turns stored bytes into media bytes; `inflated` is the pool's result for compressed chunks. */
  private finish(i: number, bytes: Uint8Array, loc: ChunkLocation, inflated: Uint8Array | Error | undefined): Uint8Array {
    const expected = this.chunkLength(i);
    if (!loc.compressed) {
      const data = bytes.slice(0, expected);
      const want = u32le(bytes, expected);
      const got = adler32(data);
      if (want !== got) {
        this.chunkProblem(i, 'CHUNK_CHECKSUM', loc.seg.path, loc.offset,
          `stored chunk Adler-32 0x${got.toString(16).padStart(8, '0')}, expected 0x${want.toString(16).padStart(8, '0')} (data kept)`);
      }
      return data;
    }
    let out: Uint8Array;
    try {
      if (inflated instanceof Error) throw inflated;
      out = inflated ?? zlib.inflateSync(bytes, { maxOutputLength: this.chunkSize, chunkSize: Math.max(this.chunkSize, 64) });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ERR_BUFFER_TOO_LARGE' ? `inflates past the chunk size ${this.chunkSize}` : `zlib: ${e.message}`;
      this.chunkProblem(i, 'CHUNK_INFLATE', loc.seg.path, loc.offset, `${why}; read as zeros`);
      return new Uint8Array(expected);
    }
    if (out.length !== expected) {
      this.chunkProblem(i, 'CHUNK_SIZE', loc.seg.path, loc.offset, `inflates to ${out.length} bytes, expected ${expected}` +
        (out.length < expected ? '; the rest read as zeros' : '; cut'));
      const fixed = new Uint8Array(expected);
      fixed.set(out.subarray(0, expected));
      return fixed;
    }
    return out;
  }

  /** Decodes uncached chunks of [first, last] (and read-ahead on sequential access) on the worker pool. */
  private prefetch(first: number, last: number): void {
    const pool = this.pool as InflatePool;
    let end = last;
    if (first === this.lastChunkRead + 1 || first === this.lastChunkRead) end = last + READAHEAD_CHUNKS;
    end = Math.min(end, this.chunkTotal - 1, first + Math.floor(this.cacheLimit / this.chunkSize / 2) - 1);
    const jobs: Array<{ i: number; bytes: Uint8Array; loc: ChunkLocation }> = [];
    for (let i = first; i <= end; i++) {
      if (this.cache.has(i)) continue;
      const loc = this.locate(i);
      if (!loc || !loc.compressed) continue; // stored and damaged chunks take the plain path
      const s = this.loadStored(i, loc, new Uint8Array(loc.size));
      if (s) jobs.push({ i, ...s });
    }
    if (jobs.length < 2) return;
    const results = pool.inflateAll(jobs.map((j) => j.bytes));
    for (let k = 0; k < jobs.length; k++) {
      const j = jobs[k] as { i: number; bytes: Uint8Array; loc: ChunkLocation };
      this.remember(j.i, this.finish(j.i, j.bytes, j.loc, results[k]));
    }
  }

  /** Where chunk `i` is stored, or undefined (and a problem) when no table places it. */
  private locate(i: number): ChunkLocation | undefined {
    const t = this.tableFor(i);
    if (!t) {
      this.chunkProblem(i, 'CHUNK_MISSING', this.description, undefined, 'no table indexes it (missing or truncated segment); read as zeros');
      return undefined;
    }
    const loaded = this.loadTable(t);
    const k = i - t.firstChunk;
    const size = loaded.sizes[k] as number;
    const seg = this.segments[t.seg] as Segment;
    const offset = loaded.offsets[k] as number;
    if (size < 0) {
      const why = size === BAD_OUTSIDE ? `points outside the segment (offset ${offset}, file size ${seg.size})`
        : size === BAD_ORDER ? `offset ${offset} is not below the next chunk's offset`
        : `stored size exceeds the limit ${maxStoredChunkBytes(this.chunkSize)}`;
      this.chunkProblem(i, 'TABLE_ENTRY', seg.path, offset, `table entry ${why}; read as zeros`);
      return undefined;
    }
    return { seg, offset, size, compressed: loaded.compressed[k] === 1 };
  }

  private tableFor(i: number): TableRef | undefined {
    let lo = 0;
    let hi = this.tables.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const t = this.tables[mid] as TableRef;
      if (i < t.firstChunk) hi = mid - 1;
      else if (i >= t.firstChunk + t.count) lo = mid + 1;
      else return t;
    }
    return undefined;
  }

  private loadTable(t: TableRef): LoadedTable {
    const key = t.firstChunk;
    const hit = this.tableCache.get(key);
    if (hit) return hit;
    const seg = this.segments[t.seg] as Segment;
    let table = this.decodeTable(t);
    if (!table.footerOk && t.mirror) {
      const m = this.decodeTable({ ...t.mirror, firstChunk: t.firstChunk });
      if (m.footerOk) {
        this.problem({ code: 'TABLE_CHECKSUM', path: seg.path, offset: t.offset, reason: `table entries checksum mismatch; using table2 at ${t.mirror.offset}` });
        table = m;
      }
    }
    if (!table.footerOk) {
      this.problem({ code: 'TABLE_CHECKSUM', path: seg.path, offset: t.offset, reason: `table entries checksum mismatch and no good table2; entries used as they are` });
    }
    if (this.tableCache.size >= TABLE_CACHE_TABLES) this.tableCache.delete(this.tableCache.keys().next().value as number);
    this.tableCache.set(key, table.loaded);
    return table.loaded;
  }

  private decodeTable(t: TableRef): { loaded: LoadedTable; footerOk: boolean } {
    return decodeTable(t, this.segments[t.seg] as Segment, this.chunkSize, (i) => this.chunkLength(i), (p) => this.problem(p));
  }

  close(): void {
    for (const s of this.segments) closeQuietly(s);
    this.cache.clear();
    this.tableCache.clear();
    this.cachedBytes = 0;
    this.pool?.close();
    this.pool = undefined;
    this.closed = true;
  }
}
