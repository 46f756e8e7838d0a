// The read-only VFS over an ext2/3/4 file system in a ByteSource. Adapter only: the format lives in ext4.ts
// (STYLE.md habit 2). Paths resolve component by component, like src/fs/host-dir/host-dir.ts: an absolute symlink
// target starts again at this file system's root, `..` stops at the root, and a chain has at most 40 hops.
import type { ByteSource } from '../../io/byte-source.js';
import {
  type DirEntry,
  type FileType,
  type Vfs,
  type VfsFile,
  type VfsStat,
  VfsError,
  fileTypeFromMode,
} from '../vfs.js';
import { Ext4Error } from './errors.js';
import { type Ext4DirEntryInfo, Ext4Fs } from './ext4.js';
import { EXT4_ROOT_INO } from './structs.js';

/** Linux's MAXSYMLINKS. */
export const MAX_SYMLINK_HOPS = 40;
/** Components in one resolved path (guards runaway link expansion). */
export const MAX_PATH_COMPONENTS = 4096;
/** Directories whose name index we keep in memory. */
const DIR_CACHE_MAX = 256;
/** Paths that resolved to a directory, kept (as asked -> inode and resolved path); a Map cleared when full. */
export const DIR_PATH_CACHE_MAX = 4096;

function mapError(err: unknown, path: string): Error {
  if (err instanceof VfsError) return err;
  if (err instanceof Ext4Error) {
    switch (err.code) {
      case 'ELIMIT': return new VfsError('ELIMIT', path, err.message);
      case 'ELOOP': return new VfsError('EIO', path, err.message);
      case 'ENOTDIR': return new VfsError('ENOTDIR', path, err.message);
      case 'EINVAL': return new VfsError('EINVAL', path, err.message);
      default: return new VfsError('EIO', path, err.message);
    }
  }
  return err as Error;
}

export class Ext4Vfs implements Vfs {
  readonly kind = 'ext4';
  readonly location: string;
  readonly fs: Ext4Fs;
  private readonly dirCache = new Map<number, Map<string, Ext4DirEntryInfo>>();
  /** followOnly: the path may end in a symlink to the directory (valid when the last link is followed). */
  private readonly dirPaths = new Map<string, { path: string; ino: number; followOnly: boolean }>();

  constructor(
    source: ByteSource,
    location?: string,
    private readonly ownsSource = false,
  ) {
    this.fs = Ext4Fs.open(source);
    this.location = location ?? source.description;
  }

  private names(dirIno: number): Map<string, Ext4DirEntryInfo> {
    let m = this.dirCache.get(dirIno);
    if (!m) {
      m = new Map();
      for (const e of this.fs.readdir(dirIno)) if (!m.has(e.name)) m.set(e.name, e);
      if (this.dirCache.size >= DIR_CACHE_MAX) this.dirCache.clear();
      this.dirCache.set(dirIno, m);
    }
    return m;
  }

  /** Resolves `path` to an inode inside the file system; with `followLast` false the last link is not followed. */
  resolve(path: string, followLast: boolean): { path: string; ino: number } {
    const r = this.resolveCached(path, followLast) ?? this.resolveWalk(path, followLast);
    return { path: r.path, ino: r.ino };
  }

  private isDirIno(ino: number): boolean {
    return this.fs.isDir(this.fs.inode(ino));
  }

  private remember(path: string, r: { path: string; ino: number }, followOnly: boolean): void {
    if (this.dirPaths.size >= DIR_PATH_CACHE_MAX) this.dirPaths.clear();
    this.dirPaths.set(path, { path: r.path, ino: r.ino, followOnly });
  }

  /**
   * The common case without a walk from the root: `path` itself, or its parent, resolved to a directory before;
   * then only the last component is looked up. Anything unusual (a last component of "", "." or "..", a symlink to
   * follow, a missing name, an error, a very long path) returns undefined and the full walk decides, with its errors.
   */
  private resolveCached(path: string, followLast: boolean): { path: string; ino: number } | undefined {
    if (path.length >= 2 * MAX_PATH_COMPONENTS) return undefined; // let the walk count components
    const slash = path.lastIndexOf('/');
    const c = path.slice(slash + 1);
    const plain = slash >= 0 && c !== '' && c !== '.' && c !== '..';
    const parentPath = slash === 0 ? '/' : path.slice(0, slash);
    let parent: { path: string; ino: number } | undefined = plain ? this.dirPaths.get(parentPath) : undefined;
    if (!parent) {
      const hit = this.dirPaths.get(path);
      if (hit && (followLast || !hit.followOnly)) return hit;
      if (!plain) return undefined;
      try {
        parent = this.resolveWalk(parentPath, true);
      } catch {
        return undefined;
      }
      if (!this.dirPaths.has(parentPath)) return undefined; // not a directory
    }
    try {
      const entry = this.names(parent.ino).get(c);
      if (!entry) return undefined;
      const type = fileTypeFromMode(this.fs.inode(entry.ino).i_mode);
      if (type === 'symlink' && followLast) return undefined;
      const r = { path: parent.path === '/' ? `/${c}` : `${parent.path}/${c}`, ino: entry.ino };
      if (type === 'dir') this.remember(path, r, false);
      return r;
    } catch {
      return undefined;
    }
  }

  /** Component by component from the root (symlinks, "..", every check). Remembers a directory result. */
  private resolveWalk(path: string, followLast: boolean): { path: string; ino: number } {
    const r = this.walkPath(path, followLast);
    try {
      if (this.isDirIno(r.ino)) this.remember(path, r, followLast);
    } catch {
      // the result stands; an unreadable inode is reported by whoever uses it
    }
    return r;
  }

  private walkPath(path: string, followLast: boolean): { path: string; ino: number } {
    try {
      let pending = path.split('/').filter((c) => c !== '' && c !== '.');
      const done: { name: string; ino: number }[] = [];
      let hops = 0;
      const cur = () => (done.length ? done[done.length - 1]!.ino : EXT4_ROOT_INO);
      while (pending.length > 0) {
        if (pending.length + done.length > MAX_PATH_COMPONENTS) {
          throw new VfsError('ELOOP', path, `more than ${MAX_PATH_COMPONENTS} path components`);
        }
        const c = pending.shift() as string;
        if (c === '..') {
          done.pop();
          continue;
        }
        const isLast = pending.length === 0;
        const dirIno = cur();
        const dirInode = this.fs.inode(dirIno);
        if (!this.fs.isDir(dirInode)) throw new VfsError('ENOTDIR', path, `${'/' + done.map((d) => d.name).join('/')} is not a directory`);
        const entry = this.names(dirIno).get(c);
        if (!entry) throw new VfsError('ENOENT', path, 'no such file or directory');
        const inode = this.fs.inode(entry.ino);
        const type = fileTypeFromMode(inode.i_mode);
        if (type === 'symlink' && (!isLast || followLast)) {
          if (++hops > MAX_SYMLINK_HOPS) throw new VfsError('ELOOP', path, `more than ${MAX_SYMLINK_HOPS} symlink hops`);
          const target = this.fs.readlink(entry.ino);
          if (target.startsWith('/')) done.length = 0;
          pending = [...target.split('/').filter((x) => x !== '' && x !== '.'), ...pending];
          continue;
        }
        if (!isLast && type !== 'dir') throw new VfsError('ENOTDIR', path, `${c} is not a directory`);
        done.push({ name: c, ino: entry.ino });
      }
      return { path: '/' + done.map((d) => d.name).join('/'), ino: cur() };
    } catch (err) {
      throw mapError(err, path);
    }
  }

  private statIno(ino: number, path: string): VfsStat {
    try {
      const inode = this.fs.inode(ino);
      const t = this.fs.times(inode);
      const rdev = this.fs.rdev(inode);
      return {
        ino: BigInt(ino),
        mode: inode.i_mode,
        type: fileTypeFromMode(inode.i_mode),
        uid: inode.i_uid,
        gid: inode.i_gid,
        size: this.fs.inodeSize(inode),
        nlink: inode.i_links_count,
        rdevMajor: rdev.major,
        rdevMinor: rdev.minor,
        atime: t.atime,
        mtime: t.mtime,
        ctime: t.ctime,
        birthtime: t.crtime,
      };
    } catch (err) {
      throw mapError(err, path);
    }
  }

  lstat(path: string): VfsStat {
    return this.statIno(this.resolve(path, false).ino, path);
  }

  stat(path: string): VfsStat {
    return this.statIno(this.resolve(path, true).ino, path);
  }

  readdir(path: string): DirEntry[] {
    const { ino } = this.resolve(path, true);
    try {
      const inode = this.fs.inode(ino);
      if (!this.fs.isDir(inode)) throw new VfsError('ENOTDIR', path, 'not a directory');
      const out: DirEntry[] = [];
      for (const e of this.names(ino).values()) {
        if (e.name === '.' || e.name === '..') continue;
        let type: FileType = e.fileType;
        if (type === 'unknown') type = fileTypeFromMode(this.fs.inode(e.ino).i_mode);
        out.push({ name: e.name, type, ino: BigInt(e.ino) });
      }
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (err) {
      throw mapError(err, path);
    }
  }

  readlink(path: string): string {
    const { ino } = this.resolve(path, false);
    try {
      if (fileTypeFromMode(this.fs.inode(ino).i_mode) !== 'symlink') throw new VfsError('EINVAL', path, 'not a symlink');
      return this.fs.readlink(ino);
    } catch (err) {
      throw mapError(err, path);
    }
  }

  open(path: string): VfsFile {
    const { ino } = this.resolve(path, true);
    try {
      const inode = this.fs.inode(ino);
      if (this.fs.isDir(inode)) throw new VfsError('EISDIR', path, 'is a directory');
      const f = this.fs.file(ino);
      return {
        size: f.size,
        ino: BigInt(ino),
        read: (buf, bufOffset, length, position) => {
          try {
            return f.read(buf, bufOffset, length, position);
          } catch (err) {
            throw mapError(err, path);
          }
        },
        close() {},
      };
    } catch (err) {
      throw mapError(err, path);
    }
  }

  xattrs(path: string): Map<string, Uint8Array> {
    const { ino } = this.resolve(path, false);
    try {
      return this.fs.xattrs(ino);
    } catch (err) {
      throw mapError(err, path);
    }
  }

  realpath(path: string): string {
    return this.resolve(path, true).path;
  }

  close(): void {
    this.dirCache.clear();
    this.dirPaths.clear();
    if (this.ownsSource) this.fs.source.close();
  }
}
