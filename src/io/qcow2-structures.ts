// qcow2 on-disk structures: the header with its extensions and the L2 cluster descriptors, with their pure parsers
// and limits. Apart from the reader (qcow2.ts, which re-exports them) so each parser is tested from literal and
// corrupted byte arrays without an image file.
// References: qemu/qemu docs/interop/qcow2.txt (header, header extensions, compressed cluster descriptors, extended
// L2 entries); qemu/qemu block/qcow2.c and block/qcow2-cluster.c for the quirks (compressed size rounding to 512-byte
// sectors, L1 size checks). All integers are big-endian.
import { MAX_VIRTUAL_SIZE, ascii, failWith, u64Field, view, virtualDiskErrorClass } from './virtual-disk-common.js';

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
