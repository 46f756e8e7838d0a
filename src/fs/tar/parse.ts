// Parsing of tar header blocks and pax extended-header records from bytes (no I/O here, STYLE.md habit 4).
// Every value is hostile: numeric fields are parsed strictly (octal digits with space/NUL padding, or GNU base-256),
// checksums are verified, pax record lengths are bounded and must match the record's own framing.
// References: POSIX.1-2017 pax(1) "ustar Interchange Format" (numeric fields, chksum) and "pax Interchange Format"
// (extended header records "%d %s=%s\n", keywords); GNU tar 1.34 manual "Basic Tar Format" and src/list.c
// from_header() (base-256 encoding, signed checksums of old tars); libarchive tar(5) (SCHILY.xattr, LIBARCHIVE.xattr).
import { TarError } from './errors.js';
import {
  BLOCK_SIZE,
  type Field,
  OLDGNU_HEADER,
  OLDGNU_MAGIC,
  OLDGNU_SPARSES_IN_HEADER,
  POSIX_HEADER,
  SPARSE_ENTRY_SIZE,
  TMAGIC,
} from './structs.js';

/** Longest pax extended header we read (all records of one 'x' or 'g' member). */
export const MAX_PAX_HEADER_BYTES = 1024 * 1024;
/** Most records in one pax header. */
export const MAX_PAX_RECORDS = 10_000;
/** Longest GNU long name / long link ('L', 'K') member. */
export const MAX_LONG_NAME_BYTES = 64 * 1024;

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

export function decodeName(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** The bytes of a NUL-terminated (or full-length) string field. */
export function fieldBytes(block: Uint8Array, f: Field): Uint8Array {
  const raw = block.subarray(f.offset, f.offset + f.length);
  const nul = raw.indexOf(0);
  return nul < 0 ? raw : raw.subarray(0, nul);
}

export function fieldString(block: Uint8Array, f: Field): string {
  return decodeName(fieldBytes(block, f));
}

/**
 * A numeric header field: octal digits (leading spaces allowed, then digits, then only spaces/NULs), or GNU
 * base-256 (first byte 0x80 positive, 0xff negative, big-endian two's complement). An empty field is 0.
 * Anything else is an EFORMAT error naming the field and its bytes.
 */
export function parseNumeric(block: Uint8Array, f: Field, what: string): bigint {
  const b = block.subarray(f.offset, f.offset + f.length);
  const first = b[0] as number;
  if (first === 0x80 || first === 0xff) {
    let v = BigInt(first & 0x7f) - (first === 0xff ? 0x80n : 0n);
    for (let i = 1; i < b.length; i++) v = (v << 8n) | BigInt(b[i] as number);
    return v;
  }
  let i = 0;
  while (i < b.length && b[i] === 0x20) i++;
  let v = 0n;
  let digits = 0;
  while (i < b.length && (b[i] as number) >= 0x30 && (b[i] as number) <= 0x37) {
    v = v * 8n + BigInt((b[i] as number) - 0x30);
    i++;
    digits++;
  }
  for (; i < b.length; i++) {
    const c = b[i] as number;
    if (c !== 0 && c !== 0x20) {
      throw new TarError('EFORMAT', `${what} field is not octal: ${JSON.stringify(latin1.decode(b))}`);
    }
  }
  return digits === 0 ? 0n : v;
}

export interface ChecksumResult {
  stored: bigint;
  unsigned: number;
  signed: number;
  ok: boolean;
}

/** chksum: the sum of the header's bytes with the chksum field taken as spaces (unsigned; old tars: signed). */
export function verifyChecksum(block: Uint8Array): ChecksumResult {
  let unsigned = 0;
  let signed = 0;
  const { offset, length } = POSIX_HEADER.chksum;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const c = i >= offset && i < offset + length ? 0x20 : (block[i] as number);
    unsigned += c;
    signed += c >= 0x80 ? c - 256 : c;
  }
  let stored: bigint;
  try {
    stored = parseNumeric(block, POSIX_HEADER.chksum, 'chksum');
  } catch {
    return { stored: -1n, unsigned, signed, ok: false };
  }
  return { stored, unsigned, signed, ok: stored === BigInt(unsigned) || stored === BigInt(signed) };
}

export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK_SIZE; i++) if (block[i] !== 0) return false;
  return true;
}

export type HeaderFormat = 'ustar' | 'gnu' | 'v7';

export interface SparseEntry {
  offset: bigint;
  numbytes: bigint;
}

/** One header block as stored (before pax/GNU long-name overrides). */
export interface RawHeader {
  format: HeaderFormat;
  /** name, with the ustar prefix joined in front (ustar/pax only). */
  name: string;
  mode: number;
  uid: bigint;
  gid: bigint;
  size: bigint;
  mtime: bigint;
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: bigint;
  devminor: bigint;
  /** GNU format only (0 when unset). */
  gnuAtime: bigint;
  gnuCtime: bigint;
  /** GNU 'S' members: the real file size and the sparse map of the header. */
  gnuRealsize: bigint;
  gnuSparse: SparseEntry[];
  gnuIsExtended: boolean;
}

function magicOf(block: Uint8Array): HeaderFormat {
  const m = latin1.decode(block.subarray(POSIX_HEADER.magic.offset, POSIX_HEADER.magic.offset + 8));
  if (m === OLDGNU_MAGIC) return 'gnu';
  if (m.startsWith(TMAGIC)) return 'ustar';
  // Some writers put "ustar" followed by a space or without the NUL; treat as ustar when the 5 letters are there.
  if (m.startsWith('ustar')) return 'ustar';
  return 'v7';
}

/** True when the block carries the "ustar" magic at offset 257 (ustar, pax and GNU archives). */
export function hasUstarMagic(block: Uint8Array): boolean {
  if (block.length < BLOCK_SIZE) return false;
  return latin1.decode(block.subarray(257, 262)) === 'ustar';
}

/** Parses the sparse map entries stored at `at` (count entries of 24 bytes), stopping at the first empty one. */
export function parseSparseEntries(block: Uint8Array, at: number, count: number): SparseEntry[] {
  const out: SparseEntry[] = [];
  for (let k = 0; k < count; k++) {
    const base = at + k * SPARSE_ENTRY_SIZE;
    if (block[base] === 0) break;
    const offset = parseNumeric(block, { offset: base, length: 12 }, 'sparse offset');
    const numbytes = parseNumeric(block, { offset: base + 12, length: 12 }, 'sparse numbytes');
    out.push({ offset, numbytes });
  }
  return out;
}

/** Parses one header block; the checksum must already have been verified by the caller. */
export function parseHeader(block: Uint8Array): RawHeader {
  const format = magicOf(block);
  const H = POSIX_HEADER;
  const typeflag = String.fromCharCode(block[H.typeflag.offset] as number);
  let name = fieldString(block, H.name);
  if (format === 'ustar') {
    const prefix = fieldString(block, H.prefix);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  const isDev = typeflag === '3' || typeflag === '4';
  let devmajor = 0n;
  let devminor = 0n;
  if (format !== 'v7') {
    // Writers leave the device fields empty or garbage for non-devices; only devices need them strictly.
    try {
      devmajor = parseNumeric(block, H.devmajor, 'devmajor');
      devminor = parseNumeric(block, H.devminor, 'devminor');
    } catch (err) {
      if (isDev) throw err;
    }
  }
  const mode = parseNumeric(block, H.mode, 'mode');
  if (mode < 0n || mode > 0o7777777n) throw new TarError('EFORMAT', `mode field ${mode} out of range`);
  const h: RawHeader = {
    format,
    name,
    mode: Number(mode),
    uid: parseNumeric(block, H.uid, 'uid'),
    gid: parseNumeric(block, H.gid, 'gid'),
    size: parseNumeric(block, H.size, 'size'),
    mtime: parseNumeric(block, H.mtime, 'mtime'),
    typeflag,
    linkname: fieldString(block, H.linkname),
    uname: format === 'v7' ? '' : fieldString(block, H.uname),
    gname: format === 'v7' ? '' : fieldString(block, H.gname),
    devmajor,
    devminor,
    gnuAtime: 0n,
    gnuCtime: 0n,
    gnuRealsize: 0n,
    gnuSparse: [],
    gnuIsExtended: false,
  };
  if (h.size < 0n) throw new TarError('EFORMAT', `negative size field ${h.size}`);
  if (format === 'gnu') {
    const G = OLDGNU_HEADER;
    // atime/ctime are only written by incremental dumps; garbage here is not worth losing the member.
    try {
      h.gnuAtime = parseNumeric(block, G.atime, 'atime');
      h.gnuCtime = parseNumeric(block, G.ctime, 'ctime');
    } catch {
      h.gnuAtime = 0n;
      h.gnuCtime = 0n;
    }
    if (typeflag === 'S') {
      h.gnuRealsize = parseNumeric(block, G.realsize, 'realsize');
      h.gnuSparse = parseSparseEntries(block, G.sp.offset, OLDGNU_SPARSES_IN_HEADER);
      h.gnuIsExtended = block[G.isextended.offset] !== 0;
    }
  }
  return h;
}

/** pax records of one extended header: keyword -> raw value bytes (values may be binary: SCHILY.xattr.*). */
export interface PaxRecords {
  records: Map<string, Uint8Array>;
  /** Why parsing stopped early, if it did (the records before the damage are kept). */
  error?: string;
}

/**
 * Parses "%d %s=%s\n" records. The length is decimal, counts the whole record, must be at least 5 and must end on
 * a newline inside the data; keywords are UTF-8. At most MAX_PAX_RECORDS records; later duplicates win (POSIX).
 */
export function parsePax(data: Uint8Array): PaxRecords {
  const records = new Map<string, Uint8Array>();
  let pos = 0;
  let n = 0;
  while (pos < data.length) {
    // Trailing NUL padding after the last record (some writers) ends the header.
    if (data[pos] === 0) break;
    if (++n > MAX_PAX_RECORDS) return { records, error: `more than ${MAX_PAX_RECORDS} records` };
    let i = pos;
    let len = 0;
    while (i < data.length && i - pos < 8 && (data[i] as number) >= 0x30 && (data[i] as number) <= 0x39) {
      len = len * 10 + ((data[i] as number) - 0x30);
      i++;
    }
    if (i === pos || i >= data.length || data[i] !== 0x20) {
      return { records, error: `record at byte ${pos}: length is not a decimal number followed by a space` };
    }
    if (len < 5 || len > data.length - pos) {
      return { records, error: `record at byte ${pos}: length ${len} exceeds the ${data.length - pos} bytes left` };
    }
    const end = pos + len;
    if (data[end - 1] !== 0x0a) return { records, error: `record at byte ${pos}: length ${len} does not end on a newline` };
    const body = data.subarray(i + 1, end - 1);
    const eq = body.indexOf(0x3d);
    if (eq <= 0) return { records, error: `record at byte ${pos}: no keyword=value` };
    records.set(decodeName(body.subarray(0, eq)), body.subarray(eq + 1));
    pos = end;
  }
  return { records };
}

/** A pax decimal integer field (size, uid, gid, GNU.sparse.*): digits only, at most `max`. */
export function parsePaxInteger(value: string, key: string, max: bigint): bigint {
  if (!/^[0-9]{1,20}$/.test(value)) throw new TarError('EFORMAT', `pax ${key}=${JSON.stringify(value.slice(0, 40))} is not a decimal integer`);
  const v = BigInt(value);
  if (v > max) throw new TarError('ELIMIT', `pax ${key}=${v} exceeds ${max}`);
  return v;
}

/** A pax time ("-?digits(.digits)?", seconds since the epoch) in nanoseconds; digits past the ninth are dropped. */
export function parsePaxTime(value: string, key: string): bigint {
  const m = /^(-?)([0-9]{1,19})(?:\.([0-9]{0,64}))?$/.exec(value);
  if (!m) throw new TarError('EFORMAT', `pax ${key}=${JSON.stringify(value.slice(0, 40))} is not a time`);
  const sec = BigInt(m[2] as string);
  const frac = BigInt(((m[3] ?? '') + '000000000').slice(0, 9));
  const ns = sec * 1_000_000_000n + frac;
  return m[1] === '-' ? -ns : ns;
}

/** Decodes a LIBARCHIVE.xattr name (RFC 1738 %XX escapes). */
export function decodeXattrName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}
