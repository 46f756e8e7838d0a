// The tar VFS against GNU tar itself: archives of a generated tree (fixtures.ts) in pax (gz and plain), gnu and
// ustar formats are extracted with `tar -xp --xattrs --numeric-owner` (the oracle) and every member's type, mode,
// owner, size, mtime (ns), device numbers, link target, content and xattrs must match what flotsam reads without
// extracting. Also: member count equals `tar -tf`, confined symlink resolution, sparse files in three encodings.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarArchive, probeTar } from '../../../src/fs/tar/index.js';
import type { TarVfs } from '../../../src/fs/tar/vfs.js';
import { VfsError, fileTypeFromMode, readFileLimited } from '../../../src/fs/vfs.js';
import { LONG_DIR, LONG_FILE, LONG_TARGET, type TarFixtures, buildTarFixtures, extractWithTar, getXattrs, walk } from './fixtures.js';

let fx: TarFixtures;

beforeAll(() => {
  fx = buildTarFixtures();
});
afterAll(() => fx?.cleanup());

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function vfsWalk(vfs: TarVfs, dir = '/'): string[] {
  const out: string[] = [];
  for (const e of vfs.readdir(dir)) {
    const p = dir === '/' ? `/${e.name}` : `${dir}/${e.name}`;
    out.push(p.slice(1));
    if (e.type === 'dir') out.push(...vfsWalk(vfs, p));
  }
  return out;
}

const major = (rdev: number): number => ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
const minor = (rdev: number): number => (rdev & 0xff) | ((rdev >>> 12) & ~0xff);

function compareWithExtraction(archive: string, opts: { ns: boolean; xattrs: boolean }): void {
  const dest = fs.mkdtempSync(path.join(fx.dir, 'x-'));
  extractWithTar(archive, dest);
  const { vfs, problems } = openTarArchive(archive);
  try {
    expect(problems).toEqual([]);
    const listed = execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).split('\n').filter((l) => l !== '');
    expect(vfs.index.members.length).toBe(listed.length);
    const paths = walk(dest);
    expect(vfsWalk(vfs).sort()).toEqual(paths);
    let files = 0;
    for (const rel of paths) {
      const host = path.join(dest, rel);
      const want = fs.lstatSync(host, { bigint: true });
      const got = vfs.lstat('/' + rel);
      const where = `${path.basename(archive)}: ${rel}`;
      expect(got.type, where).toBe(fileTypeFromMode(Number(want.mode)));
      expect(got.mode, where).toBe(Number(want.mode));
      expect(got.uid, where).toBe(Number(want.uid));
      expect(got.gid, where).toBe(Number(want.gid));
      if (got.type !== 'dir') expect(got.size, where).toBe(want.size);
      if (got.type !== 'symlink') {
        // GNU tar restores ns times from pax, whole seconds otherwise.
        expect(got.mtime, where).toBe(opts.ns ? want.mtimeNs : (want.mtimeNs / 1_000_000_000n) * 1_000_000_000n);
      }
      if (got.type === 'char' || got.type === 'block') {
        expect([got.rdevMajor, got.rdevMinor], where).toEqual([major(Number(want.rdev)), minor(Number(want.rdev))]);
      }
      if (got.type === 'symlink') expect(vfs.readlink('/' + rel), where).toBe(fs.readlinkSync(host));
      if (got.type === 'file') {
        expect(sha(readFileLimited(vfs, '/' + rel)), where).toBe(sha(fs.readFileSync(host)));
        files++;
      }
      if (opts.xattrs && got.type !== 'symlink') {
        const wantX = [...getXattrs(host)].filter(([k]) => k.startsWith('user.'));
        const gotX = [...vfs.xattrs('/' + rel)].filter(([k]) => k.startsWith('user.'));
        expect(gotX.map(([k, v]) => [k, sha(v)]).sort(), where).toEqual(wantX.map(([k, v]) => [k, sha(v)]).sort());
      }
    }
    expect(files).toBeGreaterThan(8);
    // Hard links: one inode, two names, both read the same bytes.
    expect(vfs.lstat('/hard/one').ino).toBe(vfs.lstat('/hard/two').ino);
    expect(vfs.lstat('/hard/two').nlink).toBe(2);
    expect(new TextDecoder().decode(readFileLimited(vfs, '/hard/two'))).toBe('hard link content\n');
  } finally {
    vfs.close();
  }
}

describe('tar VFS equals GNU tar extraction', () => {
  it('pax .tar.gz with xattrs and ns times', () => compareWithExtraction(fx.paxGz, { ns: true, xattrs: true }));
  it('pax .tar', () => compareWithExtraction(fx.paxTar, { ns: true, xattrs: true }));
  it('gnu .tar (long names via L/K members)', () => compareWithExtraction(fx.gnuTar, { ns: false, xattrs: false }));
  it('ustar .tar (prefix field)', () => compareWithExtraction(fx.ustarTar, { ns: false, xattrs: false }));
});

describe('pax times and metadata against the source tree', () => {
  it('mtime/atime/ctime in ns, whiteout char 0:0, xattrs, long names', () => {
    const { vfs } = openTarArchive(fx.paxGz);
    try {
      const src = (p: string): fs.BigIntStats => fs.lstatSync(path.join(fx.src, p), { bigint: true });
      expect(vfs.lstat('/etc/shadow').mtime).toBe(1683356889123456789n);
      expect(vfs.lstat('/etc/hostname').mtime).toBe(981173106000000001n);
      expect(vfs.lstat('/links/abs').mtime).toBe(src('links/abs').mtimeNs);
      // tar does not read devices, so their atime/ctime are still the source's
      for (const p of ['dev/whiteout', 'dev/sda1']) {
        expect(vfs.lstat('/' + p).atime, p).toBe(src(p).atimeNs);
        expect(vfs.lstat('/' + p).ctime, p).toBe(src(p).ctimeNs);
      }
      // the symlink's atime as archived (touch -h set it; reading the link since may have moved the source's)
      expect(vfs.lstat('/links/abs').atime).toBe(1640995200500000000n);
      expect(vfs.lstat('/dev/whiteout')).toMatchObject({ type: 'char', rdevMajor: 0, rdevMinor: 0 });
      expect(vfs.lstat('/dev/sda1')).toMatchObject({ type: 'block', rdevMajor: 8, rdevMinor: 1 });
      expect(vfs.lstat('/bin/tool').mode).toBe(0o104755);
      expect(vfs.lstat('/home/alice/notes.txt')).toMatchObject({ uid: 1234, gid: 5678, mode: 0o100600 });
      const x = vfs.xattrs('/xattr/file');
      expect(new TextDecoder().decode(x.get('user.flotsam'))).toBe('hello');
      expect([...(x.get('user.binary') ?? [])]).toEqual([0, 1, 2, 255]);
      expect(vfs.readlink('/links/long')).toBe(LONG_TARGET);
      expect(new TextDecoder().decode(readFileLimited(vfs, `/${LONG_DIR}/${LONG_FILE}`))).toBe('long name content\n');
      expect(vfs.readdir('/empty')).toEqual([]);
      expect(vfs.kind).toBe('tar');
      expect(vfs.location).toBe(path.resolve(fx.paxGz));
    } finally {
      vfs.close();
    }
  });
});

describe('confined symlink resolution', () => {
  it('absolute and escaping targets resolve inside the archive, loops stop, errors are typed', () => {
    const { vfs } = openTarArchive(fx.paxGz);
    try {
      const shadow = new TextDecoder().decode(readFileLimited(vfs, '/etc/shadow'));
      expect(shadow).toContain('$6$secret');
      expect(vfs.realpath('/links/abs')).toBe('/etc/shadow');
      expect(vfs.realpath('/links/escape')).toBe('/etc/shadow');
      expect(new TextDecoder().decode(readFileLimited(vfs, '/links/abs'))).toBe(shadow);
      expect(new TextDecoder().decode(readFileLimited(vfs, '/links/escape'))).toBe(shadow);
      expect(new TextDecoder().decode(readFileLimited(vfs, '/links/etcdir/hostname'))).toBe('tar-fixture\n');
      expect(vfs.stat('/links/rel').size).toBe(12n);
      expect(vfs.lstat('/links/abs').type).toBe('symlink');
      const code = (f: () => unknown): string | undefined => {
        try {
          f();
        } catch (e) {
          return e instanceof VfsError ? e.code : String(e);
        }
        return undefined;
      };
      expect(code(() => vfs.stat('/links/loop1'))).toBe('ELOOP');
      expect(code(() => vfs.stat('/nope'))).toBe('ENOENT');
      expect(code(() => vfs.stat('/etc/hostname/x'))).toBe('ENOTDIR');
      expect(code(() => vfs.open('/etc'))).toBe('EISDIR');
      expect(code(() => vfs.open('/dev/whiteout'))).toBe('EINVAL');
      expect(code(() => vfs.readlink('/etc/hostname'))).toBe('EINVAL');
      expect(code(() => vfs.stat('/links/long'))).toBe('ENOENT');
      expect(vfs.realpath('/../../etc/./hostname')).toBe('/etc/hostname');
    } finally {
      vfs.close();
    }
  });

  it('random access: positional reads anywhere in a member', () => {
    const { vfs } = openTarArchive(fx.paxGz);
    try {
      const whole = fs.readFileSync(path.join(fx.src, 'data/big.bin'));
      const f = vfs.open('/data/big.bin');
      const buf = new Uint8Array(1000);
      for (const pos of [299_500, 0, 123_457, 65_536]) {
        const n = f.read(buf, 0, 1000, pos);
        expect(n).toBe(Math.min(1000, whole.length - pos));
        expect(Buffer.from(buf.subarray(0, n)).equals(whole.subarray(pos, pos + n))).toBe(true);
      }
      expect(f.read(buf, 0, 10, whole.length)).toBe(0);
      f.close();
    } finally {
      vfs.close();
    }
  });
});

describe('sparse members', () => {
  for (const k of ['gnuSparse', 'paxSparse', 'paxSparse01'] as const) {
    it(`${k}: holes read as zeros, data where it was`, () => {
      const { vfs, problems } = openTarArchive(fx[k]);
      try {
        expect(problems).toEqual([]);
        const want = fs.readFileSync(fx.sparseFile);
        const got = readFileLimited(vfs, '/holes');
        expect(got.length).toBe(want.length);
        expect(sha(got)).toBe(sha(want));
        const f = vfs.open('/holes');
        const buf = new Uint8Array(30);
        f.read(buf, 0, 30, 1024 * 1024 + 10);
        expect(Buffer.from(buf).equals(want.subarray(1024 * 1024 + 10, 1024 * 1024 + 40))).toBe(true);
      } finally {
        vfs.close();
      }
    });
  }
});

describe('probe and temporary files', () => {
  it('probes by content, not by name', () => {
    expect(probeTar(fx.paxGz)).toBe('gzip');
    expect(probeTar(fx.gnuTar)).toBe('none');
    expect(probeTar(fx.ustarTar)).toBe('none');
    const renamed = path.join(fx.dir, 'evidence.bin');
    fs.copyFileSync(fx.paxGz, renamed);
    expect(probeTar(renamed)).toBe('gzip');
    const notTar = path.join(fx.dir, 'hello.gz');
    execFileSync('sh', ['-c', `printf 'hello world, not a tar archive at all' | gzip > '${notTar}'`]);
    expect(probeTar(notTar)).toBeUndefined();
    expect(probeTar(path.join(fx.src, 'etc/hostname'))).toBeUndefined();
  });

  it('the inflated copy lives in the given tmp dir as an unlinked file: nothing is left behind', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flotsam-tar-tmp-'));
    try {
      const { vfs } = openTarArchive(fx.paxGz, { tmpDir: tmp });
      expect(fs.readdirSync(tmp)).toEqual([]);
      expect(readFileLimited(vfs, '/etc/hostname').length).toBe(12);
      vfs.close();
      expect(fs.readdirSync(tmp)).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
