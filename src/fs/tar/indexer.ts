// The indexing pass over a tar stream (see ./archive.ts): walks the header blocks, applies pax/GNU overrides and
// records every member and problem. Damage never throws past `indexTar`.
import {
  MAX_ID,
  MAX_MEMBER_SIZE,
  MAX_RESYNC_BYTES,
  type SparseSegment,
  type StreamReader,
  type TarIndexProblem,
  type TarMember,
} from './archive-types.js';
import { latin1, looksLikeHeader, memberType, paxXattrs, readExact, roundUp } from './index-helpers.js';
import {
  type PaxRecords,
  type RawHeader,
  type SparseEntry,
  MAX_LONG_NAME_BYTES,
  MAX_PAX_HEADER_BYTES,
  decodeName,
  hasUstarMagic,
  isZeroBlock,
  parseHeader,
  parsePax,
  parsePaxInteger,
  parsePaxTime,
  verifyChecksum,
} from './parse.js';
import { type ReportProblem, parseSparseList, readGnuSparseExtensions, readSparseMap1, sparseSegments } from './sparse-map.js';
import { BLOCK_SIZE, TYPEFLAG } from './structs.js';

export class Indexer {
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

  private readonly report: ReportProblem = (offset, reason, name) => this.problem(offset, reason, name);

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
      if (h.gnuIsExtended) {
        const end = readGnuSparseExtensions(this.r, bad, sparse, dataOffset);
        if (end === undefined) return false;
        dataOffset = end;
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
      const parsed = readSparseMap1(this.r, this.report, dataOffset, stored, name);
      if (parsed) {
        sparse = parsed.entries;
        dataOffset += parsed.mapBytes;
        stored -= parsed.mapBytes;
      }
    } else if (paxMap !== undefined) {
      realSize = paxNum('GNU.sparse.size', MAX_MEMBER_SIZE, paxNum('GNU.sparse.realsize', MAX_MEMBER_SIZE, 0n));
      sparse = parseSparseList(this.report, paxMap.split(','), name);
    } else if (pax.has('GNU.sparse.offset') || pax.has('GNU.sparse.numbytes') || major !== undefined) {
      bad(`pax sparse format ${major ?? '0'}.${minor ?? '0'} is not supported; the member's stored bytes are shown without their holes`);
    }

    let segments: SparseSegment[] | undefined;
    let size = stored;
    if (sparse && realSize !== undefined) {
      segments = sparseSegments(this.report, sparse, realSize, dataOffset, stored, name, at);
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

    const xattrs = paxXattrs(pax);

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
}
