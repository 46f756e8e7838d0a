// VMDK (VMware virtual disk) as a read-only ByteSource: hosted sparse extents (monolithicSparse, twoGbMaxExtentSparse
// parts, streamOptimized with compressed grains and markers), and text descriptors with FLAT / VMFS / SPARSE / ZERO
// extents beside them (monolithicFlat, twoGbMaxExtentFlat ...). Delta disks read their parent (parentFileNameHint)
// when it sits beside them.
// References: VMware "Virtual Disk Format 5.0" (SparseExtentHeader, grain directory/tables, stream-optimized markers,
// descriptor file); libyal/libvmdk documentation "VMware Virtual Disk (VMDK) format"; qemu/qemu block/vmdk.c (GD at
// the end of stream-optimized files, zeroed-grain GTE 1, qemu's limits).
// All integers are little-endian. Sectors are 512 bytes.
import * as nodePath from 'node:path';
import type { ByteSource } from './byte-source.js';
import {
  type VirtualDiskOpenOptions,
  LruCache,
  MAX_VIRTUAL_SIZE,
  ProblemLog,
  VirtualDiskSource,
  defaultOpener,
  extendChain,
  failWith,
  inflateBounded,
  nextChainDepth,
  readExact,
  readFileHead,
  readInto,
  readOrZeros,
  resolveBeside,
  u64Field,
  view,
  virtualDiskErrorClass,
  walkUnits,
} from './virtual-disk-common.js';

export const VmdkError = virtualDiskErrorClass('vmdk', 'VmdkError');
export type VmdkError = InstanceType<typeof VmdkError>;

export const VMDK_SPARSE_MAGIC = 0x564d444b; // "KDMV" little-endian
export const VMDK_COWD_MAGIC = 0x44574f43; // "COWD" (ESX vmfsSparse): not read
/** Grain size limit in sectors (qemu refuses > 128 MiB; real images use 64 KiB): 16 MiB bounds one inflate. */
export const VMDK_MAX_GRAIN_SECTORS = 32768;
/** qemu refuses grain tables with more than 512 entries; the spec fixes 512. */
export const VMDK_MAX_GTES_PER_GT = 512;
/** Grain directory size limit (bytes). */
export const VMDK_MAX_GD_BYTES = 16 * 1024 * 1024;
/** Descriptor text size limit (an embedded or separate descriptor is a few KiB). */
export const VMDK_MAX_DESCRIPTOR_BYTES = 1024 * 1024;
/** Extents in one descriptor (a 64 TiB twoGbMaxExtent disk has 32768). */
export const VMDK_MAX_EXTENTS = 65536;
/** Grain tables kept in memory per extent (2 KiB each). */
export const VMDK_GT_CACHE_ENTRIES = 4096;
/** Decompressed grains kept per extent. */
export const VMDK_GRAIN_CACHE_ENTRIES = 64;

/** SparseExtentHeader flags (Virtual Disk Format 5.0). */
export const VMDK_FLAGS = {
  validNewlineTest: 1,
  redundantGrainTable: 2,
  zeroedGrainGte: 4,
  compressedGrains: 0x10000,
  markers: 0x20000,
} as const;
const GD_AT_END = 0xffffffffffffffffn;

/** SparseExtentHeader, upstream field names (Virtual Disk Format 5.0, "Header"). */
export interface VmdkSparseHeader {
  magicNumber: number; //        0 u32
  version: number; //            4 u32
  flags: number; //              8 u32
  capacity: number; //          12 u64 sectors
  grainSize: number; //         20 u64 sectors
  descriptorOffset: number; //  28 u64 sectors
  descriptorSize: number; //    36 u64 sectors
  numGTEsPerGT: number; //      44 u32
  rgdOffset: number; //         48 u64 sectors
  gdOffset: number; //          56 u64 sectors (GD_AT_END -> footer)
  overHead: number; //          64 u64 sectors
  uncleanShutdown: number; //   72 u8
  compressAlgorithm: number; // 77 u16 (1 = deflate)
  gdAtEnd: boolean;
}

/** Parses and checks a SparseExtentHeader (512 bytes). */
export function parseVmdkSparseHeader(b: Uint8Array, where = 'vmdk'): VmdkSparseHeader {
  const fail = failWith(VmdkError, where);
  if (b.length < 79) fail('ETRUNCATED', `sparse header needs 79 bytes, have ${b.length}`);
  const dv = view(b);
  const magic = dv.getUint32(0, true);
  if (magic === VMDK_COWD_MAGIC) fail('EUNSUPPORTED', 'ESX vmfsSparse (COWD) extents are not supported');
  if (magic !== VMDK_SPARSE_MAGIC) fail('EMAGIC', `magic 0x${magic.toString(16)}, expected 0x${VMDK_SPARSE_MAGIC.toString(16)} ("KDMV") at offset 0`);
  const big = u64Field(dv, true, fail);
  const gdAtEnd = dv.getBigUint64(56, true) === GD_AT_END;
  const h: VmdkSparseHeader = {
    magicNumber: magic,
    version: dv.getUint32(4, true),
    flags: dv.getUint32(8, true),
    capacity: big(12, 'capacity'),
    grainSize: big(20, 'grainSize'),
    descriptorOffset: big(28, 'descriptorOffset'),
    descriptorSize: big(36, 'descriptorSize'),
    numGTEsPerGT: dv.getUint32(44, true),
    rgdOffset: big(48, 'rgdOffset'),
    gdOffset: gdAtEnd ? 0 : big(56, 'gdOffset'),
    overHead: big(64, 'overHead'),
    uncleanShutdown: b[72] as number,
    compressAlgorithm: dv.getUint16(77, true),
    gdAtEnd,
  };
  if (h.version < 1 || h.version > 3) fail('ECORRUPT', `version ${h.version}, expected 1..3`);
  if (h.grainSize < 1 || h.grainSize > VMDK_MAX_GRAIN_SECTORS || (h.grainSize & (h.grainSize - 1)) !== 0) {
    fail(h.grainSize > VMDK_MAX_GRAIN_SECTORS ? 'ELIMIT' : 'ECORRUPT', `grainSize ${h.grainSize} sectors, expected a power of two up to ${VMDK_MAX_GRAIN_SECTORS}`);
  }
  if (h.numGTEsPerGT < 1 || h.numGTEsPerGT > VMDK_MAX_GTES_PER_GT) fail('ELIMIT', `numGTEsPerGT ${h.numGTEsPerGT}, expected 1..${VMDK_MAX_GTES_PER_GT}`);
  if (h.capacity * 512 > MAX_VIRTUAL_SIZE) fail('ELIMIT', `capacity ${h.capacity} sectors exceeds ${MAX_VIRTUAL_SIZE} bytes`);
  if (h.flags & VMDK_FLAGS.compressedGrains && h.compressAlgorithm !== 1) {
    fail('EUNSUPPORTED', `compressAlgorithm ${h.compressAlgorithm}, only 1 (deflate) is known`);
  }
  return h;
}

export type VmdkExtentType = 'FLAT' | 'SPARSE' | 'ZERO' | 'VMFS' | 'VMFSSPARSE' | 'VMFSRDM' | 'VMFSRAW' | 'SESPARSE';

export interface VmdkDescriptorExtent {
  access: 'RW' | 'RDONLY' | 'NOACCESS';
  sectors: number;
  type: VmdkExtentType;
  file?: string;
  /** FLAT: start sector inside the file. */
  offset: number;
}

export interface VmdkDescriptor {
  version?: string;
  CID?: string;
  parentCID?: string;
  createType?: string;
  parentFileNameHint?: string;
  extents: VmdkDescriptorExtent[];
}

/** Parses descriptor text (Virtual Disk Format 5.0, "The Descriptor File"). Unknown lines are ignored. */
export function parseVmdkDescriptor(text: string, where = 'vmdk'): VmdkDescriptor {
  const d: VmdkDescriptor = { extents: [] };
  const nul = text.indexOf('\0');
  if (nul >= 0) text = text.slice(0, nul);
  const extentRe = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+(FLAT|SPARSE|ZERO|VMFS|VMFSSPARSE|VMFSRDM|VMFSRAW|SESPARSE)(?:\s+"([^"]*)"(?:\s+(\d+))?)?\s*$/;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = extentRe.exec(line);
    if (m) {
      if (d.extents.length >= VMDK_MAX_EXTENTS) throw new VmdkError('ELIMIT', where, `more than ${VMDK_MAX_EXTENTS} extents`);
      const sectors = Number(m[2]);
      const offset = m[5] === undefined ? 0 : Number(m[5]);
      if (!Number.isSafeInteger(sectors) || !Number.isSafeInteger(offset)) throw new VmdkError('ELIMIT', where, `extent line with huge numbers: ${line}`);
      d.extents.push({ access: m[1] as VmdkDescriptorExtent['access'], sectors, type: m[3] as VmdkExtentType, file: m[4], offset });
      continue;
    }
    const kv = /^([A-Za-z0-9_.]+)\s*=\s*"?([^"]*)"?\s*$/.exec(line);
    if (!kv) continue;
    const key = kv[1] as string;
    const value = kv[2] as string;
    if (key === 'version' || key === 'CID' || key === 'parentCID' || key === 'createType' || key === 'parentFileNameHint') d[key] = value;
  }
  return d;
}

/** True when the descriptor names a parent (delta disk). */
function hasParent(d: VmdkDescriptor): boolean {
  return d.parentCID !== undefined && d.parentCID.toLowerCase() !== 'ffffffff' && d.parentFileNameHint !== undefined;
}

/** Reads unallocated ranges from the parent (or zeros). */
type FillFn = (buf: Uint8Array, at: number, len: number, virtualPos: number) => void;

/** One hosted sparse extent (a KDMV file). Positions are extent-relative bytes. */
export class VmdkSparseExtent {
  readonly header: VmdkSparseHeader;
  /** Capacity in bytes. */
  readonly capacity: number;
  /** The embedded descriptor (monolithicSparse, streamOptimized), if any. */
  readonly descriptor?: VmdkDescriptor;
  private readonly grainBytes: number;
  private readonly gd: DataView;
  private readonly fileSize: number;
  private readonly gtCache = new LruCache<number, DataView>(VMDK_GT_CACHE_ENTRIES);
  private readonly grainCache = new LruCache<number, Uint8Array>(VMDK_GRAIN_CACHE_ENTRIES);
  private readonly compressed: boolean;
  private readonly markers: boolean;
  private readonly zeroedGte: boolean;

  constructor(
    readonly file: ByteSource,
    private readonly log: ProblemLog,
    readonly where: string,
  ) {
    const fail = failWith(VmdkError, where);
    this.fileSize = Number(file.size);
    let h = parseVmdkSparseHeader(readExact(file, 0, 512), where);
    if (h.gdAtEnd) {
      // streamOptimized: the real header is the footer, 1024 bytes before the end (footer marker, footer, EOS).
      if (this.fileSize < 1536 + 512) fail('ETRUNCATED', `gdOffset is GD_AT_END but the file (${this.fileSize} bytes) has no room for a footer`);
      const footer = parseVmdkSparseHeader(readExact(file, this.fileSize - 1024, 512), `${where} (footer)`);
      if (footer.gdAtEnd) fail('ECORRUPT', 'footer gdOffset is GD_AT_END too');
      h = footer;
    }
    this.header = h;
    this.capacity = h.capacity * 512;
    this.grainBytes = h.grainSize * 512;
    this.compressed = (h.flags & VMDK_FLAGS.compressedGrains) !== 0;
    this.markers = (h.flags & VMDK_FLAGS.markers) !== 0;
    this.zeroedGte = (h.flags & VMDK_FLAGS.zeroedGrainGte) !== 0;
    const gteSpan = h.numGTEsPerGT * h.grainSize;
    const numGDEs = Math.ceil(h.capacity / gteSpan);
    if (numGDEs * 4 > VMDK_MAX_GD_BYTES) fail('ELIMIT', `grain directory of ${numGDEs} entries exceeds ${VMDK_MAX_GD_BYTES} bytes`);
    const gdOk = (sector: number) => sector > 0 && sector * 512 + numGDEs * 4 <= this.fileSize;
    let gdSector = h.gdOffset;
    if (!gdOk(gdSector)) {
      if (h.flags & VMDK_FLAGS.redundantGrainTable && gdOk(h.rgdOffset)) {
        log.note(`grain directory at sector ${h.gdOffset} lies outside the file; using the redundant one at ${h.rgdOffset}`);
        gdSector = h.rgdOffset;
      } else {
        fail('ETRUNCATED', `grain directory at sector ${h.gdOffset} (${numGDEs} entries) lies outside the file (${this.fileSize} bytes)`);
      }
    }
    this.gd = view(readExact(file, gdSector * 512, numGDEs * 4));
    if (h.uncleanShutdown) log.note('extent was not closed cleanly (uncleanShutdown set)');
    if (h.descriptorOffset > 0 && h.descriptorSize > 0) {
      if (h.descriptorSize * 512 > VMDK_MAX_DESCRIPTOR_BYTES) fail('ELIMIT', `embedded descriptor of ${h.descriptorSize} sectors exceeds ${VMDK_MAX_DESCRIPTOR_BYTES} bytes`);
      const text = new TextDecoder('utf-8').decode(readExact(file, h.descriptorOffset * 512, h.descriptorSize * 512));
      this.descriptor = parseVmdkDescriptor(text, where);
    }
  }

  /** Grain table entry of grain `g`: 0 unallocated, 1 zeroed (with the flag), else a sector; -1 unreadable table. */
  private gte(g: number): number {
    const gdi = Math.floor(g / this.header.numGTEsPerGT);
    if (gdi * 4 + 4 > this.gd.byteLength) return 0;
    const gtSector = this.gd.getUint32(gdi * 4, true);
    if (gtSector === 0) return 0;
    let gt = this.gtCache.get(gtSector);
    if (!gt) {
      const bytes = this.header.numGTEsPerGT * 4;
      if (gtSector * 512 + bytes > this.fileSize) {
        this.log.add(`${this.where}: grain table ${gdi} at sector ${gtSector} lies outside the file; grains ${gdi * this.header.numGTEsPerGT}.. read as zeros`);
        return -1;
      }
      gt = view(readExact(this.file, gtSector * 512, bytes));
      this.gtCache.set(gtSector, gt);
    }
    return gt.getUint32((g % this.header.numGTEsPerGT) * 4, true);
  }

  /** Reads extent bytes [pos, pos+len) into buf; unallocated grains go through `fill` (parent or zeros). */
  read(buf: Uint8Array, at: number, len: number, pos: number, fill: FillFn, virtualBase: number): void {
    const gb = this.grainBytes;
    walkUnits(len, pos, gb, (p, g, within, take, done) => {
      const e = this.gte(g);
      const o = at + done;
      if (p >= this.capacity) {
        buf.fill(0, o, o + take);
      } else if (e === 0) {
        fill(buf, o, take, virtualBase + p);
      } else if (e === -1 || (e === 1 && this.zeroedGte)) {
        buf.fill(0, o, o + take);
      } else if (this.compressed) {
        const data = this.grain(e, g);
        if (data) buf.set(data.subarray(within, within + take), o);
        else buf.fill(0, o, o + take);
      } else {
        // Coalesce grains that follow each other in the file.
        const host = e * 512 + within;
        let next = g + 1;
        while (done + take < len && (next * gb) < this.capacity && this.gte(next) === e + (next - g) * this.header.grainSize) {
          take += Math.min(len - done - take, gb);
          next++;
        }
        const got = readInto(this.file, buf, o, take, host);
        if (got < take) {
          buf.fill(0, o + got, o + take);
          this.log.add(`${this.where}: grain ${g} at sector ${e}: ${take - got} bytes past the end of the file; read as zeros`);
        }
      }
      return take;
    });
  }

  /** A compressed grain (stream-optimized: a 12-byte marker {lba u64, size u32} then zlib data). */
  private grain(sector: number, g: number): Uint8Array | undefined {
    const hit = this.grainCache.get(sector);
    if (hit) return hit;
    const gb = this.grainBytes;
    const where = `${this.where}: compressed grain ${g} at sector ${sector}`;
    let data: Uint8Array;
    if (this.markers) {
      const hdr = readExact(this.file, sector * 512, 12);
      if (hdr.length < 12) {
        this.log.add(`${where}: marker past the end of the file; read as zeros`);
        return undefined;
      }
      const dv = view(hdr);
      const lba = dv.getBigUint64(0, true);
      const size = dv.getUint32(8, true);
      // deflate output is at most ~0.1% + 12 bytes larger than its input; allow generous slack, nothing absurd.
      if (size === 0 || size > gb + 65536) {
        this.log.add(`${where}: marker claims ${size} compressed bytes (grain is ${gb}); read as zeros`);
        return undefined;
      }
      if (lba !== BigInt(g) * BigInt(this.header.grainSize)) this.log.note(`${where}: marker LBA ${lba}, expected ${g * this.header.grainSize}`);
      data = readExact(this.file, sector * 512 + 12, size);
    } else {
      data = readExact(this.file, sector * 512, gb + 65536);
    }
    let out: Uint8Array;
    try {
      out = inflateBounded(data, gb, 'zlib');
    } catch (err) {
      this.log.add(`${where}: ${(err as Error).message}; read as zeros`);
      return undefined;
    }
    if (out.length < gb) {
      // The last grain of a disk may be short; anything else is damage.
      if ((g + 1) * gb <= this.capacity) this.log.add(`${where}: inflated to ${out.length} bytes, grain is ${gb}; rest read as zeros`);
      const full = new Uint8Array(gb);
      full.set(out);
      out = full;
    }
    this.grainCache.set(sector, out);
    return out;
  }

  close(): void {
    this.file.close();
    this.gtCache.clear();
    this.grainCache.clear();
  }
}

type Extent =
  | { kind: 'flat'; start: number; length: number; file: ByteSource; offset: number; name: string }
  | { kind: 'sparse'; start: number; length: number; ext: VmdkSparseExtent }
  | { kind: 'zero'; start: number; length: number };

export interface VmdkOpenOptions extends VirtualDiskOpenOptions {}

/** A VMDK disk: one or more extents, optionally over a parent. */
export class VmdkSource extends VirtualDiskSource {
  readonly size: bigint;
  readonly description: string;
  readonly createType: string;
  readonly descriptor?: VmdkDescriptor;
  readonly parent?: ByteSource;
  private readonly extents: Extent[];

  private constructor(description: string, createType: string, extents: Extent[], log: ProblemLog, descriptor?: VmdkDescriptor, parent?: ByteSource) {
    super(log);
    this.description = description;
    this.createType = createType;
    this.extents = extents;
    this.descriptor = descriptor;
    this.parent = parent;
    const last = extents[extents.length - 1];
    this.size = BigInt(last ? last.start + last.length : 0);
  }

  /** Opens a VMDK file: a KDMV sparse file or a text descriptor (extents are looked up beside it). */
  static openFile(path: string, opts: VmdkOpenOptions = {}): VmdkSource {
    const abs = nodePath.resolve(path);
    const open = opts.openFile ?? defaultOpener;
    const log = ProblemLog.of(opts, VmdkError, abs);
    const fail = failWith(VmdkError, abs);
    const opened: { close(): void }[] = [];
    try {
      const head = readFileHead(abs, 4);
      if (head.length === 4 && view(head).getUint32(0, true) === VMDK_SPARSE_MAGIC) {
        const file = open(abs);
        opened.push(file);
        const ext = new VmdkSparseExtent(file, log, abs);
        opened.push(ext);
        const d = ext.descriptor;
        const createType = d?.createType ?? (ext.header.flags & VMDK_FLAGS.compressedGrains ? 'streamOptimized' : 'monolithicSparse');
        const parent = d && hasParent(d) ? openParent(abs, d, opts, log) : undefined;
        return new VmdkSource(`${abs} (vmdk ${createType})`, createType, [{ kind: 'sparse', start: 0, length: ext.capacity, ext }], log, d, parent);
      }
      const file = open(abs);
      opened.push(file);
      if (Number(file.size) > VMDK_MAX_DESCRIPTOR_BYTES) fail('ELIMIT', `descriptor file of ${file.size} bytes exceeds ${VMDK_MAX_DESCRIPTOR_BYTES}`);
      const text = new TextDecoder('utf-8').decode(readExact(file, 0, Number(file.size)));
      file.close();
      opened.pop();
      const d = parseVmdkDescriptor(text, abs);
      if (d.extents.length === 0) fail('EMAGIC', 'neither a sparse extent ("KDMV") nor a descriptor with extents');
      const extents: Extent[] = [];
      let start = 0;
      for (const e of d.extents) {
        const length = e.sectors * 512;
        if (start + length > MAX_VIRTUAL_SIZE) fail('ELIMIT', `extents add up to more than ${MAX_VIRTUAL_SIZE} bytes`);
        if (e.type === 'ZERO') {
          extents.push({ kind: 'zero', start, length });
        } else if (e.type === 'FLAT' || e.type === 'VMFS') {
          if (!e.file) fail('ECORRUPT', `${e.type} extent without a file name`);
          const p = resolveBeside(abs, e.file as string, 'confined', fail);
          const f = open(p);
          opened.push(f);
          if (BigInt(e.offset) * 512n + BigInt(length) > f.size) log.note(`flat extent ${e.file} is shorter than the descriptor says (${f.size} bytes, needs ${e.offset * 512 + length}); the rest reads as zeros`);
          extents.push({ kind: 'flat', start, length, file: f, offset: e.offset * 512, name: e.file as string });
        } else if (e.type === 'SPARSE') {
          if (!e.file) fail('ECORRUPT', 'SPARSE extent without a file name');
          const p = resolveBeside(abs, e.file as string, 'confined', fail);
          const f = open(p);
          opened.push(f);
          const ext = new VmdkSparseExtent(f, log, p);
          opened.push(ext);
          if (ext.capacity < length) log.note(`sparse extent ${e.file} holds ${ext.capacity} bytes, descriptor says ${length}; the rest reads as zeros`);
          extents.push({ kind: 'sparse', start, length, ext });
        } else {
          fail('EUNSUPPORTED', `extent type ${e.type} is not supported`);
        }
        start += length;
      }
      const parent = hasParent(d) ? openParent(abs, d, opts, log) : undefined;
      return new VmdkSource(`${abs} (vmdk ${d.createType ?? 'descriptor'})`, d.createType ?? 'unknown', extents, log, d, parent);
    } catch (err) {
      for (const o of opened.reverse()) o.close();
      throw err;
    }
  }

  read(buf: Uint8Array, bufOffset: number, length: number, position: number | bigint): number {
    const [n, pos0] = this.startRead(buf, bufOffset, length, position);
    let done = 0;
    let i = this.findExtent(pos0);
    while (done < n && i < this.extents.length) {
      const e = this.extents[i] as Extent;
      const pos = pos0 + done;
      const within = pos - e.start;
      const take = Math.min(n - done, e.length - within);
      const at = bufOffset + done;
      if (e.kind === 'zero') buf.fill(0, at, at + take);
      else if (e.kind === 'sparse') e.ext.read(buf, at, take, within, this.fillFromParent, e.start);
      else readOrZeros(e.file, buf, at, take, e.offset + within);
      done += take;
      i++;
    }
    return n;
  }

  private readonly fillFromParent: FillFn = (buf, at, len, vpos) => readOrZeros(this.parent, buf, at, len, vpos);

  private findExtent(pos: number): number {
    let lo = 0;
    let hi = this.extents.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.extents[mid] as Extent).start <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  close(): void {
    if (!this.markClosed()) return;
    for (const e of this.extents) {
      if (e.kind === 'flat') e.file.close();
      else if (e.kind === 'sparse') e.ext.close();
    }
    this.parent?.close();
  }
}

function openParent(abs: string, d: VmdkDescriptor, opts: VmdkOpenOptions, log: ProblemLog): ByteSource {
  const name = d.parentFileNameHint as string;
  const fail = failWith(VmdkError, abs, 'parent: ');
  const depth = nextChainDepth(opts, 'parent', fail);
  const p = resolveBeside(abs, name, 'lenient', fail);
  const chain = extendChain(opts, abs, p, JSON.stringify(name), 'parent', fail);
  const parent = VmdkSource.openFile(p, { ...opts, depth, chain });
  if (d.parentCID && parent.descriptor?.CID && parent.descriptor.CID.toLowerCase() !== d.parentCID.toLowerCase()) {
    // A mismatch means the parent changed after the child was made: readable, but say so.
    log.note(`parent ${name}: its CID ${parent.descriptor.CID} differs from parentCID ${d.parentCID} (the parent changed after this delta was made)`);
  }
  return parent;
}

/** Content probe: a KDMV sparse header, or a text descriptor declaring at least one extent. */
export function probeVmdk(head: Uint8Array): boolean {
  if (head.length >= 4 && view(head).getUint32(0, true) === VMDK_SPARSE_MAGIC) return true;
  // Descriptor: printable text (NUL padding allowed at the end) with a createType and an extent line.
  const nul = head.indexOf(0);
  const text = head.subarray(0, nul >= 0 ? nul : head.length);
  for (const c of text) if (c < 9 || (c > 13 && c < 32 && c !== 27)) return false;
  const s = new TextDecoder('latin1').decode(text);
  return /^\s*createType\s*=/m.test(s) && /^\s*(RW|RDONLY|NOACCESS)\s+\d+\s+(FLAT|SPARSE|ZERO|VMFS)/m.test(s);
}

export function probeVmdkFile(path: string): boolean {
  return probeVmdk(readFileHead(path, 64 * 1024));
}

export function openVmdkFile(path: string, opts: VmdkOpenOptions = {}): VmdkSource {
  return VmdkSource.openFile(path, opts);
}
