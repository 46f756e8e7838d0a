// Docker image inventory and events from a data root's `image/<driver>/` (Docker >= 1.10) and `graph/` (older).
// This module reads the image/<driver>/ layout (imagedb, layerdb) and puts both layouts together (readImages); the
// limits, ImageRecord and the JSON parsers are in image-config.ts, the graph/ reader in image-graph.ts and the
// events in image-events.ts, all re-exported here.
//
// References:
//  - moby/moby `image/fs.go` (imagedb/content/sha256/<id> = the image config; imagedb/metadata/sha256/<id>/
//    {lastUpdated,parent}); repositories.json, image configs and graph/: see image-config.ts and image-graph.ts.
//  - moby/moby `layer/layer.go` CreateChainID: chainID(0) = diffID(0), chainID(n) = sha256(chainID(n-1) + " " +
//    diffID(n)); `layer/filestore.go`: layerdb/sha256/<chain hex>/{diff,size,cache-id,parent,tar-split.json.gz}.
import { createHash } from 'node:crypto';
import { errorMessage } from '../../events/event.js';
import { isDir, joinPath } from '../../fs/vfs.js';
import type { CollectorContext } from '../types.js';
import { timeValue } from './containers.js';
import {
  COMPONENT,
  configFields,
  type ImageLayer,
  type ImageRecord,
  MAX_IMAGE_CONFIG_BYTES,
  MAX_IMAGES,
  MAX_LAYERS,
  MAX_SMALL_META_BYTES,
  readHistory,
  readRepositories,
} from './image-config.js';
import { readGraphImages } from './image-graph.js';
import { getObj, getStrArray, HEX64, readJsonObject, readSmallText, sha256Hex, type Warn } from './json-guard.js';

export {
  COMPONENT,
  type ImageHistoryStep,
  type ImageLayer,
  type ImageRecord,
  MAX_HISTORY,
  MAX_IMAGE_CONFIG_BYTES,
  MAX_IMAGE_ENV,
  MAX_IMAGE_LABELS,
  MAX_IMAGES,
  MAX_LAYERS,
  MAX_MESSAGE_CREATED_BY,
  MAX_REFERENCES,
  MAX_SMALL_META_BYTES,
} from './image-config.js';
export { imageEvents } from './image-events.js';

/** moby layer.CreateChainID. */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    if (out.length === 0) out.push(d);
    else out.push('sha256:' + createHash('sha256').update(`${out[out.length - 1]} ${d}`).digest('hex'));
  }
  return out;
}

function readLayers(ctx: CollectorContext, driverDir: string, imagePath: string, diffIds: string[]): ImageLayer[] {
  const { vfs, problems, host } = ctx;
  const out: ImageLayer[] = [];
  const chains = chainIds(diffIds);
  for (let i = 0; i < diffIds.length; i++) {
    const chainId = chains[i];
    const hex = sha256Hex(chainId);
    if (hex === undefined || !chainId.startsWith('sha256:')) {
      problems.warn(COMPONENT, imagePath, `rootfs.diff_ids[${i}] ${JSON.stringify(diffIds[i].slice(0, 80))} is not sha256:<64 hex>`, host);
      out.push({ diffId: diffIds[i], chainId, path: '', present: false });
      continue;
    }
    const path = joinPath(driverDir, 'layerdb', 'sha256', hex);
    if (!isDir(vfs, path)) {
      problems.warn(COMPONENT, path, `layerdb entry for layer ${i} (diff ${diffIds[i]}) of image ${imagePath} is missing`, host);
      out.push({ diffId: diffIds[i], chainId, path, present: false });
      continue;
    }
    const read = (f: string): string | undefined =>
      readSmallText(vfs, problems, COMPONENT, joinPath(path, f), MAX_SMALL_META_BYTES, host, f === 'parent');
    const layer: ImageLayer = {
      diffId: diffIds[i],
      chainId,
      path,
      present: true,
      size: read('size'),
      cacheId: read('cache-id'),
      parent: read('parent'),
    };
    const diff = read('diff');
    if (diff !== undefined && diff !== diffIds[i]) {
      problems.warn(COMPONENT, joinPath(path, 'diff'), `diff ${diff} differs from the image's diff_id ${diffIds[i]}`, host);
    }
    const expectedParent = i > 0 ? chains[i - 1] : undefined;
    if (layer.parent !== expectedParent && !(layer.parent === undefined && expectedParent === undefined)) {
      problems.warn(COMPONENT, joinPath(path, 'parent'), `parent ${layer.parent ?? '(none)'}, expected ${expectedParent ?? '(none)'}`, host);
    }
    out.push(layer);
  }
  return out;
}

/** Images of one image/<driver>/ directory. */
function readDriverImages(ctx: CollectorContext, root: string, driver: string): ImageRecord[] {
  const { vfs, problems, host } = ctx;
  const driverDir = joinPath(root, 'image', driver);
  const refs = readRepositories(ctx, joinPath(driverDir, 'repositories.json'), false);
  const contentDir = joinPath(driverDir, 'imagedb', 'content', 'sha256');
  const out: ImageRecord[] = [];
  let names: string[] = [];
  if (isDir(vfs, contentDir)) {
    try {
      names = vfs.readdir(contentDir).filter((e) => e.type === 'file').map((e) => e.name);
    } catch (err) {
      problems.warn(COMPONENT, contentDir, `cannot list: ${errorMessage(err)}`, host);
    }
  }
  if (names.length > MAX_IMAGES) {
    problems.warn(COMPONENT, contentDir, `${names.length} images, limit ${MAX_IMAGES}`, host);
    names = names.slice(0, MAX_IMAGES);
  }
  const seen = new Set<string>();
  for (const name of names) {
    const id = 'sha256:' + name;
    seen.add(id);
    const configPath = joinPath(contentDir, name);
    const idValid = HEX64.test(name);
    if (!idValid) problems.warn(COMPONENT, configPath, `image id ${JSON.stringify(name)} is not 64 hex characters`, host);
    const cfg = readJsonObject(vfs, problems, COMPONENT, configPath, MAX_IMAGE_CONFIG_BYTES, host);
    const warn: Warn = (r) => problems.warn(COMPONENT, configPath, r, host);
    const fields = cfg ? configFields(cfg, warn) : configFields({}, warn);
    const rootfs = cfg ? getObj(cfg, 'rootfs', warn) : undefined;
    const diffIds = getStrArray(rootfs, 'diff_ids', warn, MAX_LAYERS);
    const rec: ImageRecord = {
      id,
      idValid,
      layout: 'v2',
      root,
      driver,
      configPath,
      tags: refs.tags.get(id) ?? [],
      digests: refs.digests.get(id) ?? [],
      ...fields,
      history: cfg ? readHistory(cfg, warn) : [],
      diffIds,
      layers: readLayers(ctx, driverDir, configPath, diffIds),
    };
    const metaDir = joinPath(driverDir, 'imagedb', 'metadata', 'sha256', name);
    if (isDir(vfs, metaDir)) {
      const luPath = joinPath(metaDir, 'lastUpdated');
      const lu = readSmallText(vfs, problems, COMPONENT, luPath, MAX_SMALL_META_BYTES, host, true);
      if (lu !== undefined) {
        rec.lastUpdated = timeValue(lu, 'lastUpdated', (r) => problems.warn(COMPONENT, luPath, r, host));
        rec.lastUpdatedPath = luPath;
      }
      rec.parent = readSmallText(vfs, problems, COMPONENT, joinPath(metaDir, 'parent'), MAX_SMALL_META_BYTES, host, true);
    }
    out.push(rec);
  }
  for (const [id, tags] of refs.tags) {
    if (!seen.has(id)) {
      problems.warn(COMPONENT, joinPath(driverDir, 'repositories.json'), `${tags.join(', ')} -> ${id}: no image config in imagedb`, host);
    }
  }
  return out;
}

/** Every image of one data root (all image/<driver>/ directories, then graph/). */
export function readImages(ctx: CollectorContext, root: string): ImageRecord[] {
  const { vfs, problems, host } = ctx;
  const out: ImageRecord[] = [];
  const imageDir = joinPath(root, 'image');
  if (isDir(vfs, imageDir)) {
    try {
      for (const e of vfs.readdir(imageDir)) {
        if (e.type !== 'dir') continue;
        try {
          out.push(...readDriverImages(ctx, root, e.name));
        } catch (err) {
          problems.warn(COMPONENT, joinPath(imageDir, e.name), `unexpected error: ${errorMessage(err)}`, host);
        }
      }
    } catch (err) {
      problems.warn(COMPONENT, imageDir, `cannot list: ${errorMessage(err)}`, host);
    }
  }
  try {
    out.push(...readGraphImages(ctx, root));
  } catch (err) {
    problems.warn(COMPONENT, joinPath(root, 'graph'), `unexpected error: ${errorMessage(err)}`, host);
  }
  return out;
}
