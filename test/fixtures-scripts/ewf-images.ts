// Test helper: builds the E01 images of ewf-images.sh once per script version into the OS temp dir (atomic rename, safe
// across test workers), and small byte-level tools the hostile-input tests use to damage copies of them.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { adler32, parseSectionDescriptor } from '../../src/io/ewf/structures.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, 'ewf-images.sh');

export function ewfToolsPresent(): boolean {
  return spawnSync('ewfacquire', ['-V'], { encoding: 'utf8' }).status === 0;
}

/** Directory holding the E01 images; built at most once per script content. */
export function ewfImages(): string {
  const tag = createHash('sha256').update(fs.readFileSync(script)).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `flotsam-ewf-fixtures-${tag}`);
  if (fs.existsSync(path.join(dir, '.done'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const r = spawnSync('bash', [script, tmp], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  if (r.status !== 0) throw new Error(`ewf-images.sh failed (${r.status}): ${r.stderr}`);
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (!fs.existsSync(path.join(dir, '.done'))) throw new Error(`fixtures missing in ${dir}`);
  return dir;
}

export interface SectionAt {
  type: string;
  offset: number;
  next: number;
  size: number;
}

/** Every section descriptor of a segment file, following next offsets (test images are trusted). */
export function sectionsOf(file: Buffer): SectionAt[] {
  const out: SectionAt[] = [];
  let off = 13;
  for (let i = 0; i < 10_000 && off + 76 <= file.length; i++) {
    const d = parseSectionDescriptor(file.subarray(off, off + 76));
    out.push({ type: d.type_string, offset: off, next: Number(d.next_offset), size: Number(d.size) });
    if (Number(d.next_offset) === off) break;
    off = Number(d.next_offset);
  }
  return out;
}

/** Rewrites the Adler-32 of bytes [from, to) into the 4 bytes at `to`. */
export function fixAdler(file: Buffer, from: number, to: number): void {
  file.writeUInt32LE(adler32(file, from, to - from), to);
}

/** Table entries of the table section at `off`: absolute offsets and compressed flags. */
export function tableEntries(file: Buffer, off: number): { count: number; base: number; entries: Array<{ at: number; offset: number; compressed: boolean }> } {
  const count = file.readUInt32LE(off + 76);
  const base = Number(file.readBigUInt64LE(off + 76 + 8));
  const entries = [];
  for (let i = 0; i < count; i++) {
    const at = off + 100 + 4 * i;
    const raw = file.readUInt32LE(at);
    entries.push({ at, offset: base + (raw & 0x7fffffff), compressed: raw >= 0x80000000 });
  }
  return { count, base, entries };
}

export function md5(b: Uint8Array): string {
  return createHash('md5').update(b).digest('hex');
}
export function md5File(p: string): string {
  return md5(fs.readFileSync(p));
}
