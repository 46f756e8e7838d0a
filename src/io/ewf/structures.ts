// EWF (Expert Witness Compression Format, EnCase E01 / SMART S01) on-disk structures: declared once, parsed from
// byte arrays only (no I/O here), every count and size checked against a named limit.
// References: libyal/libewf `documentation/Expert Witness Compression Format (EWF).asciidoc` (rev. 0.0.79: file
// header, section descriptor, header2/header, table/table2, error2, digest, hash, done/next); libyal/libewf
// `libewf/ewf_volume.h` (volume/disk/data section, 1052 bytes), `libewf/ewf_volume_smart.h` (SMART volume, 94 bytes),
// `libewf/ewf_table.h` (table header with base offset, EnCase 6). All integers are little-endian.
// The header/header2 section text (case metadata, not binary) is parsed in header-text.ts, re-exported here.
import { EwfError } from './errors.js';

export { HEADER_KEYS, decodeHeaderText, interpretHeaderDate, parseHeaderValues } from './header-text.js';

/** "EVF\x09\x0d\x0a\xff\x00": EWF-E01 and EWF-S01 segment files. */
export const EVF_SIGNATURE = Uint8Array.of(0x45, 0x56, 0x46, 0x09, 0x0d, 0x0a, 0xff, 0x00);
/** "LVF\x09\x0d\x0a\xff\x00": EWF-L01 logical evidence files (not read). */
export const LVF_SIGNATURE = Uint8Array.of(0x4c, 0x56, 0x46, 0x09, 0x0d, 0x0a, 0xff, 0x00);
/** "EVF2\x0d\x0a\x81\x00": EWF2 (EnCase 7 Ex01, not read). */
export const EVF2_SIGNATURE = Uint8Array.of(0x45, 0x56, 0x46, 0x32, 0x0d, 0x0a, 0x81, 0x00);
export const FILE_HEADER_SIZE = 13;
export const SECTION_DESCRIPTOR_SIZE = 76;
/** Table header: entry count, padding, base offset, padding, checksum (ewf_table.h). */
export const TABLE_HEADER_SIZE = 24;
/** volume/disk/data section body (ewf_volume.h), EnCase 2 and later, FTK, linen. */
export const VOLUME_SIZE = 1052;
/** SMART / original EWF volume section body (ewf_volume_smart.h). */
export const VOLUME_SMART_SIZE = 94;
export const HASH_SIZE = 36;
export const DIGEST_SIZE = 80;
export const ERROR2_HEADER_SIZE = 520;

// ------------------------------------------------------------------ limits (every one has a regression test)
/** Entries one table section may hold. EnCase writes at most 16375; EWF-X and libewf allow more. */
export const MAX_TABLE_ENTRIES = 1 << 20;
/** Largest chunk (sectors per chunk x bytes per sector): EnCase 6 allows 32768 sectors of 512 bytes = 16 MiB. */
export const MAX_CHUNK_BYTES = 64 * 1024 * 1024;
export const MAX_BYTES_PER_SECTOR = 64 * 1024;
/** Largest compressed header/header2 text, and its inflated size. */
export const MAX_HEADER_BYTES = 4 * 1024 * 1024;
/** error2 entries we read (each is one bad-sector run). */
export const MAX_ERROR2_ENTRIES = 1_000_000;
/** Chunks a volume section may declare: the field is 32 bits. */
export const MAX_CHUNKS = 0xffff_ffff;

/** Adler-32 (RFC 1950 section 8.2), the checksum EWF calls "CRC". `start` continues a previous sum. */
export function adler32(b: Uint8Array, off = 0, len = b.length - off, start = 1): number {
  let a = start & 0xffff;
  let s = (start >>> 16) & 0xffff;
  let i = off;
  const end = off + len;
  while (i < end) {
    const n = Math.min(end - i, 3800); // 3800 keeps s a small integer (below 2^31) before the modulo; unrolled by 4
    const stop = i + n;
    for (; i + 4 <= stop; i += 4) {
      a += b[i] as number;
      s += a;
      a += b[i + 1] as number;
      s += a;
      a += b[i + 2] as number;
      s += a;
      a += b[i + 3] as number;
      s += a;
    }
    for (; i < stop; i++) {
      a += b[i] as number;
      s += a;
    }
    a %= 65521;
    s %= 65521;
  }
  return ((s << 16) | a) >>> 0;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16)) + (b[o + 3] as number) * 0x1000000;
}
function u64(b: Uint8Array, o: number): bigint {
  return BigInt(u32(b, o)) | (BigInt(u32(b, o + 4)) << 32n);
}
function u16(b: Uint8Array, o: number): number {
  return (b[o] as number) | ((b[o + 1] as number) << 8);
}
function startsWith(b: Uint8Array, sig: Uint8Array): boolean {
  if (b.length < sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[i] !== sig[i]) return false;
  return true;
}
export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// ------------------------------------------------------------------ file header
/** Segment file header (EWF spec 2.1.1), 13 bytes. */
export interface EwfFileHeader {
  signature: 'EVF'; // 0, 8 bytes
  fields_start: number; // 8 u8, 0x01
  segment_number: number; // 9 u16, 1 or higher
  fields_end: number; // 11 u16, 0x0000
}

export function isEwfSignature(b: Uint8Array): boolean {
  return startsWith(b, EVF_SIGNATURE);
}

export function parseFileHeader(b: Uint8Array, where: string): EwfFileHeader {
  if (startsWith(b, LVF_SIGNATURE)) throw new EwfError('UNSUPPORTED', where, 'EWF-L01 logical evidence file (LVF): not a disk image');
  if (startsWith(b, EVF2_SIGNATURE)) throw new EwfError('UNSUPPORTED', where, 'EWF2 (Ex01, EnCase 7 v2) is not read; convert with ewfexport');
  if (b.length < FILE_HEADER_SIZE) throw new EwfError('NOT_EWF', where, `file header: ${b.length} bytes, need ${FILE_HEADER_SIZE}`);
  if (!startsWith(b, EVF_SIGNATURE)) {
    throw new EwfError('NOT_EWF', where, `signature ${hex(b.subarray(0, 8))}, expected ${hex(EVF_SIGNATURE)} (EVF)`);
  }
  const h: EwfFileHeader = { signature: 'EVF', fields_start: b[8] as number, segment_number: u16(b, 9), fields_end: u16(b, 11) };
  if (h.segment_number === 0) throw new EwfError('CORRUPT', where, 'segment number 0 (must be 1 or higher)');
  return h;
}

// ------------------------------------------------------------------ section descriptor
/** Section descriptor (EWF spec 3.1), 76 bytes. */
export interface SectionDescriptor {
  type_string: string; // 0, 16 bytes, NUL padded ("header", "volume", ...)
  next_offset: bigint; // 16 u64, from the start of the segment file
  size: bigint; // 24 u64, including this descriptor (0 for EnCase done/next)
  // 32: 40 bytes padding
  checksum: number; // 72 u32, Adler-32 of bytes 0..72
  /** Computed: does `checksum` match? */
  checksumOk: boolean;
}

export function parseSectionDescriptor(b: Uint8Array): SectionDescriptor {
  if (b.length < SECTION_DESCRIPTOR_SIZE) throw new EwfError('CORRUPT', 'section descriptor', `${b.length} bytes, need 76`);
  let end = 0;
  while (end < 16 && b[end] !== 0) end++;
  let type = '';
  for (let i = 0; i < end; i++) {
    const c = b[i] as number;
    type += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?';
  }
  const checksum = u32(b, 72);
  return { type_string: type, next_offset: u64(b, 16), size: u64(b, 24), checksum, checksumOk: adler32(b, 0, 72) === checksum };
}

// ------------------------------------------------------------------ volume / disk / data
export const MEDIA_TYPES: Record<number, string> = { 0x00: 'removable', 0x01: 'fixed', 0x03: 'optical', 0x0e: 'logical', 0x10: 'memory' };
export const COMPRESSION_LEVELS: Record<number, string> = { 0: 'none', 1: 'fast', 2: 'best' };

/** volume (also disk, data) section body, ewf_volume.h; the SMART variant has only the first five fields. */
export interface EwfVolume {
  media_type: number; // 0 u8 (SMART: 4 bytes, 0x01)
  number_of_chunks: number; // 4 u32
  sectors_per_chunk: number; // 8 u32
  bytes_per_sector: number; // 12 u32
  number_of_sectors: bigint; // 16 u64 (SMART: u32)
  chs_cylinders: number; // 24 u32
  chs_heads: number; // 28 u32
  chs_sectors: number; // 32 u32
  media_flags: number; // 36 u8: 0x01 image, 0x02 physical, 0x04 Fastbloc, 0x08 Tableau
  palm_volume_start_sector: number; // 40 u32
  smart_logs_start_sector: number; // 48 u32
  compression_level: number; // 52 u8: 0 none, 1 fast, 2 best
  error_granularity: number; // 56 u32
  set_identifier: Uint8Array; // 64, 16 bytes GUID (EnCase 5 and later)
  // 80: 963 bytes unknown, 1043: 5 bytes signature
  checksum: number; // 1048 u32 (SMART: 90), Adler-32 of the previous bytes
  checksumOk: boolean;
  variant: 'encase' | 'smart';
}

/** Parses a volume/disk/data section body of `bodySize` bytes (the section size minus the descriptor). */
export function parseVolume(b: Uint8Array, where: string): EwfVolume {
  if (b.length >= VOLUME_SIZE) {
    const checksum = u32(b, 1048);
    return {
      media_type: b[0] as number,
      number_of_chunks: u32(b, 4),
      sectors_per_chunk: u32(b, 8),
      bytes_per_sector: u32(b, 12),
      number_of_sectors: u64(b, 16),
      chs_cylinders: u32(b, 24),
      chs_heads: u32(b, 28),
      chs_sectors: u32(b, 32),
      media_flags: b[36] as number,
      palm_volume_start_sector: u32(b, 40),
      smart_logs_start_sector: u32(b, 48),
      compression_level: b[52] as number,
      error_granularity: u32(b, 56),
      set_identifier: b.slice(64, 80),
      checksum,
      checksumOk: adler32(b, 0, 1048) === checksum,
      variant: 'encase',
    };
  }
  if (b.length >= VOLUME_SMART_SIZE) {
    const checksum = u32(b, 90);
    return {
      media_type: 0x01,
      number_of_chunks: u32(b, 4),
      sectors_per_chunk: u32(b, 8),
      bytes_per_sector: u32(b, 12),
      number_of_sectors: BigInt(u32(b, 16)),
      chs_cylinders: 0,
      chs_heads: 0,
      chs_sectors: 0,
      media_flags: 0,
      palm_volume_start_sector: 0,
      smart_logs_start_sector: 0,
      compression_level: 1,
      error_granularity: 0,
      set_identifier: new Uint8Array(16),
      checksum,
      checksumOk: adler32(b, 0, 90) === checksum,
      variant: 'smart',
    };
  }
  throw new EwfError('CORRUPT', where, `volume section body ${b.length} bytes, need ${VOLUME_SMART_SIZE} or ${VOLUME_SIZE}`);
}

/** Geometry checks shared by every volume-like section; returns the chunk size in bytes. */
export function checkGeometry(v: EwfVolume, where: string): { chunkSize: number; mediaSize: bigint; chunksNeeded: number } {
  const spc = v.sectors_per_chunk;
  const bps = v.bytes_per_sector;
  if (bps === 0 || bps > MAX_BYTES_PER_SECTOR) {
    throw new EwfError('LIMIT', where, `bytes per sector ${bps}, expected 1..${MAX_BYTES_PER_SECTOR}`);
  }
  if (spc === 0 || spc * bps > MAX_CHUNK_BYTES) {
    throw new EwfError('LIMIT', where, `chunk of ${spc} sectors x ${bps} bytes, expected 1..${MAX_CHUNK_BYTES} bytes`);
  }
  const chunkSize = spc * bps;
  const mediaSize = v.number_of_sectors * BigInt(bps);
  const needed = (v.number_of_sectors + BigInt(spc) - 1n) / BigInt(spc);
  if (needed > BigInt(MAX_CHUNKS)) {
    throw new EwfError('LIMIT', where, `${v.number_of_sectors} sectors need ${needed} chunks, limit ${MAX_CHUNKS}`);
  }
  return { chunkSize, mediaSize, chunksNeeded: Number(needed) };
}

// ------------------------------------------------------------------ table / table2
/** Table header (ewf_table.h), 24 bytes before the entry array. */
export interface TableHeader {
  number_of_entries: number; // 0 u32
  // 4: 4 bytes padding
  base_offset: bigint; // 8 u64 (EnCase 6: entries are relative to it; 0 in older writers)
  // 16: 4 bytes padding
  checksum: number; // 20 u32, Adler-32 of bytes 0..20
  checksumOk: boolean;
}

export function parseTableHeader(b: Uint8Array): TableHeader {
  if (b.length < TABLE_HEADER_SIZE) throw new EwfError('CORRUPT', 'table header', `${b.length} bytes, need ${TABLE_HEADER_SIZE}`);
  const checksum = u32(b, 20);
  return { number_of_entries: u32(b, 0), base_offset: u64(b, 8), checksum, checksumOk: adler32(b, 0, 20) === checksum };
}

/** One table entry: the chunk's file offset (base applied) and whether the chunk is zlib-compressed. */
export interface ChunkEntries {
  /** Absolute offsets in the segment file. */
  offsets: Float64Array;
  compressed: Uint8Array;
  /** Entries after which the 31-bit offset overflowed (EnCase 6.7.1 quirk), -1 if none. */
  overflowAt: number;
}

/**
 * Decodes `n` 32-bit entries at `b[off..]`: bit 31 marks a compressed chunk, bits 0-30 are the offset from `base`.
 * EnCase 6.7.1 wrote sectors sections past 2 GiB with the full 32 bits as offset (EWF spec 6.9 "Table entries offset
 * overflow"); like libewf, once a masked offset goes backwards while the full value still increases, the rest of the
 * table is read as uncompressed chunks at 32-bit offsets.
 */
export function parseTableEntries(b: Uint8Array, off: number, n: number, base: bigint): ChunkEntries {
  const offsets = new Float64Array(n);
  const compressed = new Uint8Array(n);
  const baseN = Number(base);
  let overflowAt = -1;
  let prevMasked = -1;
  for (let i = 0; i < n; i++) {
    const raw = u32(b, off + 4 * i);
    let masked = raw & 0x7fffffff;
    let isCompressed = raw >= 0x80000000;
    if (overflowAt < 0 && i > 0 && masked < prevMasked && raw > prevMasked) overflowAt = i;
    if (overflowAt >= 0) {
      masked = raw;
      isCompressed = false;
    }
    offsets[i] = baseN + masked;
    compressed[i] = isCompressed ? 1 : 0;
    prevMasked = masked;
  }
  return { offsets, compressed, overflowAt };
}

// ------------------------------------------------------------------ hash / digest / error2
/** hash section body (EWF spec 3.16), 36 bytes: MD5 of the media, 16 unknown bytes, checksum. */
export function parseHash(b: Uint8Array): { md5: string; checksumOk: boolean } | undefined {
  if (b.length < HASH_SIZE) return undefined;
  return { md5: hex(b.subarray(0, 16)), checksumOk: adler32(b, 0, 32) === u32(b, 32) };
}

/** digest section body (EWF spec 3.15), 80 bytes: MD5, SHA-1, 40 bytes padding, checksum. */
export function parseDigest(b: Uint8Array): { md5: string; sha1: string; checksumOk: boolean } | undefined {
  if (b.length < DIGEST_SIZE) return undefined;
  return { md5: hex(b.subarray(0, 16)), sha1: hex(b.subarray(16, 36)), checksumOk: adler32(b, 0, 76) === u32(b, 76) };
}

/** A digest field of all zero bytes means "not computed". */
export function isZeroHex(h: string): boolean {
  return /^0*$/.test(h);
}

/** error2 section body (EWF spec 3.13): sectors the acquiring tool could not read (it stored zeros there). */
export interface AcquisitionError {
  firstSector: bigint;
  sectorCount: number;
}

export function parseError2(b: Uint8Array, where: string): { entries: AcquisitionError[]; checksumOk: boolean } {
  if (b.length < ERROR2_HEADER_SIZE) throw new EwfError('CORRUPT', where, `error2 section body ${b.length} bytes, need ${ERROR2_HEADER_SIZE}`);
  const n = u32(b, 0);
  let checksumOk = adler32(b, 0, 516) === u32(b, 516);
  if (n > MAX_ERROR2_ENTRIES) throw new EwfError('LIMIT', where, `error2 declares ${n} entries, limit ${MAX_ERROR2_ENTRIES}`);
  const fit = Math.floor((b.length - ERROR2_HEADER_SIZE) / 8);
  const count = Math.min(n, fit);
  if (count < n) checksumOk = false;
  const entries: AcquisitionError[] = [];
  for (let i = 0; i < count; i++) {
    const o = ERROR2_HEADER_SIZE + 8 * i;
    entries.push({ firstSector: BigInt(u32(b, o)), sectorCount: u32(b, o + 4) });
  }
  const footer = ERROR2_HEADER_SIZE + 8 * count;
  if (count === n && b.length >= footer + 4 && adler32(b, ERROR2_HEADER_SIZE, 8 * count) !== u32(b, footer)) checksumOk = false;
  return { entries, checksumOk };
}

// ------------------------------------------------------------------ GUID text (volume set_identifier)
/** GUID bytes as text, first three fields little-endian (libfguid little-endian, as ewfinfo prints it). */
export function formatGuidLe(b: Uint8Array): string {
  const h = (i: number) => (b[i] as number).toString(16).padStart(2, '0');
  return (
    h(3) + h(2) + h(1) + h(0) + '-' + h(5) + h(4) + '-' + h(7) + h(6) + '-' + h(8) + h(9) + '-' +
    h(10) + h(11) + h(12) + h(13) + h(14) + h(15)
  );
}
