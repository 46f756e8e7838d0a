// What changed inside a container: its overlay2 writable layer compared with the layers below it, with the
// semantics of `docker diff`.
//
// `docker diff` (moby daemon/changes.go -> layer mountedLayer.Changes -> graphdriver Changes(mountID, initID)) on
// overlay2 compares the container's merged tree with its parent's merged tree (the `-init` layer over the image
// layers) using archive.ChangesDirs (moby pkg/archive/changes.go, the "naive diff" that overlay2 falls back to
// whenever the kernel's redirect_dir/metacopy may be on). Its rules, mimicked here:
//   - A: a path of the new tree absent from the old tree; every entry below an added directory is A too.
//   - C: a path in both whose stat differs (statDifferent: st_mode, uid, gid, rdev; for non-directories also
//     mtime to the nanosecond and size) or whose `security.capability` xattr differs; and every directory
//     (not itself A or C) that has a change below it (addChanges inserts it before its children).
//   - D: a path of the old tree absent from the new tree (deletions are not recursive).
//   - The -init layer (/etc/hosts, /etc/hostname, /etc/resolv.conf, /dev/console, /.dockerenv ...) is part of the
//     parent, so those paths never show. Docker's output order is Go map order (random); we sort by path.
// Only paths present in the writable layer can differ between the two trees, so we walk the upper dir and look
// the old tree up layer by layer: which layers (overlay-layers.ts), how the old tree is looked up through them with
// whiteouts and opaque directories (overlay-lower.ts), and the change set's timeline events (overlay-diff-events.ts)
// live beside this module, which holds the change rules.
import { createHash } from 'node:crypto';
import { errorMessage, type ProblemLog } from '../../events/event.js';
import { joinPath, type Vfs, type VfsStat } from '../../fs/vfs.js';
import type { ContainerRecord } from './containers.js';
import { COMPONENT, type OverlayLayers, resolveLayers } from './overlay-layers.js';
import { AUFS_OPQ, AUFS_WH, LowerView, isOpaqueDir, isWhiteout, tryLstat } from './overlay-lower.js';

export { FS_CHANGE_SOURCE, changeEvents } from './overlay-diff-events.js';
export { MAX_OVERLAY_LAYERS, type OverlayLayers, resolveLayers } from './overlay-layers.js';

/** Entries walked in one writable layer (upper dir) before stopping. */
export const MAX_DIFF_ENTRIES = 1_000_000;
/** Directory depth walked in a writable layer. */
export const MAX_DIFF_DEPTH = 256;
/** Bytes hashed per file with --hash; larger files get no sha256 (and a problem). */
export const MAX_HASH_BYTES = 4 * 1024 * 1024 * 1024;

export type ChangeKind = 'A' | 'C' | 'D';

export interface FsChange {
  kind: ChangeKind;
  /** Path inside the container. */
  path: string;
  /** The evidence: the upper-layer entry (file, directory, whiteout, or the opaque directory hiding the path). */
  evidencePath?: string;
  /** lstat of the evidence entry. */
  stat?: VfsStat;
  /** How a deletion is recorded. */
  deletedBy?: 'whiteout' | 'aufs-whiteout' | 'opaque-dir';
  /** The directory itself is opaque in the upper layer. */
  opaque?: boolean;
  /** The old-tree entry (lower layer) for C and D. */
  lowerPath?: string;
  linkTarget?: string;
  sha256?: string;
}

export interface DiffOptions {
  hash?: boolean;
  maxEntries?: number;
  maxDepth?: number;
}

export interface ContainerDiff {
  layers?: OverlayLayers;
  changes: FsChange[];
  /**
   * What this evidence form cannot show (xattrs invisible, whiteouts probably lost). Not written to the ProblemLog
   * here: triage reports them once per container (problems.json), `flotsam diff` prints them as warnings.
   */
  limitations: Array<{ path: string; reason: string }>;
}

function capability(x: Map<string, Uint8Array> | undefined): string {
  const v = x?.get('security.capability');
  return v ? Buffer.from(v).toString('hex') : '';
}

/** moby pkg/archive/changes_unix.go statDifferent. */
function statDifferent(a: VfsStat, b: VfsStat): boolean {
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid) return true;
  if (a.rdevMajor !== b.rdevMajor || a.rdevMinor !== b.rdevMinor) return true;
  if (a.type !== 'dir' && (a.mtime !== b.mtime || a.size !== b.size)) return true;
  return false;
}

function sha256Of(vfs: Vfs, path: string, size: bigint): string | undefined {
  if (size > BigInt(MAX_HASH_BYTES)) return undefined;
  const f = vfs.open(path);
  try {
    const h = createHash('sha256');
    const buf = new Uint8Array(1 << 20);
    let pos = 0;
    for (;;) {
      const n = f.read(buf, 0, buf.length, pos);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
    return h.digest('hex');
  } finally {
    f.close();
  }
}

const byPath = (a: FsChange, b: FsChange): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** The `docker diff` change set of one writable layer over its lower layers. */
export function diffLayers(
  vfs: Vfs,
  layers: OverlayLayers,
  problems: ProblemLog,
  host: string,
  options: DiffOptions = {},
): ContainerDiff {
  const maxEntries = options.maxEntries ?? MAX_DIFF_ENTRIES;
  const maxDepth = options.maxDepth ?? MAX_DIFF_DEPTH;
  const lower = new LowerView(vfs, layers.lowers);
  const changes: FsChange[] = [];
  const limitations: Array<{ path: string; reason: string }> = [];
  const warn = (path: string, reason: string): void => problems.warn(COMPONENT, path, reason, host);
  let entries = 0;
  let stopped = false;
  const upperXattrs = (p: string): Map<string, Uint8Array> | undefined => {
    try {
      return vfs.xattrs(p);
    } catch {
      return undefined;
    }
  };
  const xattrsVisible = upperXattrs(layers.upper) !== undefined;
  const suspectDirs: string[] = [];
  /** Upper directories that also exist below: where an opaque marker would matter. */
  let sharedDirs = 0;

  const detail = (c: FsChange): FsChange => {
    const st = c.stat;
    if (st?.type === 'symlink' && c.evidencePath) {
      try {
        c.linkTarget = vfs.readlink(c.evidencePath);
      } catch {
        // unreadable link
      }
    }
    if (options.hash && st?.type === 'file' && c.evidencePath && c.deletedBy === undefined) {
      try {
        c.sha256 = sha256Of(vfs, c.evidencePath, st.size);
        if (c.sha256 === undefined) warn(c.evidencePath, `not hashed: ${st.size} bytes exceeds MAX_HASH_BYTES ${MAX_HASH_BYTES}`);
      } catch (err) {
        warn(c.evidencePath, `cannot hash: ${errorMessage(err)}`);
      }
    }
    return c;
  };

  /** Walks upper dir `udir` (container path `cpath`); returns the number of changes added below it. */
  const walk = (udir: string, cpath: string, oldIsDir: boolean, hideLower: boolean, depth: number): number => {
    const start = changes.length;
    if (depth > maxDepth) {
      warn(udir, `deeper than ${maxDepth} levels (MAX_DIFF_DEPTH); not walked further`);
      return 0;
    }
    let names: string[];
    try {
      names = vfs.readdir(udir).map((e) => e.name).sort();
    } catch (err) {
      warn(udir, `cannot list: ${errorMessage(err)}`);
      return 0;
    }
    const x = upperXattrs(udir);
    const opaque = isOpaqueDir(vfs, udir, x) || names.includes(AUFS_OPQ);
    const hide = hideLower || opaque;
    const present = new Set<string>();
    const nameSet = new Set(names);
    for (const name of names) {
      if (stopped) break;
      if (++entries > maxEntries) {
        warn(layers.upper, `more than ${maxEntries} entries (MAX_DIFF_ENTRIES); the change list is incomplete`);
        stopped = true;
        break;
      }
      const up = joinPath(udir, name);
      const cp = joinPath(cpath, name);
      if (name.startsWith('.wh.')) {
        if (name.startsWith('.wh..wh.')) continue; // aufs metadata (.opq, .plnk, .aufs)
        const target = name.slice(AUFS_WH.length);
        const old = oldIsDir ? lower.lookup(joinPath(cpath, target)) : undefined;
        if (old) {
          changes.push(detail({ kind: 'D', path: joinPath(cpath, target), evidencePath: up, stat: tryLstat(vfs, up), deletedBy: 'aufs-whiteout', lowerPath: old.path }));
        }
        continue;
      }
      const st = tryLstat(vfs, up);
      if (!st) continue;
      if (isWhiteout(st)) {
        const old = oldIsDir ? lower.lookup(cp) : undefined;
        if (old) changes.push(detail({ kind: 'D', path: cp, evidencePath: up, stat: st, deletedBy: 'whiteout', lowerPath: old.path }));
        continue;
      }
      present.add(name);
      const old = oldIsDir ? lower.lookup(cp) : undefined;
      if (!old) {
        const ch: FsChange = { kind: 'A', path: cp, evidencePath: up, stat: st };
        if (st.type === 'dir' && isOpaqueDir(vfs, up, upperXattrs(up))) ch.opaque = true;
        changes.push(detail(ch));
        if (st.type === 'dir') walk(up, cp, false, true, depth + 1);
        continue;
      }
      const changed = statDifferent(old.st, st) || capability(lower.xattrs(old.path)) !== capability(upperXattrs(up));
      const at = changes.length;
      if (changed) changes.push(detail({ kind: 'C', path: cp, evidencePath: up, stat: st, lowerPath: old.path }));
      if (st.type === 'dir') {
        if (old.st.type === 'dir') sharedDirs++;
        const below = walk(up, cp, old.st.type === 'dir', hide, depth + 1);
        const childOpaque = isOpaqueDir(vfs, up, upperXattrs(up));
        if (changed && childOpaque) changes[at].opaque = true;
        if (below > 0 && !changed) {
          const c: FsChange = detail({ kind: 'C', path: cp, evidencePath: up, stat: st, lowerPath: old.path });
          if (childOpaque) c.opaque = true;
          changes.splice(at, 0, c);
        }
        if (below === 0 && !changed && old.st.type === 'dir' && !childOpaque) {
          // An upper directory is only created by copy-up (an entry created/deleted inside, or a metadata change).
          let empty = false;
          try {
            empty = vfs.readdir(up).length === 0;
          } catch {
            empty = false;
          }
          if (empty) suspectDirs.push(up);
        }
      }
    }
    if (hide && oldIsDir && !stopped) {
      // Opaque: every old entry not re-created in the upper dir is deleted.
      for (const [name, hit] of lower.children(cpath, maxEntries)) {
        if (present.has(name)) continue;
        if (nameSet.has(name) || nameSet.has(AUFS_WH + name)) continue; // whiteout already reported
        changes.push({ kind: 'D', path: joinPath(cpath, name), evidencePath: udir, stat: tryLstat(vfs, udir), deletedBy: 'opaque-dir', lowerPath: hit.path });
      }
    }
    return changes.length - start;
  };

  walk(layers.upper, '/', true, false, 0);
  changes.sort(byPath);

  if (!xattrsVisible && sharedDirs > 0) {
    const msg =
      `xattrs are not visible in this evidence form (${vfs.kind}): opaque directories (trusted.overlay.opaque) ` +
      `cannot be recognised, so entries hidden by a directory re-created inside the container are not listed as deleted`;
    limitations.push({ path: layers.upper, reason: msg });
  }
  for (const d of suspectDirs) {
    const msg =
      `upper-layer directory ${d} was copied up but holds nothing and matches its lower directory: ` +
      `whiteouts (character devices 0:0) are probably not visible in this evidence form; deletions may be missing`;
    limitations.push({ path: d, reason: msg });
  }
  return { layers, changes, limitations };
}

/** The change set of one container (undefined when it has no overlay2 writable layer in the evidence). */
export function containerDiff(
  vfs: Vfs,
  problems: ProblemLog,
  host: string,
  rec: ContainerRecord,
  options: DiffOptions = {},
): ContainerDiff | undefined {
  const layers = resolveLayers(vfs, problems, host, rec);
  if (!layers) return undefined;
  return diffLayers(vfs, layers, problems, host, options);
}

/** `A /path` lines like `docker diff`. */
export function formatDiff(changes: FsChange[]): string {
  return changes.map((c) => `${c.kind} ${c.path}\n`).join('');
}
