// The carver's limits, what it reads (ScanTarget) and what it produces (CarvedObject, CarveStats): shared by the
// scanner, the evidence adapters that build targets (evidence.ts) and the record builder (records.ts), none of which
// need the scanner's internals. scanner.ts re-exports them.
import type { JsonObject } from '../collectors/docker/json-guard.js';

/** Bytes read and scanned at once. */
export const CARVE_CHUNK_BYTES = 8 * 1024 * 1024;
/** Largest config.v2.json / hostconfig.json carved (real ones are a few KiB; a huge Env still fits). */
export const MAX_CARVED_CONFIG_BYTES = 1024 * 1024;
/**
 * Longest carved log line: Docker cuts messages at 16 KiB; escaping (`\u003c` for `<`, ...) can make that up to
 * six times longer, plus the fields.
 */
export const MAX_CARVED_LOG_LINE_BYTES = 128 * 1024;
/** Bytes the brace matcher may walk per chunk, as a multiple of the chunk size (hostile data cannot go quadratic). */
export const EXTEND_BUDGET_FACTOR = 4;
/** Objects kept (configs + hostconfigs); more are counted, not kept. */
export const MAX_CARVED_OBJECTS = 100_000;
/** Log events kept in memory (about 0.5 KiB each); more are counted, not kept. */
export const MAX_CARVED_LOG_EVENTS = 1_000_000;

export interface CarveLimits {
  chunkBytes: number;
  maxConfigBytes: number;
  maxLogLineBytes: number;
  extendBudgetFactor: number;
  maxObjects: number;
  maxLogEvents: number;
}

export const DEFAULT_CARVE_LIMITS: Readonly<CarveLimits> = Object.freeze({
  chunkBytes: CARVE_CHUNK_BYTES,
  maxConfigBytes: MAX_CARVED_CONFIG_BYTES,
  maxLogLineBytes: MAX_CARVED_LOG_LINE_BYTES,
  extendBudgetFactor: EXTEND_BUDGET_FACTOR,
  maxObjects: MAX_CARVED_OBJECTS,
  maxLogEvents: MAX_CARVED_LOG_EVENTS,
});

/** Where carved bytes came from. */
export type CarveVia = 'unallocated' | 'deleted-inode' | 'disk';

/** A stream of bytes to carve: a span of free blocks, the readable content of a deleted inode, a disk region. */
export interface ScanTarget {
  /** Label of the file system (or `disk`) for provenance. */
  fs: string;
  via: CarveVia;
  /** Bytes in the target (positions 0..size). */
  size: number;
  /** Reads up to `length` bytes at `position`; bytes not to be carved (allocated blocks) must read as zeros. */
  read(buf: Uint8Array, bufOffset: number, length: number, position: number): number;
  /** Absolute disk offset of target byte `pos` (undefined when unknown). */
  diskOffset(pos: number): bigint | undefined;
  /** Offset inside the file system of byte `pos`. */
  fsOffset(pos: number): bigint | undefined;
  /** For deleted inodes. */
  inode?: number;
  containerId?: string;
  names?: string[];
  /** Objects of one group (the files of one deleted directory) belong together. */
  group?: string;
  /** Label of the file system holding byte `pos` when a target spans several (whole-disk carving). */
  fsAt?(pos: number): string;
}

export type CarvedKind = 'config' | 'hostconfig';

export interface CarvedObject {
  kind: CarvedKind;
  value: JsonObject;
  fs: string;
  via: CarveVia;
  /** Absolute disk offset of the object's first byte. */
  offset?: bigint;
  fsOffset?: bigint;
  inode?: number;
  /** Offset inside the deleted file. */
  fileOffset?: number;
  /** ScanTarget.group of where it was found. */
  group?: string;
  bytes: number;
  sha256: string;
  /** Same content met again at other offsets (not kept). */
  duplicates: number;
  /** Offsets of the duplicates (the first 16). */
  duplicateOffsets: string[];
}

export interface CarveStats {
  targets: number;
  bytesScanned: number;
  hits: number;
  configs: number;
  hostconfigs: number;
  logLines: number;
  duplicates: number;
  rejected: number;
  budgetSkips: number;
  droppedOverLimit: number;
}
