// Raw ("dd") images, single-file or split into numbered segments, opened read-only.
// Split naming: `x.000, x.001, ...`, `x.001, x.002, ...`, and `xaa, xab, ...` (split(1)), all read as one disk in
// segment order. Segments may differ in size (the last is usually shorter); a missing segment ends the set.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { type ByteSource, ByteSourceError, clampRead } from './byte-source.js';
import { openQcow2File, probeQcow2File } from './qcow2.js';
import { openVhdFile, probeVhdFile } from './vhd.js';
import { openVhdxFile, probeVhdxFile } from './vhdx.js';
import { openVmdkFile, probeVmdkFile } from './vmdk.js';
import { EwfSource, probeEwfFile } from './ewf/index.js';

/** Most segments a split image may have (1000 numbered, 676 two-letter; three letters would be 17576). */
export const MAX_SPLIT_SEGMENTS = 100_000;

function openReadOnly(path: string): number {
  try {
    return fs.openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ByteSourceError(code === 'ENOENT' ? 'ENOENT' : 'EIO', path, (err as Error).message);
  }
}

/** One raw image file, read-only. */
export class RawFileSource implements ByteSource {
  readonly size: bigint;
  readonly description: string;
  private fd: number | undefined;

  constructor(readonly path: string) {
    this.fd = openReadOnly(path);
    const st = fs.fstatSync(this.fd, { bigint: true });
    if (!st.isFile() && !st.isBlockDevice()) {
      fs.closeSync(this.fd);
      throw new ByteSourceError('EINVAL', path, 'not a regular file or block device');
    }
    this.size = st.isBlockDevice() ? blockDeviceSize(this.fd) : st.size;
    this.description = path;
  }

  read(buf: Uint8Array, bufOffset: number, length: number, position: number | bigint): number {
    if (this.fd === undefined) throw new ByteSourceError('ECLOSED', this.description, 'read after close');
    const n = clampRead(this, buf, bufOffset, length, position);
    if (n === 0) return 0;
    return fs.readSync(this.fd, buf, bufOffset, n, BigInt(position));
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

function blockDeviceSize(fd: number): bigint {
  // fstat reports 0 for block devices; find the end by probing reads (binary search on readable offsets).
  const one = new Uint8Array(1);
  const readable = (p: bigint) => {
    try {
      return fs.readSync(fd, one, 0, 1, p) === 1;
    } catch {
      return false;
    }
  };
  let lo = 0n;
  let hi = 1n << 20n;
  while (readable(hi - 1n) && hi < 1n << 62n) {
    lo = hi;
    hi *= 2n;
  }
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    if (readable(mid - 1n)) lo = mid;
    else hi = mid;
  }
  return readable(lo) ? lo + 1n : lo;
}

interface Segment {
  path: string;
  fd: number;
  start: bigint;
  size: bigint;
}

/** The names of a split set, given its first segment, or undefined if `path` does not look like a first segment. */
export function splitSegmentNames(path: string): ((i: number) => string | undefined) | undefined {
  const m3 = /^(.*\.)(\d{3})$/.exec(path);
  if (m3) {
    const first = Number(m3[2]);
    if (first !== 0 && first !== 1) return undefined;
    return (i) => {
      const n = first + i;
      return n > 999 ? undefined : m3[1] + String(n).padStart(3, '0');
    };
  }
  const ma = /^(.*?)(aa)$/.exec(path);
  if (ma) {
    return (i) => {
      if (i >= 26 * 26) return undefined;
      const a = String.fromCharCode(97 + Math.floor(i / 26));
      const b = String.fromCharCode(97 + (i % 26));
      return ma[1] + a + b;
    };
  }
  return undefined;
}

/** Several raw segment files read as one disk. */
export class SplitRawSource implements ByteSource {
  readonly size: bigint;
  readonly description: string;
  private segments: Segment[] = [];
  private closed = false;

  constructor(readonly paths: string[]) {
    if (paths.length === 0) throw new ByteSourceError('EINVAL', 'split image', 'no segments');
    if (paths.length > MAX_SPLIT_SEGMENTS) {
      throw new ByteSourceError('EINVAL', paths[0] as string, `${paths.length} segments, limit ${MAX_SPLIT_SEGMENTS}`);
    }
    let start = 0n;
    try {
      for (const p of paths) {
        const fd = openReadOnly(p);
        const size = fs.fstatSync(fd, { bigint: true }).size;
        this.segments.push({ path: p, fd, start, size });
        start += size;
      }
    } catch (err) {
      this.close();
      throw err;
    }
    this.size = start;
    this.description = `${paths[0]} (+${paths.length - 1} segments)`;
  }

  read(buf: Uint8Array, bufOffset: number, length: number, position: number | bigint): number {
    if (this.closed) throw new ByteSourceError('ECLOSED', this.description, 'read after close');
    const total = clampRead(this, buf, bufOffset, length, position);
    let pos = BigInt(position);
    let got = 0;
    // Binary search for the first segment, then walk forward.
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.segments[mid] as Segment).start <= pos) lo = mid;
      else hi = mid - 1;
    }
    for (let i = lo; i < this.segments.length && got < total; i++) {
      const seg = this.segments[i] as Segment;
      const within = pos - seg.start;
      if (within >= seg.size) continue;
      const want = Math.min(total - got, Number(seg.size - within));
      const n = fs.readSync(seg.fd, buf, bufOffset + got, want, within);
      got += n;
      pos += BigInt(n);
      if (n < want) break; // segment shrank under us: return short
    }
    return got;
  }

  close(): void {
    for (const s of this.segments) {
      try {
        fs.closeSync(s.fd);
      } catch {
        /* already closed */
      }
    }
    this.segments = [];
    this.closed = true;
  }
}

/** Lists the segments of a split set starting at `first` (which must exist); stops at the first missing name. */
export function findSplitSegments(first: string): string[] | undefined {
  const names = splitSegmentNames(first);
  if (!names) return undefined;
  const out: string[] = [];
  for (let i = 0; i < MAX_SPLIT_SEGMENTS; i++) {
    const p = names(i);
    if (p === undefined || !fs.existsSync(p)) break;
    out.push(p);
  }
  return out.length > 0 ? out : undefined;
}

export interface ImageOpener {
  name: 'split-raw' | 'raw' | 'qcow2' | 'vmdk' | 'vhd' | 'vhdx' | 'ewf';
  /** Cheap check: file names and sizes only, no parsing. */
  probe(path: string): boolean;
  open(path: string): ByteSource;
}

/** Static table of image openers, in probe order (STYLE.md habit 1). */
export const IMAGE_OPENERS: readonly ImageOpener[] = [
  {
    name: 'split-raw',
    // A first segment with at least one sibling: `disk.001` alone is a plain raw image.
    probe: (path) => (findSplitSegments(path)?.length ?? 0) > 1,
    open: (path) => new SplitRawSource(findSplitSegments(path) as string[]),
  },
  {
    name: 'raw',
    probe: (path) => {
      try {
        const st = fs.statSync(path);
        return (
          (st.isFile() || st.isBlockDevice()) &&
          (findSplitSegments(path)?.length ?? 0) <= 1 &&
          // Anything a content-detected format claims is not raw.
          !IMAGE_OPENERS.some((o) => o.name !== 'raw' && o.name !== 'split-raw' && o.probe(path))
        );
      } catch {
        return false;
      }
    },
    open: (path) => new RawFileSource(path),
  },
  // Virtual disks, detected by content (src/io/qcow2.ts ...); backing/parent files are looked up beside the image.
  { name: 'qcow2', probe: probeQcow2File, open: (path) => openQcow2File(path) },
  { name: 'vmdk', probe: probeVmdkFile, open: (path) => openVmdkFile(path) },
  { name: 'vhd', probe: probeVhdFile, open: (path) => openVhdFile(path) },
  { name: 'vhdx', probe: probeVhdxFile, open: (path) => openVhdxFile(path) },
  // EWF / E01 (src/io/ewf/): the first segment, by its EVF signature; later segments are found beside it.
  { name: 'ewf', probe: probeEwfFile, open: (path) => EwfSource.open(path) },
];

/** Opens a disk image read-only: exactly one opener must claim it. */
export function openImage(path: string): ByteSource {
  const abs = nodePath.resolve(path);
  if (!fs.existsSync(abs)) throw new ByteSourceError('ENOENT', abs, 'no such file');
  const matches = IMAGE_OPENERS.filter((o) => o.probe(abs));
  if (matches.length === 0) throw new ByteSourceError('EFORMAT', abs, 'not a known image format');
  if (matches.length > 1) {
    throw new ByteSourceError('EFORMAT', abs, `matches several image formats: ${matches.map((m) => m.name).join(', ')}`);
  }
  return (matches[0] as ImageOpener).open(abs);
}
