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
    if (this.ownsSource) this.fs.source.close();
  }
}
