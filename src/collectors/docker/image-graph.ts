// Docker images of the pre-1.10 `graph/` layout (one directory per layer/image, named by its id), apart from the
// image/<driver>/ reader (images.ts) because the layout and its id rules are different; readImages calls it last.
//
// References: Docker < 1.10: graph/<id>/json (one JSON per layer/image, with id, parent, created, container_config,
// docker_version) and repositories-<driver> {"Repositories": {repo: {tag: id}}}.
import { errorMessage } from '../../events/event.js';
import { exists, isDir, joinPath } from '../../fs/vfs.js';
import type { CollectorContext } from '../types.js';
import {
  COMPONENT,
  configFields,
  type ImageRecord,
  MAX_IMAGE_CONFIG_BYTES,
  MAX_IMAGE_ENV,
  MAX_IMAGES,
  readRepositories,
  type RefMap,
} from './image-config.js';
import { getObj, getStr, getStrArray, HEX64, readJsonObject, type Warn } from './json-guard.js';

/** Images of the pre-1.10 graph/ layout. */
export function readGraphImages(ctx: CollectorContext, root: string): ImageRecord[] {
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
