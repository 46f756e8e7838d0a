// Docker image inventory and events from a data root's `image/<driver>/` (Docker >= 1.10) and `graph/` (older).
//
// References:
//  - moby/moby `reference/store.go`: image/<driver>/repositories.json {"Repositories": {repo: {ref: image id}}},
//    where a ref containing `@` is a digest reference, else a tag.
//  - moby/moby `image/fs.go` (imagedb/content/sha256/<id> = the image config; imagedb/metadata/sha256/<id>/
//    {lastUpdated,parent}) and `image/image.go` (V1Image fields: created, author, architecture, os, config,
//    docker_version; history[] {created, created_by, author, comment, empty_layer}; rootfs.diff_ids).
//  - moby/moby `layer/layer.go` CreateChainID: chainID(0) = diffID(0), chainID(n) = sha256(chainID(n-1) + " " +
//    diffID(n)); `layer/filestore.go`: layerdb/sha256/<chain hex>/{diff,size,cache-id,parent,tar-split.json.gz}.
//  - Docker < 1.10: graph/<id>/json (one JSON per layer/image, with id, parent, created, container_config,
//    docker_version) and repositories-<driver> {"Repositories": {repo: {tag: id}}}.
import { createHash } from 'node:crypto';
import { errorMessage, TimeDesc, type ProblemLog, type TimelineEvent } from '../../events/event.js';
import { exists, isDir, joinPath } from '../../fs/vfs.js';
import type { CollectorContext } from '../types.js';
import { timeValue, type TimeValue } from './containers.js';
import {
  getArr,
  getBool,
  getObj,
  getStr,
  getStrArray,
  getStrMap,
  HEX64,
  isObject,
  readJsonObject,
  readSmallText,
  sha256Hex,
  type JsonObject,
  type Warn,
} from './json-guard.js';

export const COMPONENT = 'docker';

/** Largest image config / repositories.json we read. */
export const MAX_IMAGE_CONFIG_BYTES = 16 * 1024 * 1024;
/** Images processed per driver directory. */
export const MAX_IMAGES = 100_000;
/** History steps kept per image. */
export const MAX_HISTORY = 4_096;
/** Layers (rootfs.diff_ids) followed per image. */
export const MAX_LAYERS = 1_024;
/** Env / labels kept per image config. */
export const MAX_IMAGE_ENV = 4_096;
export const MAX_IMAGE_LABELS = 4_096;
/** Tags + digests kept in total from one repositories file. */
export const MAX_REFERENCES = 100_000;
/** Largest layerdb / metadata one-line file. */
export const MAX_SMALL_META_BYTES = 4096;
/** Characters of created_by put into an event message (the attrs keep the whole value). */
export const MAX_MESSAGE_CREATED_BY = 1024;

export interface ImageHistoryStep {
  created: TimeValue;
  createdBy: string;
  author: string;
  comment: string;
  emptyLayer: boolean;
}

export interface ImageLayer {
  diffId: string;
  chainId: string;
  /** layerdb/sha256/<chain hex> */
  path: string;
  present: boolean;
  size?: string;
  cacheId?: string;
  parent?: string;
}

export interface ImageRecord {
  /** `sha256:<hex>` (v2) or the bare id (v1). */
  id: string;
  idValid: boolean;
  layout: 'v2' | 'v1';
  root: string;
  /** Storage driver directory name (image/<driver>), or the driver in repositories-<driver> for v1. */
  driver: string;
  configPath: string;
  tags: string[];
  digests: string[];
  created: TimeValue;
  author: string;
  architecture: string;
  os: string;
  dockerVersion: string;
  cmd: string[];
  entrypoint: string[];
  env: string[];
  labels: Record<string, string>;
  workingDir: string;
  user: string;
  history: ImageHistoryStep[];
  diffIds: string[];
  layers: ImageLayer[];
  /** imagedb/metadata/sha256/<id>/lastUpdated */
  lastUpdated?: TimeValue;
  lastUpdatedPath?: string;
  /** imagedb/metadata/sha256/<id>/parent (v2) or `parent` (v1). */
  parent?: string;
}

/** moby layer.CreateChainID. */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    if (out.length === 0) out.push(d);
    else out.push('sha256:' + createHash('sha256').update(`${out[out.length - 1]} ${d}`).digest('hex'));
  }
  return out;
}

interface RefMap {
  tags: Map<string, string[]>;
  digests: Map<string, string[]>;
}

/** Parses repositories.json (v2: ref -> id) or repositories-<driver> (v1: tag -> id, joined as repo:tag). */
function readRepositories(ctx: CollectorContext, path: string, v1: boolean): RefMap {
  const { vfs, problems, host } = ctx;
  const refs: RefMap = { tags: new Map(), digests: new Map() };
  if (!exists(vfs, path)) return refs;
  const obj = readJsonObject(vfs, problems, COMPONENT, path, MAX_IMAGE_CONFIG_BYTES, host);
  if (!obj) return refs;
  const warn: Warn = (r) => problems.warn(COMPONENT, path, r, host);
  const repos = getObj(obj, 'Repositories', warn) ?? {};
  let n = 0;
  for (const repo of Object.keys(repos)) {
    const m = getObj(repos, repo, warn);
    if (!m) continue;
    for (const ref of Object.keys(m)) {
      if (++n > MAX_REFERENCES) {
        warn(`more than ${MAX_REFERENCES} references; the rest dropped`);
        return refs;
      }
      const id = m[ref];
      if (typeof id !== 'string') {
        warn(`reference ${JSON.stringify(ref.slice(0, 200))} maps to a non-string`);
        continue;
      }
      const name = v1 ? `${repo}:${ref}` : ref;
      const target = name.includes('@') ? refs.digests : refs.tags;
      const list = target.get(id) ?? [];
      list.push(name);
      target.set(id, list);
    }
  }
  return refs;
}

function readHistory(cfg: JsonObject, warn: Warn): ImageHistoryStep[] {
  const out: ImageHistoryStep[] = [];
  for (const h of getArr(cfg, 'history', warn, MAX_HISTORY)) {
    if (!isObject(h)) {
      warn('history entry is not an object');
      continue;
    }
    out.push({
      created: timeValue(getStr(h, 'created', warn), 'history.created', warn),
      createdBy: getStr(h, 'created_by', warn) ?? '',
      author: getStr(h, 'author', warn) ?? '',
      comment: getStr(h, 'comment', warn) ?? '',
      emptyLayer: getBool(h, 'empty_layer', warn) ?? false,
    });
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

function configFields(cfg: JsonObject, warn: Warn) {
  const config = getObj(cfg, 'config', warn);
  return {
    created: timeValue(getStr(cfg, 'created', warn), 'created', warn),
    author: getStr(cfg, 'author', warn) ?? '',
    architecture: getStr(cfg, 'architecture', warn) ?? '',
    os: getStr(cfg, 'os', warn) ?? '',
    dockerVersion: getStr(cfg, 'docker_version', warn) ?? '',
    cmd: getStrArray(config, 'Cmd', warn, MAX_IMAGE_ENV),
    entrypoint: getStrArray(config, 'Entrypoint', warn, MAX_IMAGE_ENV),
    env: getStrArray(config, 'Env', warn, MAX_IMAGE_ENV),
    labels: getStrMap(config, 'Labels', warn, MAX_IMAGE_LABELS),
    workingDir: getStr(config, 'WorkingDir', warn) ?? '',
    user: getStr(config, 'User', warn) ?? '',
  };
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

/** Images of the pre-1.10 graph/ layout. */
function readGraphImages(ctx: CollectorContext, root: string): ImageRecord[] {
  const { vfs, problems, host } = ctx;
  const graph = joinPath(root, 'graph');
  if (!isDir(vfs, graph)) return [];
  // repositories-<driver>: any such file names the driver.
  let driver = '';
  let refs: RefMap = { tags: new Map(), digests: new Map() };
  try {
    for (const e of vfs.readdir(root)) {
      if (e.type === 'file' && e.name.startsWith('repositories-')) {
        driver = e.name.slice('repositories-'.length);
        refs = readRepositories(ctx, joinPath(root, e.name), true);
        break;
      }
    }
  } catch (err) {
    problems.warn(COMPONENT, root, `cannot list: ${errorMessage(err)}`, host);
  }
  const out: ImageRecord[] = [];
  let names: string[] = [];
  try {
    names = vfs.readdir(graph).filter((e) => e.type === 'dir' && e.name !== '_tmp').map((e) => e.name);
  } catch (err) {
    problems.warn(COMPONENT, graph, `cannot list: ${errorMessage(err)}`, host);
  }
  for (const name of names.slice(0, MAX_IMAGES)) {
    const configPath = joinPath(graph, name, 'json');
    if (!exists(vfs, configPath)) continue;
    const cfg = readJsonObject(vfs, problems, COMPONENT, configPath, MAX_IMAGE_CONFIG_BYTES, host);
    const warn: Warn = (r) => problems.warn(COMPONENT, configPath, r, host);
    const idValid = HEX64.test(name);
    if (!idValid) warn(`image id ${JSON.stringify(name)} is not 64 hex characters`);
    const fields = configFields(cfg ?? {}, warn);
    const cc = getObj(cfg, 'container_config', warn);
    const createdBy = getStrArray(cc, 'Cmd', warn, MAX_IMAGE_ENV).join(' ');
    out.push({
      id: name,
      idValid,
      layout: 'v1',
      root,
      driver,
      configPath,
      tags: refs.tags.get(name) ?? [],
      digests: refs.digests.get(name) ?? [],
      ...fields,
      history: [{ created: fields.created, createdBy, author: fields.author, comment: '', emptyLayer: false }],
      diffIds: [],
      layers: [],
      parent: getStr(cfg, 'parent', warn),
    });
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

function imageLabel(img: ImageRecord): string {
  const name = img.tags[0] ?? img.digests[0];
  const short = (img.id.startsWith('sha256:') ? img.id.slice(7) : img.id).slice(0, 12);
  return name ? `${name} (${short})` : short;
}

/** Image created, lastUpdated and one event per history step. */
export function imageEvents(img: ImageRecord, host: string, _problems?: ProblemLog): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  const attrs = { image_id: img.id, tags: img.tags, digests: img.digests, driver: img.driver, layout: img.layout };
  if (img.created.ns !== undefined) {
    out.push({
      time: img.created.ns,
      timestamp_desc: TimeDesc.creation,
      source: 'docker:image',
      host,
      message: `Image ${imageLabel(img)} created` + (img.architecture ? ` (${img.os}/${img.architecture})` : ''),
      path: img.configPath,
      raw_time: img.created.raw,
      attrs: { ...attrs, event: 'created', field: 'created', author: img.author, docker_version: img.dockerVersion },
    });
  }
  if (img.lastUpdated?.ns !== undefined && img.lastUpdatedPath) {
    out.push({
      time: img.lastUpdated.ns,
      timestamp_desc: TimeDesc.lastUpdate,
      source: 'docker:image',
      host,
      message: `Image ${imageLabel(img)} last updated (pulled, tagged or loaded)`,
      path: img.lastUpdatedPath,
      raw_time: img.lastUpdated.raw,
      attrs: { ...attrs, event: 'last-updated', field: 'lastUpdated' },
    });
  }
  if (img.layout === 'v2') {
    img.history.forEach((h, i) => {
      if (h.created.ns === undefined) return;
      out.push({
        time: h.created.ns,
        timestamp_desc: TimeDesc.creation,
        source: 'docker:image-history',
        host,
        message:
          `Image ${imageLabel(img)} history step ${i + 1}/${img.history.length}` +
          `${h.emptyLayer ? ' (empty layer)' : ''}: ${h.createdBy.slice(0, MAX_MESSAGE_CREATED_BY)}`,
        path: img.configPath,
        raw_time: h.created.raw,
        attrs: { ...attrs, event: 'history', step: i, created_by: h.createdBy, empty_layer: h.emptyLayer, author: h.author, comment: h.comment },
      });
    });
  }
  return out;
}
