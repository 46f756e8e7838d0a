// The RecoverySource of a disk image: built from the layout openEvidenceDetailed assembled (volumes and their
// ext2/3/4 file systems), without touching the VFS the collectors use. Every ext file system of the image counts,
// mounted or not (a /home never named in fstab still has free blocks).
import type { AssembledImage, FilesystemInfo } from '../fs/assemble/assemble.js';
import { Ext4Fs } from '../fs/ext4/ext4.js';
import {
  FreeBlockMap,
  deletedDirectoryNames,
  listDeletedInodes,
  openDeletedFile,
} from '../fs/ext4/recovery.js';
import type { DeletedFileInfo, RecoveryFs, RecoverySource, UnallocatedRange } from '../fs/recovery.js';
import type { ByteSource } from '../io/byte-source.js';

interface FsEntry {
  info: RecoveryFs;
  fs: Ext4Fs;
  source: ByteSource;
  free?: FreeBlockMap;
}

const LOG_NAME = /^([0-9a-f]{64})-json\.log(?:\.\d+)?$/;

/** Label of a file system in carved provenance: `p2` (partition number) or `disk` (no partition table). */
export function fsLabel(f: FilesystemInfo): string {
  return f.partNumber !== undefined ? `p${f.partNumber}` : 'disk';
}

/** The recovery capability of opened evidence: disk images have one, mounted directories none. */
export function recoveryFromLayout(layout: AssembledImage | undefined): ImageRecoverySource | undefined {
  return layout ? new ImageRecoverySource(layout) : undefined;
}

export class ImageRecoverySource implements RecoverySource {
  readonly problems: string[] = [];
  private readonly entries: FsEntry[] = [];
  /** The image's disk (owned by the opened evidence, not closed here). */
  private readonly disk: ByteSource | undefined;

  constructor(layout: AssembledImage) {
    this.location = layout.location;
    this.disk = layout.disk;
    for (const f of layout.filesystems) {
      if (!f.fsKind?.startsWith('ext') || f.openError) continue;
      let fs: Ext4Fs;
      try {
        fs = f.vfs?.fs ?? Ext4Fs.open(f.partition.source);
      } catch (err) {
        this.problems.push(`${fsLabel(f)}: cannot open for carving: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      const size = fs.geometry.blocksCount * BigInt(fs.blockSize);
      const info: RecoveryFs = {
        label: fsLabel(f),
        diskOffset: f.partition.start,
        size: size < f.partition.source.size ? size : f.partition.source.size,
        kind: f.fsKind,
      };
      this.entries.push({ info, fs, source: f.partition.source });
    }
    this.entries.sort((a, b) => (a.info.diskOffset < b.info.diskOffset ? -1 : 1));
  }

  readonly location: string;

  filesystems(): RecoveryFs[] {
    return this.entries.map((e) => e.info);
  }

  private freeMap(e: FsEntry): FreeBlockMap {
    if (!e.free) {
      try {
        e.free = FreeBlockMap.of(e.fs);
      } catch (err) {
        this.problems.push(`${e.info.label}: cannot read the block bitmaps: ${err instanceof Error ? err.message : String(err)}`);
        e.free = new FreeBlockMap([]);
      }
    }
    return e.free;
  }

  private entry(label: string): FsEntry {
    const e = this.entries.find((x) => x.info.label === label);
    if (!e) throw new Error(`no file system ${label} in ${this.location}`);
    return e;
  }

  *unallocatedRanges(): Iterable<UnallocatedRange> {
    for (const e of this.entries) {
      const bs = BigInt(e.fs.blockSize);
      for (const r of this.freeMap(e).ranges) {
        const start = r.start * bs;
        if (start >= e.info.size) continue;
        let length = r.count * bs;
        if (start + length > e.info.size) length = e.info.size - start;
        yield { fs: e.info.label, start, length };
      }
    }
  }

  readRaw(fs: string, offset: bigint, buf: Uint8Array, bufOffset: number, length: number): number {
    const e = this.entry(fs);
    let got = 0;
    while (got < length) {
      const n = e.source.read(buf, bufOffset + got, length - got, offset + BigInt(got));
      if (n <= 0) break;
      got += n;
    }
    return got;
  }

  wholeDisk(): ByteSource {
    if (!this.disk) throw new Error(`${this.location}: no disk source to carve`);
    return this.disk;
  }

  isAllocated(offset: bigint): boolean {
    for (const e of this.entries) {
      if (offset < e.info.diskOffset || offset >= e.info.diskOffset + e.info.size) continue;
      const blk = (offset - e.info.diskOffset) / BigInt(e.fs.blockSize);
      return !this.freeMap(e).isFree(blk);
    }
    return false;
  }

  *deletedFiles(): Iterable<DeletedFileInfo> {
    for (const e of this.entries) {
      const notes: string[] = [];
      const deleted = listDeletedInodes(e.fs, notes);
      for (const n of notes) this.problems.push(`${e.info.label}: ${n}`);
      const free = this.freeMap(e);
      const names = new Map<number, { names: string[]; dirs: number[] }>();
      for (const n of deletedDirectoryNames(e.fs, deleted, free)) {
        const x = names.get(n.ino) ?? { names: [], dirs: [] };
        if (x.names.length < 8) x.names.push(n.name);
        if (!x.dirs.includes(n.dirIno)) x.dirs.push(n.dirIno);
        names.set(n.ino, x);
      }
      for (const d of deleted) {
        if ((d.mode & 0o170000) !== 0o100000) continue;
        let f;
        try {
          f = openDeletedFile(e.fs, d, free);
        } catch (err) {
          this.problems.push(`${e.info.label} inode ${d.ino}: ${err instanceof Error ? err.message : String(err)}`);
          continue;
        }
        if (!f) continue;
        const nm = names.get(d.ino);
        const idName = nm?.names.map((x) => LOG_NAME.exec(x)?.[1]).find((x) => x !== undefined);
        const base = e.info.diskOffset;
        yield {
          fs: e.info.label,
          ino: d.ino,
          size: f.size,
          dtime: d.dtime,
          mtime: d.times?.mtime,
          names: nm?.names ?? [],
          containerId: idName,
          dirInos: nm?.dirs ?? [],
          readableBytes: f.readableBytes,
          read: (buf, off, len, pos) => f.read(buf, off, len, pos),
          diskOffset: (pos) => {
            const o = f.fsOffset(pos);
            return o === undefined ? undefined : base + o;
          },
        };
      }
    }
  }

  close(): void {
    // nothing owned: the file systems and the disk belong to the opened evidence
  }
}
