// The systemd journal file format: every on-disk structure declared once, with the upstream field names and
// offsets, and pure parsers from bytes (no I/O here; reader.ts reads, this file parses).
// References: systemd/systemd docs/JOURNAL_FILE_FORMAT.md; src/libsystemd/sd-journal/journal-def.h (struct Header,
// ObjectHeader, DataObject, EntryObject, EntryArrayObject); src/libsystemd/sd-journal/journal-file.c
// (journal_file_verify_header, check_object); docs/formats/journald.md. All integers are little-endian.

/** `LPKSHHRH`. */
export const HEADER_SIGNATURE = [0x4c, 0x50, 0x4b, 0x53, 0x48, 0x48, 0x52, 0x48] as const;

/** struct Header field offsets (journal-def.h; the size grew over releases, see HEADER_SIZE_*). */
export const H = {
  signature: 0, // uint8_t[8]
  compatible_flags: 8, // le32
  incompatible_flags: 12, // le32
  state: 16, // uint8_t, then reserved[7]
  file_id: 24, // sd_id128_t
  machine_id: 40,
  tail_entry_boot_id: 56,
  seqnum_id: 72,
  header_size: 88, // le64
  arena_size: 96,
  data_hash_table_offset: 104,
  data_hash_table_size: 112,
  field_hash_table_offset: 120,
  field_hash_table_size: 128,
  tail_object_offset: 136,
  n_objects: 144,
  n_entries: 152,
  tail_entry_seqnum: 160,
  head_entry_seqnum: 168,
  entry_array_offset: 176,
  head_entry_realtime: 184,
  tail_entry_realtime: 192,
  tail_entry_monotonic: 200,
  n_data: 208, // added in 187
  n_fields: 216,
  n_tags: 224, // added in 189
  n_entry_arrays: 232,
  data_hash_chain_depth: 240, // added in 246
  field_hash_chain_depth: 248,
  tail_entry_array_offset: 256, // le32, added in 252
  tail_entry_array_n_entries: 260, // le32
  tail_entry_offset: 264, // le64, added in 254
} as const;

/** Every field up to and including tail_entry_monotonic exists in all versions ("up to n_data", the spec says). */
export const HEADER_SIZE_MIN = 208;
/** sizeof(struct Header) in systemd 254+. */
export const HEADER_SIZE_CURRENT = 272;

export const HEADER_INCOMPATIBLE_COMPRESSED_XZ = 1 << 0;
export const HEADER_INCOMPATIBLE_COMPRESSED_LZ4 = 1 << 1;
export const HEADER_INCOMPATIBLE_KEYED_HASH = 1 << 2;
export const HEADER_INCOMPATIBLE_COMPRESSED_ZSTD = 1 << 3;
export const HEADER_INCOMPATIBLE_COMPACT = 1 << 4;
export const HEADER_INCOMPATIBLE_KNOWN =
  HEADER_INCOMPATIBLE_COMPRESSED_XZ |
  HEADER_INCOMPATIBLE_COMPRESSED_LZ4 |
  HEADER_INCOMPATIBLE_KEYED_HASH |
  HEADER_INCOMPATIBLE_COMPRESSED_ZSTD |
  HEADER_INCOMPATIBLE_COMPACT;

export const HEADER_COMPATIBLE_SEALED = 1 << 0;
export const HEADER_COMPATIBLE_TAIL_ENTRY_BOOT_ID = 1 << 1;
export const HEADER_COMPATIBLE_SEALED_CONTINUOUS = 1 << 2;

export const STATE_OFFLINE = 0;
export const STATE_ONLINE = 1;
export const STATE_ARCHIVED = 2;
export const STATE_NAMES = ['offline', 'online', 'archived'] as const;

/** ObjectType (journal-def.h). */
export const OBJECT_UNUSED = 0;
export const OBJECT_DATA = 1;
export const OBJECT_FIELD = 2;
export const OBJECT_ENTRY = 3;
export const OBJECT_DATA_HASH_TABLE = 4;
export const OBJECT_FIELD_HASH_TABLE = 5;
export const OBJECT_ENTRY_ARRAY = 6;
export const OBJECT_TAG = 7;
export const OBJECT_TYPE_MAX = 8;
export const OBJECT_TYPE_NAMES = [
  'UNUSED',
  'DATA',
  'FIELD',
  'ENTRY',
  'DATA_HASH_TABLE',
  'FIELD_HASH_TABLE',
  'ENTRY_ARRAY',
  'TAG',
] as const;

/** ObjectHeader.flags (only valid on DATA objects; at most one bit). */
export const OBJECT_COMPRESSED_XZ = 1 << 0;
export const OBJECT_COMPRESSED_LZ4 = 1 << 1;
export const OBJECT_COMPRESSED_ZSTD = 1 << 2;
export const OBJECT_COMPRESSED_MASK = OBJECT_COMPRESSED_XZ | OBJECT_COMPRESSED_LZ4 | OBJECT_COMPRESSED_ZSTD;

/** struct ObjectHeader: type u8 @0, flags u8 @1, reserved[6] @2, le64 size @8 (includes the header). */
export const OBJECT_HEADER_SIZE = 16;

/** struct DataObject: hash @16, next_hash_offset @24, next_field_offset @32, entry_offset @40,
 *  entry_array_offset @48, n_entries @56, payload @64; compact files add tail_entry_array_offset (le32) @64 and
 *  tail_entry_array_n_entries (le32) @68, payload @72. */
export const DATA = { hash: 16, next_hash_offset: 24, next_field_offset: 32, entry_offset: 40, entry_array_offset: 48, n_entries: 56 } as const;
export const DATA_PAYLOAD_REGULAR = 64;
export const DATA_PAYLOAD_COMPACT = 72;

/** struct EntryObject: seqnum @16, realtime @24, monotonic @32, boot_id @40 (16 bytes), xor_hash @56, items @64.
 *  Items are {le64 object_offset, le64 hash} (16 bytes), or {le32 object_offset} (4 bytes) in compact files. */
export const ENTRY = { seqnum: 16, realtime: 24, monotonic: 32, boot_id: 40, xor_hash: 56, items: 64 } as const;
export const ENTRY_ITEM_SIZE_REGULAR = 16;
export const ENTRY_ITEM_SIZE_COMPACT = 4;

/** struct EntryArrayObject: next_entry_array_offset @16, items @24 (le64, or le32 in compact files). */
export const ENTRY_ARRAY = { next_entry_array_offset: 16, items: 24 } as const;

/** The same bounds journal-file.c applies (VALID_REALTIME / VALID_MONOTONIC: below 2^55 µs, realtime > 0). */
export const TIME_VALID_MAX = 1n << 55n;

// ---------------------------------------------------------------------------------------------------------------
// Named limits (STYLE.md habit 5). Each has a regression test in test/collectors/journald/corrupt.test.ts.

/** Largest object we read (a DATA payload, an ENTRY with its items, an ENTRY_ARRAY). */
export const MAX_OBJECT_BYTES = 64 * 1024 * 1024;
/** Largest payload a compressed DATA object may inflate to (a decompression-bomb guard). */
export const MAX_DATA_DECOMPRESSED_BYTES = 64 * 1024 * 1024;
/** Most items one ENTRY may reference (journald itself caps an entry at 1024 fields: ENTRY_FIELD_COUNT_MAX). */
export const MAX_ENTRY_ITEMS = 65536;
/** Most ENTRY_ARRAY objects followed in one chain (arrays double in size, so real chains are short). */
export const MAX_ENTRY_ARRAY_CHAIN = 1 << 20;
/** Problems recorded per journal file before the rest are only counted. */
export const MAX_PROBLEMS_PER_FILE = 100;

// ---------------------------------------------------------------------------------------------------------------

export class JournalFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JournalFormatError';
  }
}

/** le64 as a JS number; values of 2^53 and more come back as Infinity (no file offset or size can be that big). */
export function u64(b: Uint8Array, off: number): number {
  const lo = (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
  const hi = (b[off + 4] | (b[off + 5] << 8) | (b[off + 6] << 16) | (b[off + 7] << 24)) >>> 0;
  return hi >= 0x200000 ? Infinity : hi * 0x100000000 + lo;
}

export function u32(b: Uint8Array, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
}

export function u64big(b: Uint8Array, off: number): bigint {
  const lo = BigInt(u32(b, off));
  const hi = BigInt(u32(b, off + 4));
  return (hi << 32n) | lo;
}

const HEX = '0123456789abcdef';

/** sd_id128_t as systemd prints it: 32 lower-case hex digits. */
export function id128(b: Uint8Array, off: number): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += HEX[b[off + i] >> 4] + HEX[b[off + i] & 15];
  return s;
}

export interface JournalHeader {
  compatible_flags: number;
  incompatible_flags: number;
  state: number;
  file_id: string;
  machine_id: string;
  tail_entry_boot_id: string;
  seqnum_id: string;
  header_size: number;
  arena_size: number;
  tail_object_offset: number;
  n_objects: number;
  n_entries: number;
  entry_array_offset: number;
  head_entry_realtime: bigint;
  tail_entry_realtime: bigint;
  /** Derived: HEADER_INCOMPATIBLE_COMPACT is set. */
  compact: boolean;
  /** Derived: bytes of one entry item / one entry-array item. */
  entryItemSize: number;
  entryArrayItemSize: number;
  /** Derived: where a DATA payload starts. */
  dataPayloadOffset: number;
}

/**
 * Parses and checks struct Header from the first bytes of a file (at least HEADER_SIZE_MIN of them). Throws
 * JournalFormatError for anything that makes the file unreadable (signature, unknown incompatible flags, a header
 * size that cannot be right); `fileSize` is used only for the header_size check.
 */
export function parseHeader(b: Uint8Array, fileSize: number): JournalHeader {
  if (b.length < HEADER_SIZE_MIN) {
    throw new JournalFormatError(`file is ${b.length} bytes, shorter than the smallest journal header (${HEADER_SIZE_MIN})`);
  }
  for (let i = 0; i < 8; i++) {
    if (b[i] !== HEADER_SIGNATURE[i]) {
      const got = Array.from(b.subarray(0, 8), (c) => c.toString(16).padStart(2, '0')).join(' ');
      throw new JournalFormatError(`signature ${got}, expected 4c 50 4b 53 48 48 52 48 ("LPKSHHRH") at offset 0`);
    }
  }
  const incompatible = u32(b, H.incompatible_flags);
  const unknown = incompatible & ~HEADER_INCOMPATIBLE_KNOWN;
  if (unknown !== 0) {
    throw new JournalFormatError(
      `unknown incompatible flags 0x${unknown.toString(16)} (header incompatible_flags 0x${incompatible.toString(16)}); ` +
        'the layout may differ, not read',
    );
  }
  const headerSize = u64(b, H.header_size);
  if (headerSize < HEADER_SIZE_MIN || headerSize % 8 !== 0 || headerSize > fileSize) {
    throw new JournalFormatError(
      `header_size ${headerSize} is not a multiple of 8 between ${HEADER_SIZE_MIN} and the file size ${fileSize}`,
    );
  }
  const compact = (incompatible & HEADER_INCOMPATIBLE_COMPACT) !== 0;
  return {
    compatible_flags: u32(b, H.compatible_flags),
    incompatible_flags: incompatible,
    state: b[H.state],
    file_id: id128(b, H.file_id),
    machine_id: id128(b, H.machine_id),
    tail_entry_boot_id: id128(b, H.tail_entry_boot_id),
    seqnum_id: id128(b, H.seqnum_id),
    header_size: headerSize,
    arena_size: u64(b, H.arena_size),
    tail_object_offset: u64(b, H.tail_object_offset),
    n_objects: u64(b, H.n_objects),
    n_entries: u64(b, H.n_entries),
    entry_array_offset: u64(b, H.entry_array_offset),
    head_entry_realtime: u64big(b, H.head_entry_realtime),
    tail_entry_realtime: u64big(b, H.tail_entry_realtime),
    compact,
    entryItemSize: compact ? ENTRY_ITEM_SIZE_COMPACT : ENTRY_ITEM_SIZE_REGULAR,
    entryArrayItemSize: compact ? 4 : 8,
    dataPayloadOffset: compact ? DATA_PAYLOAD_COMPACT : DATA_PAYLOAD_REGULAR,
  };
}

export interface ObjectHeader {
  type: number;
  flags: number;
  size: number;
}

export function parseObjectHeader(b: Uint8Array, off = 0): ObjectHeader {
  return { type: b[off], flags: b[off + 1], size: u64(b, off + 8) };
}

/** Smallest valid size of each object type (check_object in journal-file.c). */
export function minObjectSize(type: number, h: Pick<JournalHeader, 'dataPayloadOffset'>): number {
  switch (type) {
    case OBJECT_DATA:
      return h.dataPayloadOffset;
    case OBJECT_FIELD:
      return 40;
    case OBJECT_ENTRY:
      return ENTRY.items;
    case OBJECT_DATA_HASH_TABLE:
    case OBJECT_FIELD_HASH_TABLE:
      return OBJECT_HEADER_SIZE;
    case OBJECT_ENTRY_ARRAY:
      return ENTRY_ARRAY.items;
    case OBJECT_TAG:
      return 64;
    default:
      return OBJECT_HEADER_SIZE;
  }
}

/**
 * Why an object header cannot be right, or undefined when it is plausible: a known type, compression flags only on
 * DATA and at most one of them, reserved bytes zero, a size at least the type's minimum and not past `end`.
 */
export function objectHeaderProblem(
  b: Uint8Array,
  off: number,
  objectOffset: number,
  end: number,
  h: Pick<JournalHeader, 'dataPayloadOffset'>,
): string | undefined {
  const type = b[off];
  const flags = b[off + 1];
  const size = u64(b, off + 8);
  if (type === OBJECT_UNUSED || type >= OBJECT_TYPE_MAX) return `object type ${type} is not a known type`;
  if (flags & ~OBJECT_COMPRESSED_MASK) return `object flags 0x${flags.toString(16)} has unknown bits`;
  if (flags !== 0 && type !== OBJECT_DATA) return `${OBJECT_TYPE_NAMES[type]} object has compression flags 0x${flags.toString(16)}`;
  if ((flags & (flags - 1)) !== 0) return `DATA object has more than one compression flag (0x${flags.toString(16)})`;
  for (let i = 2; i < 8; i++) if (b[off + i] !== 0) return 'object header reserved bytes are not zero';
  const min = minObjectSize(type, h);
  if (size < min) return `${OBJECT_TYPE_NAMES[type]} object size ${size} is below its minimum ${min}`;
  if (objectOffset + size > end) return `${OBJECT_TYPE_NAMES[type]} object size ${size} runs past the end of the data (${end})`;
  return undefined;
}

/** Rounds up to the 8-byte alignment every object has. */
export function align8(n: number): number {
  return n + ((8 - (n % 8)) % 8);
}

export type Compression = 'xz' | 'lz4' | 'zstd';

export function compressionOf(flags: number): Compression | undefined {
  if (flags & OBJECT_COMPRESSED_XZ) return 'xz';
  if (flags & OBJECT_COMPRESSED_LZ4) return 'lz4';
  if (flags & OBJECT_COMPRESSED_ZSTD) return 'zstd';
  return undefined;
}

export function headerFlagFor(c: Compression): number {
  return c === 'xz'
    ? HEADER_INCOMPATIBLE_COMPRESSED_XZ
    : c === 'lz4'
      ? HEADER_INCOMPATIBLE_COMPRESSED_LZ4
      : HEADER_INCOMPATIBLE_COMPRESSED_ZSTD;
}
