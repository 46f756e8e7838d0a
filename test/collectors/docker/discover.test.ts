import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProblemLog } from '../../../src/events/event.js';
import { HostDirVfs } from '../../../src/fs/host-dir/host-dir.js';
import {
  dataRootFlags,
  discoverDockerRoots,
  execStartLines,
  shellAssignments,
  shellSplit,
} from '../../../src/collectors/docker/discover.js';
import { tempDir, writeTree } from '../../helpers/corpus.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A host tree with the given files; `roots` are made to look like data roots (containers/ + image/). */
function host(files: Record<string, string>, roots: string[] = []) {
  const t = tempDir();
  cleanups.push(t.cleanup);
  writeTree(t.dir, files);
  for (const r of roots) {
    fs.mkdirSync(path.join(t.dir, r, 'containers'), { recursive: true });
    fs.mkdirSync(path.join(t.dir, r, 'image'), { recursive: true });
  }
  const problems = new ProblemLog();
  const roots2 = discoverDockerRoots({ vfs: new HostDirVfs(t.dir), host: 'h', problems });
  return { roots: roots2, problems, dir: t.dir };
}

describe('command-line helpers', () => {
  it('shellSplit handles quotes and escapes', () => {
    expect(shellSplit(`/usr/bin/dockerd -H fd:// --data-root "/mnt/my docker" -g '/x y' a\\ b`)).toEqual([
      '/usr/bin/dockerd', '-H', 'fd://', '--data-root', '/mnt/my docker', '-g', '/x y', 'a b',
    ]);
  });
  it('dataRootFlags knows every spelling', () => {
    expect(dataRootFlags(['--data-root=/a', '--data-root', '/b', '-g', '/c', '-g/d', '--graph=/e', '--graph', '/f'])).toEqual([
      { flag: '--data-root', value: '/a' },
      { flag: '--data-root', value: '/b' },
      { flag: '-g', value: '/c' },
      { flag: '-g', value: '/d' },
      { flag: '--graph', value: '/e' },
      { flag: '--graph', value: '/f' },
    ]);
  });
  it('execStartLines joins continuations and strips prefixes', () => {
    const lines = execStartLines('[Service]\nExecStart=\nExecStart=-/usr/bin/dockerd \\\n  --data-root /srv/d\n');
    expect(lines.map(shellSplit)).toEqual([[], ['/usr/bin/dockerd', '--data-root', '/srv/d']]);
  });
  it('shellAssignments skips comments and unquotes', () => {
    expect(shellAssignments('#DOCKER_OPTS="-g /no"\nDOCKER_OPTS="--dns 8.8.8.8 -g /mnt/docker"\n', 'DOCKER_OPTS')).toEqual([
      '--dns 8.8.8.8 -g /mnt/docker',
    ]);
  });
});

describe('discoverDockerRoots', () => {
  it('nothing to find: no roots, no problems', () => {
    const { roots, problems } = host({ 'etc/hostname': 'x\n' });
    expect(roots).toEqual([]);
    expect(problems.problems).toEqual([]);
  });

  it('default /var/lib/docker only when it looks like a data root', () => {
    expect(host({ 'var/lib/docker/README': 'x' }).roots).toEqual([]);
    expect(host({}, ['var/lib/docker']).roots).toEqual([
      { path: '/var/lib/docker', how: ['default /var/lib/docker'], exists: true },
    ]);
  });

  it('daemon.json data-root and legacy graph', () => {
    const { roots } = host(
      { 'etc/docker/daemon.json': JSON.stringify({ 'data-root': '/srv/docker', graph: '/old/docker' }) },
      ['srv/docker', 'old/docker'],
    );
    expect(roots).toEqual([
      { path: '/srv/docker', how: ['/etc/docker/daemon.json data-root'], exists: true },
      { path: '/old/docker', how: ['/etc/docker/daemon.json graph'], exists: true },
    ]);
  });

  it('a configured root missing from the evidence is reported with exists=false and a problem', () => {
    const { roots, problems } = host({ 'etc/docker/daemon.json': '{"data-root": "/mnt/elsewhere"}' });
    expect(roots).toEqual([{ path: '/mnt/elsewhere', how: ['/etc/docker/daemon.json data-root'], exists: false }]);
    expect(problems.problems[0].reason).toContain('not found in the evidence');
  });

  it('guard: daemon.json that is invalid, an array, or has a non-string data-root', () => {
    for (const text of ['{"data-root": ', '[]', '{"data-root": 42}']) {
      const { roots, problems } = host({ 'etc/docker/daemon.json': text });
      expect(roots).toEqual([]);
      expect(problems.problems).toHaveLength(1);
    }
  });

  it('guard: a relative data-root is ignored with a problem', () => {
    const { roots, problems } = host({ 'etc/docker/daemon.json': '{"data-root": "docker"}' });
    expect(roots).toEqual([]);
    expect(problems.problems[0].reason).toContain('not an absolute path');
  });

  it('systemd unit drop-in with --data-root', () => {
    const { roots } = host(
      {
        'lib/systemd/system/docker.service': '[Service]\nExecStart=/usr/bin/dockerd -H fd://\n',
        'etc/systemd/system/docker.service.d/override.conf':
          '[Service]\nExecStart=\nExecStart=/usr/bin/dockerd -H fd:// --data-root=/data/docker\n',
      },
      ['data/docker'],
    );
    expect(roots).toEqual([
      {
        path: '/data/docker',
        how: ['/etc/systemd/system/docker.service.d/override.conf ExecStart --data-root'],
        exists: true,
      },
    ]);
  });

  it('/etc/default/docker -g and /etc/sysconfig/docker OPTIONS', () => {
    const { roots } = host(
      {
        'etc/default/docker': '# DOCKER_OPTS="-g /nope"\nDOCKER_OPTS="--dns 8.8.8.8 -g /mnt/docker"\n',
        'etc/sysconfig/docker': "OPTIONS='--selinux-enabled --graph=/var/lib/docker-rh'\n",
      },
      ['mnt/docker', 'var/lib/docker-rh'],
    );
    expect(roots).toEqual([
      { path: '/mnt/docker', how: ['/etc/default/docker DOCKER_OPTS -g'], exists: true },
      { path: '/var/lib/docker-rh', how: ['/etc/sysconfig/docker OPTIONS --graph'], exists: true },
    ]);
  });

  it('snap and rootless homes', () => {
    const { roots } = host({}, [
      'var/snap/docker/common/var-lib-docker',
      'root/.local/share/docker',
      'home/alice/.local/share/docker',
    ]);
    expect(roots.map((r) => [r.path, r.how])).toEqual([
      ['/var/snap/docker/common/var-lib-docker', ['snap /var/snap/docker/common/var-lib-docker']],
      ['/root/.local/share/docker', ['rootless /root/.local/share/docker']],
      ['/home/alice/.local/share/docker', ['rootless /home/alice/.local/share/docker']],
    ]);
  });

  it('bare data root: the evidence root itself', () => {
    const { roots } = host({ 'containers/.keep': '', 'image/overlay2/repositories.json': '{}' });
    expect(roots).toEqual([{ path: '/', how: ['evidence root is a data root'], exists: true }]);
  });

  it('dedupes by realpath and merges how', () => {
    // /docker-link -> /var/lib/docker, and a trailing slash in daemon.json: one root, three ways.
    const d = tempDir();
    cleanups.push(d.cleanup);
    writeTree(d.dir, { 'etc/docker/daemon.json': '{"data-root": "/var/lib/docker/"}', 'etc/default/docker': 'DOCKER_OPTS="-g /docker-link"' });
    fs.mkdirSync(path.join(d.dir, 'var/lib/docker/containers'), { recursive: true });
    fs.symlinkSync('/var/lib/docker', path.join(d.dir, 'docker-link'));
    const roots = discoverDockerRoots({ vfs: new HostDirVfs(d.dir), host: 'h', problems: new ProblemLog() });
    expect(roots).toEqual([
      {
        path: '/var/lib/docker',
        how: ['default /var/lib/docker', '/etc/docker/daemon.json data-root', '/etc/default/docker DOCKER_OPTS -g'],
        exists: true,
      },
    ]);
  });
});
