// The read-only VFS over a tar archive (plain or gzip-compressed). Adapter only: the format lives in archive.ts,
// parse.ts and tree.ts (STYLE.md habit 2). Paths resolve component by component over the in-memory tree exactly
// like src/fs/host-dir/host-dir.ts: an absolute symlink target starts again at the evidence root, `..` stops at the
// root, and a chain has at most MAX_SYMLINK_HOPS hops. Member data is read positionally from the archive itself
// (plain tar) or from the inflated temporary copy (tar.gz, see gzip-spool.ts).
import * as fs from 'node:fs';
import {
  type DirEntry,
  type Vfs,
  type VfsFile,
  type VfsStat,
  VfsError,
} from '../vfs.js';
import type { SparseSegment, TarIndex } from './archive.js';
import { type TarInode, type TarNode, modeOf } from './tree.js';

/** Linux's MAXSYMLINKS. */
export const MAX_SYMLINK_HOPS = 40;
/** Components in one resolved path (guards runaway link expansion). */
export const MAX_PATH_COMPONENTS = 4096;

export interface TarVfsInit {
  /** The tree node serving as "/". */
  root: TarNode;
  /** Path of that node inside the archive ("/" unless a wrapper directory was stripped). */
  rootInArchive: string;
  /** Descriptor holding the (inflated) stream; owned by the VFS and closed by close(). */
  fd: number;
  location: string;
  index: TarIndex;
  compressed: boolean;
}

function readSparse(fd: number, segs: SparseSegment[], size: number, buf: Uint8Array, bufOffset: number, length: number, position: number): number {
  const n = Math.max(0, Math.min(length, size - position));
  if (n === 0) return 0;
  buf.fill(0, bufOffset, bufOffset + n);
  const end = position + n;
  // Binary search the first segment ending after `position`.
  let lo = 0;
  let hi = segs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const s = segs[mid] as SparseSegment;
    if (s.offset + s.length <= position) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < segs.length; i++) {
    const s = segs[i] as SparseSegment;
    if (s.offset >= end) break;
    const from = Math.max(position, s.offset);
    const to = Math.min(end, s.offset + s.length);
    let done = 0;
    while (done < to - from) {
      const got = fs.readSync(fd, buf, bufOffset + (from - position) + done, to - from - done, s.dataPos + (from - s.offset) + done);
      if (got <= 0) break;
      done += got;
    }
  }
  return n;
}

export class TarVfs implements Vfs {
  readonly kind = 'tar';
  readonly location: string;
  /** Where "/" of this VFS lies inside the archive. */
  readonly rootInArchive: string;
  readonly index: TarIndex;
  readonly compressed: boolean;
  private readonly root: TarNode;
  private fd: number;

  constructor(init: TarVfsInit) {
    this.root = init.root;
    this.rootInArchive = init.rootInArchive;
    this.fd = init.fd;
    this.location = init.location;
    this.index = init.index;
    this.compressed = init.compressed;
  }

  /** Resolves `path`; with `followLast` false the final symlink is not followed. */
  resolve(path: string, followLast: boolean): { path: string; node: TarNode } {
    let pending = path.split('/').filter((c) => c !== '' && c !== '.');
    const done: string[] = [];
    const nodes: TarNode[] = [this.root];
    let hops = 0;
    while (pending.length > 0) {
      if (pending.length + done.length > MAX_PATH_COMPONENTS) {
        throw new VfsError('ELOOP', path, `more than ${MAX_PATH_COMPONENTS} path components`);
      }
      const c = pending.shift() as string;
      if (c === '..') {
        if (done.length > 0) {
          done.pop();
          nodes.pop();
        }
        continue;
      }
      const isLast = pending.length === 0;
      const dir = nodes[nodes.length - 1] as TarNode;
      if (!dir.children) throw new VfsError('ENOTDIR', path, `/${done.join('/')} is not a directory`);
      const node = dir.children.get(c);
      if (!node) throw new VfsError('ENOENT', path, 'no such file or directory');
      if (node.inode.type === 'symlink' && (!isLast || followLast)) {
        if (++hops > MAX_SYMLINK_HOPS) throw new VfsError('ELOOP', path, `more than ${MAX_SYMLINK_HOPS} symlink hops`);
        const target = node.inode.linkTarget ?? '';
        const parts = target.split('/').filter((x) => x !== '' && x !== '.');
        if (target.startsWith('/')) {
          done.length = 0;
          nodes.length = 1;
        }
        pending = [...parts, ...pending];
        continue;
      }
      if (!isLast && node.inode.type !== 'dir') throw new VfsError('ENOTDIR', path, `/${[...done, c].join('/')} is not a directory`);
      done.push(c);
      nodes.push(node);
    }
    return { path: '/' + done.join('/'), node: nodes[nodes.length - 1] as TarNode };
  }

  private toStat(i: TarInode): VfsStat {
    return {
      ino: i.ino,
      mode: modeOf(i),
      type: i.type,
      uid: i.uid,
      gid: i.gid,
      size: BigInt(i.size),
      nlink: i.nlink,
      rdevMajor: i.rdevMajor,
      rdevMinor: i.rdevMinor,
      atime: i.atime,
      mtime: i.mtime,
      ctime: i.ctime,
    };
  }

  lstat(path: string): VfsStat {
    return this.toStat(this.resolve(path, false).node.inode);
  }

  stat(path: string): VfsStat {
    return this.toStat(this.resolve(path, true).node.inode);
  }

  readdir(path: string): DirEntry[] {
    const { node } = this.resolve(path, true);
    if (!node.children) throw new VfsError('ENOTDIR', path, 'not a directory');
    return [...node.children.entries()]
      .map(([name, n]) => ({ name, type: n.inode.type, ino: n.inode.ino }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  readlink(path: string): string {
    const { node } = this.resolve(path, false);
    if (node.inode.type !== 'symlink') throw new VfsError('EINVAL', path, 'not a symlink');
    return node.inode.linkTarget ?? '';
  }

  open(path: string): VfsFile {
    const { node } = this.resolve(path, true);
    const i = node.inode;
    if (i.type === 'dir') throw new VfsError('EISDIR', path, 'is a directory');
    if (i.type !== 'file') throw new VfsError('EINVAL', path, `not a regular file (${i.type})`);
    if (this.fd < 0) throw new VfsError('EIO', path, 'archive is closed');
    const fd = this.fd;
    const m = i.member;
    const size = i.size;
    const segs = m?.sparse;
    const dataOffset = m?.dataOffset ?? 0;
    const vfs = this;
    return {
      size: BigInt(size),
      ino: i.ino,
      read(buf, bufOffset, length, position) {
        if (vfs.fd < 0) throw new VfsError('EIO', path, 'archive is closed');
        if (!m || position >= size || length <= 0) return 0;
        if (segs) return readSparse(fd, segs, size, buf, bufOffset, length, position);
        const n = Math.min(length, size - position);
        let got = 0;
        while (got < n) {
          const r = fs.readSync(fd, buf, bufOffset + got, n - got, dataOffset + position + got);
          if (r <= 0) break;
          got += r;
        }
        return got;
      },
      close() {},
    };
  }

  /** The member's pax xattrs (SCHILY.xattr.*, LIBARCHIVE.xattr.*, RHT.security.selinux); empty when none. */
  xattrs(path: string): Map<string, Uint8Array> {
    return new Map(this.resolve(path, false).node.inode.xattrs);
  }

  realpath(path: string): string {
    return this.resolve(path, true).path;
  }

  /** The archive member behind a path (undefined for implicit directories), for provenance and `stat` output. */
  member(path: string): TarInode['member'] {
    return this.resolve(path, false).node.inode.member;
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
