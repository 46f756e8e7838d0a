// The old tree of `docker diff` (the parent's merged tree: the lower layers, top first), looked up without mounting,
// and the overlay markers that hide entries in it. Split from overlay-diff.ts so the overlay lookup rules can be read
// apart from the change rules that use them.
//
// Overlay semantics (kernel Documentation/filesystems/overlayfs.rst):
// a whiteout is a character device 0:0; an opaque directory has xattr `trusted.overlay.opaque` (or
// `user.overlay.opaque` for userxattr mounts) = "y" and hides everything below it in lower layers. aufs-style
// layers (moby pkg/archive/whiteouts.go) use `.wh.<name>` files and `.wh..wh..opq`; both are understood in any layer.
import { joinPath, type Vfs, type VfsStat } from '../../fs/vfs.js';

export function tryLstat(vfs: Vfs, path: string): VfsStat | undefined {
  try {
    return vfs.lstat(path);
  } catch {
    return undefined;
  }
}

export function isWhiteout(st: VfsStat): boolean {
  return st.type === 'char' && st.rdevMajor === 0 && st.rdevMinor === 0;
}

export const AUFS_WH = '.wh.';
export const AUFS_OPQ = '.wh..wh..opq';

export interface LowerHit {
  path: string;
  st: VfsStat;
}

/** The parent's merged tree (the lower layers), looked up without mounting. */
export class LowerView {
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

export function isOpaqueDir(_vfs: Vfs, _dir: string, x: Map<string, Uint8Array> | undefined): boolean {
  if (!x) return false;
  for (const key of ['trusted.overlay.opaque', 'user.overlay.opaque']) {
    const v = x.get(key);
    if (v && v.length >= 1 && v[0] === 0x79 /* y */) return true;
  }
  return false;
}
