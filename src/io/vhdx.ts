// VHDX (Hyper-V virtual hard disk v2) as a read-only ByteSource: fixed and dynamic disks.
// References: Microsoft [MS-VHDX] "Virtual Hard Disk v2 (VHDX) File Format" (2.2 file type identifier, 2.2.2 headers,
// 2.2.3 region table, 2.3 log, 2.5 BAT and block states, 2.6 metadata region and known items); qemu/qemu
// block/vhdx.c (header choice, chunk ratio).
// All integers are little-endian; checksums are CRC-32C over the structure with the checksum field zeroed. The log is
// not replayed: a non-zero LogGuid means the file may lag behind the last writes, recorded in `problems`.
import type { ByteSource } from './byte-source.js';
import {
  type VirtualDiskErrorCode,
  type VirtualDiskOpenOptions,
  LruCache,
  MAX_VIRTUAL_SIZE,
  ProblemLog,
  VirtualDiskSource,
  ascii,
  failWith,
  openImageFile,
  readExact,
  readFileHead,
  readInto,
  u64,
  view,
  virtualDiskErrorClass,
  walkUnits,
} from './virtual-disk-common.js';

export const VhdxError = virtualDiskErrorClass('vhdx', 'VhdxError');
export type VhdxError = InstanceType<typeof VhdxError>;

const KiB = 1024;
const MiB = 1024 * KiB;
export const VHDX_HEADER_OFFSETS = [64 * KiB, 128 * KiB] as const;
export const VHDX_REGION_TABLE_OFFSETS = [192 * KiB, 256 * KiB] as const;
/** [MS-VHDX] 2.2.3: at most 2047 region table entries; 2.6.1: at most 2047 metadata entries. */
export const VHDX_MAX_REGION_ENTRIES = 2047;
export const VHDX_MAX_METADATA_ENTRIES = 2047;
/** [MS-VHDX] 2.6.2.1: block size 1 MiB .. 256 MiB, a power of two. */
export const VHDX_MIN_BLOCK_SIZE = 1 * MiB;
export const VHDX_MAX_BLOCK_SIZE = 256 * MiB;
/** [MS-VHDX] 2.6.2.2: virtual disk size at most 64 TiB. */
export const VHDX_MAX_VIRTUAL_SIZE = 64 * 1024 * 1024 * MiB;
/** BAT pages (64 KiB, 8192 entries) kept in memory: the BAT is read on demand, never whole. */
export const VHDX_BAT_PAGE_BYTES = 64 * KiB;
export const VHDX_BAT_CACHE_PAGES = 256;

/** Block states ([MS-VHDX] 2.5.1). */
export const VHDX_PAYLOAD = {
  notPresent: 0,
  undefined: 1,
  zero: 2,
  unmapped: 3,
  fullyPresent: 6,
  partiallyPresent: 7,
} as const;

/** Known GUIDs ([MS-VHDX] 2.2.3.1, 2.6.2). */
export const VHDX_GUID = {
  batRegion: '2DC27766-F623-4200-9D64-115E9BFD4A08',
  metadataRegion: '8B7CA206-4790-4B9A-B8FE-575F050F886E',
  fileParameters: 'CAA16737-FA36-4D43-B3B6-33F0AA44E76B',
  virtualDiskSize: '2FA54224-CD1B-4876-B211-5DBED83BF4B8',
  virtualDiskId: 'BECA12AB-B2E6-4523-93EF-C309E000C746',
  logicalSectorSize: '8141BF1D-A96F-4709-BA47-F233A8FAAB5F',
  physicalSectorSize: 'CDA348C7-445D-4471-9CC9-E9885251C556',
  parentLocator: 'A8D35F2D-B30B-454D-ABF7-D3D84834AB0C',
} as const;

/** A GUID's text form from its 16 on-disk bytes (first three fields little-endian). */
export function guidString(b: Uint8Array, off = 0): string {
  const h = (i: number) => (b[off + i] as number).toString(16).padStart(2, '0');
  const r = (idx: number[]) => idx.map(h).join('');
  return `${r([3, 2, 1, 0])}-${r([5, 4])}-${r([7, 6])}-${r([8, 9])}-${r([10, 11, 12, 13, 14, 15])}`.toUpperCase();
}

let crcTable: Uint32Array | undefined;
/** CRC-32C (Castagnoli, reflected 0x82F63B78), as [MS-VHDX] uses. */
export function crc32c(b: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = (crcTable[(c ^ (b[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32C of `b` with the 4-byte checksum field at `at` taken as zero. */
function crcWithZeroField(b: Uint8Array, at: number): number {
  const c = Uint8Array.from(b);
  c.fill(0, at, at + 4);
  return crc32c(c);
}

/** Header ([MS-VHDX] 2.2.2), upstream field names. */
export interface VhdxHeader {
  Signature: string; //     0 "head"
  Checksum: number; //      4
  SequenceNumber: bigint; // 8
  FileWriteGuid: string; // 16
  DataWriteGuid: string; // 32
  LogGuid: string; //      48
  LogVersion: number; //   64
  Version: number; //      66
  LogLength: number; //    68
  LogOffset: bigint; //    72
}

/** Parses one 4 KiB header; returns undefined (with the reason) when it is not valid. */
export function parseVhdxHeader(b: Uint8Array): VhdxHeader | string {
  if (b.length < 4096) return `header truncated (${b.length} bytes)`;
  const sig = ascii(b, 0, 4);
  if (sig !== 'head') return `signature ${JSON.stringify(sig)}, expected "head"`;
  const dv = view(b);
  const sum = dv.getUint32(4, true);
  const calc = crcWithZeroField(b.subarray(0, 4096), 4);
  if (sum !== calc) return `checksum 0x${sum.toString(16)}, computed 0x${calc.toString(16)}`;
  const h: VhdxHeader = {
    Signature: sig,
    Checksum: sum,
    SequenceNumber: dv.getBigUint64(8, true),
    FileWriteGuid: guidString(b, 16),
    DataWriteGuid: guidString(b, 32),
    LogGuid: guidString(b, 48),
    LogVersion: dv.getUint16(64, true),
    Version: dv.getUint16(66, true),
    LogLength: dv.getUint32(68, true),
    LogOffset: dv.getBigUint64(72, true),
  };
  if (h.Version !== 1) return `version ${h.Version}, expected 1`;
  return h;
}

export interface VhdxRegion {
  guid: string;
  fileOffset: number;
  length: number;
  required: boolean;
}

/** Parses a 64 KiB region table; returns the reason when it is not valid. */
export function parseVhdxRegionTable(b: Uint8Array): VhdxRegion[] | string {
  if (b.length < 64 * KiB) return `region table truncated (${b.length} bytes)`;
  const sig = ascii(b, 0, 4);
  if (sig !== 'regi') return `signature ${JSON.stringify(sig)}, expected "regi"`;
  const dv = view(b);
  const sum = dv.getUint32(4, true);
  const calc = crcWithZeroField(b.subarray(0, 64 * KiB), 4);
  if (sum !== calc) return `checksum 0x${sum.toString(16)}, computed 0x${calc.toString(16)}`;
  const count = dv.getUint32(8, true);
  if (count > VHDX_MAX_REGION_ENTRIES) return `entry count ${count}, limit ${VHDX_MAX_REGION_ENTRIES}`;
  const out: VhdxRegion[] = [];
  for (let i = 0; i < count; i++) {
    const o = 16 + i * 32;
    const off = u64(dv, o + 16, true);
    if (off === undefined) return `region ${i} offset exceeds 2^53`;
    out.push({ guid: guidString(b, o), fileOffset: off, length: dv.getUint32(o + 24, true), required: (dv.getUint32(o + 28, true) & 1) === 1 });
  }
  return out;
}

export interface VhdxMetadataEntry {
  itemId: string;
  offset: number;
  length: number;
  isUser: boolean;
  isVirtualDisk: boolean;
  isRequired: boolean;
}

export interface VhdxOpenOptions extends VirtualDiskOpenOptions {
  path?: string;
}

export class VhdxSource extends VirtualDiskSource {
  readonly size: bigint;
  readonly description: string;
  readonly header: VhdxHeader;
  readonly blockSize: number;
  readonly logicalSectorSize: number;
  readonly leaveBlocksAllocated: boolean;
  readonly chunkRatio: number;
  private readonly fileSize: number;
  private readonly batOffset: number;
  private readonly batLength: number;
  private readonly batPages = new LruCache<number, DataView>(VHDX_BAT_CACHE_PAGES);

  private constructor(
    private readonly file: ByteSource,
    init: { header: VhdxHeader; size: number; blockSize: number; sector: number; leave: boolean; bat: VhdxRegion; log: ProblemLog; where: string },
  ) {
    super(init.log);
    this.header = init.header;
    this.size = BigInt(init.size);
    this.blockSize = init.blockSize;
    this.logicalSectorSize = init.sector;
    this.leaveBlocksAllocated = init.leave;
    this.chunkRatio = (2 ** 23 * init.sector) / init.blockSize;
    this.batOffset = init.bat.fileOffset;
    this.batLength = init.bat.length;
    this.fileSize = Number(file.size);
    this.description = `${init.where} (vhdx)`;
  }

  static open(file: ByteSource, opts: VhdxOpenOptions = {}): VhdxSource {
    const where = opts.path ?? file.description;
    const fail = failWith(VhdxError, where);
    const log = ProblemLog.of(opts, VhdxError, where);
    const fileSize = Number(file.size);
    const ident = readExact(file, 0, 8);
    if (ascii(ident, 0, 8) !== 'vhdxfile') fail('EMAGIC', `file type identifier ${JSON.stringify(ascii(ident, 0, 8))}, expected "vhdxfile" at offset 0`);
    // Headers: the valid one with the highest sequence number wins.
    const headers = VHDX_HEADER_OFFSETS.map((o) => parseVhdxHeader(readExact(file, o, 4096)));
    const valid = headers.filter((h): h is VhdxHeader => typeof h !== 'string');
    if (valid.length === 0) fail(fileSize < 192 * KiB ? 'ETRUNCATED' : 'ECORRUPT', `no valid header: 1: ${headers[0]}; 2: ${headers[1]}`);
    for (const [i, h] of headers.entries()) if (typeof h === 'string') log.note(`header ${i + 1} invalid (${h}); using the other`);
    const header = valid.reduce((a, b) => (b.SequenceNumber > a.SequenceNumber ? b : a));
    if (header.LogGuid !== '00000000-0000-0000-0000-000000000000') {
      log.note(`log is dirty (LogGuid ${header.LogGuid}): the last writes may sit in the log, which is not replayed; data read may be stale`);
    }
    // Region table: the first valid copy.
    const tables = VHDX_REGION_TABLE_OFFSETS.map((o) => parseVhdxRegionTable(readExact(file, o, 64 * KiB)));
    const table = tables.find((t): t is VhdxRegion[] => typeof t !== 'string');
    if (!table) fail(fileSize < 320 * KiB ? 'ETRUNCATED' : 'ECORRUPT', `no valid region table: 1: ${tables[0]}; 2: ${tables[1]}`);
    if (typeof tables[0] === 'string') log.note(`region table 1 invalid (${tables[0]}); using region table 2`);
    const regions = table as VhdxRegion[];
    for (const r of regions) {
      if (r.required && r.guid !== VHDX_GUID.batRegion && r.guid !== VHDX_GUID.metadataRegion) fail('EUNSUPPORTED', `unknown required region ${r.guid}`);
      if (r.fileOffset % MiB !== 0 || r.length % MiB !== 0 || r.fileOffset < MiB) fail('ECORRUPT', `region ${r.guid} at ${r.fileOffset}+${r.length} is not 1 MiB-aligned or overlaps the header section`);
      if (r.fileOffset + r.length > fileSize) fail('ETRUNCATED', `region ${r.guid} at ${r.fileOffset}+${r.length} lies past the end of the file (${fileSize} bytes)`);
    }
    const bat = regions.find((r) => r.guid === VHDX_GUID.batRegion);
    const meta = regions.find((r) => r.guid === VHDX_GUID.metadataRegion);
    if (!bat || !meta) fail('ECORRUPT', `region table lacks the ${bat ? 'metadata' : 'BAT'} region`);
    const m = parseMetadata(file, meta as VhdxRegion, fail);
    const { blockSize, leave, hasParent, size, sector } = m;
    if (hasParent) fail('EUNSUPPORTED', 'differencing VHDX (HasParent) is not supported; open its parent chain with Hyper-V tools');
    const chunkRatio = (2 ** 23 * sector) / blockSize;
    const dataBlocks = Math.ceil(size / blockSize);
    const totalEntries = dataBlocks === 0 ? 0 : dataBlocks + Math.floor((dataBlocks - 1) / chunkRatio);
    if (totalEntries * 8 > (bat as VhdxRegion).length) fail('ECORRUPT', `BAT region of ${(bat as VhdxRegion).length} bytes holds fewer than the ${totalEntries} entries the disk needs`);
    return new VhdxSource(file, { header, size, blockSize, sector, leave, bat: bat as VhdxRegion, log, where });
  }

  /** BAT entry (low 32 bits are enough for the state; the offset needs bits 20..63). */
  private batEntry(index: number): { state: number; offset: number } | undefined {
    const byte = index * 8;
    if (byte + 8 > this.batLength) return undefined;
    const page = Math.floor(byte / VHDX_BAT_PAGE_BYTES);
    let dv = this.batPages.get(page);
    if (!dv) {
      const start = page * VHDX_BAT_PAGE_BYTES;
      dv = view(readExact(this.file, this.batOffset + start, Math.min(VHDX_BAT_PAGE_BYTES, this.batLength - start)));
      this.batPages.set(page, dv);
    }
    const o = byte - page * VHDX_BAT_PAGE_BYTES;
    if (o + 8 > dv.byteLength) return undefined;
    const lo = dv.getUint32(o, true);
    const hi = dv.getUint32(o + 4, true);
    // FileOffsetMB: bits 20..63 -> lo >>> 20 plus hi << 12 (in MiB units)
    const mb = hi * 4096 + (lo >>> 20);
    return { state: lo & 7, offset: mb * MiB };
  }

  read(buf: Uint8Array, bufOffset: number, length: number, position: number | bigint): number {
    const [n, pos0] = this.startRead(buf, bufOffset, length, position);
    const bs = this.blockSize;
    walkUnits(n, pos0, bs, (_pos, blk, within, take, done) => {
      const at = bufOffset + done;
      const e = this.batEntry(blk + Math.floor(blk / this.chunkRatio));
      if (!e) {
        this.log.add(`block ${blk}: BAT entry unreadable; read as zeros`);
        buf.fill(0, at, at + take);
      } else if (e.state === VHDX_PAYLOAD.fullyPresent) {
        if (e.offset < MiB) {
          this.log.add(`block ${blk}: payload offset ${e.offset} inside the header section; read as zeros`);
          buf.fill(0, at, at + take);
        } else {
          // Coalesce blocks stored one after another.
          let next = blk + 1;
          while (done + take < n) {
            const e2 = this.batEntry(next + Math.floor(next / this.chunkRatio));
            if (!e2 || e2.state !== VHDX_PAYLOAD.fullyPresent || e2.offset !== e.offset + (next - blk) * bs) break;
            take += Math.min(n - done - take, bs);
            next++;
          }
          this.readFile(buf, at, take, e.offset + within, blk);
        }
      } else if (e.state <= VHDX_PAYLOAD.unmapped) {
        buf.fill(0, at, at + take); // not present / undefined / zero / unmapped: zeros without a parent
      } else {
        this.log.add(`block ${blk}: state ${e.state}${e.state === VHDX_PAYLOAD.partiallyPresent ? ' (partially present) needs a parent' : ' is invalid'}; read as zeros`);
        buf.fill(0, at, at + take);
      }
      return take;
    });
    return n;
  }

  private readFile(buf: Uint8Array, at: number, len: number, host: number, blk: number): void {
    const got = readInto(this.file, buf, at, len, host);
    if (got < len) {
      buf.fill(0, at + got, at + len);
      this.log.add(`block ${blk}: payload at file offset ${host + got} lies past the end of the file (${this.fileSize}); ${len - got} bytes read as zeros`);
    }
  }

  close(): void {
    if (!this.markClosed()) return;
    this.file.close();
    this.batPages.clear();
  }
}

function parseMetadata(
  file: ByteSource,
  region: VhdxRegion,
  fail: (code: VirtualDiskErrorCode, d: string) => never,
): { blockSize: number; leave: boolean; hasParent: boolean; size: number; sector: number } {
  const t = readExact(file, region.fileOffset, 64 * KiB);
  if (ascii(t, 0, 8) !== 'metadata') fail('EMAGIC', `metadata table signature ${JSON.stringify(ascii(t, 0, 8))}, expected "metadata"`);
  const dv = view(t);
  const count = dv.getUint16(10, true);
  if (count > VHDX_MAX_METADATA_ENTRIES) fail('ELIMIT', `metadata entry count ${count}, limit ${VHDX_MAX_METADATA_ENTRIES}`);
  const entries: VhdxMetadataEntry[] = [];
  for (let i = 0; i < count; i++) {
    const o = 32 + i * 32;
    const flags = dv.getUint32(o + 24, true);
    entries.push({ itemId: guidString(t, o), offset: dv.getUint32(o + 16, true), length: dv.getUint32(o + 20, true), isUser: (flags & 1) !== 0, isVirtualDisk: (flags & 2) !== 0, isRequired: (flags & 4) !== 0 });
  }
  const known = new Set<string>(Object.values(VHDX_GUID));
  for (const e of entries) if (e.isRequired && !known.has(e.itemId)) fail('EUNSUPPORTED', `unknown required metadata item ${e.itemId}`);
  const item = (guid: string, len: number, name: string): DataView => {
    const e = entries.find((x) => x.itemId === guid);
    if (!e) return fail('ECORRUPT', `metadata item ${name} (${guid}) missing`);
    if (e.length < len || e.offset < 64 * KiB || e.offset + e.length > region.length) {
      fail('ECORRUPT', `metadata item ${name} at ${e.offset}+${e.length} lies outside the metadata region (${region.length} bytes)`);
    }
    const b = readExact(file, region.fileOffset + e.offset, len);
    if (b.length < len) fail('ETRUNCATED', `metadata item ${name} truncated`);
    return view(b);
  };
  const fp = item(VHDX_GUID.fileParameters, 8, 'File Parameters');
  const blockSize = fp.getUint32(0, true);
  const flags = fp.getUint32(4, true);
  if (blockSize < VHDX_MIN_BLOCK_SIZE || blockSize > VHDX_MAX_BLOCK_SIZE || (blockSize & (blockSize - 1)) !== 0) {
    fail('ECORRUPT', `BlockSize ${blockSize}, expected a power of two from 1 MiB to 256 MiB`);
  }
  const vs = item(VHDX_GUID.virtualDiskSize, 8, 'Virtual Disk Size');
  const size = u64(vs, 0, true);
  if (size === undefined || size > VHDX_MAX_VIRTUAL_SIZE || size > MAX_VIRTUAL_SIZE) fail('ELIMIT', `VirtualDiskSize ${vs.getBigUint64(0, true)} exceeds 64 TiB`);
  const sector = item(VHDX_GUID.logicalSectorSize, 4, 'Logical Sector Size').getUint32(0, true);
  if (sector !== 512 && sector !== 4096) fail('ECORRUPT', `LogicalSectorSize ${sector}, expected 512 or 4096`);
  if ((size as number) % sector !== 0) fail('ECORRUPT', `VirtualDiskSize ${size} is not a multiple of the logical sector size ${sector}`);
  return { blockSize, leave: (flags & 1) !== 0, hasParent: (flags & 2) !== 0, size: size as number, sector };
}

export function probeVhdxFile(path: string): boolean {
  return ascii(readFileHead(path, 8), 0, 8) === 'vhdxfile';
}

export function openVhdxFile(path: string, opts: VhdxOpenOptions = {}): VhdxSource {
  return openImageFile(path, opts, (file, o) => VhdxSource.open(file, o));
}
