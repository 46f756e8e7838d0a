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
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as zlib from 'node:zlib';
import { type ByteSource, ByteSourceError, clampRead } from '../byte-source.js';
import { EwfError, type EwfProblem, type EwfProblemCode } from './errors.js';
import { InflatePool } from './inflate-pool.js';
import { MAX_EWF_SEGMENTS, ewfSegmentNames, shortName } from './segments.js';
import {
  type AcquisitionError,
  COMPRESSION_LEVELS,
  EVF2_SIGNATURE,
  LVF_SIGNATURE,
  isEwfSignature,
  type EwfVolume,
  FILE_HEADER_SIZE,
  HEADER_KEYS,
  MAX_HEADER_BYTES,
  MAX_TABLE_ENTRIES,
  MEDIA_TYPES,
  SECTION_DESCRIPTOR_SIZE,
  TABLE_HEADER_SIZE,
  adler32,
  checkGeometry,
  decodeHeaderText,
  formatGuidLe,
  hex,
  interpretHeaderDate,
  isZeroHex,
  parseDigest,
  parseError2,
  parseFileHeader,
  parseHash,
  parseHeaderValues,
  parseSectionDescriptor,
  parseTableEntries,
  parseTableHeader,
  parseVolume,
} from './structures.js';

/** Default bytes of decompressed chunks kept (1024 chunks of 32 KiB). */
export const DEFAULT_CHUNK_CACHE_BYTES = 32 * 1024 * 1024;
/** Decoded tables kept (each up to MAX_TABLE_ENTRIES entries, ~13 bytes per entry). */
export const TABLE_CACHE_TABLES = 16;
/** Sections one segment file may have before we stop walking it. */
export const MAX_SECTIONS_PER_SEGMENT = 1_000_000;
/** Problems kept in `problems` (all are counted in `problemCount`). */
export const MAX_RECORDED_PROBLEMS = 1_000;
/** Chunks decoded ahead by the worker pool on sequential reads. */
export const READAHEAD_CHUNKS = 32;

/** Largest stored size of one chunk: a zlib stream of incompressible data grows by 5 bytes per 16 KiB block. */
export function maxStoredChunkBytes(chunkSize: number): number {
  return chunkSize + 4 + Math.ceil(chunkSize / 16_384) * 5 + 64;
}

export interface EwfOpenOptions {
  /** Bytes of decompressed chunks cached (default DEFAULT_CHUNK_CACHE_BYTES, at least two chunks). */
  cacheBytes?: number;
  /** Open a set with missing segments (their chunks read as zeros + problems) instead of throwing. */
  allowMissingSegments?: boolean;
  /** Called for every problem as it is met (also recorded in `problems`). */
  onProblem?: (p: EwfProblem) => void;
  /** Worker threads inflating chunks for multi-chunk and sequential reads (0 = inflate on the calling thread). */
  inflateWorkers?: number;
}

export interface HeaderDate {
  raw: string;
  /** UTC, when the header stored Unix seconds (header2). */
  iso?: string;
  /** The acquiring machine's local time, zone unknown (EnCase `header` text). */
  local?: string;
}

/** Case metadata from header2 (preferred), header or xheader. */
export interface EwfHeaderInfo {
  source: 'header2' | 'header' | 'xheader' | 'none';
  description?: string;
  caseNumber?: string;
  evidenceNumber?: string;
  examinerName?: string;
  notes?: string;
  model?: string;
  serialNumber?: string;
  deviceLabel?: string;
  acquisitionSoftware?: string;
  acquisitionSoftwareVersion?: string;
  acquisitionOperatingSystem?: string;
  acquisitionDate?: HeaderDate;
  systemDate?: HeaderDate;
  passwordHash?: string;
  /** Every identifier -> value as stored (`c`, `n`, `e`, `av`, ...). */
  values: Record<string, string>;
}

export interface EwfSegmentInfo {
  path: string;
  number: number;
  size: number;
  /** How the segment's section chain ended. */
  end: 'done' | 'next' | 'truncated';
}

/** What `flotsam info` shows for an E01. */
export interface EwfMetadata {
  format: 'EWF-E01' | 'EWF-S01';
  segments: EwfSegmentInfo[];
  header: EwfHeaderInfo;
  mediaType: string;
  mediaFlags: number;
  isPhysical: boolean;
  bytesPerSector: number;
  sectorsPerChunk: number;
  chunkSize: number;
  /** Chunks the volume section declares, and chunks the tables actually index. */
  chunkCount: number;
  chunksIndexed: number;
  sectorCount: bigint;
  mediaSize: bigint;
  compressionLevel: string;
  errorGranularity: number;
  /** Segment file set identifier (volume GUID), empty when zero. */
  setIdentifier: string;
  /** Hashes of the media stored by the acquiring tool (lower-case hex), from digest, hash or xhash. */
  storedHashes: { md5?: string; sha1?: string };
  /** Sectors the acquiring tool could not read (error2): it stored zeros there. */
  acquisitionErrors: AcquisitionError[];
  /** Section types we met but do not interpret. */
  unknownSections: string[];
  /** The last segment ends in a done section and every chunk is indexed. */
  complete: boolean;
}

interface Section {
  type: string;
  offset: number;
  /** End of the section's data (descriptor offset + size, clamped to the file). */
  end: number;
}

interface Segment {
  path: string;
  fd: number | undefined;
  size: number;
  number: number;
  sections: Section[];
}

interface TableRef {
  seg: number;
  /** Section descriptor offset; entries start at +76+24. */
  offset: number;
  sectionEnd: number;
  count: number;
  base: bigint;
  headerOk: boolean;
  mirror?: TableRef;
  firstChunk: number;
}

interface LoadedTable {
  offsets: Float64Array;
  /** Stored size of each chunk, -1 when the entry is unusable. */
  sizes: Int32Array;
  compressed: Uint8Array;
}

interface ChunkLocation {
  seg: Segment;
  offset: number;
  size: number;
  compressed: boolean;
}

const ZERO = new Uint8Array(0);
/** LoadedTable.sizes markers for unusable entries. */
const BAD_OUTSIDE = -1;
const BAD_ORDER = -2;
const BAD_TOO_BIG = -3;

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
    const seg = this.segments[t.seg] as Segment;
    const entriesAt = t.offset + SECTION_DESCRIPTOR_SIZE + TABLE_HEADER_SIZE;
    const want = 4 * t.count + 4;
    const b = new Uint8Array(want);
    const got = seg.fd === undefined ? 0 : fs.readSync(seg.fd, b, 0, Math.max(0, Math.min(want, seg.size - entriesAt)), entriesAt);
    const n = Math.min(t.count, Math.floor(got / 4));
    const e = parseTableEntries(b, 0, n, t.base);
    const sizes = new Int32Array(t.count).fill(BAD_OUTSIDE);
    const offsets = new Float64Array(t.count);
    offsets.set(e.offsets);
    const compressed = new Uint8Array(t.count);
    compressed.set(e.compressed);
    const entriesEnd = entriesAt + 4 * t.count;
    // The entry array has an Adler-32 footer unless the chunks follow it directly (SMART / original EWF).
    const hasFooter = n === 0 || (e.offsets[0] as number) !== entriesEnd;
    let footerOk = true;
    if (hasFooter) footerOk = got >= want && adler32(b, 0, 4 * t.count) === u32le(b, 4 * t.count);
    if (e.overflowAt >= 0) {
      this.problem({ code: 'TABLE_ENTRY', path: seg.path, offset: t.offset,
        reason: `table offsets overflow 31 bits at entry ${e.overflowAt} (EnCase 6.7.1 quirk): later chunks read as uncompressed` });
    }
    const limit = maxStoredChunkBytes(this.chunkSize);
    for (let k = 0; k < n; k++) {
      const off = e.offsets[k] as number;
      if (off < FILE_HEADER_SIZE || off >= seg.size) continue; // stays BAD_OUTSIDE
      let end: number;
      if (k + 1 < n) end = e.offsets[k + 1] as number;
      else end = sectionEndAt(seg, off);
      if (!(e.compressed[k] as number)) {
        // A stored chunk's size is known; the next offset only bounds it.
        const need = this.chunkLength(t.firstChunk + k) + 4;
        end = Math.min(seg.size, off + need);
      }
      const size = Math.min(end, seg.size) - off;
      sizes[k] = size <= 0 ? BAD_ORDER : size > limit ? BAD_TOO_BIG : size;
    }
    if (n < t.count) {
      this.problem({ code: 'TRUNCATED', path: seg.path, offset: entriesAt, reason: `table holds ${n} of ${t.count} entries before the segment ends` });
    }
    return { loaded: { offsets, sizes, compressed }, footerOk };
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

function u32le(b: Uint8Array, o: number): number {
  return ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16)) + (b[o + 3] as number) * 0x1000000;
}

function closeQuietly(s: Segment): void {
  if (s.fd === undefined) return;
  try {
    fs.closeSync(s.fd);
  } catch {
    /* already closed */
  }
  s.fd = undefined;
}

/** End of the section holding file offset `off` (chunk data lies in a sectors or table section). */
function sectionEndAt(seg: Segment, off: number): number {
  let lo = 0;
  let hi = seg.sections.length - 1;
  let found: Section | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = seg.sections[mid] as Section;
    if (s.offset <= off) {
      found = s;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found && off < found.end ? found.end : off;
}

/** Walks the sections of every segment of a set at open time. */
class SetWalker {
  readonly segments: Array<Segment & { end: EwfSegmentInfo['end'] }> = [];
  volume: EwfVolume | undefined;
  private volumeFrom = '';
  private readonly tables: TableRef[] = [];
  private header2: Map<string, string> | undefined;
  private headerText: Map<string, string> | undefined;
  private xheader: Map<string, string> | undefined;
  private hashMd5: string | undefined;
  private digest: { md5?: string; sha1?: string } | undefined;
  private xhash: { md5?: string; sha1?: string } | undefined;
  readonly acquisitionErrors: AcquisitionError[] = [];
  readonly unknownSections = new Set<string>();

  constructor(
    private readonly first: string,
    private readonly options: EwfOpenOptions,
    private readonly problem: (p: EwfProblem) => void,
  ) {}

  run(): void {
    const names = ewfSegmentNames(this.first);
    for (let n = 1; n <= MAX_EWF_SEGMENTS; n++) {
      const path = n === 1 ? this.first : names?.(n);
      if (path === undefined) {
        this.problem({ code: 'LIMIT', path: this.first, reason: `no name for segment ${n} (the first segment is not named *.E01, or past .ZZZ)` });
        if (!this.options.allowMissingSegments) {
          throw new EwfError('MISSING_SEGMENT', this.first, `segment ${n} is needed but cannot be named from ${shortName(this.first)}`);
        }
        break;
      }
      if (n > 1 && !fs.existsSync(path)) {
        const prev = this.segments[this.segments.length - 1];
        // Only a "next" section promises another segment; after a truncated one we cannot tell, so the set ends.
        if (prev?.end === 'next') {
          if (!this.options.allowMissingSegments) {
            throw new EwfError('MISSING_SEGMENT', path, `segment ${n} of ${shortName(this.first)} is missing (${shortName(prev.path)} ends with a "${prev.end}" section)`);
          }
          this.problem({ code: 'CHUNK_MISSING', path, reason: `segment ${n} is missing; its chunks read as zeros` });
        }
        break;
      }
      const seg = this.openSegment(path, n);
      this.segments.push(seg);
      this.walkSections(seg);
      if (seg.end === 'done') {
        const extra = names?.(n + 1);
        if (extra && fs.existsSync(extra)) {
          this.problem({ code: 'EXTRA_SEGMENT', path: extra, reason: `ignored: ${shortName(path)} ends the set with a done section` });
        }
        break;
      }
      if (seg.end === 'truncated') {
        this.problem({ code: 'TRUNCATED', path, reason: 'segment ends without a done or next section' });
        // How many chunks the rest of this segment held is unknown: mark the loss so later tables are not shifted.
        this.tables.push({ seg: this.segments.length - 1, offset: seg.size, sectionEnd: seg.size, count: -1, base: 0n, headerOk: false, firstChunk: 0 });
      }
    }
  }

  private openSegment(path: string, n: number): Segment & { end: EwfSegmentInfo['end'] } {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new EwfError(code === 'ENOENT' ? 'MISSING_SEGMENT' : 'IO', path, (err as Error).message);
    }
    const seg = { path, fd, size: 0, number: n, sections: [] as Section[], end: 'truncated' as EwfSegmentInfo['end'] };
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw new EwfError('IO', path, 'not a regular file');
      seg.size = st.size;
      const hb = new Uint8Array(FILE_HEADER_SIZE);
      const got = fs.readSync(fd, hb, 0, FILE_HEADER_SIZE, 0);
      const h = parseFileHeader(hb.subarray(0, got), path);
      if (n === 1 && h.segment_number !== 1) {
        throw new EwfError('NOT_FIRST_SEGMENT', path, `this is segment ${h.segment_number} of an EWF set; open the first segment (.E01)`);
      }
      if (h.segment_number !== n) {
        this.problem({ code: 'SET_MISMATCH', path, reason: `file header says segment ${h.segment_number}, its name says ${n}` });
      }
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    return seg;
  }

  private readAt(seg: Segment, offset: number, length: number): Uint8Array {
    const b = new Uint8Array(Math.max(0, Math.min(length, seg.size - offset)));
    const got = b.length === 0 ? 0 : fs.readSync(seg.fd as number, b, 0, b.length, offset);
    return b.subarray(0, got);
  }

  private walkSections(seg: Segment & { end: EwfSegmentInfo['end'] }): void {
    let off = FILE_HEADER_SIZE;
    let lastTable: TableRef | undefined;
    for (let count = 0; ; count++) {
      if (count >= MAX_SECTIONS_PER_SEGMENT) {
        this.problem({ code: 'LIMIT', path: seg.path, offset: off, reason: `more than ${MAX_SECTIONS_PER_SEGMENT} sections; stopped` });
        return;
      }
      if (off + SECTION_DESCRIPTOR_SIZE > seg.size) {
        this.problem({ code: 'TRUNCATED', path: seg.path, offset: off, reason: `section descriptor at ${off} lies past the end of the file (${seg.size} bytes)` });
        return;
      }
      const d = parseSectionDescriptor(this.readAt(seg, off, SECTION_DESCRIPTOR_SIZE));
      const type = d.type_string;
      if (!d.checksumOk) {
        this.problem({ code: 'SECTION_CHECKSUM', path: seg.path, offset: off, reason: `section descriptor "${type}" checksum mismatch` });
      }
      const next = d.next_offset > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(d.next_offset);
      const sizeN = d.size > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(d.size);
      let end = sizeN >= SECTION_DESCRIPTOR_SIZE ? off + sizeN : next > off ? next : off + SECTION_DESCRIPTOR_SIZE;
      if (sizeN >= SECTION_DESCRIPTOR_SIZE && next > off && off + sizeN !== next && type !== 'done' && type !== 'next') {
        this.problem({ code: 'SECTION_CHAIN', path: seg.path, offset: off,
          reason: `"${type}" section size ${sizeN} ends at ${off + sizeN} but its next offset is ${next}; following the next offset` });
        end = Math.min(end, next);
      }
      if (end > seg.size) {
        this.problem({ code: 'TRUNCATED', path: seg.path, offset: off, reason: `"${type}" section ends at ${end}, past the end of the file (${seg.size})` });
        end = seg.size;
      }
      seg.sections.push({ type, offset: off, end });
      const bodyAt = off + SECTION_DESCRIPTOR_SIZE;
      const bodyLen = Math.max(0, end - bodyAt);
      const table = this.handle(seg, type, off, bodyAt, bodyLen, end, lastTable);
      if (table !== undefined) lastTable = table ?? undefined;
      else if (type !== 'table2') lastTable = undefined;
      if (type === 'done' || type === 'next') {
        seg.end = type;
        return;
      }
      if (next <= off) {
        this.problem({ code: 'SECTION_CHAIN', path: seg.path, offset: off, reason: `"${type}" section's next offset ${next} does not move forward; stopped` });
        return;
      }
      if (next > seg.size) {
        this.problem({ code: 'TRUNCATED', path: seg.path, offset: off, reason: `next section offset ${next} lies past the end of the file (${seg.size})` });
        return;
      }
      off = next;
    }
  }

  /** Handles one section; returns the TableRef for table sections (null when unusable). */
  private handle(seg: Segment, type: string, off: number, bodyAt: number, bodyLen: number, end: number, lastTable: TableRef | undefined): TableRef | null | undefined {
    switch (type) {
      case 'header2':
      case 'header':
      case 'xheader': {
        if ((type === 'header2' && this.header2) || (type === 'header' && this.headerText) || (type === 'xheader' && this.xheader)) return undefined;
        const text = this.inflateText(seg, off, bodyAt, bodyLen, type);
        if (text === undefined) return undefined;
        if (type === 'xheader') this.xheader = parseXml(text);
        else {
          const values = parseHeaderValues(decodeHeaderText(text, type === 'header2'));
          if (values.size === 0) this.problem({ code: 'HEADER', path: seg.path, offset: off, reason: `${type} text has no "main" category` });
          else if (type === 'header2') this.header2 = values;
          else this.headerText = values;
        }
        return undefined;
      }
      case 'volume':
      case 'disk':
      case 'data': {
        let v: EwfVolume;
        try {
          v = parseVolume(this.readAt(seg, bodyAt, Math.min(bodyLen, 1052)), `${seg.path} @${off}`);
        } catch (err) {
          this.problem({ code: 'VOLUME', path: seg.path, offset: off, reason: (err as Error).message });
          return undefined;
        }
        if (!v.checksumOk) this.problem({ code: 'VOLUME', path: seg.path, offset: off, reason: `${type} section checksum mismatch` });
        if (!this.volume || (!this.volumeFromGood && v.checksumOk)) {
          this.volume = v;
          this.volumeFrom = `${seg.path}@${off}`;
          this.volumeFromGood = v.checksumOk;
        } else if (v.number_of_chunks !== this.volume.number_of_chunks || hex(v.set_identifier) !== hex(this.volume.set_identifier) ||
          v.number_of_sectors !== this.volume.number_of_sectors) {
          this.problem({ code: 'SET_MISMATCH', path: seg.path, offset: off,
            reason: `${type} section disagrees with ${this.volumeFrom} (chunks ${v.number_of_chunks} vs ${this.volume.number_of_chunks}, set ${hex(v.set_identifier)} vs ${hex(this.volume.set_identifier)}): segment from another acquisition?` });
        }
        return undefined;
      }
      case 'table':
      case 'table2': {
        const t = this.tableRef(seg, off, bodyAt, bodyLen, end);
        if (type === 'table2' && lastTable && !lastTable.mirror) {
          if (t) lastTable.mirror = t;
          return undefined;
        }
        const ref = t ?? { seg: this.segments.length - 1, offset: off, sectionEnd: end, count: -1, base: 0n, headerOk: false, firstChunk: 0 };
        this.tables.push(ref);
        return ref;
      }
      case 'hash': {
        const h = parseHash(this.readAt(seg, bodyAt, Math.min(bodyLen, 36)));
        if (!h) this.problem({ code: 'HASH', path: seg.path, offset: off, reason: `hash section body ${bodyLen} bytes, need 36` });
        else {
          if (!h.checksumOk) this.problem({ code: 'HASH', path: seg.path, offset: off, reason: 'hash section checksum mismatch (stored MD5 kept)' });
          this.hashMd5 = h.md5;
        }
        return undefined;
      }
      case 'digest': {
        const h = parseDigest(this.readAt(seg, bodyAt, Math.min(bodyLen, 80)));
        if (!h) this.problem({ code: 'HASH', path: seg.path, offset: off, reason: `digest section body ${bodyLen} bytes, need 80` });
        else {
          if (!h.checksumOk) this.problem({ code: 'HASH', path: seg.path, offset: off, reason: 'digest section checksum mismatch (stored hashes kept)' });
          this.digest = { md5: isZeroHex(h.md5) ? undefined : h.md5, sha1: isZeroHex(h.sha1) ? undefined : h.sha1 };
        }
        return undefined;
      }
      case 'xhash': {
        const text = this.inflateText(seg, off, bodyAt, bodyLen, type);
        if (text !== undefined) {
          const x = parseXml(text);
          this.xhash = { md5: x.get('md5')?.toLowerCase(), sha1: x.get('sha1')?.toLowerCase() };
        }
        return undefined;
      }
      case 'error2': {
        try {
          const e = parseError2(this.readAt(seg, bodyAt, Math.min(bodyLen, 520 + 8 * 1_000_000 + 4)), `${seg.path} @${off}`);
          if (!e.checksumOk) this.problem({ code: 'ACQUISITION_ERRORS', path: seg.path, offset: off, reason: 'error2 section checksum mismatch' });
          this.acquisitionErrors.push(...e.entries);
          if (e.entries.length > 0) {
            const sectors = e.entries.reduce((n, x) => n + x.sectorCount, 0);
            this.problem({ code: 'ACQUISITION_ERRORS', path: seg.path, offset: off,
              reason: `the acquiring tool could not read ${sectors} sectors in ${e.entries.length} runs (first at sector ${e.entries[0]?.firstSector}); they hold zeros` });
          }
        } catch (err) {
          this.problem({ code: 'ACQUISITION_ERRORS', path: seg.path, offset: off, reason: (err as Error).message });
        }
        return undefined;
      }
      case 'incomplete':
        this.problem({ code: 'TRUNCATED', path: seg.path, offset: off, reason: 'an "incomplete" section: the acquisition did not finish' });
        return undefined;
      case 'sectors':
      case 'done':
      case 'next':
      case 'session':
        return undefined;
      default:
        if (this.unknownSections.size < 100) this.unknownSections.add(type);
        return undefined;
    }
  }

  private volumeFromGood = false;

  private tableRef(seg: Segment, off: number, bodyAt: number, bodyLen: number, end: number): TableRef | null {
    if (bodyLen < TABLE_HEADER_SIZE) {
      this.problem({ code: 'TABLE_LOST', path: seg.path, offset: off, reason: `table section body ${bodyLen} bytes, need ${TABLE_HEADER_SIZE}` });
      return null;
    }
    const h = parseTableHeader(this.readAt(seg, bodyAt, TABLE_HEADER_SIZE));
    const fit = Math.floor((bodyLen - TABLE_HEADER_SIZE) / 4);
    let reason = '';
    if (h.number_of_entries > MAX_TABLE_ENTRIES) reason = `${h.number_of_entries} entries, limit ${MAX_TABLE_ENTRIES}`;
    else if (h.number_of_entries > fit) reason = `${h.number_of_entries} entries do not fit in the section (${fit} would)`;
    else if (h.base_offset > BigInt(seg.size)) reason = `base offset ${h.base_offset} lies past the end of the file (${seg.size})`;
    if (!h.checksumOk) reason = reason ? `${reason}; header checksum mismatch` : '';
    if (reason) {
      this.problem({ code: 'TABLE_LOST', path: seg.path, offset: off, reason: `table header unusable: ${reason}` });
      return null;
    }
    if (!h.checksumOk) this.problem({ code: 'TABLE_CHECKSUM', path: seg.path, offset: off, reason: 'table header checksum mismatch (values within limits, used)' });
    return { seg: this.segments.length - 1, offset: off, sectionEnd: end, count: h.number_of_entries, base: h.base_offset, headerOk: h.checksumOk, firstChunk: 0 };
  }

  private inflateText(seg: Segment, off: number, bodyAt: number, bodyLen: number, type: string): Uint8Array | undefined {
    if (bodyLen > MAX_HEADER_BYTES) {
      this.problem({ code: 'LIMIT', path: seg.path, offset: off, reason: `${type} section of ${bodyLen} bytes exceeds ${MAX_HEADER_BYTES}` });
      return undefined;
    }
    try {
      return zlib.inflateSync(this.readAt(seg, bodyAt, bodyLen), { maxOutputLength: MAX_HEADER_BYTES });
    } catch (err) {
      this.problem({ code: 'HEADER', path: seg.path, offset: off, reason: `${type} section does not inflate: ${(err as Error).message}` });
      return undefined;
    }
  }

  /**
   * Numbers the chunks table by table, in segment order. After a lost table (unusable header, even through its table2,
   * or a truncated segment) the count of chunks it held is unknown: the tables after it are numbered back from the end
   * of the media (the volume's chunk count), which holds when the rest of the set is intact; the chunks in between read
   * as zeros with a TABLE_LOST problem. Chunks are never shifted onto the wrong media offset silently.
   */
  assignChunks(chunksNeeded: number): TableRef[] {
    const out: TableRef[] = [];
    let next = 0;
    let lostAt = -1;
    for (let k = 0; k < this.tables.length; k++) {
      const t0 = this.tables[k] as TableRef;
      let t = t0;
      if ((t.count < 0 || !t.headerOk) && t.mirror && t.mirror.headerOk) {
        t = { ...t.mirror };
        this.problem({ code: 'TABLE_CHECKSUM', path: this.segments[t.seg]?.path ?? this.first, offset: t0.offset, reason: `table header damaged; using table2 at ${t.offset}` });
      }
      if (t.count < 0) {
        lostAt = k;
        break;
      }
      t.firstChunk = next;
      if (t.mirror) t.mirror.firstChunk = next;
      next += t.count;
      if (t.count > 0) out.push(t);
    }
    if (lostAt >= 0) {
      const lost = this.tables[lostAt] as TableRef;
      const where = this.segments[lost.seg]?.path ?? this.first;
      const after: TableRef[] = [];
      for (const t0 of this.tables.slice(lostAt + 1)) {
        const t = t0.count < 0 || !t0.headerOk ? (t0.mirror?.headerOk ? { ...t0.mirror } : t0) : t0;
        if (t.count < 0) {
          after.length = 0; // a second loss: nothing after the first can be placed
          break;
        }
        after.push(t);
      }
      const tail = after.reduce((n, t) => n + t.count, 0);
      const start = chunksNeeded - tail;
      if (tail > 0 && start >= next) {
        let c = start;
        for (const t of after) {
          t.firstChunk = c;
          if (t.mirror) t.mirror.firstChunk = c;
          c += t.count;
          if (t.count > 0) out.push(t);
        }
        this.problem({ code: 'TABLE_LOST', path: where, offset: lost.offset,
          reason: `a table is lost: chunks ${next}..${start - 1} read as zeros; the ${tail} chunks after it are placed back from the end of the media` });
      } else {
        this.problem({ code: 'TABLE_LOST', path: where, offset: lost.offset,
          reason: `a table is lost: chunks from ${next} on cannot be placed and read as zeros` });
      }
    }
    return out;
  }

  header(): EwfHeaderInfo {
    const source = this.header2 ? 'header2' : this.headerText ? 'header' : this.xheader ? 'xheader' : 'none';
    const values = this.header2 ?? this.headerText ?? new Map<string, string>();
    const info: EwfHeaderInfo = { source, values: Object.fromEntries(values) };
    const put = (name: string, v: string | undefined) => {
      if (v === undefined || v === '') return;
      if (name === 'acquisitionDate' || name === 'systemDate') (info as unknown as Record<string, HeaderDate>)[name] = { raw: v, ...interpretHeaderDate(v) };
      else (info as unknown as Record<string, string>)[name] = v;
    };
    for (const [k, v] of values) {
      const name = HEADER_KEYS[k];
      if (name) put(name, v);
    }
    if (this.xheader) {
      const x = this.xheader;
      const map: Record<string, string> = {
        case_number: 'caseNumber', description: 'description', examiner_name: 'examinerName', evidence_number: 'evidenceNumber',
        notes: 'notes', acquiry_operating_system: 'acquisitionOperatingSystem', acquiry_software: 'acquisitionSoftware',
        acquiry_software_version: 'acquisitionSoftwareVersion', acquiry_date: 'acquisitionDate', system_date: 'systemDate',
        model: 'model', serial_number: 'serialNumber', device_label: 'deviceLabel',
      };
      for (const [k, name] of Object.entries(map)) {
        if ((info as unknown as Record<string, unknown>)[name] === undefined) put(name, x.get(k));
      }
      if (source === 'xheader') info.values = Object.fromEntries(x);
    }
    return info;
  }

  storedHashes(): { md5?: string; sha1?: string } {
    const md5 = this.digest?.md5 ?? this.hashMd5 ?? this.xhash?.md5;
    const sha1 = this.digest?.sha1 ?? this.xhash?.sha1;
    if (this.digest?.md5 && this.hashMd5 && this.digest.md5 !== this.hashMd5) {
      this.problem({ code: 'HASH', path: this.first, reason: `digest MD5 ${this.digest.md5} differs from hash MD5 ${this.hashMd5}` });
    }
    const out: { md5?: string; sha1?: string } = {};
    if (md5) out.md5 = md5;
    if (sha1) out.sha1 = sha1;
    return out;
  }
}

/** Flat <tag>text</tag> pairs of ewfx xheader/xhash XML (keys lower-cased). No entities beyond the five basic ones. */
function parseXml(b: Uint8Array): Map<string, string> {
  const text = new TextDecoder('utf-8').decode(b);
  const out = new Map<string, string>();
  const re = /<([A-Za-z0-9_]+)>([^<]*)<\/\1>/g;
  let m: RegExpExecArray | null;
  let count = 0;
  while ((m = re.exec(text)) !== null && count++ < 1000) {
    const v = (m[2] as string).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    out.set((m[1] as string).toLowerCase(), v.trim());
  }
  return out;
}

/**
 * Probe for IMAGE_OPENERS: does the file start with an EWF signature (EVF, or the LVF/EVF2 variants we refuse with a
 * clear error rather than read as raw)? Content only: the extension does not matter.
 */
export function probeEwfFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    if (!fs.fstatSync(fd).isFile()) return false;
    const b = new Uint8Array(8);
    if (fs.readSync(fd, b, 0, 8, 0) < 8) return false;
    return isEwfSignature(b) || startsWithBytes(b, LVF_SIGNATURE) || startsWithBytes(b, EVF2_SIGNATURE);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function startsWithBytes(b: Uint8Array, sig: Uint8Array): boolean {
  return sig.every((x, i) => b[i] === x);
}
