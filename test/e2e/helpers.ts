// End-to-end helpers: run the built CLI (`npm test` compiles first) and read its outputs.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SAMPLE_HOST = path.join(REPO, 'sample-images/sample-host');
export const CAPTURES = path.join(REPO, 'sample-images/captures');
const BIN = path.join(REPO, 'bin/flotsam');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function flotsam(args: string[], cwd = REPO): CliRun {
  if (!fs.existsSync(path.join(REPO, 'dist/src/cli/main.js'))) {
    throw new Error('dist/ is missing: run `npx tsc -p tsconfig.json` (npm test does) before the e2e tests');
  }
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tmp(prefix = 'flotsam-e2e-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Lists every directory once, as triage will. On a read-write relatime mount (a test's temp copy, a fresh clone)
 * the first listing of a directory moves its atime forward and later ones within a day do not, so doing it first
 * lets two triage runs see the same evidence. Real evidence is mounted read-only, where nothing moves; flotsam
 * warns when it is not (src/fs/host-dir/mount-check.ts).
 */
export function settleDirectoryAtimes(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) settleDirectoryAtimes(path.join(dir, e.name));
  }
}

/** Copies the sample host to a temp folder (so a test may damage it). */
export function copySampleHost(dest: string): string {
  fs.cpSync(SAMPLE_HOST, dest, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  settleDirectoryAtimes(dest);
  return dest;
}

export function readJsonl(file: string): Array<Record<string, unknown>> {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Hash of every file's bytes, mode and mtime under dir (symlinks by target): the evidence fingerprint. */
export function treeFingerprint(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = fs.lstatSync(p, { bigint: true });
      h.update(`${path.relative(dir, p)}|${st.mode}|${st.mtimeNs}|${st.size}\n`);
      if (st.isSymbolicLink()) h.update(fs.readlinkSync(p));
      else if (st.isDirectory()) walk(p);
      else if (st.isFile()) h.update(fs.readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}
