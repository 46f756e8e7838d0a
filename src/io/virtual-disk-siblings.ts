// Sibling-file confinement and chain bounds of the virtual-disk readers: a backing, parent or extent file named
// inside an image is only ever looked up beside the image (never where a hostile path points), and backing/parent
// chains are bounded in depth and checked for loops. Apart from the rest of virtual-disk-common.ts (which
// re-exports it) so these path rules can be read and tested in one place.
// References: STYLE.md habit 5 (hostile values, named limits, visited-sets for chains).
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { VirtualDiskErrorCode } from './virtual-disk-errors.js';
import type { VirtualDiskOpenOptions } from './virtual-disk-files.js';

/** Most images in one backing / parent chain (qemu has no fixed limit; real chains are a handful deep). */
export const MAX_CHAIN_DEPTH = 16;

/**
 * Where a file named inside an image (backing file, parent, extent) may be read: only inside the image's own folder.
 * `confined`: a relative name with no `..` and no absolute part is taken as is; otherwise (`lenient`) only its base
 * name is looked up beside the image (evidence is copied away from the host that wrote the absolute path).
 * Returns the absolute path, or throws `EPATH`/`EMISSING` through `fail`.
 */
export function resolveBeside(
  imagePath: string,
  name: string,
  mode: 'confined' | 'lenient',
  fail: (code: VirtualDiskErrorCode, detail: string) => never,
): string {
  const dir = nodePath.dirname(nodePath.resolve(imagePath));
  if (name.length === 0 || name.includes('\0')) fail('EPATH', `empty or NUL-bearing file name ${JSON.stringify(name)}`);
  const parts = name.split(/[\\/]+/);
  const absolute = name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name) || /^[a-z]+:\/\//i.test(name);
  const escapes = parts.some((p) => p === '..');
  let rel: string[];
  if (absolute || escapes) {
    if (mode === 'confined') fail('EPATH', `file name ${JSON.stringify(name)} is absolute or leaves the image's folder`);
    rel = [parts[parts.length - 1] ?? ''];
  } else {
    rel = parts.filter((p) => p !== '' && p !== '.');
  }
  if (rel.length === 0 || rel[rel.length - 1] === '') fail('EPATH', `file name ${JSON.stringify(name)} names no file`);
  const candidate = nodePath.join(dir, ...rel);
  if (!fs.existsSync(candidate)) {
    fail('EMISSING', `needs ${JSON.stringify(name)}, looked for ${candidate}: not found beside the image`);
  }
  // A symlink beside the image must not lead out of the folder either.
  let real: string;
  let realDir: string;
  try {
    real = fs.realpathSync(candidate);
    realDir = fs.realpathSync(dir);
  } catch (err) {
    return fail('EMISSING', `needs ${JSON.stringify(name)}: ${(err as Error).message}`);
  }
  if (real !== realDir && !real.startsWith(realDir + nodePath.sep)) {
    fail('EPATH', `${candidate} resolves to ${real}, outside the image's folder`);
  }
  return candidate;
}

/** Real path of a file for chain-loop detection (falls back to the resolved path). */
export function realPathOf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return nodePath.resolve(p);
  }
}

/** Depth of the next image in a backing / parent chain; `ELOOP` past MAX_CHAIN_DEPTH. */
export function nextChainDepth(
  opts: VirtualDiskOpenOptions,
  kind: 'backing' | 'parent',
  fail: (code: VirtualDiskErrorCode, detail: string) => never,
): number {
  const depth = (opts.depth ?? 0) + 1;
  if (depth > MAX_CHAIN_DEPTH) fail('ELOOP', `${kind} chain deeper than ${MAX_CHAIN_DEPTH}`);
  return depth;
}

/** The chain once `next` (named `label` in errors) follows `imagePath`; `ELOOP` when it is already in it. */
export function extendChain(
  opts: VirtualDiskOpenOptions,
  imagePath: string,
  next: string,
  label: string,
  kind: 'backing' | 'parent',
  fail: (code: VirtualDiskErrorCode, detail: string) => never,
): string[] {
  const real = realPathOf(next);
  const chain = opts.chain ?? [realPathOf(imagePath)];
  if (chain.includes(real)) fail('ELOOP', `${label} is already in the ${kind} chain (${chain.join(' -> ')})`);
  return [...chain, real];
}
