// One indexing pass over a tar stream (plain, or the inflated bytes of a .tar.gz): every member's header fields,
// pax/GNU overrides applied, and where its data starts in the stream. Nothing but headers (and pax/long-name/sparse
// map blocks) is read; member data is read later, positionally, by the VFS.
// Damage never throws: a bad checksum or a malformed field is a problem and the pass resynchronises at the next
// valid header (within MAX_RESYNC_BYTES) or stops; a member cut by the end of the stream keeps the bytes present.
// References: POSIX.1-2017 pax(1) (ustar and pax formats); GNU tar 1.34 manual, "Basic Tar Format", "Storing
// sparse files" (old GNU 'S', pax sparse formats 0.1 and 1.0); libarchive tar(5) (SCHILY.*, LIBARCHIVE.xattr.*).
import { TarError } from './errors.js';
import {
  type PaxRecords,
  type RawHeader,
  type SparseEntry,
  MAX_LONG_NAME_BYTES,
  MAX_PAX_HEADER_BYTES,
  decodeName,
  decodeXattrName,
  hasUstarMagic,
  isZeroBlock,
  parseHeader,
  parsePax,
  parsePaxInteger,
  parsePaxTime,
  parseSparseEntries,
  verifyChecksum,
} from './parse.js';
import { BLOCK_SIZE, SPARSES_IN_EXTENSION, SPARSE_EXT_ISEXTENDED, TYPEFLAG } from './structs.js';

/** Most members (files, dirs, links ...) one archive may hold. */
export const MAX_MEMBERS = 2_000_000;
/** How far past a damaged header we look for the next valid one before giving up. */
export const MAX_RESYNC_BYTES = 16 * 1024 * 1024;
/** Most sparse map entries of one member. */
export const MAX_SPARSE_ENTRIES = 1_000_000;
/** Largest file size a member may claim (pax size, sparse real size): 2^53 - 1, the exact range of a JS number. */
export const MAX_MEMBER_SIZE = BigInt(Number.MAX_SAFE_INTEGER);
/** Largest uid/gid. */
export const MAX_ID = 0xffffffffn;

/** A positional reader over the (inflated) tar stream. */
export interface StreamReader {
  readonly size: number;
  read(buf: Uint8Array, bufOffset: number, length: number, position: number): number;
}

export type MemberType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

/** One data run of a sparse member: `length` bytes of the file at `offset` are stored at `dataPos` (stream). */
export interface SparseSegment {
  offset: number;
  length: number;
  dataPos: number;
}

export interface TarMember {
  /** Order in the archive (0-based, members only: pax/long-name headers are not members). */
  index: number;
  /** Stream offset of the first header belonging to this member (its pax or long-name header, if any). */
  headerOffset: number;
  /** Stream offset of the member's own header block. */
  blockOffset: number;
  /** Stream offset of the member's data. */
  dataOffset: number;
  /** Bytes of data present in the stream (less than declared when the archive is truncated). */
  storedSize: number;
  /** Logical file size: storedSize, or a sparse file's real size. */
  size: number;
  /** The name as stored (pax path / GNU long name / ustar prefix+name). */
  name: string;
  type: MemberType;
  typeflag: string;
  format: RawHeader['format'];
  /** Permission bits (07777) as stored; the file-type bits come from `type`. */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Nanoseconds since the epoch. */
  mtime: bigint;
  atime?: bigint;
  ctime?: bigint;
  /** Symlink target or hard-link target name. */
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Uint8Array>;
  sparse?: SparseSegment[];
  truncated: boolean;
  /** star's SCHILY.dev / SCHILY.ino / SCHILY.nlink, where the writer recorded them. */
  dev?: bigint;
  ino?: bigint;
  nlink?: number;
}

export interface TarIndexProblem {
  /** Stream offset the problem is about. */
  offset: number;
  /** Member name, when known. */
  name?: string;
  reason: string;
}

export interface TarIndex {
  members: TarMember[];
  problems: TarIndexProblem[];
  /** True when the pass reached a clean end (end-of-archive marker or end of stream on a block boundary). */
  complete: boolean;
  /** Global pax records seen ('g' headers). */
  globals: Map<string, Uint8Array>;
}

export interface IndexOptions {
  maxMembers?: number;
}

const latin1 = new TextDecoder('latin1');

function roundUp(n: number): number {
  return Math.ceil(n / BLOCK_SIZE) * BLOCK_SIZE;
}

function readExact(r: StreamReader, pos: number, len: number): Uint8Array {
  const buf = new Uint8Array(len);
  let got = 0;
  while (got < len) {
    const n = r.read(buf, got, len - got, pos + got);
    if (n <= 0) break;
    got += n;
  }
  return got === len ? buf : buf.subarray(0, got);
}

function memberType(typeflag: string, name: string): MemberType | undefined {
  switch (typeflag) {
    case TYPEFLAG.REGTYPE:
    case TYPEFLAG.AREGTYPE:
    case TYPEFLAG.CONTTYPE:
      // Pre-POSIX archives mark directories with a trailing slash on a regular entry.
      return name.endsWith('/') ? 'dir' : 'file';
    case TYPEFLAG.LNKTYPE: return 'hardlink';
    case TYPEFLAG.SYMTYPE: return 'symlink';
    case TYPEFLAG.CHRTYPE: return 'char';
    case TYPEFLAG.BLKTYPE: return 'block';
    case TYPEFLAG.DIRTYPE:
    case TYPEFLAG.GNUTYPE_DUMPDIR: return 'dir';
    case TYPEFLAG.FIFOTYPE: return 'fifo';
    case TYPEFLAG.GNUTYPE_SPARSE: return 'file';
    default: return undefined;
  }
}

/** A header block that can start a member: checksum valid and parseable. */
function looksLikeHeader(block: Uint8Array): boolean {
  if (block.length < BLOCK_SIZE || isZeroBlock(block) || !verifyChecksum(block).ok) return false;
  try {
    parseHeader(block);
    return true;
  } catch {
    return false;
  }
}

class Indexer {
  readonly members: TarMember[] = [];
  readonly problems: TarIndexProblem[] = [];
  readonly globals = new Map<string, Uint8Array>();
  complete = false;
  private pos = 0;
  // Pending overrides for the next member.
  private pax: Map<string, Uint8Array> | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;
  private metaStart: number | undefined;

  constructor(
    private readonly r: StreamReader,
    private readonly maxMembers: number,
  ) {}

  private problem(offset: number, reason: string, name?: string): void {
    this.problems.push({ offset, reason, name });
  }

  private resetPending(): void {
    this.pax = undefined;
    this.longName = undefined;
    this.longLink = undefined;
    this.metaStart = undefined;
  }

  /** Looks for the next valid header after a damaged one; returns false (and records why) when there is none. */
  private resync(from: number, why: string): boolean {
    this.resetPending();
    const limit = Math.min(this.r.size, from + MAX_RESYNC_BYTES);
    for (let p = from + BLOCK_SIZE; p + BLOCK_SIZE <= limit; p += BLOCK_SIZE) {
      const b = readExact(this.r, p, BLOCK_SIZE);
      if (hasUstarMagic(b) && looksLikeHeader(b)) {
        this.problem(from, `${why}; skipped ${p - from} bytes to the next valid header at offset ${p}`);
        this.pos = p;
        return true;
      }
    }
    this.problem(from, `${why}; no valid header within ${Math.min(MAX_RESYNC_BYTES, this.r.size - from)} bytes after it, the index stops here (partial results)`);
    return false;
  }

  run(): void {
    const r = this.r;
    while (this.pos + BLOCK_SIZE <= r.size) {
      const at = this.pos;
      const block = readExact(r, at, BLOCK_SIZE);
      if (block.length < BLOCK_SIZE) break;
      if (isZeroBlock(block)) {
        if (!this.endMarker(at)) return;
        continue;
      }
      const ck = verifyChecksum(block);
      if (!ck.ok) {
        const why = ck.stored < 0n
          ? `header at offset ${at}: checksum field is not octal`
          : `header at offset ${at}: bad checksum ${ck.stored}, computed ${ck.unsigned}`;
        if (!this.resync(at, why)) return;
        continue;
      }
      let h: RawHeader;
      try {
        h = parseHeader(block);
      } catch (err) {
        if (!this.resync(at, `header at offset ${at}: ${(err as Error).message}`)) return;
        continue;
      }
      if (!this.step(at, h)) return;
    }
    if (this.pos < r.size) {
      this.problem(this.pos, `archive ends inside a header block (${r.size - this.pos} stray bytes at offset ${this.pos})`);
    } else if (this.pos >= r.size) {
      this.problem(r.size, 'archive ends without the end-of-archive marker (two zero blocks): it may be truncated');
    }
  }

  /** At a zero block: the end marker. Reads on like `tar --ignore-zeros` when another archive follows. */
  private endMarker(at: number): boolean {
    let p = at;
    while (p + BLOCK_SIZE <= this.r.size) {
      const b = readExact(this.r, p, BLOCK_SIZE);
      if (b.length < BLOCK_SIZE) break;
      if (!isZeroBlock(b)) {
        if (looksLikeHeader(b)) {
          this.problem(p, `another archive follows the end-of-archive marker at offset ${at} (appended with cat?); reading on like tar --ignore-zeros`);
          this.pos = p;
          this.resetPending();
          return true;
        }
        this.problem(p, `${this.r.size - p} bytes of non-tar data after the end-of-archive marker at offset ${at}`);
        break;
      }
      p += BLOCK_SIZE;
    }
    this.complete = true;
    return false;
  }

  /** Reads a meta member's data (pax header, long name), bounded by `max`. */
  private metaData(at: number, size: bigint, max: number, what: string): Uint8Array | undefined {
    const dataAt = at + BLOCK_SIZE;
    if (size > BigInt(max)) {
      this.problem(at, `${what} of ${size} bytes exceeds the limit of ${max} bytes; ignored`);
      return undefined;
    }
    const data = readExact(this.r, dataAt, Number(size));
    if (data.length < Number(size)) {
      this.problem(at, `${what} is truncated (${data.length} of ${size} bytes)`);
      return undefined;
    }
    return data;
  }

  /** Advances past a member whose data is `size` bytes; false when that runs past the end. */
  private skip(at: number, size: bigint): boolean {
    const next = BigInt(at) + BigInt(BLOCK_SIZE) + ((size + 511n) / 512n) * 512n;
    if (next > BigInt(this.r.size)) {
      this.pos = this.r.size;
      return false;
    }
    this.pos = Number(next);
    return true;
  }

  private applyPax(local: PaxRecords, at: number): void {
    if (local.error) this.problem(at, `pax header: ${local.error}`);
    this.pax ??= new Map();
    for (const [k, v] of local.records) this.pax.set(k, v);
  }

  private step(at: number, h: RawHeader): boolean {
    this.metaStart ??= at;
    switch (h.typeflag) {
      case TYPEFLAG.XHDTYPE:
      case TYPEFLAG.SOLARIS_XHDTYPE: {
        const data = this.metaData(at, h.size, MAX_PAX_HEADER_BYTES, 'pax extended header');
        if (data) this.applyPax(parsePax(data), at);
        if (!this.skip(at, h.size)) return this.truncatedMeta(at, h);
        return true;
      }
      case TYPEFLAG.XGLTYPE: {
        const data = this.metaData(at, h.size, MAX_PAX_HEADER_BYTES, 'pax global header');
        if (data) {
          const g = parsePax(data);
          if (g.error) this.problem(at, `pax global header: ${g.error}`);
          for (const [k, v] of g.records) {
            if (v.length === 0) this.globals.delete(k);
            else this.globals.set(k, v);
          }
        }
        this.metaStart = undefined;
        if (!this.skip(at, h.size)) return this.truncatedMeta(at, h);
        return true;
      }
      case TYPEFLAG.GNUTYPE_LONGNAME:
      case TYPEFLAG.GNUTYPE_LONGLINK: {
        const data = this.metaData(at, h.size, MAX_LONG_NAME_BYTES, h.typeflag === 'L' ? 'GNU long name' : 'GNU long link name');
        if (data) {
          const nul = data.indexOf(0);
          const s = decodeName(nul < 0 ? data : data.subarray(0, nul));
          if (h.typeflag === 'L') this.longName = s;
          else this.longLink = s;
        }
        if (!this.skip(at, h.size)) return this.truncatedMeta(at, h);
        return true;
      }
      case TYPEFLAG.GNUTYPE_VOLHDR: {
        this.resetPending();
        return this.skip(at, h.size) || this.truncatedMeta(at, h);
      }
      case TYPEFLAG.GNUTYPE_MULTIVOL:
      case 'N': {
        this.problem(at, `member type '${h.typeflag}' (${h.typeflag === 'M' ? 'multi-volume continuation' : 'old GNU rename list'}) is not supported; skipped`, h.name);
        this.resetPending();
        return this.skip(at, h.size) || this.truncatedMeta(at, h);
      }
      default:
        return this.member(at, h);
    }
  }

  private truncatedMeta(at: number, h: RawHeader): boolean {
    this.problem(at, `archive is truncated inside a '${h.typeflag}' header member declaring ${h.size} bytes; partial results`);
    return false;
  }

  private member(at: number, h: RawHeader): boolean {
    const headerOffset = this.metaStart ?? at;
    const local = this.pax;
    const longName = this.longName;
    const longLink = this.longLink;
    this.resetPending();

    // Effective pax records: globals, then this member's ('x' records with an empty value undo a global).
    const pax = new Map(this.globals);
    if (local) {
      for (const [k, v] of local) {
        if (v.length === 0) pax.delete(k);
        else pax.set(k, v);
      }
    }
    const str = (k: string): string | undefined => {
      const v = pax.get(k);
      return v === undefined ? undefined : decodeName(v);
    };
    let name = str('path') ?? longName ?? h.name;
    const sparseName = str('GNU.sparse.name');
    if (sparseName !== undefined) name = sparseName;
    const linkname = str('linkpath') ?? longLink ?? h.linkname;

    const bad = (reason: string): void => this.problem(at, reason, name);
    const paxNum = (k: string, max: bigint, dflt: bigint): bigint => {
      const v = str(k);
      if (v === undefined) return dflt;
      try {
        return parsePaxInteger(v, k, max);
      } catch (err) {
        bad((err as Error).message);
        return dflt;
      }
    };
    const paxTime = (k: string): bigint | undefined => {
      const v = str(k);
      if (v === undefined) return undefined;
      try {
        return parsePaxTime(v, k);
      } catch (err) {
        bad((err as Error).message);
        return undefined;
      }
    };

    // The size of the data area: the header field, or pax size (files over 8 GiB).
    let declared = h.size;
    const paxSize = str('size');
    if (paxSize !== undefined) {
      try {
        declared = parsePaxInteger(paxSize, 'size', MAX_MEMBER_SIZE);
      } catch (err) {
        bad(`${(err as Error).message}; the header's size field (${h.size}) is used instead`);
      }
    }
    if (declared > MAX_MEMBER_SIZE) {
      bad(`size ${declared} exceeds ${MAX_MEMBER_SIZE}; the archive cannot be followed past this member`);
      return false;
    }

    let type = memberType(h.typeflag, name);
    if (type === undefined) {
      bad(`unknown member type '${latin1.decode(new Uint8Array([h.typeflag.charCodeAt(0)]))}' (0x${h.typeflag.charCodeAt(0).toString(16)}); read as a regular file (POSIX)`);
      type = 'file';
    }
    // Links, devices, dirs and fifos have no data in ustar, but a hostile size still moves the next header.
    let dataOffset = at + BLOCK_SIZE;

    // Old GNU sparse: extension blocks follow the header, then the data runs.
    let sparse: SparseEntry[] | undefined;
    let realSize: bigint | undefined;
    if (h.typeflag === TYPEFLAG.GNUTYPE_SPARSE) {
      sparse = [...h.gnuSparse];
      realSize = h.gnuRealsize;
      let ext = h.gnuIsExtended;
      while (ext) {
        const b = readExact(this.r, dataOffset, BLOCK_SIZE);
        if (b.length < BLOCK_SIZE) {
          bad('archive is truncated inside the sparse map; partial results');
          return false;
        }
        try {
          sparse.push(...parseSparseEntries(b, 0, SPARSES_IN_EXTENSION));
        } catch (err) {
          bad(`sparse map extension at offset ${dataOffset}: ${(err as Error).message}`);
          return false;
        }
        if (sparse.length > MAX_SPARSE_ENTRIES) {
          bad(`more than ${MAX_SPARSE_ENTRIES} sparse map entries; the archive cannot be followed past this member`);
          return false;
        }
        ext = b[SPARSE_EXT_ISEXTENDED] !== 0;
        dataOffset += BLOCK_SIZE;
      }
    }

    // The data area, bounded by the stream.
    const streamLeft = this.r.size - dataOffset;
    const truncated = declared > BigInt(Math.max(0, streamLeft));
    let stored = truncated ? Math.max(0, streamLeft) : Number(declared);
    const next = dataOffset + roundUp(Number(declared));

    // pax sparse formats (GNU tar --sparse with --format=pax).
    const major = str('GNU.sparse.major');
    const minor = str('GNU.sparse.minor');
    const paxMap = str('GNU.sparse.map');
    if (major === '1' && minor === '0') {
      realSize = paxNum('GNU.sparse.realsize', MAX_MEMBER_SIZE, 0n);
      const parsed = this.readSparseMap1(dataOffset, stored, name);
      if (parsed) {
        sparse = parsed.entries;
        dataOffset += parsed.mapBytes;
        stored -= parsed.mapBytes;
      }
    } else if (paxMap !== undefined) {
      realSize = paxNum('GNU.sparse.size', MAX_MEMBER_SIZE, paxNum('GNU.sparse.realsize', MAX_MEMBER_SIZE, 0n));
      sparse = this.parseSparseList(paxMap.split(','), name);
    } else if (pax.has('GNU.sparse.offset') || pax.has('GNU.sparse.numbytes') || major !== undefined) {
      bad(`pax sparse format ${major ?? '0'}.${minor ?? '0'} is not supported; the member's stored bytes are shown without their holes`);
    }

    let segments: SparseSegment[] | undefined;
    let size = stored;
    if (sparse && realSize !== undefined) {
      segments = this.segments(sparse, realSize, dataOffset, stored, name, at);
      if (segments) size = Number(realSize);
    }

    if (truncated) {
      bad(`archive is truncated: member declares ${declared} bytes of data, ${stored} present; partial results`);
    }

    const uid = paxNum('uid', MAX_ID, h.uid);
    const gid = paxNum('gid', MAX_ID, h.gid);
    if (h.uid < 0n || h.uid > MAX_ID || h.gid < 0n || h.gid > MAX_ID) bad(`uid/gid ${h.uid}/${h.gid} out of range`);
    const mtime = paxTime('mtime') ?? h.mtime * 1_000_000_000n;
    const atime = paxTime('atime') ?? (h.gnuAtime > 0n ? h.gnuAtime * 1_000_000_000n : undefined);
    const ctime = paxTime('ctime') ?? (h.gnuCtime > 0n ? h.gnuCtime * 1_000_000_000n : undefined);

    const xattrs = new Map<string, Uint8Array>();
    for (const [k, v] of pax) {
      if (k.startsWith('SCHILY.xattr.')) xattrs.set(k.slice('SCHILY.xattr.'.length), v);
      else if (k.startsWith('LIBARCHIVE.xattr.')) {
        const value = Buffer.from(latin1.decode(v), 'base64');
        xattrs.set(decodeXattrName(k.slice('LIBARCHIVE.xattr.'.length)), new Uint8Array(value));
      } else if (k === 'RHT.security.selinux') xattrs.set('security.selinux', v);
    }

    const devmajor = Number(h.devmajor);
    const devminor = Number(h.devminor);
    if ((type === 'char' || type === 'block') && (h.devmajor < 0n || h.devmajor > 0xffffffffn || h.devminor < 0n || h.devminor > 0xffffffffn)) {
      bad(`device numbers ${h.devmajor}:${h.devminor} out of range`);
    }

    if (this.members.length >= this.maxMembers) {
      bad(`more than ${this.maxMembers} members; the index stops here (partial results)`);
      return false;
    }
    const m: TarMember = {
      index: this.members.length,
      headerOffset,
      blockOffset: at,
      dataOffset,
      storedSize: stored,
      size,
      name,
      type,
      typeflag: h.typeflag,
      format: h.format,
      mode: h.mode & 0o7777,
      uid: Number(uid),
      gid: Number(gid),
      uname: str('uname') ?? h.uname,
      gname: str('gname') ?? h.gname,
      mtime,
      atime,
      ctime,
      linkname,
      devmajor: devmajor >>> 0,
      devminor: devminor >>> 0,
      xattrs,
      sparse: segments,
      truncated,
    };
    const dev = str('SCHILY.dev');
    const ino = str('SCHILY.ino');
    const nlink = str('SCHILY.nlink');
    if (dev !== undefined) m.dev = paxNum('SCHILY.dev', 2n ** 64n - 1n, 0n);
    if (ino !== undefined) m.ino = paxNum('SCHILY.ino', 2n ** 64n - 1n, 0n);
    if (nlink !== undefined) m.nlink = Number(paxNum('SCHILY.nlink', MAX_ID, 1n));
    this.members.push(m);

    if (truncated || next > this.r.size) {
      this.pos = this.r.size;
      return false;
    }
    this.pos = next;
    return true;
  }

  /** pax sparse 1.0: decimal numbers, one per line, at the start of the data: count, then offset/size pairs. */
  private readSparseMap1(dataOffset: number, stored: number, name: string): { entries: SparseEntry[]; mapBytes: number } | undefined {
    const bad = (reason: string): undefined => {
      this.problem(dataOffset, `pax sparse map: ${reason}; the member's stored bytes are shown without their holes`, name);
      return undefined;
    };
    const numbers: string[] = [];
    let want = -1;
    let buf = new Uint8Array(0);
    let used = 0;
    let line = '';
    // The map is read block by block: a count of N needs 2N+1 numbers of up to 20 digits.
    while (want < 0 || numbers.length < want) {
      if (used >= buf.length) {
        if (buf.length > 0 && dataOffset + buf.length > dataOffset + stored) return bad('runs past the member data');
        const more = readExact(this.r, dataOffset + buf.length, BLOCK_SIZE);
        if (more.length < BLOCK_SIZE || buf.length + BLOCK_SIZE > stored) return bad('runs past the member data');
        const nb = new Uint8Array(buf.length + BLOCK_SIZE);
        nb.set(buf);
        nb.set(more, buf.length);
        buf = nb;
      }
      const c = buf[used++] as number;
      if (c === 0x0a) {
        numbers.push(line);
        line = '';
        if (want < 0) {
          if (!/^[0-9]{1,8}$/.test(numbers[0] as string)) return bad(`entry count ${JSON.stringify(numbers[0])} is not a number`);
          const n = Number(numbers[0]);
          if (n > MAX_SPARSE_ENTRIES) return bad(`${n} entries exceed the limit of ${MAX_SPARSE_ENTRIES}`);
          want = 1 + 2 * n;
        }
      } else {
        line += String.fromCharCode(c);
        if (line.length > 20) return bad('a number longer than 20 digits');
      }
    }
    const list = this.parseSparseList(numbers.slice(1), name);
    if (!list) return undefined;
    return { entries: list, mapBytes: roundUp(used) };
  }

  private parseSparseList(parts: string[], name: string): SparseEntry[] | undefined {
    if (parts.length % 2 !== 0 || parts.length / 2 > MAX_SPARSE_ENTRIES) {
      this.problem(0, `sparse map with ${parts.length} numbers is malformed; shown without holes`, name);
      return undefined;
    }
    const out: SparseEntry[] = [];
    for (let i = 0; i < parts.length; i += 2) {
      try {
        out.push({
          offset: parsePaxInteger(parts[i] as string, 'sparse offset', MAX_MEMBER_SIZE),
          numbytes: parsePaxInteger(parts[i + 1] as string, 'sparse numbytes', MAX_MEMBER_SIZE),
        });
      } catch (err) {
        this.problem(0, `sparse map: ${(err as Error).message}; shown without holes`, name);
        return undefined;
      }
    }
    return out;
  }

  /** Checks a sparse map against the real size and the stored bytes; undefined (plus a problem) when it lies. */
  private segments(entries: SparseEntry[], realSize: bigint, dataOffset: number, stored: number, name: string, at: number): SparseSegment[] | undefined {
    if (realSize > MAX_MEMBER_SIZE) {
      this.problem(at, `sparse real size ${realSize} exceeds ${MAX_MEMBER_SIZE}; shown without holes`, name);
      return undefined;
    }
    const out: SparseSegment[] = [];
    let end = 0n;
    let data = 0;
    for (const e of entries) {
      if (e.offset < end || e.offset + e.numbytes > realSize) {
        this.problem(at, `sparse map entry ${e.offset}+${e.numbytes} overlaps or passes the real size ${realSize}; shown without holes`, name);
        return undefined;
      }
      end = e.offset + e.numbytes;
      const len = Number(e.numbytes);
      // Runs past the stored bytes (a truncated archive) are cut; the rest of the file reads as zeros.
      const have = Math.max(0, Math.min(len, stored - data));
      if (have > 0) out.push({ offset: Number(e.offset), length: have, dataPos: dataOffset + data });
      data += len;
    }
    if (data < stored) {
      this.problem(at, `sparse map covers ${data} bytes but ${stored} are stored`, name);
    }
    return out;
  }
}

/** Indexes a tar stream. Never throws on damage: see `problems` and `complete`. */
export function indexTar(r: StreamReader, opts: IndexOptions = {}): TarIndex {
  const ix = new Indexer(r, opts.maxMembers ?? MAX_MEMBERS);
  try {
    ix.run();
  } catch (err) {
    if (!(err instanceof TarError)) throw err;
    ix.problems.push({ offset: 0, reason: err.message });
  }
  return { members: ix.members, problems: ix.problems, complete: ix.complete, globals: ix.globals };
}
