// The real-Docker sample host made into disk images must triage to the same containers and the same json-file log
// events as its directory form (sample-images/sample-host), plus MACB events from the image's own inodes.
// Images: test/fixtures-scripts/make-assembly-images.sh (GPT root + /var, bare ext4, MBR with an unknown UUID in
// fstab, bare /var). The images are hashed before and after: nothing may write to them.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEvidenceDetailed } from '../../src/fs/open-evidence.js';
import { triage } from '../../src/triage/triage.js';
import { type AssemblyImages, REPO, UNKNOWN_UUID, buildAssemblyImages } from '../fixtures-scripts/assembly-images.js';
import { sha256File } from '../fixtures-scripts/images.js';
import { tempDir } from '../helpers/corpus.js';

const SAMPLE_DIR = path.join(REPO, 'sample-images/sample-host');

interface Summary {
  containers: Array<[string, string, string]>;
  logCount: number;
  logHash: string;
  events: Array<Record<string, unknown>>;
}

let img: AssemblyImages;
let out: { dir: string; cleanup: () => void };
const hashes = new Map<string, string>();
let dirSummary: Summary;

async function triageSummary(source: string, name: string): Promise<Summary> {
  const o = path.join(out.dir, name);
  await triage({ sources: [source], out: o, formats: ['jsonl'] });
  const containers = (JSON.parse(fs.readFileSync(path.join(o, 'containers.json'), 'utf8')) as Array<Record<string, string>>)
    .map((c) => [c.id!, c.name!, c.status!] as [string, string, string])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const events = fs
    .readFileSync(path.join(o, 'timeline.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const logs = events
    .filter((e) => e.source === 'docker:json-log')
    .map((e) => `${e.datetime}\u0000${e.container_id}\u0000${e.message}`)
    .sort();
  const logHash = createHash('sha256').update(logs.join('\n')).digest('hex');
  return { containers, logCount: logs.length, logHash, events };
}

beforeAll(async () => {
  img = buildAssemblyImages();
  out = tempDir('flotsam-e2e-image-');
  for (const p of [img.gptVar, img.bare, img.mbrUnknown, img.varOnly]) hashes.set(p, sha256File(p));
  dirSummary = await triageSummary(SAMPLE_DIR, 'dir');
  expect(dirSummary.containers.length).toBeGreaterThanOrEqual(9);
  expect(dirSummary.logCount).toBeGreaterThan(100);
});

afterAll(() => {
  for (const [p, h] of hashes) expect(sha256File(p), `${p} was modified`).toBe(h);
  img?.cleanup();
  out?.cleanup();
});

describe('triage of disk images equals triage of the directory form', () => {
  it('GPT image, /var on its own partition (fstab UUID=)', async () => {
    const s = await triageSummary(img.gptVar, 'gpt');
    expect(s.containers).toEqual(dirSummary.containers);
    expect(s.logCount).toBe(dirSummary.logCount);
    expect(s.logHash).toBe(dirSummary.logHash);
    // MACB events come from the image's own inodes, crtime included
    const macb = s.events.filter((e) => e.source === 'fs:macb');
    expect(macb.length).toBeGreaterThan(0);
    for (const e of macb) expect(typeof e.inode === 'number' || typeof e.inode === 'string', JSON.stringify(e)).toBe(true);
    const crtimes = macb.filter((e) => e.timestamp_desc === 'Creation Time');
    expect(crtimes.length).toBeGreaterThan(0);
    expect(macb.some((e) => String(e.path).includes('-json.log'))).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(out.dir, 'gpt', 'manifest.json'), 'utf8'));
    expect(JSON.stringify(manifest)).toContain('"evidence_kind":"ext4"');
  });

  it('single ext4 file system without a partition table', async () => {
    const s = await triageSummary(img.bare, 'bare');
    expect(s.containers).toEqual(dirSummary.containers);
    expect(s.logCount).toBe(dirSummary.logCount);
    expect(s.logHash).toBe(dirSummary.logHash);
  });

  it('fstab naming an unknown UUID: a problem, the rest still triaged', async () => {
    const ev = openEvidenceDetailed(img.mbrUnknown);
    ev.vfs.close();
    expect(ev.problems.some((p) => p.reason.includes(UNKNOWN_UUID))).toBe(true);
    const s = await triageSummary(img.mbrUnknown, 'mbr');
    const listed = JSON.parse(fs.readFileSync(path.join(out.dir, 'mbr', 'problems.json'), 'utf8')) as Array<{ reason: string }>;
    expect(listed.some((p) => p.reason.includes(UNKNOWN_UUID))).toBe(true);
    expect(s.containers).toEqual(dirSummary.containers);
    expect(s.logHash).toBe(dirSummary.logHash);
  });

  it('the bundled E01 sample (npm run demo) triages like the directory form', async () => {
    const e01 = path.join(REPO, 'sample-images/sample-host.E01');
    const before = sha256File(e01);
    const s = await triageSummary(e01, 'e01');
    expect(s.containers).toEqual(dirSummary.containers);
    expect(s.logCount).toBe(dirSummary.logCount);
    expect(s.logHash).toBe(dirSummary.logHash);
    expect(sha256File(e01)).toBe(before);
  });

  it('a bare /var partition is triaged as the Docker data root', async () => {
    const s = await triageSummary(img.varOnly, 'var-only');
    expect(s.containers).toEqual(dirSummary.containers);
    expect(s.logHash).toBe(dirSummary.logHash);
  });
});
