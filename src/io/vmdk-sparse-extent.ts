// One hosted sparse extent (a KDMV file) read through its grain directory and grain tables, compressed grains and
// stream-optimized markers included. Apart from vmdk.ts, which lays extents and a parent out as one disk, because
// this is the only part that reads grains; vmdk.ts re-exports it.
// References: VMware "Virtual Disk Format 5.0" (grain directory/tables, stream-optimized markers); qemu/qemu
// block/vmdk.c (zeroed-grain GTE 1). All integers are little-endian. Sectors are 512 bytes.
import type { ByteSource } from './byte-source.js';
import {
  LruCache,
  ProblemLog,
  failWith,
  inflateBounded,
  readExact,
  readInto,
  view,
  walkUnits,
} from './virtual-disk-common.js';
import {
  VMDK_FLAGS,
  VMDK_MAX_DESCRIPTOR_BYTES,
  VMDK_MAX_GD_BYTES,
  type VmdkDescriptor,
  VmdkError,
  type VmdkSparseHeader,
  parseVmdkDescriptor,
  parseVmdkSparseHeader,
} from './vmdk-structures.js';

/** Grain tables kept in memory per extent (2 KiB each). */
export const VMDK_GT_CACHE_ENTRIES = 4096;
/** Decompressed grains kept per extent. */
export const VMDK_GRAIN_CACHE_ENTRIES = 64;

/** Reads unallocated ranges from the parent (or zeros). */
export type FillFn = (buf: Uint8Array, at: number, len: number, virtualPos: number) => void;

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
