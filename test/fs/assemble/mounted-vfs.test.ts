// MountedVfs over host directories: dispatch to the longest mount point, symlinks that cross mounts, `..` out of a
// mount root, confinement, the hop limit and synthetic directories on the way to a mount point.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MountedVfs } from '../../../src/fs/assemble/mounted-vfs.js';
import { HostDirVfs } from '../../../src/fs/host-dir/host-dir.js';
import { VfsError, readTextLimited } from '../../../src/fs/vfs.js';
import { tempDir } from '../../helpers/corpus.js';

let tmp: { dir: string; cleanup: () => void };
let vfs: MountedVfs;

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof VfsError) return err.code;
    throw err;
  }
}

beforeAll(() => {
  tmp = tempDir('flotsam-mounted-');
  const root = path.join(tmp.dir, 'root');
  const v = path.join(tmp.dir, 'var');
  const deep = path.join(tmp.dir, 'deep');
  const outside = path.join(tmp.dir, 'outside-secret');
  fs.writeFileSync(outside, 'analyst file\n');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.mkdirSync(path.join(root, 'var'), { recursive: true });
  fs.writeFileSync(path.join(root, 'var', 'hidden-by-mount'), 'shadowed\n');
  fs.writeFileSync(path.join(root, 'etc', 'hostname'), 'rooty\n');
  fs.symlinkSync('/var/log/syslog', path.join(root, 'etc', 'abs-to-var'));
  fs.symlinkSync('../var/log', path.join(root, 'etc', 'rel-to-var'));
  fs.symlinkSync('loop2', path.join(root, 'loop1'));
  fs.symlinkSync('loop1', path.join(root, 'loop2'));
  fs.mkdirSync(path.join(v, 'log'), { recursive: true });
  fs.writeFileSync(path.join(v, 'log', 'syslog'), 'var log\n');
  fs.symlinkSync('../../etc/hostname', path.join(v, 'log', 'up'));
  fs.symlinkSync('../../../../../../../outside-secret', path.join(v, 'log', 'escape'));
  fs.symlinkSync('/', path.join(v, 'log', 'to-root'));
  fs.mkdirSync(deep);
  fs.writeFileSync(path.join(deep, 'file'), 'deep\n');
  vfs = new MountedVfs([
    { point: '/', vfs: new HostDirVfs(root) },
    { point: '/var', vfs: new HostDirVfs(v) },
    { point: '/srv/a/b', vfs: new HostDirVfs(deep) }, // /srv and /srv/a exist nowhere
  ]);
});

afterAll(() => {
  vfs?.close();
  tmp?.cleanup();
});

describe('MountedVfs', () => {
  it('dispatches to the longest mount point; the mount shadows the directory below it', () => {
    expect(readTextLimited(vfs, '/etc/hostname')).toBe('rooty\n');
    expect(readTextLimited(vfs, '/var/log/syslog')).toBe('var log\n');
    expect(vfs.readdir('/var').map((e) => e.name)).toEqual(['log']);
    expect(code(() => vfs.stat('/var/hidden-by-mount'))).toBe('ENOENT');
    expect(vfs.whereIs('/var/log/syslog')).toMatchObject({ mountPoint: '/var', inner: '/log/syslog' });
  });

  it('follows absolute and relative links across mounts', () => {
    expect(readTextLimited(vfs, '/etc/abs-to-var')).toBe('var log\n');
    expect(vfs.realpath('/etc/abs-to-var')).toBe('/var/log/syslog');
    expect(vfs.realpath('/etc/rel-to-var')).toBe('/var/log');
    expect(readTextLimited(vfs, '/etc/rel-to-var/syslog')).toBe('var log\n');
    expect(vfs.lstat('/etc/abs-to-var').type).toBe('symlink');
    expect(vfs.readlink('/etc/abs-to-var')).toBe('/var/log/syslog');
  });

  it('`..` at a mount root goes to the parent mount', () => {
    expect(readTextLimited(vfs, '/var/log/up')).toBe('rooty\n');
    expect(vfs.realpath('/var/log/up')).toBe('/etc/hostname');
    expect(vfs.realpath('/var/../etc')).toBe('/etc');
    expect(vfs.realpath('/var/log/to-root/etc/hostname')).toBe('/etc/hostname');
  });

  it('stays confined and bounds link chains', () => {
    expect(code(() => vfs.realpath('/var/log/escape'))).toBe('ENOENT'); // resolves to /outside-secret, inside
    expect(code(() => vfs.open('/var/log/escape'))).toBe('ENOENT');
    expect(code(() => vfs.stat('/loop1'))).toBe('ELOOP');
    expect(vfs.lstat('/loop1').type).toBe('symlink');
  });

  it('synthesises directories on the way to a mount point', () => {
    expect(vfs.stat('/srv').type).toBe('dir');
    expect(vfs.readdir('/srv').map((e) => e.name)).toEqual(['a']);
    expect(vfs.readdir('/srv/a').map((e) => e.name)).toEqual(['b']);
    expect(readTextLimited(vfs, '/srv/a/b/file')).toBe('deep\n');
    expect(vfs.readdir('/').map((e) => e.name)).toEqual(['etc', 'loop1', 'loop2', 'srv', 'var']);
    expect(code(() => vfs.stat('/srv/nothing'))).toBe('ENOENT');
  });

  it('reports errors with the assembled path', () => {
    try {
      vfs.stat('/var/log/missing');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(VfsError);
      expect((err as VfsError).path).toBe('/var/log/missing');
      expect((err as VfsError).message).toMatch(/^\/var\/log\/missing: /);
    }
    expect(code(() => vfs.readdir('/etc/hostname'))).toBe('ENOTDIR');
    expect(code(() => vfs.stat('/etc/hostname/x'))).toBe('ENOTDIR');
    expect(code(() => vfs.open('/var'))).toBe('EISDIR');
    expect(code(() => vfs.readlink('/etc/hostname'))).toBe('EINVAL');
  });

  it('refuses two file systems on one mount point', () => {
    const a = new HostDirVfs(tmp.dir);
    expect(() => new MountedVfs([{ point: '/', vfs: a }, { point: '/x/', vfs: a }, { point: '/x', vfs: a }])).toThrow(VfsError);
  });
});
