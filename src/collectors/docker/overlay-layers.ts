// Which layers lie below a container's overlay2 writable layer: the first step of `docker diff`, kept apart from
// the tree comparison because it reads Docker's own bookkeeping (overlay2/<id>/lower, l/ links, layerdb), not the
// layers' contents.
//
// Layers: `<data-root>/overlay2/<mountId>/lower` = `l/<short>:l/<short>...` (top first; `l/<short>` symlinks to
// `../<id>/diff`), else the `-init` layer plus the image chain from layerdb (`sha256/<chain>/cache-id`, `parent`).
import { errorMessage, type ProblemLog } from '../../events/event.js';
import { joinPath, readTextLimited, type Vfs } from '../../fs/vfs.js';
import type { ContainerRecord } from './containers.js';
import { tryLstat } from './overlay-lower.js';

/** ProblemLog component of everything `docker diff` reports. */
export const COMPONENT = 'overlay-diff';

/** Layers below a writable layer (Docker itself refuses more than 125; the kernel ~500). */
export const MAX_OVERLAY_LAYERS = 512;
/** Largest `lower` / `link` / `cache-id` file read. */
const MAX_LAYER_META_BYTES = 64 * 1024;

export interface OverlayLayers {
  mountId: string;
  /** `<root>/overlay2/<mountId>/diff` */
  upper: string;
  /** Lower diff dirs, top first (the -init layer first). */
  lowers: string[];
  how: 'lower-file' | 'layerdb' | 'none';
}

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
