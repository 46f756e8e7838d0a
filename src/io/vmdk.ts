// VMDK (VMware virtual disk) as a read-only ByteSource: hosted sparse extents (monolithicSparse, twoGbMaxExtentSparse
// parts, streamOptimized with compressed grains and markers), and text descriptors with FLAT / VMFS / SPARSE / ZERO
// extents beside them (monolithicFlat, twoGbMaxExtentFlat ...). Delta disks read their parent (parentFileNameHint)
// when it sits beside them.
// References: VMware "Virtual Disk Format 5.0" (SparseExtentHeader, grain directory/tables, stream-optimized markers,
// descriptor file); libyal/libvmdk documentation "VMware Virtual Disk (VMDK) format"; qemu/qemu block/vmdk.c (GD at
// the end of stream-optimized files, zeroed-grain GTE 1, qemu's limits).
// All integers are little-endian. Sectors are 512 bytes.
// The structures and their parsers are in vmdk-structures.ts, one sparse extent's reader in vmdk-sparse-extent.ts;
// this module lays the extents (and a parent) out as one disk and re-exports both.
import * as nodePath from 'node:path';
import type { ByteSource } from './byte-source.js';
import {
  type VirtualDiskOpenOptions,
  MAX_VIRTUAL_SIZE,
  ProblemLog,
  VirtualDiskSource,
  defaultOpener,
  extendChain,
  failWith,
  nextChainDepth,
  readExact,
  readFileHead,
  readOrZeros,
  resolveBeside,
  view,
} from './virtual-disk-common.js';
import { type FillFn, VmdkSparseExtent } from './vmdk-sparse-extent.js';
import {
  VMDK_FLAGS,
  VMDK_MAX_DESCRIPTOR_BYTES,
  VMDK_SPARSE_MAGIC,
  type VmdkDescriptor,
  VmdkError,
  hasParent,
  parseVmdkDescriptor,
} from './vmdk-structures.js';

export {
  VMDK_COWD_MAGIC,
  VMDK_FLAGS,
  VMDK_MAX_DESCRIPTOR_BYTES,
  VMDK_MAX_EXTENTS,
  VMDK_MAX_GD_BYTES,
  VMDK_MAX_GRAIN_SECTORS,
  VMDK_MAX_GTES_PER_GT,
  VMDK_SPARSE_MAGIC,
  type VmdkDescriptor,
  type VmdkDescriptorExtent,
  VmdkError,
  type VmdkExtentType,
  type VmdkSparseHeader,
  parseVmdkDescriptor,
  parseVmdkSparseHeader,
} from './vmdk-structures.js';
export { VMDK_GRAIN_CACHE_ENTRIES, VMDK_GT_CACHE_ENTRIES, VmdkSparseExtent } from './vmdk-sparse-extent.js';

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
