// The real-Docker sample host packed as a tar.gz (sample-images/sample-host.tar.gz: whiteouts, xattrs, numeric
// owners, ns times) must triage to the same containers and the same json-file log events as its directory form
// (sample-images/sample-host), read straight from the archive without extracting it. The archive is hashed before
// and after: nothing may write to it. Plain .tar evidence (inflated at test time) takes the same path. With
// --tmp-dir, the inflated copy of the .tar.gz goes under that folder and nothing is left in it afterwards.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEvidenceDetailed } from '../../src/fs/open-evidence.js';
import { triage } from '../../src/triage/triage.js';
import { sha256File } from '../fixtures-scripts/images.js';
import { tempDir } from '../helpers/corpus.js';
import { REPO } from './helpers.js';

const SAMPLE_DIR = path.join(REPO, 'sample-images/sample-host');
const SAMPLE_TGZ = path.join(REPO, 'sample-images/sample-host.tar.gz');

interface Summary {
  containers: Array<[string, string, string]>;
  logCount: number;
  logHash: string;
  events: Array<Record<string, unknown>>;
  manifest: Record<string, unknown>;
}

let out: { dir: string; cleanup: () => void };
let dirSummary: Summary;
let before: string;

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
  const manifest = JSON.parse(fs.readFileSync(path.join(o, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  return { containers, logCount: logs.length, logHash, events, manifest };
}

beforeAll(async () => {
  out = tempDir('flotsam-e2e-tar-');
  before = sha256File(SAMPLE_TGZ);
  dirSummary = await triageSummary(SAMPLE_DIR, 'dir');
  expect(dirSummary.containers.length).toBeGreaterThanOrEqual(9);
  expect(dirSummary.logCount).toBeGreaterThan(100);
});

afterAll(() => {
  out?.cleanup();
});

describe('triage of the sample host as a tar archive equals triage of the directory form', () => {
  it('sample-host.tar.gz: same containers, same json-file log events, archive untouched', async () => {
    const ev = openEvidenceDetailed(SAMPLE_TGZ);
    expect(ev.kind).toBe('tar-archive');
    expect(ev.vfs.kind).toBe('tar');
    // the archive's single wrapper directory (sample-host/) is taken as the evidence root
    expect(ev.vfs.location).toBe(`${SAMPLE_TGZ}:/sample-host`);
    expect(ev.problems).toEqual([]);
    ev.vfs.close();

    const s = await triageSummary(SAMPLE_TGZ, 'tgz');
    expect(s.containers).toEqual(dirSummary.containers);
    expect(s.logCount).toBe(dirSummary.logCount);
    expect(s.logHash).toBe(dirSummary.logHash);
    expect(JSON.stringify(s.manifest)).toContain('"evidence_kind":"tar"');
    // MACB events carry the archive's ns times, e.g. of the whiteouts the directory form cannot hold
    const macb = s.events.filter((e) => e.source === 'fs:macb');
    expect(macb.length).toBeGreaterThan(0);
    expect(sha256File(SAMPLE_TGZ)).toBe(before);
  });

  it('the xattrs in the archive are visible (opaque overlay dirs), unlike the directory form', async () => {
    const ev = openEvidenceDetailed(SAMPLE_TGZ);
    try {
      const xattrs = fs.readFileSync(path.join(REPO, 'sample-images/sample-host.xattrs.txt'), 'utf8');
      const m = /(var\/lib\/docker\/overlay2\/[0-9a-f]{64}\/diff\/opt\/app)/.exec(xattrs);
      expect(m).not.toBeNull();
      const x = ev.vfs.xattrs('/' + m![1]);
      expect(new TextDecoder().decode(x?.get('trusted.overlay.opaque'))).toBe('y');
      const omitted = fs.readFileSync(path.join(REPO, 'sample-images/sample-host.omitted.txt'), 'utf8');
      for (const line of omitted.split('\n')) {
        const [kind, dev, p] = line.split('\t');
        if (kind !== 'chardev' && kind !== 'blockdev') continue;
        const st = ev.vfs.lstat('/' + p);
        expect(st.type, p).toBe(kind === 'chardev' ? 'char' : 'block');
        expect(`${st.rdevMajor}:${st.rdevMinor}`, p).toBe(dev);
      }
    } finally {
      ev.vfs.close();
    }
  });

  it.runIf(fs.existsSync('/proc/self/fd'))('--tmp-dir takes the inflated copy of the .tar.gz; nothing is left in it', async () => {
    const tmp = path.join(out.dir, 'tmp');
    fs.mkdirSync(tmp);
    const real = fs.realpathSync(tmp) + path.sep;
    // The copy is unlinked at once: while the evidence is open, only this process's descriptors show it.
    const heldUnderTmp = (): string[] =>
      fs
        .readdirSync('/proc/self/fd')
        .map((fd) => {
          try {
            return fs.readlinkSync(`/proc/self/fd/${fd}`);
          } catch {
            return '';
          }
        })
        .filter((t) => t.startsWith(real));
    let duringCollect: string[] = [];
    await triage({
      sources: [SAMPLE_TGZ],
      out: path.join(out.dir, 'tgz-tmp-dir'),
      formats: ['jsonl'],
      tmpDir: tmp,
      onProgress: (p) => {
        if (p.stage === 'collect') duringCollect = heldUnderTmp();
      },
    });
    expect(duringCollect).toHaveLength(1);
    expect(duringCollect[0]).toMatch(/\/\.flotsam-tmp-[^/]+\/0\/flotsam-tar-[^/]+\/inflated\.tar \(deleted\)$/);
    expect(heldUnderTmp()).toEqual([]);
    expect(fs.readdirSync(tmp)).toEqual([]);
    expect(sha256File(SAMPLE_TGZ)).toBe(before);
  });

  it('the same archive uncompressed (.tar) triages the same', async () => {
    const plain = path.join(out.dir, 'sample-host.tar');
    fs.writeFileSync(plain, zlib.gunzipSync(fs.readFileSync(SAMPLE_TGZ)));
    const s = await triageSummary(plain, 'tar');
    expect(s.containers).toEqual(dirSummary.containers);
    expect(s.logHash).toBe(dirSummary.logHash);
    expect(sha256File(SAMPLE_TGZ)).toBe(before);
  });
});
