// `flotsam diff SOURCE CONTAINER` end to end (the built CLI), against the real `docker diff` captures; and the
// findings files `flotsam triage` writes. Needs `npx tsc -p tsconfig.json` first (npm test does it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CAPTURES, SAMPLE_HOST, flotsam, readJsonl, tmp } from './helpers.js';
import { type AssemblyImages, buildAssemblyImages } from '../fixtures-scripts/assembly-images.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const imagesPossible = isRoot && spawnSync('mkfs.ext4', ['-V']).status === 0;

function capture(name: string): string {
  const lines = fs.readFileSync(path.join(CAPTURES, `diff-${name}.txt`), 'utf8').split('\n').filter((l) => l !== '');
  return lines.sort((a, b) => (a.slice(2) < b.slice(2) ? -1 : a.slice(2) > b.slice(2) ? 1 : 0)).map((l) => l + '\n').join('');
}
const names = fs.readdirSync(CAPTURES).filter((f) => /^diff-.*\.txt$/.test(f)).map((f) => f.slice(5, -4)).sort();

describe.skipIf(!imagesPossible)('flotsam diff on the ext4 image equals docker diff for every container', () => {
  let img: AssemblyImages;
  beforeAll(() => {
    img = buildAssemblyImages();
  });
  afterAll(() => img?.cleanup());

  it('prints A/C/D lines sorted by path, exit 0', () => {
    for (const name of names) {
      const r = flotsam(['diff', img.bare, name, '-q']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout, name).toBe(capture(name));
    }
  });

  it('--json lists the evidence of each change (whiteout, opaque dir, sha256 with --hash)', () => {
    const r = flotsam(['diff', img.bare, 'tamper', '--json', '--hash', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { container_name: string; changes: Array<Record<string, unknown>> };
    expect(out.container_name).toBe('tamper');
    expect(out.changes.find((c) => c.path === '/bin/sleep')).toMatchObject({ kind: 'D', deleted_by: 'whiteout', type: 'char' });
    expect(out.changes.find((c) => c.path === '/tmp/evil.sh')?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('flotsam diff on the directory form', () => {
  it('web and priv equal docker diff; a name, a full id and an id prefix all select the container', () => {
    const ps = readJsonl(path.join(CAPTURES, 'ps-a.jsonl')) as Array<{ ID: string; Names: string }>;
    for (const name of ['web', 'priv']) {
      const id = ps.find((p) => p.Names === name)!.ID;
      for (const ref of [name, id, id.slice(0, 6)]) {
        const r = flotsam(['diff', SAMPLE_HOST, ref, '-q']);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout, `${name} as ${ref}`).toBe(capture(name));
      }
    }
  });

  it('tamper: warns that whiteouts/xattrs are not visible in this evidence form', () => {
    const r = flotsam(['diff', SAMPLE_HOST, 'tamper']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('A /tmp/evil.sh\n');
    expect(r.stderr).toContain('xattrs are not visible in this evidence form');
    expect(r.stderr).toContain('whiteouts (character devices 0:0) are probably not visible');
  });

  it('an unknown container is exit 2 with a one-line message', () => {
    const r = flotsam(['diff', SAMPLE_HOST, 'no-such-container', '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^flotsam: no container "no-such-container"/m);
  });
});

describe('triage writes findings and the new event sources', () => {
  const out = tmp('flotsam-e2e-findings-');
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it('findings.csv/json, finding events, local-log, fs-change and volume-file events', () => {
    const r = flotsam(['triage', SAMPLE_HOST, '--out', out, '--format', 'jsonl', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const findings = JSON.parse(fs.readFileSync(path.join(out, 'findings.json'), 'utf8')) as Array<Record<string, string>>;
    expect(findings.some((f) => f.rule === 'privileged-container' && f.container_name === 'priv')).toBe(true);
    expect(fs.readFileSync(path.join(out, 'findings.csv'), 'utf8').split('\n')[0]).toBe(
      'severity,rule,host,container_id,container_name,evidence_path,evidence_field,message,time',
    );
    const events = readJsonl(path.join(out, 'timeline.jsonl'));
    const bySource = (s: string) => events.filter((e) => e.source === s);
    expect(bySource('finding').length).toBeGreaterThan(0);
    expect(bySource('docker:local-log')).toHaveLength(6);
    expect(bySource('docker:fs-change').some((e) => e.container_path === '/tmp/evil.sh')).toBe(true);
    expect(bySource('docker:volume-file').some((e) => e.relative_path === 'app.db' && e.container_name === 'vol')).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { outputs: string[] };
    expect(manifest.outputs).toContain('findings.csv');
    const problems = JSON.parse(fs.readFileSync(path.join(out, 'problems.json'), 'utf8')) as Array<{ component: string; reason: string }>;
    expect(problems.some((p) => p.component === 'overlay-diff' && p.reason.includes('whiteouts (character devices 0:0) are probably not visible'))).toBe(true);
  });
});
