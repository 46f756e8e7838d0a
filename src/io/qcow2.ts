// qcow2 (QEMU copy-on-write v2 and v3) as a read-only ByteSource.
// References: qemu/qemu docs/interop/qcow2.txt (header, header extensions, L1/L2 tables, compressed cluster
// descriptors, extended L2 entries); qemu/qemu block/qcow2.c and block/qcow2-cluster.c for the quirks (compressed
// size rounding to 512-byte sectors, L1 size checks).
// All integers are big-endian. Reading bytes (`Qcow2Source`) and parsing bytes (`parseQcow2Header`, `decodeL2Entry`)
// are separate so each is tested from literal and corrupted byte arrays.
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
  inflateBounded,
  nextChainDepth,
  openImageFile,
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

export const Qcow2Error = virtualDiskErrorClass('qcow2', 'Qcow2Error');
export type Qcow2Error = InstanceType<typeof Qcow2Error>;

export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
/** qemu MIN_CLUSTER_BITS / MAX_CLUSTER_BITS (512 B .. 2 MiB). */
export const QCOW2_MIN_CLUSTER_BITS = 9;
export const QCOW2_MAX_CLUSTER_BITS = 21;
/** qemu QCOW_MAX_L1_SIZE: the L1 table is at most 32 MiB. */
export const QCOW2_MAX_L1_BYTES = 32 * 1024 * 1024;
/** qemu limits backing file names to 1023 bytes. */
export const QCOW2_MAX_BACKING_NAME = 1023;
/** Bytes of L2 tables kept in memory per image (at least 4 tables). */
export const QCOW2_L2_CACHE_BYTES = 16 * 1024 * 1024;
/** Bytes of decompressed clusters kept per image (at least 2). */
export const QCOW2_COMPRESSED_CACHE_BYTES = 8 * 1024 * 1024;

/** Incompatible feature bits (qcow2.txt, header bytes 72-79). */
export const QCOW2_INCOMPAT = {
  dirty: 1,
  corrupt: 2,
  externalDataFile: 4,
  compressionType: 8,
  extendedL2: 16,
} as const;

/** Header extension types (qcow2.txt "Header extensions"). */
export const QCOW2_EXT = {
  end: 0,
  backingFormat: 0xe2792aca,
  featureNameTable: 0x6803f857,
  bitmaps: 0x23852875,
  fullDiskEncryption: 0x0537be77,
  externalDataFile: 0x44415441,
} as const;

/** The qcow2 header, upstream field names (qcow2.txt "Header"). */
export interface Qcow2Header {
  magic: number; //            0  u32
  version: number; //          4  u32
  backing_file_offset: number; // 8 u64
  backing_file_size: number; // 16  u32
  cluster_bits: number; //    20  u32
  size: number; //            24  u64 (virtual size, bytes)
  crypt_method: number; //    32  u32
  l1_size: number; //         36  u32 (entries)
  l1_table_offset: number; // 40  u64
  refcount_table_offset: number; // 48 u64
  refcount_table_clusters: number; // 56 u32
  nb_snapshots: number; //    60  u32
  snapshots_offset: number; // 64 u64
  // version 3
  incompatible_features: bigint; // 72 u64
  compatible_features: bigint; // 80 u64
  autoclear_features: bigint; // 88 u64
  refcount_order: number; //  96  u32
  header_length: number; //  100  u32
  compression_type: number; // 104 u8 (if header_length > 104)
  /** Parsed header extensions. */
  extensions: { type: number; offset: number; length: number }[];
  backingFormat?: string;
  backingFile?: string;
  externalDataFile?: string;
}

/**
 * Parses the header and its extensions from the first bytes of the image (ideally the whole first cluster).
 * Throws `Qcow2Error` for anything impossible; does not look at the file size (see `Qcow2Source.open`).
 */
export function parseQcow2Header(b: Uint8Array, where = 'qcow2'): Qcow2Header {
  const fail = failWith(Qcow2Error, where);
  if (b.length < 72) fail('ETRUNCATED', `header needs 72 bytes, file has ${b.length}`);
  const dv = view(b);
  const magic = dv.getUint32(0);
  if (magic !== QCOW2_MAGIC) fail('EMAGIC', `magic 0x${magic.toString(16)}, expected 0x${QCOW2_MAGIC.toString(16)} at offset 0`);
  const version = dv.getUint32(4);
  if (version !== 2 && version !== 3) fail('ECORRUPT', `version ${version}, expected 2 or 3`);
  const big = u64Field(dv, false, fail);
  const h: Qcow2Header = {
    magic,
    version,
    backing_file_offset: big(8, 'backing_file_offset'),
    backing_file_size: dv.getUint32(16),
    cluster_bits: dv.getUint32(20),
    size: big(24, 'size'),
    crypt_method: dv.getUint32(32),
    l1_size: dv.getUint32(36),
    l1_table_offset: big(40, 'l1_table_offset'),
    refcount_table_offset: big(48, 'refcount_table_offset'),
    refcount_table_clusters: dv.getUint32(56),
    nb_snapshots: dv.getUint32(60),
    snapshots_offset: big(64, 'snapshots_offset'),
    incompatible_features: 0n,
    compatible_features: 0n,
    autoclear_features: 0n,
    refcount_order: 4,
    header_length: 72,
    compression_type: 0,
    extensions: [],
  };
  if (h.cluster_bits < QCOW2_MIN_CLUSTER_BITS || h.cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
    fail('ECORRUPT', `cluster_bits ${h.cluster_bits}, expected ${QCOW2_MIN_CLUSTER_BITS}..${QCOW2_MAX_CLUSTER_BITS}`);
  }
  const cs = 2 ** h.cluster_bits;
  if (version === 3) {
    if (b.length < 104) fail('ETRUNCATED', `version 3 header needs 104 bytes, have ${b.length}`);
    h.incompatible_features = dv.getBigUint64(72);
    h.compatible_features = dv.getBigUint64(80);
    h.autoclear_features = dv.getBigUint64(88);
    h.refcount_order = dv.getUint32(96);
    h.header_length = dv.getUint32(100);
    if (h.header_length < 104 || h.header_length > cs || h.header_length > b.length) {
      fail('ECORRUPT', `header_length ${h.header_length}, expected 104..${Math.min(cs, b.length)}`);
    }
    if (h.header_length > 104) h.compression_type = b[104] as number;
  }
  if (h.size > MAX_VIRTUAL_SIZE) fail('ELIMIT', `size ${h.size} exceeds ${MAX_VIRTUAL_SIZE}`);
  // Header extensions: 8-byte aligned records until type 0 or the end of the first cluster.
  let off = h.header_length;
  const end = Math.min(cs, b.length);
  while (off + 8 <= end) {
    const type = dv.getUint32(off);
    const len = dv.getUint32(off + 4);
    if (type === QCOW2_EXT.end) break;
    if (off + 8 + len > end) fail('ECORRUPT', `header extension 0x${type.toString(16)} at ${off} of ${len} bytes runs past the first cluster`);
    h.extensions.push({ type, offset: off + 8, length: len });
    const data = b.subarray(off + 8, off + 8 + len);
    if (type === QCOW2_EXT.backingFormat) h.backingFormat = ascii(data, 0, data.length).replace(/\0+$/, '');
    if (type === QCOW2_EXT.externalDataFile) h.externalDataFile = ascii(data, 0, data.length).replace(/\0+$/, '');
    off += 8 + Math.ceil(len / 8) * 8; // always progresses by >= 8
  }
  if (h.backing_file_offset !== 0) {
    if (h.backing_file_size === 0 || h.backing_file_size > QCOW2_MAX_BACKING_NAME) {
      fail('ELIMIT', `backing_file_size ${h.backing_file_size}, limit 1..${QCOW2_MAX_BACKING_NAME}`);
    }
    if (h.backing_file_offset + h.backing_file_size > end) {
      fail('ECORRUPT', `backing file name at ${h.backing_file_offset}+${h.backing_file_size} lies outside the first cluster (${end} bytes read)`);
    }
    h.backingFile = new TextDecoder('utf-8').decode(b.subarray(h.backing_file_offset, h.backing_file_offset + h.backing_file_size));
  }
  return h;
}

export type Qcow2Mapping =
  | { kind: 'unallocated' }
  | { kind: 'zero' }
  | { kind: 'data'; offset: number }
  | { kind: 'compressed'; offset: number; length: number }
  | { kind: 'corrupt'; reason: string };

/**
 * Decodes a standard L2 entry (qcow2.txt "Standard Cluster Descriptor" / "Compressed Clusters Descriptor") from
 * its two big-endian 32-bit halves.
 */
export function decodeL2Entry(hi: number, lo: number, clusterBits: number, version: number): Qcow2Mapping {
  if (hi & 0x40000000) {
    // Compressed: x = 62 - (cluster_bits - 8); bits 0..x-1 host offset, x..61 additional 512-byte sectors.
    const e = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    const x = BigInt(62 - (clusterBits - 8));
    const offset = Number(e & ((1n << x) - 1n));
    const sectors = Number((e >> x) & ((1n << (62n - x)) - 1n)) + 1;
    return { kind: 'compressed', offset, length: sectors * 512 - (offset & 511) };
  }
  const offset = (hi & 0x00ffffff) * 2 ** 32 + ((lo & 0xfffffe00) >>> 0);
  if (version >= 3 && lo & 1) return { kind: 'zero' };
  if (offset === 0) return { kind: 'unallocated' };
  if (offset % 2 ** clusterBits !== 0) return { kind: 'corrupt', reason: `host cluster offset 0x${offset.toString(16)} not cluster-aligned` };
  return { kind: 'data', offset };
}

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
