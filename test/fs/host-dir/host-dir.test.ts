// The mounted-directory reader must stay inside its root whatever the tree holds.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostDirVfs, MAX_KNOWN_DIRS, MAX_SYMLINK_HOPS } from '../../../src/fs/host-dir/host-dir.js';
import { VfsError, readTextLimited, LimitError, readFileLimited } from '../../../src/fs/vfs.js';

let root: string;
let vfs: HostDirVfs;
const FAKE_SHADOW = 'evidence-shadow: not the analyst one\n';

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'flotsam-hostdir-'));
  fs.mkdirSync(path.join(root, 'etc'));
  fs.writeFileSync(path.join(root, 'etc/shadow'), FAKE_SHADOW);
  fs.mkdirSync(path.join(root, 'var/lib/docker/containers/abc'), { recursive: true });
  fs.writeFileSync(path.join(root, 'var/lib/docker/containers/abc/file.txt'), 'hello');
  const d = path.join(root, 'var/lib/docker/containers/abc');
  fs.symlinkSync('/etc/shadow', path.join(d, 'abs-link'));
  fs.symlinkSync('../../../../../../../../../../etc/shadow', path.join(d, 'dotdot-link'));
  fs.symlinkSync('/', path.join(d, 'root-link'));
  fs.symlinkSync('../../../../../..', path.join(d, 'up-link'));
  fs.symlinkSync('loop-b', path.join(d, 'loop-a'));
  fs.symlinkSync('loop-a', path.join(d, 'loop-b'));
  fs.symlinkSync('file.txt', path.join(d, 'rel-link'));
  fs.symlinkSync('does-not-exist', path.join(d, 'dangling'));
  // A chain of MAX_SYMLINK_HOPS + 1 links.
  for (let i = 0; i <= MAX_SYMLINK_HOPS; i++) fs.symlinkSync(`chain-${i + 1}`, path.join(d, `chain-${i}`));
  fs.writeFileSync(path.join(d, `chain-${MAX_SYMLINK_HOPS + 1}`), 'end of chain');
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

beforeAll(() => {
  vfs = new HostDirVfs(root);
});

const C = '/var/lib/docker/containers/abc';

describe('HostDirVfs confinement', () => {
  it('resolves an absolute symlink against the evidence root, never the analyst machine', () => {
    expect(readTextLimited(vfs, `${C}/abs-link`)).toBe(FAKE_SHADOW);
    expect(vfs.realpath(`${C}/abs-link`)).toBe('/etc/shadow');
  });

  it('stops `..` at the evidence root', () => {
    expect(readTextLimited(vfs, `${C}/dotdot-link`)).toBe(FAKE_SHADOW);
    expect(readTextLimited(vfs, '/../../../../etc/shadow')).toBe(FAKE_SHADOW);
    expect(readTextLimited(vfs, `${C}/root-link/etc/shadow`)).toBe(FAKE_SHADOW);
    expect(readTextLimited(vfs, `${C}/up-link/etc/shadow`)).toBe(FAKE_SHADOW);
    expect(vfs.realpath(`${C}/up-link`)).toBe('/');
  });

  it('never opens a file outside the root even when the analyst has it', () => {
    // /etc/hostname exists on every Linux analyst machine; it is absent from the evidence.
    expect(() => vfs.open('/etc/hostname')).toThrowError(VfsError);
    expect(() => vfs.open(`${C}/root-link/etc/hostname`)).toThrowError(/no such file/);
  });

  it('gives ELOOP for loops and for chains longer than the hop limit', () => {
    expect(() => vfs.stat(`${C}/loop-a`)).toThrowError(expect.objectContaining({ code: 'ELOOP' }));
    expect(() => vfs.stat(`${C}/chain-0`)).toThrowError(expect.objectContaining({ code: 'ELOOP' }));
    expect(readTextLimited(vfs, `${C}/chain-1`)).toBe('end of chain');
  });

  it('lstat does not follow the last component; stat does', () => {
    expect(vfs.lstat(`${C}/rel-link`).type).toBe('symlink');
    expect(vfs.stat(`${C}/rel-link`).type).toBe('file');
    expect(vfs.readlink(`${C}/abs-link`)).toBe('/etc/shadow');
    expect(() => vfs.stat(`${C}/dangling`)).toThrowError(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('maps errors to typed VFS errors', () => {
    expect(() => vfs.readdir('/nope')).toThrowError(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => vfs.readdir(`${C}/file.txt/x`)).toThrowError(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => vfs.open(C)).toThrowError(expect.objectContaining({ code: 'EISDIR' }));
  });
});

describe('HostDirVfs remembered directories', () => {
  it('links through remembered directories still resolve inside the root', () => {
    const v = new HostDirVfs(root);
    expect(v.lstat(`${C}/file.txt`).size).toBe(5n); // remembers /var ... /abc
    expect(readTextLimited(v, `${C}/abs-link`, 1000)).toBe(FAKE_SHADOW);
    expect(readTextLimited(v, `${C}/root-link/etc/shadow`, 1000)).toBe(FAKE_SHADOW);
    expect(readTextLimited(v, `${C}/up-link/etc/shadow`, 1000)).toBe(FAKE_SHADOW);
    expect(() => v.lstat(`${C}/file.txt/x`)).toThrow(VfsError);
  });

  it(`starts over past MAX_KNOWN_DIRS (${MAX_KNOWN_DIRS}) directories and still resolves every path`, () => {
    const many = fs.mkdtempSync(path.join(os.tmpdir(), 'flotsam-hostdir-many-'));
    try {
      const n = MAX_KNOWN_DIRS + 100;
      for (let i = 0; i < n; i++) fs.mkdirSync(path.join(many, 'd', String(i)), { recursive: i === 0 });
      const v = new HostDirVfs(many);
      const known = (v as unknown as { knownDirs: Set<string> }).knownDirs;
      let largest = 0;
      for (let i = 0; i < n; i++) {
        // `/d/<i>/..` walks through /d/<i>, so it is remembered; the result is /d.
        expect(v.lstat(`/d/${i}/..`).ino).toBe(v.lstat('/d').ino);
        expect(v.readdir(`/d/${i}/../${i}`)).toEqual([]);
        largest = Math.max(largest, known.size);
      }
      expect(largest).toBe(MAX_KNOWN_DIRS);
      expect(known.size).toBeLessThan(MAX_KNOWN_DIRS);
    } finally {
      fs.rmSync(many, { recursive: true, force: true });
    }
  });
});

describe('HostDirVfs metadata', () => {
  it('reports nanosecond times, inode, mode and birth time where the platform has it', () => {
    const st = vfs.stat(`${C}/file.txt`);
    const real = fs.statSync(path.join(root, C, 'file.txt'), { bigint: true });
    expect(st.ino).toBe(real.ino);
    expect(st.mtime).toBe(real.mtimeNs);
    expect(st.ctime).toBe(real.ctimeNs);
    expect(st.size).toBe(5n);
    expect(st.type).toBe('file');
    expect(st.mode & 0o170000).toBe(0o100000);
    if (real.birthtimeNs > 0n) expect(st.birthtime).toBe(real.birthtimeNs);
  });

  it('lists directories sorted by name with entry types', () => {
    const names = vfs.readdir(C).map((e) => e.name);
    expect(names).toEqual([...names].sort());
    expect(vfs.readdir(C).find((e) => e.name === 'abs-link')?.type).toBe('symlink');
  });

  it('refuses whole-file reads above the named limit', () => {
    expect(() => readFileLimited(vfs, `${C}/file.txt`, 4)).toThrowError(LimitError);
  });

  it('never opens for writing: file contents and mtimes are unchanged after reads', () => {
    const p = path.join(root, C, 'file.txt');
    const before = fs.statSync(p, { bigint: true });
    readTextLimited(vfs, `${C}/file.txt`);
    const after = fs.statSync(p, { bigint: true });
    expect(after.mtimeNs).toBe(before.mtimeNs);
    expect(after.ctimeNs).toBe(before.ctimeNs);
  });
});
