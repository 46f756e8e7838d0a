// The JSON files behind the Docker image inventory: the named limits, the ImageRecord shape, repositories files
// (tags and digests) and image configs, parsed with the hostile-JSON helpers of json-guard.ts. Shared by the
// image/<driver>/ reader (images.ts, which re-exports it) and the pre-1.10 graph/ reader (image-graph.ts).
//
// References:
//  - moby/moby `reference/store.go`: image/<driver>/repositories.json {"Repositories": {repo: {ref: image id}}},
//    where a ref containing `@` is a digest reference, else a tag.
//  - moby/moby `image/image.go` (V1Image fields: created, author, architecture, os, config, docker_version;
//    history[] {created, created_by, author, comment, empty_layer}; rootfs.diff_ids).
//  - Docker < 1.10: repositories-<driver> {"Repositories": {repo: {tag: id}}}.
import { exists } from '../../fs/vfs.js';
import type { CollectorContext } from '../types.js';
import { timeValue, type TimeValue } from './containers.js';
import {
  getArr,
  getBool,
  getObj,
  getStr,
  getStrArray,
  getStrMap,
  isObject,
  readJsonObject,
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

/** Image id -> its tags, and image id -> its digest references, from one repositories file. */
export interface RefMap {
  tags: Map<string, string[]>;
  digests: Map<string, string[]>;
}

/** Parses repositories.json (v2: ref -> id) or repositories-<driver> (v1: tag -> id, joined as repo:tag). */
export function readRepositories(ctx: CollectorContext, path: string, v1: boolean): RefMap {
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

/** history[] of an image config (at most MAX_HISTORY steps). */
export function readHistory(cfg: JsonObject, warn: Warn): ImageHistoryStep[] {
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

/** The ImageRecord fields of an image config (v2 imagedb content, or a v1 graph/<id>/json). */
export function configFields(cfg: JsonObject, warn: Warn) {
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
