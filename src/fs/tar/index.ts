// tar / tar.gz archives of a host's files (live-response collections) as a read-only VFS.
// probeTar() looks at content only: "ustar" at offset 257 of the first block with a valid header checksum (plain
// tar), or a gzip member whose first inflated 512 bytes are such a header (.tar.gz/.tgz). openTarArchive() indexes
// the archive once (headers only) and builds the tree; member data is read on demand.
// References: POSIX.1-2017 pax(1); GNU tar 1.34 manual; RFC 1952. Format notes: docs/formats/tar.md.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { type StreamReader, type TarIndexProblem, MAX_MEMBERS, indexTar } from './archive.js';
import { TarError } from './errors.js';
import { MAX_INFLATED_BYTES, inflateHead, isGzip, spoolGzip } from './gzip-spool.js';
import { hasUstarMagic, verifyChecksum } from './parse.js';
import { BLOCK_SIZE } from './structs.js';
import { type TarNode, buildTree } from './tree.js';
import { TarVfs } from './vfs.js';

export { TarError } from './errors.js';
export { TarVfs, MAX_SYMLINK_HOPS } from './vfs.js';
export { indexTar, MAX_MEMBERS, MAX_RESYNC_BYTES, type TarMember, type TarIndex, type StreamReader } from './archive.js';
export { MAX_INFLATED_BYTES, spoolGzip } from './gzip-spool.js';
export { MAX_PAX_HEADER_BYTES, MAX_LONG_NAME_BYTES, MAX_PAX_RECORDS } from './parse.js';
export { buildTree } from './tree.js';

/** Wrapper directories (one directory alone at a level) we look through when choosing the evidence root. */
export const MAX_ROOT_WRAPPERS = 4;
/** Bytes of a .tar.gz read to probe its first inflated header. */
export const PROBE_GZIP_BYTES = 64 * 1024;

/** Names that mark a Linux root or a bare Docker data root. */
const ROOT_MARKERS = ['etc', 'var', 'usr', 'root', 'home', 'opt', 'srv', 'boot'];
const DATA_ROOT_MARKERS = ['containers', 'image', 'graph'];
/** UAC (Unix-like Artifacts Collector) keeps the host's files under "[root]". */
const UAC_ROOT = '[root]';

export type TarCompression = 'none' | 'gzip';

export interface TarProblem {
  /** Member name or archive offset the problem is about. */
  path: string;
  reason: string;
}

export interface OpenTarOptions {
  /** Where the inflated copy of a .tar.gz goes (default os.tmpdir()); never put it beside the evidence. */
  tmpDir?: string;
  /** Limit on the inflated size of a .tar.gz (default MAX_INFLATED_BYTES). */
  maxInflatedBytes?: number;
  maxMembers?: number;
  /**
   * Which archive directory is the evidence root: a path inside the archive, or 'auto' (default): the archive
   * root, unless it holds a single wrapper directory (`sample-host/`, `[root]/`, ...) in front of a Linux root or a
   * Docker data root.
   */
  root?: string;
}

export interface OpenedTar {
  vfs: TarVfs;
  compression: TarCompression;
  problems: TarProblem[];
}

function readHead(path: string, len: number): Uint8Array {
  const fd = fs.openSync(path, 'r');
  try {
    const buf = new Uint8Array(len);
    const n = fs.readSync(fd, buf, 0, len, 0);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

function isTarHeader(block: Uint8Array): boolean {
  return block.length >= BLOCK_SIZE && hasUstarMagic(block) && verifyChecksum(block).ok;
}

/** What kind of tar archive the file is by content, or undefined when it is none. */
export function probeTar(path: string): TarCompression | undefined {
  let head: Uint8Array;
  try {
    head = readHead(path, PROBE_GZIP_BYTES);
  } catch {
    return undefined;
  }
  if (isTarHeader(head.subarray(0, BLOCK_SIZE))) return 'none';
  if (isGzip(head) && isTarHeader(inflateHead(head, BLOCK_SIZE))) return 'gzip';
  return undefined;
}

/** The archive directory used as the evidence root (see OpenTarOptions.root). */
export function chooseRoot(top: TarNode): string[] {
  const parts: string[] = [];
  let node = top;
  for (let depth = 0; depth <= MAX_ROOT_WRAPPERS; depth++) {
    const kids = node.children;
    if (!kids) break;
    const isDirNamed = (n: string): boolean => kids.get(n)?.inode.type === 'dir';
    if (ROOT_MARKERS.some(isDirNamed) || DATA_ROOT_MARKERS.filter(isDirNamed).length >= 2) return parts;
    const uac = kids.get(UAC_ROOT);
    let next: [string, TarNode] | undefined;
    if (uac?.children) next = [UAC_ROOT, uac];
    else if (kids.size === 1) {
      const [name, only] = [...kids.entries()][0] as [string, TarNode];
      if (only.children) next = [name, only];
    }
    if (!next) break;
    parts.push(next[0]);
    node = next[1];
  }
  // No marker behind the wrappers: the archive root stays the evidence root.
  return [];
}

function fdReader(fd: number, size: number): StreamReader {
  return {
    size,
    read: (buf, off, len, pos) => (pos >= size ? 0 : fs.readSync(fd, buf, off, Math.min(len, size - pos), pos)),
  };
}

/** Opens a tar or tar.gz archive as a VFS; damage gives problems and partial results, not errors. */
export function openTarArchive(path: string, opts: OpenTarOptions = {}): OpenedTar {
  const compression = probeTar(path);
  if (!compression) throw new TarError('EFORMAT', `${path}: not a tar archive (no ustar header at offset 257, not a gzip-compressed one)`);
  const location = nodePath.resolve(path);
  const problems: TarProblem[] = [];
  let fd: number;
  let size: number;
  if (compression === 'gzip') {
    const spool = spoolGzip(path, { tmpDir: opts.tmpDir, maxBytes: opts.maxInflatedBytes ?? MAX_INFLATED_BYTES });
    fd = spool.fd;
    size = spool.size;
    if (spool.error) problems.push({ path: location, reason: `gzip stream: ${spool.error} (after ${size} inflated bytes); partial results` });
  } else {
    fd = fs.openSync(path, 'r');
    size = fs.fstatSync(fd).size;
  }
  try {
    const index = indexTar(fdReader(fd, size), { maxMembers: opts.maxMembers ?? MAX_MEMBERS });
    const tree = buildTree(index.members, size);
    const toProblem = (p: TarIndexProblem): TarProblem => ({ path: p.name ?? `${location}@${p.offset}`, reason: p.reason });
    problems.push(...index.problems.map(toProblem), ...tree.problems.map(toProblem));

    let rootParts: string[];
    let root: TarNode | undefined = tree.root;
    if (opts.root === undefined || opts.root === 'auto') {
      rootParts = chooseRoot(tree.root);
    } else {
      rootParts = opts.root.split('/').filter((c) => c !== '' && c !== '.');
    }
    for (const c of rootParts) root = root?.children?.get(c);
    if (!root?.children) throw new TarError('EFORMAT', `${path}: root ${opts.root} is not a directory of the archive`);
    const rootInArchive = '/' + rootParts.join('/');
    const vfs = new TarVfs({
      root,
      rootInArchive,
      fd,
      location: rootInArchive === '/' ? location : `${location}:${rootInArchive}`,
      index,
      compressed: compression === 'gzip',
    });
    return { vfs, compression, problems };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}
