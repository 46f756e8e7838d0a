// Access to the shared reference corpus (../shared/corpus, outside the repository). Tests that use it skip LOUDLY
// when it is absent (a fresh clone outside CI); the project's own generated fixtures cover the same code.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The corpus folder: $FLOTSAM_CORPUS, else ../shared/corpus next to the repository. */
export const CORPUS_DIR = process.env.FLOTSAM_CORPUS ?? path.resolve(here, '../../../shared/corpus');
export const DOCKER_EXPLORER_DIR = path.join(CORPUS_DIR, 'docker-explorer');

/** True when the docker-explorer tarballs are present; warns loudly when not. */
export function dockerExplorerAvailable(): boolean {
  const ok = fs.existsSync(path.join(DOCKER_EXPLORER_DIR, 'overlay2.v2.tgz'));
  if (!ok) {
    console.warn(
      `\n*** SKIPPING docker-explorer corpus tests: ${DOCKER_EXPLORER_DIR} not found ` +
        `(set FLOTSAM_CORPUS to the shared corpus folder) ***\n`,
    );
  }
  return ok;
}

/** A temporary directory removed by the returned cleanup function. */
export function tempDir(prefix = 'flotsam-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Extracts a docker-explorer tarball (whose entries start with `docker/`) under `dest/<into>`; with
 * `into = 'var/lib'` the data root becomes /var/lib/docker of a host-like tree. Returns the data-root host path.
 */
export function extractDockerExplorer(name: string, dest: string, into = 'var/lib'): string {
  const target = path.join(dest, into);
  fs.mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-xzf', path.join(DOCKER_EXPLORER_DIR, name), '-C', target], { stdio: 'pipe' });
  return path.join(target, 'docker');
}

/** Writes files (relative path -> content) under `root`, creating parent directories. */
export function writeTree(root: string, files: Record<string, string | Uint8Array>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
}
