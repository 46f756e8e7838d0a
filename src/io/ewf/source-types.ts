// Limits, option and metadata shapes of EwfSource (./ewf-source.ts), and the internal records shared by the set walk
// (./set-walker.ts), the chunk tables (./chunk-table.ts) and the reader.
import * as fs from 'node:fs';
import type { EwfProblem } from './errors.js';
import type { AcquisitionError } from './structures.js';

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

export interface Section {
  type: string;
  offset: number;
  /** End of the section's data (descriptor offset + size, clamped to the file). */
  end: number;
}

export interface Segment {
  path: string;
  fd: number | undefined;
  size: number;
  number: number;
  sections: Section[];
}

export interface TableRef {
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

export interface LoadedTable {
  offsets: Float64Array;
  /** Stored size of each chunk, -1 when the entry is unusable. */
  sizes: Int32Array;
  compressed: Uint8Array;
}

export interface ChunkLocation {
  seg: Segment;
  offset: number;
  size: number;
  compressed: boolean;
}

/** LoadedTable.sizes markers for unusable entries. */
export const BAD_OUTSIDE = -1;
export const BAD_ORDER = -2;
export const BAD_TOO_BIG = -3;

export function u32le(b: Uint8Array, o: number): number {
  return ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16)) + (b[o + 3] as number) * 0x1000000;
}

export function closeQuietly(s: Segment): void {
  if (s.fd === undefined) return;
  try {
    fs.closeSync(s.fd);
  } catch {
    /* already closed */
  }
  s.fd = undefined;
}

/** End of the section holding file offset `off` (chunk data lies in a sectors or table section). */
export function sectionEndAt(seg: Segment, off: number): number {
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
