// A mounted evidence directory as a read-only VFS, confined to its root.
// We resolve every path component ourselves (lstat + readlink), so an absolute symlink means "from the evidence
// root", `..` stops at the root, and a chain of links has a hop limit: a hostile tree can never make us read the
// analyst's own files. The final open uses O_NOFOLLOW on a path that no longer contains symlinks.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import {
  type DirEntry,
  type FileType,
  type Vfs,
  type VfsFile,
  type VfsStat,
  VfsError,
  fileTypeFromMode,
} from '../vfs.js';

/** Linux's MAXSYMLINKS is 40; we use the same hop limit. */
export const MAX_SYMLINK_HOPS = 40;
/** Components in one resolved path (guards runaway link expansion). */
export const MAX_PATH_COMPONENTS = 4096;
/** Resolved directories remembered (HostDirVfs.knownDirs); the set starts over when full. */
export const MAX_KNOWN_DIRS = 16_384;

function toStat(s: fs.BigIntStats): VfsStat {
  const mode = Number(s.mode);
  const rdev = Number(s.rdev);
  return {
    ino: s.ino,
    mode,
    type: fileTypeFromMode(mode),
    uid: Number(s.uid),
    gid: Number(s.gid),
    size: s.size,
    nlink: Number(s.nlink),
    // glibc's gnu_dev_major/minor encoding
    rdevMajor: ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff),
    rdevMinor: (rdev & 0xff) | ((rdev >>> 12) & ~0xff),
    atime: s.atimeNs,
    mtime: s.mtimeNs,
    ctime: s.ctimeNs,
    // Node reports birthtime 0 when statx could not supply it.
    birthtime: s.birthtimeNs > 0n ? s.birthtimeNs : undefined,
  };
}

function direntType(d: fs.Dirent): FileType {
  if (d.isFile()) return 'file';
  if (d.isDirectory()) return 'dir';
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isCharacterDevice()) return 'char';
  if (d.isBlockDevice()) return 'block';
  if (d.isFIFO()) return 'fifo';
  if (d.isSocket()) return 'socket';
  return 'unknown';
}

function mapError(err: unknown, path: string): VfsError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const msg = (err as Error)?.message ?? String(err);
  switch (code) {
    case 'ENOENT': return new VfsError('ENOENT', path, 'no such file or directory');
    case 'ENOTDIR': return new VfsError('ENOTDIR', path, 'not a directory');
    case 'EISDIR': return new VfsError('EISDIR', path, 'is a directory');
    case 'EACCES':
    case 'EPERM': return new VfsError('EACCES', path, 'permission denied');
    case 'ELOOP': return new VfsError('ELOOP', path, 'symlink where none was expected');
    default: return new VfsError('EIO', path, msg);
  }
}

export class HostDirVfs implements Vfs {
  readonly kind = 'host-dir';
  readonly location: string;
  private readonly root: string;

  constructor(rootDir: string) {
    this.root = nodePath.resolve(rootDir);
    this.location = this.root;
  }

  /**
   * Symlink-free evidence paths already seen to be directories, so resolving the next file in the same folder
   * costs one lstat instead of one per component (a Docker host has thousands of container folders). Evidence
   * is read-only; a directory swapped for a symlink during the run was a race before this cache too, since
   * every open goes by path.
   */
  private readonly knownDirs = new Set<string>();

  private rememberDir(resolved: string): void {
    if (this.knownDirs.size >= MAX_KNOWN_DIRS) this.knownDirs.clear();
    this.knownDirs.add(resolved);
  }

  /** Host path of an evidence path whose components are already resolved (no symlinks left). */
  private hostPath(resolved: string): string {
    return resolved === '/' ? this.root : this.root + resolved;
  }

  /**
   * Resolves `path` inside the evidence. With `followLast` false the final component is not followed (lstat).
   * Returns the evidence path with no symlinks in it.
   */
  resolve(path: string, followLast: boolean): string {
    let pending = path.split('/').filter((c) => c !== '' && c !== '.');
    const done: string[] = [];
    let hops = 0;
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
      const candidate = '/' + [...done, c].join('/');
      if (!isLast && this.knownDirs.has(candidate)) {
        done.push(c);
        continue;
      }
      let st: fs.BigIntStats;
      try {
        st = fs.lstatSync(this.hostPath(candidate), { bigint: true });
      } catch (err) {
        throw mapError(err, path);
      }
      if (st.isSymbolicLink() && (!isLast || followLast)) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw new VfsError('ELOOP', path, `more than ${MAX_SYMLINK_HOPS} symlink hops`);
        }
        let target: string;
        try {
          target = fs.readlinkSync(this.hostPath(candidate), 'utf8');
        } catch (err) {
          throw mapError(err, path);
        }
        const parts = target.split('/').filter((x) => x !== '' && x !== '.');
        if (target.startsWith('/')) done.length = 0;
        pending = [...parts, ...pending];
        continue;
      }
      if (!isLast && !st.isDirectory()) throw new VfsError('ENOTDIR', path, `${candidate} is not a directory`);
      if (!isLast) this.rememberDir(candidate);
      done.push(c);
    }
    return '/' + done.join('/');
  }

  lstat(path: string): VfsStat {
    const p = this.resolve(path, false);
    try {
      return toStat(fs.lstatSync(this.hostPath(p), { bigint: true }));
    } catch (err) {
      throw mapError(err, path);
    }
  }

  stat(path: string): VfsStat {
    const p = this.resolve(path, true);
    try {
      return toStat(fs.lstatSync(this.hostPath(p), { bigint: true }));
    } catch (err) {
      throw mapError(err, path);
    }
  }

  readdir(path: string): DirEntry[] {
    const p = this.resolve(path, true);
    try {
      return fs
        .readdirSync(this.hostPath(p), { withFileTypes: true })
        .map((d) => ({ name: d.name, type: direntType(d) }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (err) {
      throw mapError(err, path);
    }
  }

  readlink(path: string): string {
    const p = this.resolve(path, false);
    try {
      return fs.readlinkSync(this.hostPath(p), 'utf8');
    } catch (err) {
      throw mapError(err, path);
    }
  }

  open(path: string): VfsFile {
    const p = this.resolve(path, true);
    let fd: number;
    try {
      fd = fs.openSync(this.hostPath(p), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NOATIME);
    } catch (err) {
      // O_NOATIME is refused (EPERM) unless we own the file; retry without it.
      if ((err as NodeJS.ErrnoException).code === 'EPERM') {
        try {
          fd = fs.openSync(this.hostPath(p), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
        } catch (err2) {
          throw mapError(err2, path);
        }
      } else {
        throw mapError(err, path);
      }
    }
    const st = fs.fstatSync(fd, { bigint: true });
    if (st.isDirectory()) {
      fs.closeSync(fd);
      throw new VfsError('EISDIR', path, 'is a directory');
    }
    let closed = false;
    return {
      size: st.size,
      ino: st.ino,
      read(buf, bufOffset, length, position) {
        return fs.readSync(fd, buf, bufOffset, length, position);
      },
      close() {
        if (!closed) fs.closeSync(fd);
        closed = true;
      },
    };
  }

  /** Node exposes no xattr API; a mounted directory's xattrs are not visible to this reader. */
  xattrs(): undefined {
    return undefined;
  }

  realpath(path: string): string {
    return this.resolve(path, true);
  }

  close(): void {}
}
