// Volume and bind-source file events: attribution to the mounting containers, orphan volumes, named limits.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProblemLog } from '../../../src/events/event.js';
import { HostDirVfs } from '../../../src/fs/host-dir/host-dir.js';
import type { ContainerRecord, MountRecord } from '../../../src/collectors/docker/containers.js';
import { volumeEvents } from '../../../src/collectors/docker/volumes.js';
import { tempDir } from '../../helpers/corpus.js';

const t = tempDir('flotsam-volumes-');
afterAll(() => t.cleanup());
const ROOT = '/var/lib/docker';

function write(rel: string, text = 'x'): void {
  const p = path.join(t.dir, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
}

function container(id: string, name: string, mounts: Array<Partial<MountRecord>>): ContainerRecord {
  return {
    id: id.repeat(64).slice(0, 64),
    name,
    root: ROOT,
    mounts: mounts.map((m) => ({ destination: '', source: '', type: 'volume', name: '', driver: 'local', rw: true, ...m })),
  } as unknown as ContainerRecord;
}

write('var/lib/docker/volumes/shared/_data/a/b.txt');
write('var/lib/docker/volumes/orphan/_data/left.txt');
write('srv/site/index.html');
for (let i = 0; i < 20; i++) write(`var/lib/docker/volumes/big/_data/f${String(i).padStart(2, '0')}`);

describe('volumeEvents', () => {
  const ctx = { vfs: new HostDirVfs(t.dir), host: 'h', problems: new ProblemLog() };
  const a = container('a', 'first', [{ name: 'shared', destination: '/data' }, { type: 'bind', source: '/srv/site', destination: '/www', driver: '' }]);
  const b = container('b', 'second', [{ name: 'shared', destination: '/mnt' }, { type: 'bind', source: '/', destination: '/host', driver: '' }]);
  const events = volumeEvents(ctx, ROOT, [a, b], { maxFiles: 10 });

  it('attributes shared volume files to the first container and lists every mounter', () => {
    const f = events.find((e) => e.path === '/var/lib/docker/volumes/shared/_data/a/b.txt' && e.timestamp_desc === 'Content Modification Time')!;
    expect(f).toMatchObject({ source: 'docker:volume-file', container_id: a.id, container_name: 'first' });
    expect(f.attrs?.containers).toEqual([
      { id: a.id, name: 'first', container_path: '/data/a/b.txt' },
      { id: b.id, name: 'second', container_path: '/mnt/a/b.txt' },
    ]);
  });

  it('walks bind sources inside the evidence, never the host root', () => {
    expect(events.some((e) => e.path === '/srv/site/index.html' && e.container_name === 'first' && e.attrs?.kind === 'bind')).toBe(true);
    expect(events.some((e) => e.path === '/etc' || e.path === '/srv')).toBe(false);
  });

  it('reports volumes no container references as orphans', () => {
    const o = events.find((e) => e.path === '/var/lib/docker/volumes/orphan/_data/left.txt')!;
    expect(o.container_id).toBeUndefined();
    expect(o.attrs?.orphan).toBe(true);
  });

  it('stops at MAX_VOLUME_FILES with a problem', () => {
    const big = new Set(events.filter((e) => e.path.startsWith('/var/lib/docker/volumes/big/_data/')).map((e) => e.path));
    expect(big.size).toBe(10);
    expect(ctx.problems.problems.some((p) => p.reason.includes('MAX_VOLUME_FILES'))).toBe(true);
  });

  it('a referenced volume missing from the evidence is skipped quietly (containers.json has volumeExists)', () => {
    const c = container('c', 'third', [{ name: 'gone', destination: '/g' }]);
    const problems = new ProblemLog();
    expect(volumeEvents({ vfs: ctx.vfs, host: 'h', problems }, ROOT, [c]).some((e) => e.attrs?.volume === 'gone')).toBe(false);
    expect(problems.problems).toEqual([]);
  });
});
