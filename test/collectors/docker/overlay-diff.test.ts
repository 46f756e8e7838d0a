// Writable-layer changes (overlay2) against the real `docker diff` captured while the sample host was built
// (sample-images/captures/diff-<name>.txt), on the ext4 image form where whiteouts and trusted.overlay.opaque are
// real, on the git directory form (whiteouts/xattrs missing: reported as limitations), and on generated trees
// (aufs `.wh.` files, char-device whiteouts, multi-layer hiding, layer resolution fallbacks, limits).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProblemLog } from '../../../src/events/event.js';
import { HostDirVfs } from '../../../src/fs/host-dir/host-dir.js';
import { openEvidence } from '../../../src/fs/open-evidence.js';
import type { Vfs } from '../../../src/fs/vfs.js';
import { collectDocker } from '../../../src/collectors/docker/collect.js';
import type { ContainerRecord } from '../../../src/collectors/docker/containers.js';
import {
  changeEvents,
  containerDiff,
  diffLayers,
  formatDiff,
  resolveLayers,
} from '../../../src/collectors/docker/overlay-diff.js';
import { type AssemblyImages, REPO, buildAssemblyImages } from '../../fixtures-scripts/assembly-images.js';
import { tempDir } from '../../helpers/corpus.js';

const SAMPLE = path.join(REPO, 'sample-images/sample-host');
const CAPTURES = path.join(REPO, 'sample-images/captures');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const haveTools = spawnSync('mkfs.ext4', ['-V'], { encoding: 'utf8' }).status === 0;
const imagesPossible = isRoot && haveTools && fs.existsSync(path.join(REPO, 'sample-images/sample-host.tar.gz'));
if (!imagesPossible) console.warn('\n*** SKIPPING overlay diff on ext4 images: needs root, mkfs.ext4 and sample-host.tar.gz ***\n');

function capture(name: string): string[] {
  return fs.readFileSync(path.join(CAPTURES, `diff-${name}.txt`), 'utf8').split('\n').filter((l) => l !== '').sort();
}

function captureNames(): string[] {
  return fs.readdirSync(CAPTURES).filter((f) => /^diff-.*\.txt$/.test(f)).map((f) => f.slice(5, -4)).sort();
}

function diffsOf(vfs: Vfs): { lines: Map<string, string[]>; problems: ProblemLog; limitations: string[]; containers: ContainerRecord[] } {
  const problems = new ProblemLog();
  const c = collectDocker({ vfs, host: 'h', problems: new ProblemLog() });
  const lines = new Map<string, string[]>();
  const limitations: string[] = [];
  for (const rec of c.containers) {
    const d = containerDiff(vfs, problems, 'h', rec);
    lines.set(rec.name, formatDiff(d?.changes ?? []).split('\n').filter((l) => l !== '').sort());
    limitations.push(...(d?.limitations ?? []).map((l) => l.reason));
  }
  return { lines, problems, limitations, containers: c.containers };
}

describe.skipIf(!imagesPossible)('docker diff equality on the ext4 image form (real whiteouts and xattrs)', () => {
  let img: AssemblyImages;
  beforeAll(() => {
    img = buildAssemblyImages();
  });
  afterAll(() => img?.cleanup());

  for (const which of ['bare', 'gptVar'] as const) {
    it(`${which}: every container's diff equals captures/diff-<name>.txt`, () => {
      const vfs = openEvidence(img[which]);
      try {
        const { lines, problems, limitations } = diffsOf(vfs);
        const names = captureNames();
        expect(names.length).toBeGreaterThanOrEqual(11);
        for (const name of names) expect(lines.get(name), name).toEqual(capture(name));
        expect(lines.get('tamper')).toContain('D /bin/sleep');
        expect(lines.get('tamper')).toContain('D /opt/app/VERSION');
        expect(problems.problems.filter((p) => p.component === 'overlay-diff')).toEqual([]);
        expect(limitations).toEqual([]);
      } finally {
        vfs.close();
      }
    });
  }

  it('events carry MACB times of the whiteout and the opaque directory, crtime included', () => {
    const vfs = openEvidence(img.bare);
    try {
      const problems = new ProblemLog();
      const c = collectDocker({ vfs, host: 'h', problems });
      const tamper = c.containers.find((r) => r.name === 'tamper')!;
      const d = c.diffs.get(tamper.id)!;
      const sleep = d.changes.find((x) => x.path === '/bin/sleep')!;
      expect(sleep).toMatchObject({ kind: 'D', deletedBy: 'whiteout' });
      expect(sleep.stat?.type).toBe('char');
      const app = d.changes.find((x) => x.path === '/opt/app')!;
      expect(app.opaque).toBe(true);
      expect(d.changes.find((x) => x.path === '/opt/app/VERSION')).toMatchObject({ deletedBy: 'opaque-dir' });
      const evs = changeEvents(tamper, d, 'h');
      const evil = evs.filter((e) => e.attrs?.container_path === '/tmp/evil.sh');
      expect(evil.map((e) => e.timestamp_desc).sort()).toEqual(['Content Modification Time', 'Creation Time', 'Last Access Time', 'Metadata Modification Time']);
      expect(evil[0]).toMatchObject({ source: 'docker:fs-change', container_name: 'tamper' });
      expect(evil[0].attrs).toMatchObject({ change: 'A', executable: true, mode: '0100755' });
    } finally {
      vfs.close();
    }
  });
});

describe('the git directory form (no whiteouts, no xattrs)', () => {
  it('web and priv equal the captures; tamper lacks exactly the invisible changes, and says so', () => {
    const { lines, limitations } = diffsOf(new HostDirVfs(SAMPLE));
    for (const name of captureNames()) {
      if (name === 'tamper') continue;
      expect(lines.get(name), name).toEqual(capture(name));
    }
    // Deletions need whiteouts / the opaque xattr; `C /bin` exists only because of the /bin/sleep whiteout.
    const visible = capture('tamper').filter((l) => !l.startsWith('D ') && l !== 'C /bin');
    expect(lines.get('tamper')).toEqual(visible);
    expect(limitations.some((r) => r.includes('xattrs are not visible in this evidence form (host-dir)'))).toBe(true);
    expect(limitations.some((r) => r.includes('/diff/bin was copied up but holds nothing'))).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------ generated trees

function write(p: string, content = '', mode = 0o644): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  fs.chmodSync(p, mode);
}

describe('generated layer trees', () => {
  const t = tempDir('flotsam-overlay-');
  afterAll(() => t.cleanup());
  const o2 = path.join(t.dir, 'var/lib/docker/overlay2');
  const fixedTime = new Date('2024-01-01T00:00:00Z');

  /** Builds overlay2/<id>/diff for each layer, `l/` links and the container's `lower` file (top first). */
  function layout(upper: string, lowers: string[]): void {
    fs.mkdirSync(path.join(o2, 'l'), { recursive: true });
    const shorts: string[] = [];
    for (const [i, id] of lowers.entries()) {
      const short = `SHORT${i}${upper.toUpperCase().replace(/[^A-Z]/g, '')}`;
      fs.writeFileSync(path.join(o2, id, 'link'), short);
      if (i !== 1) fs.symlinkSync(`../${id}/diff`, path.join(o2, 'l', short)); // layer 1: only its `link` file
      shorts.push(`l/${short}`);
    }
    fs.writeFileSync(path.join(o2, upper, 'lower'), shorts.join(':'));
  }

  function rec(mountId: string, extra: Partial<ContainerRecord> = {}): ContainerRecord {
    return {
      id: 'f'.repeat(64),
      name: 'gen',
      root: '/var/lib/docker',
      storageDriver: 'overlay2',
      layer: { path: '/var/lib/docker/image/overlay2/layerdb/mounts/x', mountId },
      ...extra,
    } as unknown as ContainerRecord;
  }

  function touchAll(dir: string): void {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) touchAll(p);
      if (!e.isSymbolicLink()) fs.utimesSync(p, fixedTime, fixedTime);
    }
  }

  it('aufs .wh. whiteouts and .wh..wh..opq, multi-layer hiding, copy-up with equal stat, link-file fallback', () => {
    // base (bottom) layer
    const base = path.join(o2, 'base/diff');
    write(path.join(base, 'etc/motd'), 'hello');
    write(path.join(base, 'etc/keep'), 'same');
    write(path.join(base, 'opt/app/VERSION'), '1');
    write(path.join(base, 'opt/app/conf/x'), 'x');
    write(path.join(base, 'var/old'), 'old');
    write(path.join(base, 'usr/bin/tool'), 'bin', 0o755);
    // middle layer deletes /var/old (aufs whiteout) so it is not in the parent tree
    const mid = path.join(o2, 'mid/diff');
    write(path.join(mid, 'var/.wh.old'));
    // init layer
    const init = path.join(o2, 'c1-init/diff');
    write(path.join(init, 'etc/hostname'));
    // container upper
    const up = path.join(o2, 'c1/diff');
    write(path.join(up, 'etc/.wh.motd'));
    write(path.join(up, 'etc/keep'), 'same');
    write(path.join(up, 'etc/hostname'), 'changed!');
    write(path.join(up, 'opt/app/.wh..wh..opq'));
    write(path.join(up, 'opt/app/config'), 'new');
    write(path.join(up, 'var/old'), 'recreated');
    write(path.join(up, 'usr/bin/tool'), 'trojan', 0o755);
    write(path.join(up, 'new/dir/file'), 'n');
    fs.symlinkSync('/etc/passwd', path.join(up, 'new/link'));
    touchAll(path.join(o2));
    layout('c1', ['c1-init', 'mid', 'base']);

    const problems = new ProblemLog();
    const vfs = new HostDirVfs(t.dir);
    const layers = resolveLayers(vfs, problems, 'h', rec('c1'))!;
    expect(layers.how).toBe('lower-file');
    expect(layers.lowers).toEqual(['c1-init', 'mid', 'base'].map((l) => `/var/lib/docker/overlay2/${l}/diff`));
    const d = diffLayers(vfs, layers, problems, 'h', { hash: true });
    expect(formatDiff(d.changes)).toBe(
      [
        'D /etc/motd', // aufs whiteout
        'C /etc', // parent of a change (etc/keep copied up unchanged: not a change)
        'C /etc/hostname', // an -init file the container modified is a change
        'A /new',
        'A /new/dir',
        'A /new/dir/file',
        'A /new/link',
        'C /opt',
        'C /opt/app',
        'D /opt/app/VERSION', // hidden by .wh..wh..opq
        'A /opt/app/config',
        'D /opt/app/conf',
        'C /usr',
        'C /usr/bin',
        'C /usr/bin/tool',
        'C /var',
        'A /var/old', // deleted in a middle layer: absent from the parent tree
      ]
        .sort((a, b) => (a.slice(2) < b.slice(2) ? -1 : 1))
        .map((l) => l + '\n')
        .join(''),
    );
    const link = d.changes.find((c) => c.path === '/new/link')!;
    expect(link.linkTarget).toBe('/etc/passwd');
    const tool = d.changes.find((c) => c.path === '/usr/bin/tool')!;
    // sha256('trojan')
    expect(tool.sha256).toBe(createHash('sha256').update('trojan').digest('hex'));
    expect(d.changes.find((c) => c.path === '/etc/motd')).toMatchObject({ deletedBy: 'aufs-whiteout' });
  });

  it.skipIf(!isRoot)('character-device whiteouts (mknod 0:0) on a directory tree', () => {
    const base = path.join(o2, 'b2/diff');
    write(path.join(base, 'bin/sleep'), 's', 0o755);
    write(path.join(base, 'bin/sh'), 's', 0o755);
    const up = path.join(o2, 'c2/diff');
    fs.mkdirSync(path.join(up, 'bin'), { recursive: true });
    expect(spawnSync('mknod', [path.join(up, 'bin/sleep'), 'c', '0', '0']).status).toBe(0);
    touchAll(path.join(o2, 'b2'));
    touchAll(path.join(o2, 'c2'));
    fs.writeFileSync(path.join(o2, 'c2/lower'), '../b2/diff'.replace('../', ''));
    const problems = new ProblemLog();
    const vfs = new HostDirVfs(t.dir);
    const layers = resolveLayers(vfs, problems, 'h', rec('c2'))!;
    expect(layers.lowers).toEqual(['/var/lib/docker/overlay2/b2/diff']);
    const d = diffLayers(vfs, layers, problems, 'h');
    expect(formatDiff(d.changes)).toBe('C /bin\nD /bin/sleep\n');
  });

  it('falls back to the -init layer and the layerdb chain when `lower` is missing', () => {
    const root = path.join(t.dir, 'var/lib/docker');
    write(path.join(o2, 'L0/diff/a'), 'a');
    write(path.join(o2, 'c3-init/diff/etc/hosts'));
    write(path.join(o2, 'c3/diff/a'), 'changed');
    touchAll(path.join(o2, 'L0'));
    const chain = 'sha256:' + 'a'.repeat(64);
    write(path.join(root, 'image/overlay2/layerdb/sha256', 'a'.repeat(64), 'cache-id'), 'L0');
    const vfs = new HostDirVfs(t.dir);
    const problems = new ProblemLog();
    const layers = resolveLayers(vfs, problems, 'h', rec('c3', { layer: { path: '/x', mountId: 'c3', initId: 'c3-init', parent: chain } }))!;
    expect(layers.how).toBe('layerdb');
    expect(layers.lowers).toEqual(['/var/lib/docker/overlay2/c3-init/diff', '/var/lib/docker/overlay2/L0/diff']);
    expect(formatDiff(diffLayers(vfs, layers, problems, 'h').changes)).toBe('C /a\n');
  });

  it('stops at MAX_DIFF_ENTRIES and MAX_DIFF_DEPTH with problems, and refuses hostile mount ids', () => {
    let deep = path.join(o2, 'c4/diff');
    for (let i = 0; i < 10; i++) deep = path.join(deep, `d${i}`);
    write(path.join(deep, 'f'), 'x');
    fs.writeFileSync(path.join(o2, 'c4/lower'), '');
    const vfs = new HostDirVfs(t.dir);
    const problems = new ProblemLog();
    const layers = resolveLayers(vfs, problems, 'h', rec('c4'))!;
    expect(layers.lowers).toEqual([]);
    const shallow = diffLayers(vfs, layers, problems, 'h', { maxDepth: 3 });
    expect(shallow.changes.map((c) => c.path)).toEqual(['/d0', '/d0/d1', '/d0/d1/d2', '/d0/d1/d2/d3']);
    const few = diffLayers(vfs, layers, problems, 'h', { maxEntries: 2 });
    expect(few.changes).toHaveLength(2);
    const reasons = problems.problems.map((p) => p.reason).join('\n');
    expect(reasons).toContain('MAX_DIFF_DEPTH');
    expect(reasons).toContain('MAX_DIFF_ENTRIES');
    expect(resolveLayers(vfs, problems, 'h', rec('../../etc'))).toBeUndefined();
    expect(problems.problems.some((p) => p.reason.includes('is not a plain name'))).toBe(true);
  });
});
