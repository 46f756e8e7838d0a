// The same host must triage to identical timelines from every disk format: the GPT sample-host image converted
// by qemu-img (the reference tool) to qcow2, VMDK, VHD and VHDX, compared with the raw image.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AssemblyImages, buildAssemblyImages } from '../fixtures-scripts/assembly-images.js';
import { triage } from '../../src/triage/triage.js';
import { sha256File, tmp } from './helpers.js';

let img: AssemblyImages;
let work: string;
let rawTimeline: Buffer;
let rawContainers: Buffer;
const hashes = new Map<string, string>();

const FORMATS: Array<{ name: string; args: string[] }> = [
  { name: 'qcow2', args: ['-O', 'qcow2'] },
  { name: 'qcow2-compressed', args: ['-O', 'qcow2', '-c'] },
  { name: 'vmdk', args: ['-O', 'vmdk'] },
  { name: 'vmdk-stream', args: ['-O', 'vmdk', '-o', 'subformat=streamOptimized'] },
  { name: 'vhd', args: ['-O', 'vpc'] },
  { name: 'vhd-fixed', args: ['-O', 'vpc', '-o', 'subformat=fixed'] },
  { name: 'vhdx', args: ['-O', 'vhdx'] },
];

async function triageTo(source: string, name: string): Promise<{ timeline: Buffer; containers: Buffer }> {
  const out = path.join(work, `out-${name}`);
  const r = await triage({ sources: [source], out, formats: ['jsonl'] });
  expect(r.manifest.sources[0].evidence_kind).toBe('ext4');
  // Only the manifest names the evidence file; the timeline and inventories must be identical.
  return {
    timeline: fs.readFileSync(path.join(out, 'timeline.jsonl')),
    containers: fs.readFileSync(path.join(out, 'containers.json')),
  };
}

beforeAll(async () => {
  img = buildAssemblyImages();
  work = tmp('flotsam-vdisk-');
  const raw = await triageTo(img.gptVar, 'raw');
  rawTimeline = raw.timeline;
  rawContainers = raw.containers;
  for (const f of FORMATS) {
    const file = path.join(work, `disk.${f.name}`);
    execFileSync('qemu-img', ['convert', '-f', 'raw', ...f.args, img.gptVar, file]);
    hashes.set(file, sha256File(file));
  }
}, 300_000);

afterAll(() => {
  for (const [file, h] of hashes) expect(sha256File(file), `${file} was modified`).toBe(h);
  img?.cleanup();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('identical triage from every virtual-disk format', () => {
  for (const f of FORMATS) {
    it(f.name, async () => {
      const r = await triageTo(path.join(work, `disk.${f.name}`), f.name);
      expect(r.containers.equals(rawContainers)).toBe(true);
      expect(r.timeline.length).toBe(rawTimeline.length);
      expect(r.timeline.equals(rawTimeline)).toBe(true);
    });
  }
});
