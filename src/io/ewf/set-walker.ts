// The open-time walk of an EWF segment set (see ./ewf-source.ts): opens every segment, follows its section chain,
// reads the volume, header, hash and error sections and the table headers, and records every damage as a problem.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { assignChunks } from './chunk-table.js';
import { EwfError, type EwfProblem } from './errors.js';
import { buildHeaderInfo, parseXml } from './header-info.js';
import { MAX_EWF_SEGMENTS, ewfSegmentNames, shortName } from './segments.js';
import {
  type EwfHeaderInfo,
  type EwfOpenOptions,
  type EwfSegmentInfo,
  MAX_SECTIONS_PER_SEGMENT,
  type Section,
  type Segment,
  type TableRef,
} from './source-types.js';
import {
  type AcquisitionError,
  type EwfVolume,
  FILE_HEADER_SIZE,
  MAX_HEADER_BYTES,
  MAX_TABLE_ENTRIES,
  SECTION_DESCRIPTOR_SIZE,
  TABLE_HEADER_SIZE,
  decodeHeaderText,
  hex,
  isZeroHex,
  parseDigest,
  parseError2,
  parseFileHeader,
  parseHash,
  parseHeaderValues,
  parseSectionDescriptor,
  parseTableHeader,
  parseVolume,
} from './structures.js';

/** Walks the sections of every segment of a set at open time. */
export class SetWalker {
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

  /** Numbers the chunks of the tables met (see assignChunks in ./chunk-table.ts). */
  assignChunks(chunksNeeded: number): TableRef[] {
    return assignChunks(this.tables, this.segments, this.first, chunksNeeded, this.problem);
  }

  header(): EwfHeaderInfo {
    return buildHeaderInfo(this.header2, this.headerText, this.xheader);
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
