// One VFS over several file systems attached at mount points, like the kernel's mount table: a path belongs to the
// mount with the longest matching mount point. Paths resolve component by component through the underlying
// file systems' lstat/readlink, so a symlink on one file system may lead onto another: an absolute target starts
// again at the assembled root, `..` at a mount root leaves to the parent mount, and a chain has at most 40 hops.
// Directories that lead to a mount point but exist on no file system (a synthetic root for a bare /var partition,
// a mount point missing from its parent) appear as empty synthetic directories.
import { type DirEntry, type Vfs, type VfsFile, type VfsStat, VfsError } from '../vfs.js';

/** Linux's MAXSYMLINKS. */
export const MOUNTED_MAX_SYMLINK_HOPS = 40;
/** Components in one resolved path (guards runaway link expansion). */
export const MOUNTED_MAX_PATH_COMPONENTS = 4096;
/** Resolved directories remembered (input path -> resolved components). */
const DIR_CACHE_MAX = 4096;

export interface Mount {
  /** Absolute, normalised mount point (`/`, `/var`, ...). */
  point: string;
  vfs: Vfs;
  /** What is mounted, for messages (`p2 ext4 UUID=...`). */
  what?: string;
}

interface Located {
  mount: Mount;
  inner: string;
}

interface Resolved {
  /** Components of the resolved assembled path. */
  comps: string[];
  /** lstat of the last component (a symlink only when the last link was not followed). */
  st: VfsStat;
  loc: Located;
}

const SYNTH_DIR: VfsStat = {
  ino: 0n,
  mode: 0o040755,
  type: 'dir',
  uid: 0,
  gid: 0,
  size: 0n,
  nlink: 2,
  rdevMajor: 0,
  rdevMinor: 0,
};

function split(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

function toPath(comps: readonly string[]): string {
  return '/' + comps.join('/');
}

/** An empty root directory: what a MountedVfs stands on when no file system is mounted at `/`. */
export class EmptyRootVfs implements Vfs {
  readonly kind = 'empty';
  constructor(readonly location = 'synthetic root') {}
  private check(path: string): void {
    if (split(path).length > 0) throw new VfsError('ENOENT', path, 'no such file or directory');
  }
  lstat(path: string): VfsStat {
    this.check(path);
    return { ...SYNTH_DIR };
  }
  stat(path: string): VfsStat {
    return this.lstat(path);
  }
  readdir(path: string): DirEntry[] {
    this.check(path);
    return [];
  }
  readlink(path: string): string {
    this.check(path);
    throw new VfsError('EINVAL', path, 'not a symlink');
  }
  open(path: string): VfsFile {
    this.check(path);
    throw new VfsError('EISDIR', path, 'is a directory');
  }
  xattrs(path: string): Map<string, Uint8Array> {
    this.check(path);
    return new Map();
  }
  realpath(path: string): string {
    this.check(path);
    return '/';
  }
  close(): void {}
}

export class MountedVfs implements Vfs {
  readonly kind: string;
  readonly location: string;
  /** Mounts, longest mount point first. */
  private readonly mounts: Mount[];
  private readonly dirCache = new Map<string, string[]>();

  private readonly onClose?: () => void;
  private closed = false;

  constructor(mounts: Mount[], opts: { kind?: string; location?: string; onClose?: () => void } = {}) {
    this.onClose = opts.onClose;
    const norm = mounts.map((m) => ({ ...m, point: toPath(split(m.point)) }));
    const seen = new Set<string>();
    for (const m of norm) {
      if (m.point.split('/').includes('..')) throw new VfsError('EINVAL', m.point, 'mount point contains ..');
      if (seen.has(m.point)) throw new VfsError('EINVAL', m.point, 'two file systems mounted at the same point');
      seen.add(m.point);
    }
    if (!seen.has('/')) norm.push({ point: '/', vfs: new EmptyRootVfs(), what: 'synthetic root' });
    this.mounts = norm.sort((a, b) => b.point.length - a.point.length);
    const root = this.mounts.find((m) => m.point === '/')!;
    this.kind = opts.kind ?? root.vfs.kind;
    this.location = opts.location ?? root.vfs.location;
  }

  /** The mount table, shortest mount point first. */
  get mountTable(): readonly Mount[] {
    return [...this.mounts].reverse();
  }

  private locate(comps: readonly string[]): Located {
    const p = toPath(comps);
    for (const m of this.mounts) {
      if (m.point === '/') return { mount: m, inner: p };
      if (p === m.point) return { mount: m, inner: '/' };
      if (p.startsWith(m.point + '/')) return { mount: m, inner: p.slice(m.point.length) };
    }
    throw new VfsError('EIO', p, 'no mount at /'); // unreachable: the constructor guarantees a `/` mount
  }

  /** True when some mount point lies strictly below `comps` (so the directory must exist in the assembled view). */
  private leadsToMount(comps: readonly string[]): boolean {
    const p = toPath(comps);
    const prefix = p === '/' ? '/' : p + '/';
    return this.mounts.some((m) => m.point !== p && m.point.startsWith(prefix));
  }

  private wrap(err: unknown, path: string): Error {
    if (err instanceof VfsError) {
      if (err.path === path) return err;
      const detail = err.message.startsWith(err.path + ': ') ? err.message.slice(err.path.length + 2) : err.message;
      return new VfsError(err.code, path, detail);
    }
    return err as Error;
  }

  private lstatAt(comps: readonly string[], loc: Located): VfsStat {
    try {
      return loc.mount.vfs.lstat(loc.inner);
    } catch (err) {
      if (err instanceof VfsError && (err.code === 'ENOENT' || err.code === 'ENOTDIR') && this.leadsToMount(comps)) {
        return { ...SYNTH_DIR };
      }
      throw err;
    }
  }

  /** Walks `pending` from the resolved directory `done`. */
  private walk(path: string, done: string[], pending: string[], followLast: boolean, mustBeDir: boolean): Resolved {
    let hops = 0;
    let st: VfsStat | undefined;
    let loc: Located | undefined;
    while (pending.length > 0) {
      if (pending.length + done.length > MOUNTED_MAX_PATH_COMPONENTS) {
        throw new VfsError('ELOOP', path, `more than ${MOUNTED_MAX_PATH_COMPONENTS} path components`);
      }
      const c = pending.shift() as string;
      if (c === '..') {
        done.pop();
        st = undefined;
        continue;
      }
      const isLast = pending.length === 0;
      done.push(c);
      const here = this.locate(done);
      const s = this.lstatAt(done, here);
      if (s.type === 'symlink' && (!isLast || followLast)) {
        if (++hops > MOUNTED_MAX_SYMLINK_HOPS) {
          throw new VfsError('ELOOP', path, `more than ${MOUNTED_MAX_SYMLINK_HOPS} symlink hops`);
        }
        const target = here.mount.vfs.readlink(here.inner);
        done.pop();
        if (target.startsWith('/')) done.length = 0;
        pending = [...split(target), ...pending];
        st = undefined;
        continue;
      }
      if (!isLast && s.type !== 'dir') throw new VfsError('ENOTDIR', path, `${toPath(done)} is not a directory`);
      st = s;
      loc = here;
    }
    if (st === undefined || loc === undefined) {
      // Ended on the root or after `..`: stat the directory reached.
      loc = this.locate(done);
      st = this.lstatAt(done, loc);
    }
    if (mustBeDir && st.type !== 'dir') throw new VfsError('ENOTDIR', path, `${toPath(done)} is not a directory`);
    return { comps: done, st, loc };
  }

  private resolve(path: string, followLast: boolean): Resolved {
    try {
      const comps = split(path);
      if (comps.length === 0 || comps.includes('..')) return this.walk(path, [], comps, followLast, false);
      const dirComps = comps.slice(0, -1);
      const key = toPath(dirComps);
      let dir = this.dirCache.get(key);
      if (dir === undefined) {
        dir = dirComps.length === 0 ? [] : this.walk(path, [], dirComps, true, true).comps;
        if (this.dirCache.size >= DIR_CACHE_MAX) this.dirCache.clear();
        this.dirCache.set(key, dir);
      }
      return this.walk(path, [...dir], [comps[comps.length - 1]!], followLast, false);
    } catch (err) {
      throw this.wrap(err, path);
    }
  }

  /** Where `path` lives: the mount and the path inside that file system (symlinks resolved unless `followLast` is false). */
  whereIs(path: string, followLast = true): { mountPoint: string; inner: string; what?: string } {
    const r = this.resolve(path, followLast);
    return { mountPoint: r.loc.mount.point, inner: r.loc.inner, what: r.loc.mount.what };
  }

  lstat(path: string): VfsStat {
    return this.resolve(path, false).st;
  }

  stat(path: string): VfsStat {
    return this.resolve(path, true).st;
  }

  readdir(path: string): DirEntry[] {
    const r = this.resolve(path, true);
    if (r.st.type !== 'dir') throw new VfsError('ENOTDIR', path, 'not a directory');
    let entries: DirEntry[];
    try {
      entries = r.loc.mount.vfs.readdir(r.loc.inner);
    } catch (err) {
      if (err instanceof VfsError && (err.code === 'ENOENT' || err.code === 'ENOTDIR') && this.leadsToMount(r.comps)) {
        entries = [];
      } else {
        throw this.wrap(err, path);
      }
    }
    // Mount points directly below this directory shadow (or add) an entry.
    const here = toPath(r.comps);
    const prefix = here === '/' ? '/' : here + '/';
    const byName = new Map(entries.map((e) => [e.name, e]));
    for (const m of this.mounts) {
      if (m.point === here || !m.point.startsWith(prefix)) continue;
      const name = m.point.slice(prefix.length).split('/')[0]!;
      const direct = m.point === prefix + name;
      let ino: bigint | undefined;
      if (direct) {
        try {
          ino = m.vfs.lstat('/').ino;
        } catch {
          ino = undefined;
        }
      } else {
        ino = byName.get(name)?.ino;
      }
      if (direct || !byName.has(name)) byName.set(name, { name, type: 'dir', ino });
    }
    return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  readlink(path: string): string {
    const r = this.resolve(path, false);
    if (r.st.type !== 'symlink') throw new VfsError('EINVAL', path, 'not a symlink');
    try {
      return r.loc.mount.vfs.readlink(r.loc.inner);
    } catch (err) {
      throw this.wrap(err, path);
    }
  }

  open(path: string): VfsFile {
    const r = this.resolve(path, true);
    if (r.st.type === 'dir') throw new VfsError('EISDIR', path, 'is a directory');
    try {
      return r.loc.mount.vfs.open(r.loc.inner);
    } catch (err) {
      throw this.wrap(err, path);
    }
  }

  xattrs(path: string): Map<string, Uint8Array> | undefined {
    const r = this.resolve(path, false);
    try {
      return r.loc.mount.vfs.xattrs(r.loc.inner);
    } catch (err) {
      if (err instanceof VfsError && err.code === 'ENOENT' && this.leadsToMount(r.comps)) return new Map();
      throw this.wrap(err, path);
    }
  }

  realpath(path: string): string {
    return toPath(this.resolve(path, true).comps);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const closed = new Set<Vfs>();
    for (const m of this.mounts) {
      if (closed.has(m.vfs)) continue;
      closed.add(m.vfs);
      m.vfs.close();
    }
    this.dirCache.clear();
    this.onClose?.();
  }
}
