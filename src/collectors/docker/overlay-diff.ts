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
// the old tree up layer by layer. Overlay semantics (kernel Documentation/filesystems/overlayfs.rst):
// a whiteout is a character device 0:0; an opaque directory has xattr `trusted.overlay.opaque` (or
// `user.overlay.opaque` for userxattr mounts) = "y" and hides everything below it in lower layers. aufs-style
// layers (moby pkg/archive/whiteouts.go) use `.wh.<name>` files and `.wh..wh..opq`; both are understood in any layer.
// Layers: `<data-root>/overlay2/<mountId>/lower` = `l/<short>:l/<short>...` (top first; `l/<short>` symlinks to
// `../<id>/diff`), else the `-init` layer plus the image chain from layerdb (`sha256/<chain>/cache-id`, `parent`).
import { createHash } from 'node:crypto';
import { errorMessage, TimeDesc, type ProblemLog, type TimelineEvent } from '../../events/event.js';
import { joinPath, readTextLimited, type Vfs, type VfsStat } from '../../fs/vfs.js';
import type { ContainerRecord } from './containers.js';

export const FS_CHANGE_SOURCE = 'docker:fs-change';
const COMPONENT = 'overlay-diff';

/** Layers below a writable layer (Docker itself refuses more than 125; the kernel ~500). */
export const MAX_OVERLAY_LAYERS = 512;
/** Entries walked in one writable layer (upper dir) before stopping. */
export const MAX_DIFF_ENTRIES = 1_000_000;
/** Directory depth walked in a writable layer. */
export const MAX_DIFF_DEPTH = 256;
/** Bytes hashed per file with --hash; larger files get no sha256 (and a problem). */
export const MAX_HASH_BYTES = 4 * 1024 * 1024 * 1024;
/** Largest `lower` / `link` / `cache-id` file read. */
const MAX_LAYER_META_BYTES = 64 * 1024;

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

export interface OverlayLayers {
  mountId: string;
  /** `<root>/overlay2/<mountId>/diff` */
  upper: string;
  /** Lower diff dirs, top first (the -init layer first). */
  lowers: string[];
  how: 'lower-file' | 'layerdb' | 'none';
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

function tryLstat(vfs: Vfs, path: string): VfsStat | undefined {
  try {
    return vfs.lstat(path);
  } catch {
    return undefined;
  }
}

function isWhiteout(st: VfsStat): boolean {
  return st.type === 'char' && st.rdevMajor === 0 && st.rdevMinor === 0;
}

const AUFS_WH = '.wh.';
const AUFS_OPQ = '.wh..wh..opq';

/** Resolves the lower layers of an overlay2 mount id: the `lower` file, else layerdb. */
export function resolveLayers(vfs: Vfs, problems: ProblemLog, host: string, rec: ContainerRecord): OverlayLayers | undefined {
  const mountId = rec.layer?.mountId;
  if (!mountId) return undefined;
  const warn = (path: string, reason: string): void => problems.warn(COMPONENT, path, reason, host);
  if (mountId.includes('/') || mountId === '..' || mountId === '.') {
    warn(rec.layer!.path, `mount-id ${JSON.stringify(mountId.slice(0, 80))} is not a plain name`);
    return undefined;
  }
  const o2 = joinPath(rec.root, 'overlay2');
  const dir = joinPath(o2, mountId);
  const upper = joinPath(dir, 'diff');
  if (tryLstat(vfs, upper)?.type !== 'dir') {
    return undefined; // no writable layer in the evidence (other drivers, removed layer): nothing to diff
  }
  const lowerFile = joinPath(dir, 'lower');
  if (tryLstat(vfs, lowerFile)) {
    try {
      const text = readTextLimited(vfs, lowerFile, MAX_LAYER_META_BYTES).trim();
      const parts = text === '' ? [] : text.split(':');
      if (parts.length > MAX_OVERLAY_LAYERS) {
        warn(lowerFile, `${parts.length} lower layers, limit ${MAX_OVERLAY_LAYERS} (MAX_OVERLAY_LAYERS); the rest ignored`);
        parts.length = MAX_OVERLAY_LAYERS;
      }
      const lowers: string[] = [];
      let ok = true;
      for (const p of parts) {
        const d = resolveShortLink(vfs, o2, p);
        if (d === undefined) {
          warn(lowerFile, `lower layer ${JSON.stringify(p.slice(0, 80))} cannot be resolved inside ${o2}`);
          ok = false;
          continue;
        }
        lowers.push(d);
      }
      if (ok || lowers.length > 0) return { mountId, upper, lowers, how: 'lower-file' };
    } catch (err) {
      warn(lowerFile, `cannot read: ${errorMessage(err)}`);
    }
  }
  // Fallback: -init layer + image chain from layerdb.
  const lowers: string[] = [];
  const init = rec.layer?.initId ? joinPath(o2, rec.layer.initId, 'diff') : joinPath(o2, `${mountId}-init`, 'diff');
  if (tryLstat(vfs, init)?.type === 'dir') lowers.push(init);
  let chain = rec.layer?.parent;
  const seen = new Set<string>();
  const layerdb = joinPath(rec.root, 'image', rec.storageDriver || 'overlay2', 'layerdb');
  while (chain) {
    if (seen.has(chain) || seen.size >= MAX_OVERLAY_LAYERS) {
      warn(layerdb, `layer chain from ${rec.layer?.parent} loops or exceeds ${MAX_OVERLAY_LAYERS} layers`);
      break;
    }
    seen.add(chain);
    const m = /^(sha256):([0-9a-f]{64})$/.exec(chain);
    if (!m) break;
    const ldir = joinPath(layerdb, m[1], m[2]);
    let cacheId: string;
    try {
      cacheId = readTextLimited(vfs, joinPath(ldir, 'cache-id'), MAX_LAYER_META_BYTES).trim();
    } catch (err) {
      warn(ldir, `cannot read cache-id: ${errorMessage(err)}`);
      break;
    }
    if (cacheId.includes('/')) break;
    lowers.push(joinPath(o2, cacheId, 'diff'));
    try {
      chain = readTextLimited(vfs, joinPath(ldir, 'parent'), MAX_LAYER_META_BYTES).trim();
    } catch {
      chain = undefined;
    }
  }
  return { mountId, upper, lowers, how: lowers.length > 0 ? 'layerdb' : 'none' };
}

/** `l/<short>` -> the diff dir it links to (kept inside overlay2/), via the symlink or the layers' `link` files. */
function resolveShortLink(vfs: Vfs, o2: string, entry: string): string | undefined {
  const m = /^l\/([A-Za-z0-9]+)$/.exec(entry);
  if (!m) {
    // Older overlay2 wrote absolute or relative diff paths directly.
    const d = entry.startsWith('/') ? joinPath(entry) : joinPath(o2, entry);
    return d.startsWith(o2 + '/') && tryLstat(vfs, d)?.type === 'dir' ? d : undefined;
  }
  const link = joinPath(o2, 'l', m[1]);
  try {
    const target = vfs.readlink(link);
    const d = target.startsWith('/') ? joinPath(target) : joinPath(o2, 'l', target);
    if (d.startsWith(o2 + '/') && tryLstat(vfs, d)?.type === 'dir') return d;
  } catch {
    // fall through to the link files
  }
  try {
    for (const e of vfs.readdir(o2)) {
      if (e.type !== 'dir' || e.name === 'l') continue;
      const lf = joinPath(o2, e.name, 'link');
      if (!tryLstat(vfs, lf)) continue;
      if (readTextLimited(vfs, lf, MAX_LAYER_META_BYTES).trim() === m[1]) return joinPath(o2, e.name, 'diff');
    }
  } catch {
    // unreadable overlay2/
  }
  return undefined;
}

interface LowerHit {
  path: string;
  st: VfsStat;
}

/** The parent's merged tree (the lower layers), looked up without mounting. */
class LowerView {
  private statCache = new Map<string, VfsStat | null>();
  private xattrCache = new Map<string, Map<string, Uint8Array> | undefined>();
  readonly xattrsVisible: boolean;

  constructor(
    readonly vfs: Vfs,
    readonly layers: string[],
  ) {
    this.xattrsVisible = layers.length === 0 || vfs.xattrs(layers[0]) !== undefined;
  }

  lstat(p: string): VfsStat | undefined {
    let st = this.statCache.get(p);
    if (st === undefined) {
      st = tryLstat(this.vfs, p) ?? null;
      this.statCache.set(p, st);
    }
    return st ?? undefined;
  }

  xattrs(p: string): Map<string, Uint8Array> | undefined {
    if (!this.xattrCache.has(p)) {
      let x: Map<string, Uint8Array> | undefined;
      try {
        x = this.vfs.xattrs(p);
      } catch {
        x = undefined;
      }
      this.xattrCache.set(p, x);
    }
    return this.xattrCache.get(p);
  }

  isOpaque(dir: string): boolean {
    return isOpaqueDir(this.vfs, dir, this.xattrs(dir)) || this.lstat(joinPath(dir, AUFS_OPQ)) !== undefined;
  }

  private aufsWhiteout(layer: string, comps: string[], k: number): boolean {
    const parent = joinPath(layer, ...comps.slice(0, k));
    return this.lstat(joinPath(parent, AUFS_WH + comps[k])) !== undefined;
  }

  /**
   * Walks one layer along `comps`. `found`: the entry; `absent`: not in this layer (lower layers may have it);
   * `hidden`: a whiteout, a non-directory ancestor or an opaque ancestor ends the search here.
   */
  private walk(layer: string, comps: string[]): { status: 'found' | 'absent' | 'hidden'; hit?: LowerHit; opaqueAbove: boolean } {
    let opaqueAbove = false;
    for (let k = 0; k < comps.length; k++) {
      if (this.aufsWhiteout(layer, comps, k)) return { status: 'hidden', opaqueAbove };
      const p = joinPath(layer, ...comps.slice(0, k + 1));
      const st = this.lstat(p);
      if (!st) return { status: opaqueAbove ? 'hidden' : 'absent', opaqueAbove };
      if (isWhiteout(st)) return { status: 'hidden', opaqueAbove };
      if (k === comps.length - 1) return { status: 'found', hit: { path: p, st }, opaqueAbove };
      if (st.type !== 'dir') return { status: 'hidden', opaqueAbove };
      if (this.isOpaque(p)) opaqueAbove = true;
    }
    return { status: 'absent', opaqueAbove };
  }

  lookup(cpath: string): LowerHit | undefined {
    const comps = cpath.split('/').filter((c) => c !== '');
    if (comps.length === 0) return undefined;
    for (const layer of this.layers) {
      const r = this.walk(layer, comps);
      if (r.status === 'found') return r.hit;
      if (r.status === 'hidden') return undefined;
    }
    return undefined;
  }

  /** Merged children of a directory of the old tree. */
  children(cpath: string, limit: number): Map<string, LowerHit> {
    const comps = cpath.split('/').filter((c) => c !== '');
    const out = new Map<string, LowerHit>();
    const gone = new Set<string>();
    for (const layer of this.layers) {
      let dir: string;
      let stop = false;
      if (comps.length === 0) dir = layer;
      else {
        const r = this.walk(layer, comps);
        if (r.status === 'hidden') break;
        if (r.status === 'absent') continue;
        if (r.hit!.st.type !== 'dir') break;
        dir = r.hit!.path;
        if (r.opaqueAbove) stop = true;
      }
      if (this.isOpaque(dir)) stop = true;
      let entries: string[] = [];
      try {
        entries = this.vfs.readdir(dir).map((e) => e.name);
      } catch {
        entries = [];
      }
      for (const name of entries) {
        if (out.size >= limit) break;
        if (name.startsWith(AUFS_WH)) {
          if (!name.startsWith('.wh..wh.')) gone.add(name.slice(AUFS_WH.length));
          continue;
        }
        if (out.has(name) || gone.has(name)) continue;
        const p = joinPath(dir, name);
        const st = this.lstat(p);
        if (!st) continue;
        if (isWhiteout(st)) {
          gone.add(name);
          continue;
        }
        out.set(name, { path: p, st });
      }
      if (stop) break;
    }
    return out;
  }
}

function isOpaqueDir(_vfs: Vfs, _dir: string, x: Map<string, Uint8Array> | undefined): boolean {
  if (!x) return false;
  for (const key of ['trusted.overlay.opaque', 'user.overlay.opaque']) {
    const v = x.get(key);
    if (v && v.length >= 1 && v[0] === 0x79 /* y */) return true;
  }
  return false;
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

const TIMES: Array<['atime' | 'mtime' | 'ctime' | 'birthtime', string]> = [
  ['mtime', TimeDesc.modification],
  ['atime', TimeDesc.lastAccess],
  ['ctime', TimeDesc.metadataModification],
  ['birthtime', TimeDesc.creation],
];

const VERB: Record<ChangeKind, string> = { A: 'added', C: 'changed', D: 'deleted' };

/**
 * Timeline events of a change set: one event per time the evidence entry keeps (mtime, atime, ctime, crtime) of
 * the upper-layer entry (for D: the whiteout's own times, or the opaque directory's).
 */
export function changeEvents(rec: ContainerRecord, diff: ContainerDiff, host: string): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  const who = `${rec.name || '?'} (${rec.id.slice(0, 12)})`;
  for (const c of diff.changes) {
    const st = c.stat;
    if (!st || !c.evidencePath) continue;
    const attrs: Record<string, unknown> = {
      change: c.kind,
      container_path: c.path,
      file_type: st.type,
      mode: '0' + st.mode.toString(8),
      uid: st.uid,
      gid: st.gid,
      size: st.size.toString(),
      layer: diff.layers?.mountId,
    };
    if (c.deletedBy) attrs.deleted_by = c.deletedBy;
    if (c.opaque) attrs.opaque = true;
    if (c.lowerPath) attrs.lower_path = c.lowerPath;
    if (c.linkTarget !== undefined) attrs.link_target = c.linkTarget;
    if (c.sha256) attrs.sha256 = c.sha256;
    if (st.type === 'file' && (st.mode & 0o111) !== 0 && c.kind !== 'D') attrs.executable = true;
    for (const [key, desc] of TIMES) {
      const t = st[key];
      if (t === undefined) continue;
      out.push({
        time: t,
        timestamp_desc: desc,
        source: FS_CHANGE_SOURCE,
        host,
        container_id: rec.id,
        container_name: rec.name,
        message: `${c.kind} ${c.path}: file ${VERB[c.kind]} in container ${who}` + (c.deletedBy === 'opaque-dir' ? ' (hidden by an opaque directory)' : ''),
        path: c.evidencePath,
        inode: st.ino,
        raw_time: t.toString(),
        attrs,
      });
    }
  }
  return out;
}

