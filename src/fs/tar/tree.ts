// The in-memory directory tree of an indexed tar archive: tar append semantics (a later member of the same path
// wins, with a problem), implicit parent directories for members listed without them, hard links sharing the
// inode of the member they name, names normalised inside the archive root ("/x", "./x", "a/../../x" -> "/x").
// References: POSIX.1-2017 pax(1) (hard links name an earlier member; extraction order); GNU tar 1.34 manual,
// "Overwriting existing files" (later members replace earlier ones).
import type { FileType } from '../vfs.js';
import type { TarIndexProblem, TarMember } from './archive.js';
import { BLOCK_SIZE, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG } from './structs.js';

export interface TarInode {
  ino: bigint;
  type: FileType;
  /** Permission bits (07777). */
  perm: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  mtime?: bigint;
  atime?: bigint;
  ctime?: bigint;
  rdevMajor: number;
  rdevMinor: number;
  linkTarget?: string;
  xattrs: Map<string, Uint8Array>;
  /** The member holding the data (regular files) and metadata; undefined for implicit directories. */
  member?: TarMember;
}

export interface TarNode {
  inode: TarInode;
  children?: Map<string, TarNode>;
}

export interface TarTree {
  root: TarNode;
  problems: TarIndexProblem[];
}

const TYPE_BITS: Record<FileType, number> = {
  file: S_IFREG,
  dir: S_IFDIR,
  symlink: S_IFLNK,
  char: S_IFCHR,
  block: S_IFBLK,
  fifo: S_IFIFO,
  socket: 0o140000,
  unknown: 0,
};

export function modeOf(inode: TarInode): number {
  return TYPE_BITS[inode.type] | inode.perm;
}

/** Path components of a member name inside the archive root, and whether `..` or a leading `/` had to be dropped. */
export function normaliseName(name: string): { parts: string[]; escaped: boolean; absolute: boolean } {
  const parts: string[] = [];
  let escaped = false;
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (parts.length === 0) escaped = true;
      else parts.pop();
      continue;
    }
    parts.push(c);
  }
  return { parts, escaped, absolute: name.startsWith('/') };
}

function dirInode(ino: bigint): TarInode {
  return { ino, type: 'dir', perm: 0o755, uid: 0, gid: 0, size: 0, nlink: 2, rdevMajor: 0, rdevMinor: 0, xattrs: new Map() };
}

function inodeOf(m: TarMember): TarInode {
  const type: FileType = m.type === 'hardlink' ? 'file' : m.type;
  return {
    ino: BigInt(m.blockOffset / BLOCK_SIZE),
    type,
    perm: m.mode,
    uid: m.uid,
    gid: m.gid,
    size: type === 'file' ? m.size : type === 'symlink' ? Buffer.byteLength(m.linkname) : 0,
    nlink: 1,
    mtime: m.mtime,
    atime: m.atime,
    ctime: m.ctime,
    rdevMajor: type === 'char' || type === 'block' ? m.devmajor : 0,
    rdevMinor: type === 'char' || type === 'block' ? m.devminor : 0,
    linkTarget: type === 'symlink' ? m.linkname : undefined,
    xattrs: m.xattrs,
    member: m,
  };
}

/**
 * Builds the tree. Synthetic inode numbers: a member's is the block number of its header in the (inflated) stream
 * (so it locates the member); implicit directories get numbers past the stream's last block.
 */
export function buildTree(members: TarMember[], streamSize: number): TarTree {
  const problems: TarIndexProblem[] = [];
  let nextImplicit = BigInt(Math.ceil(streamSize / BLOCK_SIZE) + 1);
  const implicit = new Set<TarInode>();
  const newDir = (): TarNode => {
    const inode = dirInode(nextImplicit++);
    implicit.add(inode);
    return { inode, children: new Map() };
  };
  const root = newDir();
  /** Where each path's current node came from (for duplicate messages). */
  const seen = new Map<string, number>();

  const lookup = (parts: string[]): TarNode | undefined => {
    let n: TarNode | undefined = root;
    for (const c of parts) {
      n = n?.children?.get(c);
      if (!n) return undefined;
    }
    return n;
  };

  for (const m of members) {
    const { parts, escaped, absolute } = normaliseName(m.name);
    const path = '/' + parts.join('/');
    if (escaped) problems.push({ offset: m.blockOffset, name: m.name, reason: `member name climbs above the archive root with '..'; kept as ${path}` });
    else if (absolute && m.index === 0) {
      // Absolute names (tar -P) are common and harmless once normalised; one note per archive is enough.
      problems.push({ offset: m.blockOffset, name: m.name, reason: `member names are absolute (tar -P); read relative to the archive root` });
    }
    // Parents, created implicitly when the archive does not list them (first).
    let parent = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const c = parts[i] as string;
      let child = parent.children!.get(c);
      if (!child || child.inode.type !== 'dir') {
        if (child) problems.push({ offset: m.blockOffset, name: m.name, reason: `/${parts.slice(0, i + 1).join('/')} is a ${child.inode.type} in the archive but ${path} needs it to be a directory; replaced by a directory` });
        child = newDir();
        parent.children!.set(c, child);
      }
      parent = child;
    }
    const leaf = parts[parts.length - 1];
    const existing = leaf === undefined ? root : parent.children!.get(leaf);

    let inode: TarInode;
    if (m.type === 'hardlink') {
      const t = normaliseName(m.linkname);
      const target = lookup(t.parts);
      if (target && target.inode.type !== 'dir' && t.parts.length > 0) {
        inode = target.inode;
        inode.nlink++;
      } else {
        problems.push({
          offset: m.blockOffset,
          name: m.name,
          reason: target
            ? `hard link to a directory (${m.linkname}) refused; shown as an empty file`
            : `hard link to ${m.linkname}, which no earlier member provides; shown as an empty file`,
        });
        inode = { ...inodeOf(m), type: 'file', size: 0, member: undefined };
      }
    } else {
      inode = inodeOf(m);
    }

    if (existing) {
      const prev = seen.get(path);
      const wasImplicit = implicit.has(existing.inode);
      if (!wasImplicit && prev !== undefined) {
        problems.push({
          offset: m.blockOffset,
          name: m.name,
          reason: `${path} appears again in the archive (earlier member at offset ${prev}); the later one wins (tar append semantics)`,
        });
      }
      if (existing.inode.type === 'dir' && inode.type === 'dir') {
        // Same directory described again (or an implicit one described late): new metadata, children kept.
        existing.inode = inode;
        seen.set(path, m.blockOffset);
        continue;
      }
      if (existing.inode.type === 'dir' && existing.children && existing.children.size > 0) {
        problems.push({ offset: m.blockOffset, name: m.name, reason: `${path} replaces a directory of ${existing.children.size} entries with a ${inode.type}; its entries are hidden` });
      }
      if (existing === root) {
        problems.push({ offset: m.blockOffset, name: m.name, reason: `the archive root is given as a ${inode.type}; ignored` });
        continue;
      }
    } else if (leaf === undefined) {
      continue;
    }
    const node: TarNode = inode.type === 'dir' ? { inode, children: new Map() } : { inode };
    if (leaf === undefined) {
      if (inode.type === 'dir') root.inode = inode;
    } else {
      parent.children!.set(leaf, node);
    }
    seen.set(path, m.blockOffset);
  }

  // Directory link counts: 2 + subdirectories.
  const stack: TarNode[] = [root];
  while (stack.length > 0) {
    const n = stack.pop() as TarNode;
    if (!n.children) continue;
    let sub = 0;
    for (const c of n.children.values()) {
      if (c.inode.type === 'dir') {
        sub++;
        stack.push(c);
      }
    }
    n.inode.nlink = 2 + sub;
  }
  return { root, problems };
}
