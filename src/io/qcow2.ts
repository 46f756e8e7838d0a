// qcow2 (QEMU copy-on-write v2 and v3) as a read-only ByteSource.
// References: qemu/qemu docs/interop/qcow2.txt (header, header extensions, L1/L2 tables, compressed cluster
// descriptors, extended L2 entries); qemu/qemu block/qcow2.c and block/qcow2-cluster.c for the quirks (compressed
// size rounding to 512-byte sectors, L1 size checks).
// All integers are big-endian. Reading bytes (`Qcow2Source`) and parsing bytes (`parseQcow2Header`, `decodeL2Entry`)
// are separate so each is tested from literal and corrupted byte arrays.
// The structures and their parsers are in qcow2-structures.ts (re-exported here); this module reads the image.
import type { ByteSource } from './byte-source.js';
import {
  type VirtualDiskOpenOptions,
  LruCache,
  ProblemLog,
  VirtualDiskSource,
  defaultOpener,
  extendChain,
  failWith,
  inflateBounded,
  nextChainDepth,
  openImageFile,
  readExact,
  readFileHead,
  readInto,
  readOrZeros,
  resolveBeside,
  view,
  walkUnits,
} from './virtual-disk-common.js';
import {
  QCOW2_INCOMPAT,
  QCOW2_MAGIC,
  QCOW2_MAX_CLUSTER_BITS,
  QCOW2_MAX_L1_BYTES,
  QCOW2_MIN_CLUSTER_BITS,
  Qcow2Error,
  type Qcow2Header,
  type Qcow2Mapping,
  decodeL2Entry,
  parseQcow2Header,
} from './qcow2-structures.js';

export {
  QCOW2_EXT,
  QCOW2_INCOMPAT,
  QCOW2_MAGIC,
  QCOW2_MAX_BACKING_NAME,
  QCOW2_MAX_CLUSTER_BITS,
  QCOW2_MAX_L1_BYTES,
  QCOW2_MIN_CLUSTER_BITS,
  Qcow2Error,
  type Qcow2Header,
  type Qcow2Mapping,
  decodeL2Entry,
  parseQcow2Header,
} from './qcow2-structures.js';

/** Bytes of L2 tables kept in memory per image (at least 4 tables). */
export const QCOW2_L2_CACHE_BYTES = 16 * 1024 * 1024;
/** Bytes of decompressed clusters kept per image (at least 2). */
export const QCOW2_COMPRESSED_CACHE_BYTES = 8 * 1024 * 1024;

export interface Qcow2OpenOptions extends VirtualDiskOpenOptions {
  /** Path of the image file: needed to find a backing file beside it. */
  path?: string;
}

/** A qcow2 image read as its virtual disk. Unallocated clusters read from the backing file, else as zeros. */
export class Qcow2Source extends VirtualDiskSource {
  readonly size: bigint;
  readonly description: string;
  readonly header: Qcow2Header;
  /** The opened backing image, if any. */
  readonly backing?: ByteSource;
  private readonly cs: number;
  private readonly fileSize: number;
  private readonly l2Entries: number;
  private readonly extended: boolean;
  /** Read unit: the cluster, or the subcluster (cluster / 32) with extended L2 entries. */
  private readonly unit: number;
  private readonly l1: DataView;
  private readonly l2Cache: LruCache<number, DataView>;
  private readonly zCache: LruCache<number, Uint8Array>;

  private constructor(
    private readonly file: ByteSource,
    header: Qcow2Header,
    l1: Uint8Array,
    backing: ByteSource | undefined,
    log: ProblemLog,
  ) {
    super(log);
    this.header = header;
    this.size = BigInt(header.size);
    this.description = `${file.description} (qcow2 v${header.version})`;
    this.cs = 2 ** header.cluster_bits;
    this.fileSize = Number(file.size);
    this.extended = (header.incompatible_features & BigInt(QCOW2_INCOMPAT.extendedL2)) !== 0n;
    this.l2Entries = this.cs / (this.extended ? 16 : 8);
    this.unit = this.extended ? this.cs / 32 : this.cs;
    this.l1 = view(l1);
    this.backing = backing;
    this.l2Cache = new LruCache(Math.max(4, Math.floor(QCOW2_L2_CACHE_BYTES / this.cs)));
    this.zCache = new LruCache(Math.max(2, Math.floor(QCOW2_COMPRESSED_CACHE_BYTES / this.cs)));
  }

  /** Opens a qcow2 image over `file` (which this source then owns and closes). */
  static open(file: ByteSource, opts: Qcow2OpenOptions = {}): Qcow2Source {
    const where = opts.path ?? file.description;
    const fail = failWith(Qcow2Error, where);
    const head = readExact(file, 0, 104);
    const cb = head.length >= 24 ? view(head).getUint32(20) : 0;
    const firstCluster = cb >= QCOW2_MIN_CLUSTER_BITS && cb <= QCOW2_MAX_CLUSTER_BITS ? readExact(file, 0, 2 ** cb) : head;
    const h = parseQcow2Header(firstCluster, where);
    const cs = 2 ** h.cluster_bits;
    const fileSize = Number(file.size);
    if (h.crypt_method !== 0) fail('EUNSUPPORTED', `encrypted image (crypt_method ${h.crypt_method}: ${h.crypt_method === 1 ? 'AES' : h.crypt_method === 2 ? 'LUKS' : 'unknown'}) is not supported`);
    const inc = h.incompatible_features;
    if (inc & BigInt(QCOW2_INCOMPAT.externalDataFile)) {
      fail('EUNSUPPORTED', `external data file${h.externalDataFile ? ` ${JSON.stringify(h.externalDataFile)}` : ''} (incompatible feature bit 2) is not supported`);
    }
    const known = BigInt(0x1f);
    if (inc & ~known) fail('EUNSUPPORTED', `unknown incompatible feature bits 0x${(inc & ~known).toString(16)}`);
    if (inc & BigInt(QCOW2_INCOMPAT.compressionType) && h.compression_type !== 0) {
      fail('EUNSUPPORTED', `compression type ${h.compression_type} (${h.compression_type === 1 ? 'zstd' : 'unknown'}) is not supported, only zlib`);
    }
    const extended = (inc & BigInt(QCOW2_INCOMPAT.extendedL2)) !== 0n;
    if (extended && h.cluster_bits < 14) fail('ECORRUPT', `extended L2 entries need clusters >= 16 KiB, cluster_bits ${h.cluster_bits}`);
    // L1 must cover the virtual size (qemu "L1 table is too small").
    const l2Bits = h.cluster_bits - (extended ? 4 : 3);
    const perL1 = 2 ** (h.cluster_bits + l2Bits);
    const needL1 = Math.ceil(h.size / perL1);
    if (h.l1_size * 8 > QCOW2_MAX_L1_BYTES) fail('ELIMIT', `l1_size ${h.l1_size} entries (${h.l1_size * 8} bytes), limit ${QCOW2_MAX_L1_BYTES} bytes`);
    if (h.l1_size < needL1) fail('ECORRUPT', `l1_size ${h.l1_size} too small for size ${h.size} (needs ${needL1})`);
    if (h.l1_size > 0) {
      if (h.l1_table_offset % cs !== 0) fail('ECORRUPT', `l1_table_offset 0x${h.l1_table_offset.toString(16)} not aligned to cluster size ${cs}`);
      if (h.l1_table_offset + h.l1_size * 8 > fileSize) {
        fail('ETRUNCATED', `L1 table at ${h.l1_table_offset}+${h.l1_size * 8} lies past the end of the file (${fileSize} bytes)`);
      }
    }
    // Only the entries the virtual size needs are read; the rest of the L1 table is ignored.
    const l1 = readExact(file, h.l1_table_offset, needL1 * 8);
    if (l1.length < needL1 * 8) fail('ETRUNCATED', `L1 table short read`);
    const log = ProblemLog.of(opts, Qcow2Error, where);
    if (inc & BigInt(QCOW2_INCOMPAT.dirty)) log.note('image is marked dirty (refcounts may be stale; data mappings are read as they are)');
    if (inc & BigInt(QCOW2_INCOMPAT.corrupt)) log.note('image is marked corrupt by qemu');
    let backing: ByteSource | undefined;
    if (h.backingFile !== undefined) backing = openBacking(h, opts, where);
    return new Qcow2Source(file, h, l1, backing, log);
  }

  read(buf: Uint8Array, bufOffset: number, length: number, position: number | bigint): number {
    const [n, pos0] = this.startRead(buf, bufOffset, length, position);
    const unit = this.unit;
    walkUnits(n, pos0, unit, (pos, u, within, take, done) => {
      const m = this.mapUnit(u);
      const at = bufOffset + done;
      switch (m.kind) {
        case 'data': {
          // Coalesce following units that continue contiguously in the file: one read for a long run.
          let host = m.offset + within;
          let next = u + 1;
          while (done + take < n) {
            const m2 = this.mapUnit(next);
            if (m2.kind !== 'data' || m2.offset !== host + take) break;
            take += Math.min(n - done - take, unit);
            next++;
          }
          this.readHost(buf, at, take, host);
          break;
        }
        case 'zero':
          buf.fill(0, at, at + take);
          break;
        case 'unallocated':
          this.readBacking(buf, at, take, pos);
          break;
        case 'compressed': {
          const data = this.compressedCluster(m.offset, m.length);
          const inCluster = pos % this.cs;
          if (data) buf.set(data.subarray(inCluster, inCluster + take), at);
          else buf.fill(0, at, at + take);
          break;
        }
        case 'corrupt':
          this.log.add(`virtual offset ${pos}: ${m.reason}; read as zeros`);
          buf.fill(0, at, at + take);
          break;
      }
      return take;
    });
    return n;
  }

  /** Mapping of one read unit (cluster, or subcluster with extended L2). */
  private mapUnit(u: number): Qcow2Mapping & { offset?: number } {
    const perCluster = this.cs / this.unit;
    const cluster = Math.floor(u / perCluster);
    const l1i = Math.floor(cluster / this.l2Entries);
    const l2i = cluster - l1i * this.l2Entries;
    if (l1i * 8 + 8 > this.l1.byteLength) return { kind: 'unallocated' };
    const hi = this.l1.getUint32(l1i * 8);
    const lo = this.l1.getUint32(l1i * 8 + 4);
    const l2off = (hi & 0x00ffffff) * 2 ** 32 + ((lo & 0xfffffe00) >>> 0);
    if (l2off === 0) return { kind: 'unallocated' };
    const l2 = this.l2Table(l2off);
    if (!l2) return { kind: 'corrupt', reason: `L1 entry ${l1i} points to L2 table at 0x${l2off.toString(16)}, unreadable` };
    const esz = this.extended ? 16 : 8;
    const m = decodeL2Entry(l2.getUint32(l2i * esz), l2.getUint32(l2i * esz + 4), this.header.cluster_bits, this.header.version);
    if (!this.extended || m.kind === 'compressed' || m.kind === 'corrupt') return m;
    // Extended L2: a 64-bit subcluster bitmap follows (bits 32-63 "reads as zeros", bits 0-31 allocated).
    const zeroBits = l2.getUint32(l2i * 16 + 8);
    const allocBits = l2.getUint32(l2i * 16 + 12);
    const sc = u - cluster * perCluster;
    const alloc = (allocBits >>> sc) & 1;
    const zero = (zeroBits >>> sc) & 1;
    if (alloc && zero) return { kind: 'corrupt', reason: `subcluster ${sc} of cluster ${cluster} both allocated and zero` };
    if (zero) return { kind: 'zero' };
    if (!alloc) return { kind: 'unallocated' };
    if (m.kind !== 'data') return { kind: 'corrupt', reason: `subcluster ${sc} of cluster ${cluster} allocated without a host cluster` };
    return { kind: 'data', offset: m.offset + sc * this.unit };
  }

  private lastL2Off = -1;
  private lastL2: DataView | undefined;

  private l2Table(off: number): DataView | undefined {
    if (off === this.lastL2Off) return this.lastL2;
    let t = this.l2Cache.get(off);
    if (!t) {
      if (off % this.cs !== 0 || off + this.cs > this.fileSize) return undefined;
      const b = readExact(this.file, off, this.cs);
      if (b.length < this.cs) return undefined;
      t = view(b);
      this.l2Cache.set(off, t);
    }
    this.lastL2Off = off;
    this.lastL2 = t;
    return t;
  }

  private readHost(buf: Uint8Array, at: number, len: number, host: number): void {
    const got = readInto(this.file, buf, at, len, host);
    if (got < len) {
      buf.fill(0, at + got, at + len);
      this.log.add(`host offset ${host + got}: ${len - got} bytes past the end of the file (${this.fileSize}); read as zeros`);
    }
  }

  private readBacking(buf: Uint8Array, at: number, len: number, pos: number): void {
    readOrZeros(this.backing, buf, at, len, pos); // past the backing file's end: zeros (qemu does the same)
  }

  private compressedCluster(offset: number, length: number): Uint8Array | undefined {
    const hit = this.zCache.get(offset);
    if (hit) return hit;
    const where = `compressed cluster at host offset 0x${offset.toString(16)} (${length} bytes)`;
    if (length > 2 * this.cs + 512) {
      this.log.add(`${where}: compressed size exceeds twice the cluster size; read as zeros`);
      return undefined;
    }
    if (offset >= this.fileSize) {
      this.log.add(`${where}: past the end of the file (${this.fileSize}); read as zeros`);
      return undefined;
    }
    const comp = readExact(this.file, offset, length); // may be short at the end of the file: sector rounding
    let out: Uint8Array;
    try {
      out = inflateBounded(comp, this.cs, 'raw');
    } catch (err) {
      this.log.add(`${where}: ${(err as Error).message}; read as zeros`);
      return undefined;
    }
    if (out.length < this.cs) {
      this.log.add(`${where}: inflated to ${out.length} bytes, cluster is ${this.cs}; rest read as zeros`);
      const full = new Uint8Array(this.cs);
      full.set(out);
      out = full;
    }
    this.zCache.set(offset, out);
    return out;
  }

  close(): void {
    if (!this.markClosed()) return;
    this.backing?.close();
    this.file.close();
    this.l2Cache.clear();
    this.zCache.clear();
  }
}

function openBacking(h: Qcow2Header, opts: Qcow2OpenOptions, where: string): ByteSource {
  const name = h.backingFile as string;
  const fail = failWith(Qcow2Error, where, 'backing file: ');
  if (!opts.path) fail('EMISSING', `needs backing file ${JSON.stringify(name)} (image opened without a path)`);
  const depth = nextChainDepth(opts, 'backing', fail);
  const p = resolveBeside(opts.path as string, name, 'lenient', fail);
  const chain = extendChain(opts, opts.path as string, p, JSON.stringify(name), 'backing', fail);
  const fmt = h.backingFormat;
  const head = readFileHead(p, 4);
  const isQcow2 = head.length === 4 && view(head).getUint32(0) === QCOW2_MAGIC;
  if (fmt !== undefined && fmt !== 'qcow2' && fmt !== 'raw') fail('EUNSUPPORTED', `backing format ${JSON.stringify(fmt)} of ${p} is not supported (qcow2 or raw only)`);
  if (fmt === 'qcow2' || (fmt === undefined && isQcow2)) {
    return openQcow2File(p, { ...opts, path: p, depth, chain });
  }
  return (opts.openFile ?? defaultOpener)(p);
}

/** Content probe: the qcow2 magic and a version we read. */
export function probeQcow2(head: Uint8Array): boolean {
  if (head.length < 8) return false;
  const dv = view(head);
  return dv.getUint32(0) === QCOW2_MAGIC && (dv.getUint32(4) === 2 || dv.getUint32(4) === 3);
}

export function probeQcow2File(path: string): boolean {
  return probeQcow2(readFileHead(path, 8));
}

/** Opens a qcow2 image file read-only; a backing file is looked for beside it. */
export function openQcow2File(path: string, opts: Qcow2OpenOptions = {}): Qcow2Source {
  return openImageFile(path, opts, (file, o) => Qcow2Source.open(file, o));
}
