// VMDK on-disk structures: the SparseExtentHeader and the descriptor text, with their pure parsers and limits.
// Apart from the readers (vmdk-sparse-extent.ts, vmdk.ts) so each parser is tested from literal and corrupted bytes
// without opening a file; vmdk.ts re-exports them.
// References: VMware "Virtual Disk Format 5.0" (SparseExtentHeader, descriptor file); libyal/libvmdk documentation
// "VMware Virtual Disk (VMDK) format"; qemu/qemu block/vmdk.c (GD at the end of stream-optimized files, qemu's limits).
// All integers are little-endian. Sectors are 512 bytes.
import { MAX_VIRTUAL_SIZE, failWith, u64Field, view, virtualDiskErrorClass } from './virtual-disk-common.js';

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
export function hasParent(d: VmdkDescriptor): boolean {
  return d.parentCID !== undefined && d.parentCID.toLowerCase() !== 'ffffffff' && d.parentFileNameHint !== undefined;
}
