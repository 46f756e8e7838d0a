// VHD (Microsoft Virtual PC / Azure "Virtual Hard Disk") as a read-only ByteSource: fixed, dynamic and differencing.
// References: Microsoft "Virtual Hard Disk Image Format Specification" v1.0 (2006): hard disk footer, dynamic disk
// header, block allocation table, sector bitmaps, parent locators; qemu/qemu block/vpc.c (creator apps and sizes,
// bitmap ignored for dynamic disks).
// All integers are big-endian. The footer is the last 512 bytes; dynamic/differencing disks keep a copy at offset 0.
import type { ByteSource } from './byte-source.js';
import {
  type VirtualDiskOpenOptions,
  LruCache,
  MAX_VIRTUAL_SIZE,
  ProblemLog,
  VirtualDiskSource,
  ascii,
  defaultOpener,
  extendChain,
  failWith,
  nextChainDepth,
  openImageFile,
  readExact,
  readFileHead,
  readInto,
  readOrZeros,
  resolveBeside,
  u64,
  u64Field,
  view,
  virtualDiskErrorClass,
  walkUnits,
} from './virtual-disk-common.js';

export const VhdError = virtualDiskErrorClass('vhd', 'VhdError');
export type VhdError = InstanceType<typeof VhdError>;

/** Block size limit (the spec's default is 2 MiB; Hyper-V uses up to 2 MiB; 256 MiB bounds a bitmap at 64 KiB). */
export const VHD_MAX_BLOCK_SIZE = 256 * 1024 * 1024;
/** BAT size limit in bytes (2 TiB at 2 MiB blocks is 4 MiB). */
export const VHD_MAX_BAT_BYTES = 64 * 1024 * 1024;
/** Sector bitmaps kept in memory (differencing disks). */
export const VHD_BITMAP_CACHE_ENTRIES = 1024;
/** Parent locator data read at most (a path in UTF-16). */
export const VHD_MAX_LOCATOR_BYTES = 64 * 1024;

export const VHD_DISK_TYPE = { fixed: 2, dynamic: 3, differencing: 4 } as const;

/** Hard disk footer (spec "Hard Disk Footer Format"), upstream field names. */
export interface VhdFooter {
  cookie: string; //             0  8 bytes "conectix"
  features: number; //           8  u32
  fileFormatVersion: number; // 12  u32
  dataOffset: bigint; //        16  u64 (0xFFFFFFFFFFFFFFFF for fixed disks)
  timeStamp: number; //         24  u32 seconds since 2000-01-01 UTC
  creatorApplication: string; // 28 4 bytes
  creatorVersion: number; //    32  u32
  creatorHostOs: number; //     36  u32
  originalSize: number; //      40  u64
  currentSize: number; //       48  u64
  diskGeometry: { cylinders: number; heads: number; sectorsPerTrack: number }; // 56 u32
  diskType: number; //          60  u32
  checksum: number; //          64  u32
  uniqueId: Uint8Array; //      68  16 bytes
  savedState: number; //        84  u8
  /** Checksum recomputed: one's complement of the byte sum with the checksum field taken as zero. */
  checksumOk: boolean;
}

/** One's complement of the sum of all bytes, the checksum field counted as zero. */
export function vhdChecksum(b: Uint8Array, checksumOffset: number): number {
  let sum = 0;
  for (let i = 0; i < b.length; i++) if (i < checksumOffset || i >= checksumOffset + 4) sum += b[i] as number;
  return ~sum >>> 0;
}

export function parseVhdFooter(b: Uint8Array, where = 'vhd'): VhdFooter {
  const fail = failWith(VhdError, where);
  if (b.length < 512) fail('ETRUNCATED', `footer needs 512 bytes, have ${b.length}`);
  const cookie = ascii(b, 0, 8);
  if (cookie !== 'conectix') fail('EMAGIC', `footer cookie ${JSON.stringify(cookie)}, expected "conectix"`);
  const dv = view(b);
  const big = u64Field(dv, false, fail);
  const f: VhdFooter = {
    cookie,
    features: dv.getUint32(8),
    fileFormatVersion: dv.getUint32(12),
    dataOffset: dv.getBigUint64(16),
    timeStamp: dv.getUint32(24),
    creatorApplication: ascii(b, 28, 32),
    creatorVersion: dv.getUint32(32),
    creatorHostOs: dv.getUint32(36),
    originalSize: big(40, 'originalSize'),
    currentSize: big(48, 'currentSize'),
    diskGeometry: { cylinders: dv.getUint16(56), heads: b[58] as number, sectorsPerTrack: b[59] as number },
    diskType: dv.getUint32(60),
    checksum: dv.getUint32(64),
    uniqueId: b.slice(68, 84),
    savedState: b[84] as number,
    checksumOk: false,
  };
  f.checksumOk = vhdChecksum(b.subarray(0, 512), 64) === f.checksum;
  if (f.diskType !== 2 && f.diskType !== 3 && f.diskType !== 4) fail('EUNSUPPORTED', `disk type ${f.diskType}, expected 2 (fixed), 3 (dynamic) or 4 (differencing)`);
  if (f.currentSize > MAX_VIRTUAL_SIZE) fail('ELIMIT', `current size ${f.currentSize} exceeds ${MAX_VIRTUAL_SIZE}`);
  return f;
}

export interface VhdParentLocator {
  platformCode: string; // W2ru, W2ku, Wi2r, Wi2k, Mac , MacX
  platformDataSpace: number;
  platformDataLength: number;
  platformDataOffset: number;
}

/** Dynamic disk header (spec "Dynamic Disk Header Format"). */
export interface VhdDynamicHeader {
  cookie: string; //           0  "cxsparse"
  dataOffset: bigint; //       8
  tableOffset: number; //     16  u64 (BAT)
  headerVersion: number; //   24
  maxTableEntries: number; // 28
  blockSize: number; //       32
  checksum: number; //        36
  parentUniqueId: Uint8Array; // 40 16 bytes
  parentTimeStamp: number; // 56
  parentUnicodeName: string; // 64 512 bytes UTF-16BE
  parentLocators: VhdParentLocator[]; // 576 8 x 24 bytes
  checksumOk: boolean;
}

export function parseVhdDynamicHeader(b: Uint8Array, where = 'vhd'): VhdDynamicHeader {
  const fail = failWith(VhdError, where);
  if (b.length < 1024) fail('ETRUNCATED', `dynamic disk header needs 1024 bytes, have ${b.length}`);
  const cookie = ascii(b, 0, 8);
  if (cookie !== 'cxsparse') fail('EMAGIC', `dynamic header cookie ${JSON.stringify(cookie)}, expected "cxsparse"`);
  const dv = view(b);
  const tableOffset = u64(dv, 16, false);
  if (tableOffset === undefined) fail('ELIMIT', 'table offset exceeds 2^53');
  let name = '';
  for (let i = 64; i < 576; i += 2) {
    const c = dv.getUint16(i);
    if (c === 0) break;
    name += String.fromCharCode(c);
  }
  const parentLocators: VhdParentLocator[] = [];
  for (let i = 0; i < 8; i++) {
    const o = 576 + i * 24;
    const platformCode = ascii(b, o, o + 4);
    if (dv.getUint32(o) === 0) continue;
    const off = u64(dv, o + 16, false);
    parentLocators.push({ platformCode, platformDataSpace: dv.getUint32(o + 4), platformDataLength: dv.getUint32(o + 8), platformDataOffset: off ?? Number.MAX_SAFE_INTEGER });
  }
  const h: VhdDynamicHeader = {
    cookie,
    dataOffset: dv.getBigUint64(8),
    tableOffset: tableOffset as number,
    headerVersion: dv.getUint32(24),
    maxTableEntries: dv.getUint32(28),
    blockSize: dv.getUint32(32),
    checksum: dv.getUint32(36),
    parentUniqueId: b.slice(40, 56),
    parentTimeStamp: dv.getUint32(56),
    parentUnicodeName: name,
    parentLocators,
    checksumOk: vhdChecksum(b.subarray(0, 1024), 36) === dv.getUint32(36),
  };
  if (h.blockSize < 512 || h.blockSize > VHD_MAX_BLOCK_SIZE || (h.blockSize & (h.blockSize - 1)) !== 0) {
    fail(h.blockSize > VHD_MAX_BLOCK_SIZE ? 'ELIMIT' : 'ECORRUPT', `block size ${h.blockSize}, expected a power of two from 512 to ${VHD_MAX_BLOCK_SIZE}`);
  }
  if (h.maxTableEntries * 4 > VHD_MAX_BAT_BYTES) fail('ELIMIT', `max table entries ${h.maxTableEntries}, limit ${VHD_MAX_BAT_BYTES / 4}`);
  return h;
}

export interface VhdOpenOptions extends VirtualDiskOpenOptions {
  path?: string;
}

export class VhdSource extends VirtualDiskSource {
  readonly size: bigint;
  readonly description: string;
  readonly footer: VhdFooter;
  readonly dynamicHeader?: VhdDynamicHeader;
  readonly parent?: VhdSource;
  private readonly fileSize: number;
  private readonly bat?: DataView;
  private readonly blockSize: number;
  private readonly bitmapBytes: number;
  private readonly bitmaps = new LruCache<number, Uint8Array>(VHD_BITMAP_CACHE_ENTRIES);

  private constructor(
    private readonly file: ByteSource,
    footer: VhdFooter,
    dyn: VhdDynamicHeader | undefined,
    bat: DataView | undefined,
    parent: VhdSource | undefined,
    log: ProblemLog,
  ) {
    super(log);
    this.footer = footer;
    this.dynamicHeader = dyn;
    this.bat = bat;
    this.parent = parent;
    this.fileSize = Number(file.size);
    this.size = BigInt(footer.currentSize);
    this.blockSize = dyn?.blockSize ?? 0;
    // Sector bitmap: one bit per sector, padded to a whole sector.
    this.bitmapBytes = dyn ? Math.ceil(dyn.blockSize / 512 / 8 / 512) * 512 : 0;
    const kind = footer.diskType === 2 ? 'fixed' : footer.diskType === 3 ? 'dynamic' : 'differencing';
    this.description = `${file.description} (vhd ${kind})`;
  }

  static open(file: ByteSource, opts: VhdOpenOptions = {}): VhdSource {
    const where = opts.path ?? file.description;
    const fail = failWith(VhdError, where);
    const log = ProblemLog.of(opts, VhdError, where);
    const fileSize = Number(file.size);
    if (fileSize < 512) fail('ETRUNCATED', `file of ${fileSize} bytes has no footer`);
    let footerBytes = readExact(file, fileSize - 512, 512);
    if (ascii(footerBytes, 0, 8) !== 'conectix') {
      // A damaged or missing trailing footer: dynamic disks keep a copy at offset 0.
      const copy = readExact(file, 0, 512);
      if (ascii(copy, 0, 8) !== 'conectix') fail('EMAGIC', 'no "conectix" footer at the end of the file nor its copy at offset 0');
      log.note('footer missing at the end of the file; using the copy at offset 0');
      footerBytes = copy;
    }
    const footer = parseVhdFooter(footerBytes, where);
    if (!footer.checksumOk) log.note(`footer checksum 0x${footer.checksum.toString(16)} does not match its bytes`);
    if (footer.diskType === VHD_DISK_TYPE.fixed) {
      if (footer.currentSize > fileSize - 512) log.note(`fixed disk of ${footer.currentSize} bytes but only ${fileSize - 512} bytes of data; the rest reads as zeros`);
      return new VhdSource(file, footer, undefined, undefined, undefined, log);
    }
    if (footer.dataOffset > BigInt(fileSize - 1024) || footer.dataOffset < 512n) {
      fail('ETRUNCATED', `dynamic header offset ${footer.dataOffset} lies outside the file (${fileSize} bytes)`);
    }
    const dyn = parseVhdDynamicHeader(readExact(file, Number(footer.dataOffset), 1024), where);
    if (!dyn.checksumOk) log.note(`dynamic header checksum 0x${dyn.checksum.toString(16)} does not match its bytes`);
    const needEntries = Math.ceil(footer.currentSize / dyn.blockSize);
    if (dyn.maxTableEntries < needEntries) fail('ECORRUPT', `max table entries ${dyn.maxTableEntries} cover less than the disk size ${footer.currentSize} (needs ${needEntries})`);
    if (dyn.tableOffset + needEntries * 4 > fileSize) fail('ETRUNCATED', `BAT at ${dyn.tableOffset} (${needEntries} entries) lies past the end of the file (${fileSize} bytes)`);
    const bat = view(readExact(file, dyn.tableOffset, needEntries * 4));
    let parent: VhdSource | undefined;
    if (footer.diskType === VHD_DISK_TYPE.differencing) {
      parent = openParent(dyn, opts, where);
      if (!bytesEqual(parent.footer.uniqueId, dyn.parentUniqueId)) {
        log.note(`parent ${parent.description} unique id ${hex(parent.footer.uniqueId)} differs from the expected ${hex(dyn.parentUniqueId)}`);
      }
      if (parent.size < BigInt(footer.currentSize)) log.note(`parent is smaller (${parent.size}) than this disk (${footer.currentSize}); the rest reads as zeros`);
    }
    return new VhdSource(file, footer, dyn, bat, parent, log);
  }

  read(buf: Uint8Array, bufOffset: number, length: number, position: number | bigint): number {
    const [n, pos0] = this.startRead(buf, bufOffset, length, position);
    if (n === 0) return 0;
    if (!this.bat) {
      this.readFile(buf, bufOffset, n, pos0, Math.max(0, this.fileSize - 512));
      return n;
    }
    const bat = this.bat;
    walkUnits(n, pos0, this.blockSize, (pos, blk, within, take, done) => {
      const at = bufOffset + done;
      const entry = bat.getUint32(blk * 4);
      if (entry === 0xffffffff) {
        this.readParent(buf, at, take, pos);
      } else {
        const dataStart = entry * 512 + this.bitmapBytes;
        if (!this.parent) {
          // Dynamic disks: the block holds every sector (qemu ignores the bitmap too).
          this.readFile(buf, at, take, dataStart + within, this.fileSize);
        } else {
          const bitmap = this.bitmap(entry, blk);
          // Runs of sectors with the same bitmap bit: 1 = in this file, 0 = in the parent.
          let off = 0;
          while (off < take) {
            const sector = Math.floor((within + off) / 512);
            const bit = bitmap ? ((bitmap[sector >> 3] as number) >> (7 - (sector & 7))) & 1 : 1;
            let end = Math.min(take, (sector + 1) * 512 - within);
            while (end < take) {
              const s2 = Math.floor((within + end) / 512);
              const b2 = bitmap ? ((bitmap[s2 >> 3] as number) >> (7 - (s2 & 7))) & 1 : 1;
              if (b2 !== bit) break;
              end = Math.min(take, (s2 + 1) * 512 - within);
            }
            if (bit) this.readFile(buf, at + off, end - off, dataStart + within + off, this.fileSize);
            else this.readParent(buf, at + off, end - off, pos + off);
            off = end;
          }
        }
      }
      return take;
    });
    return n;
  }

  private bitmap(entry: number, blk: number): Uint8Array | undefined {
    let b = this.bitmaps.get(entry);
    if (!b) {
      b = readExact(this.file, entry * 512, this.bitmapBytes);
      if (b.length < this.bitmapBytes) {
        this.log.add(`block ${blk}: sector bitmap at sector ${entry} lies past the end of the file; block read as zeros`);
        return new Uint8Array(this.bitmapBytes).fill(0xff);
      }
      this.bitmaps.set(entry, b);
    }
    return b;
  }

  /** Reads file bytes [host, host+len) but never at or past `limit` (the footer); short reads become zeros + problem. */
  private readFile(buf: Uint8Array, at: number, len: number, host: number, limit: number): void {
    const avail = Math.max(0, Math.min(len, limit - host));
    const got = readInto(this.file, buf, at, avail, host);
    if (got < len) {
      buf.fill(0, at + got, at + len);
      if (this.bat || got < avail) this.log.add(`file offset ${host + got}: ${len - got} bytes past the end of the data; read as zeros`);
    }
  }

  private readParent(buf: Uint8Array, at: number, len: number, pos: number): void {
    readOrZeros(this.parent, buf, at, len, pos);
  }

  close(): void {
    if (!this.markClosed()) return;
    this.parent?.close();
    this.file.close();
    this.bitmaps.clear();
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
function hex(a: Uint8Array): string {
  return Buffer.from(a).toString('hex');
}

/** Candidate parent names, most specific first: relative locators, absolute ones, the parent's Unicode name. */
function parentNames(dyn: VhdDynamicHeader, file: ByteSource): string[] {
  const names: string[] = [];
  const order = ['W2ru', 'Wi2r', 'W2ku', 'Wi2k', 'MacX'];
  const locs = [...dyn.parentLocators].sort((a, b) => order.indexOf(a.platformCode) - order.indexOf(b.platformCode));
  for (const l of locs) {
    if (l.platformDataLength === 0 || l.platformDataLength > VHD_MAX_LOCATOR_BYTES) continue;
    if (l.platformDataOffset + l.platformDataLength > Number(file.size)) continue;
    const b = readExact(file, l.platformDataOffset, l.platformDataLength);
    let s: string;
    if (l.platformCode === 'MacX') s = decodeURIComponent(new TextDecoder('utf-8').decode(b).replace(/^file:\/\/(localhost)?/, ''));
    else if (l.platformCode.startsWith('W')) s = new TextDecoder('utf-16le').decode(b);
    else continue;
    s = s.replace(/\0+$/, '');
    if (s) names.push(s);
  }
  if (dyn.parentUnicodeName) names.push(dyn.parentUnicodeName);
  return names;
}

function openParent(dyn: VhdDynamicHeader, opts: VhdOpenOptions, where: string): VhdSource {
  const fail = failWith(VhdError, where, 'parent: ');
  if (!opts.path) fail('EMISSING', `needs parent ${JSON.stringify(dyn.parentUnicodeName)} (disk opened without a path)`);
  const depth = nextChainDepth(opts, 'parent', fail);
  const file = (opts.openFile ?? defaultOpener)(opts.path as string);
  let names: string[];
  try {
    names = parentNames(dyn, file);
  } finally {
    file.close();
  }
  if (names.length === 0) fail('ECORRUPT', 'differencing disk names no parent');
  let found: string | undefined;
  let firstErr: unknown;
  for (const n of names) {
    try {
      found = resolveBeside(opts.path as string, n, 'lenient', fail);
      break;
    } catch (err) {
      firstErr ??= err;
    }
  }
  if (!found) throw firstErr;
  const p = found as string;
  const chain = extendChain(opts, opts.path as string, p, JSON.stringify(p), 'parent', fail);
  return openVhdFile(p, { ...opts, depth, chain });
}

/** Content probe: "conectix" in the last 512 bytes, or at offset 0 (the copy of dynamic disks). */
export function probeVhdFile(path: string): boolean {
  const tail = readFileHead(path, 512, true);
  if (tail.length === 512 && ascii(tail, 0, 8) === 'conectix') return true;
  const head = readFileHead(path, 8);
  return ascii(head, 0, 8) === 'conectix';
}

export function openVhdFile(path: string, opts: VhdOpenOptions = {}): VhdSource {
  return openImageFile(path, opts, (file, o) => VhdSource.open(file, o));
}
