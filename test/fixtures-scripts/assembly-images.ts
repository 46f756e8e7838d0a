// Test helper: builds the root-assembly images of make-assembly-images.sh into a fresh temp dir (one per test file)
// and removes them afterwards. Needs root (the script extracts the sample host with its whiteouts and xattrs).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../..');
const script = path.join(here, 'make-assembly-images.sh');

export interface AssemblyImages {
  dir: string;
  gptVar: string;
  bare: string;
  mbrUnknown: string;
  varOnly: string;
  cleanup(): void;
}

export const ROOT_UUID = '6a1c0d4e-1111-4aaa-8bbb-0123456789a1';
export const VAR_UUID = '6a1c0d4e-2222-4aaa-8bbb-0123456789a2';
export const BARE_UUID = '6a1c0d4e-3333-4aaa-8bbb-0123456789a3';
export const UNKNOWN_UUID = 'deadbeef-0000-4000-8000-000000000000';

export function buildAssemblyImages(): AssemblyImages {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flotsam-assembly-'));
  const r = spawnSync('bash', [script, dir], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  if (r.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`make-assembly-images.sh failed (${r.status}): ${r.stderr}`);
  }
  return {
    dir,
    gptVar: path.join(dir, 'gpt-var.img'),
    bare: path.join(dir, 'bare.img'),
    mbrUnknown: path.join(dir, 'mbr-unknown.img'),
    varOnly: path.join(dir, 'var-only.img'),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
