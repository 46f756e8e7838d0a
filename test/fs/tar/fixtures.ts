// Builds the tar fixtures at test time with GNU tar (the committed fixture script of the tar reader's tests):
// a source tree with files, owners, nanosecond times (touch -d), symlinks (absolute, escaping with ../..), hard
// links, a whiteout char device 0:0 and a block device (mknod, as root), a fifo, names and link targets longer than
// 100 bytes, user xattrs (setfattr), an empty dir and a sparse file; then archives of it in pax (gz), gnu and ustar
// formats, and GNU/pax sparse variants. Needs GNU tar, setfattr and root (mknod, chown).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const LONG_DIR = 'd'.repeat(60);
export const LONG_FILE = 'f'.repeat(80) + '.txt';
export const LONG_TARGET = '/' + 'x'.repeat(50) + '/' + 'y'.repeat(70);

export interface TarFixtures {
  dir: string;
  /** The tree that was archived. */
  src: string;
  paxGz: string;
  paxTar: string;
  gnuTar: string;
  ustarTar: string;
  gnuSparse: string;
  paxSparse: string;
  paxSparse01: string;
  sparseFile: string;
  cleanup: () => void;
}

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function buildTarFixtures(): TarFixtures {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flotsam-tar-fixture-'));
  const src = path.join(dir, 'src');
  const w = (p: string, data: string | Uint8Array, mode = 0o644): void => {
    fs.mkdirSync(path.dirname(path.join(src, p)), { recursive: true });
    fs.writeFileSync(path.join(src, p), data, { mode });
    fs.chmodSync(path.join(src, p), mode);
  };
  fs.mkdirSync(src);
  w('etc/shadow', 'root:$6$secret:19000:0:99999:7:::\n', 0o640);
  fs.chownSync(path.join(src, 'etc/shadow'), 0, 42);
  w('etc/hostname', 'tar-fixture\n');
  w('home/alice/notes.txt', 'alice was here\n', 0o600);
  fs.chownSync(path.join(src, 'home/alice/notes.txt'), 1234, 5678);
  fs.chownSync(path.join(src, 'home/alice'), 1234, 5678);
  w('bin/tool', '#!/bin/sh\necho tool\n', 0o4755);
  w(`${LONG_DIR}/${LONG_FILE}`, 'long name content\n');
  w('hard/one', 'hard link content\n');
  fs.linkSync(path.join(src, 'hard/one'), path.join(src, 'hard/two'));
  w('caf\u00e9 \u2603.txt', 'unicode name\n');
  w('xattr/file', 'has xattrs\n');
  run('setfattr', ['-n', 'user.flotsam', '-v', 'hello', path.join(src, 'xattr/file')]);
  run('setfattr', ['-n', 'user.binary', '-v', '0sAAEC/w==', path.join(src, 'xattr/file')]);
  fs.mkdirSync(path.join(src, 'links'));
  fs.symlinkSync('/etc/shadow', path.join(src, 'links/abs'));
  fs.symlinkSync('../../../../etc/shadow', path.join(src, 'links/escape'));
  fs.symlinkSync('../etc/hostname', path.join(src, 'links/rel'));
  fs.symlinkSync(LONG_TARGET, path.join(src, 'links/long'));
  fs.symlinkSync('loop2', path.join(src, 'links/loop1'));
  fs.symlinkSync('loop1', path.join(src, 'links/loop2'));
  fs.symlinkSync('/etc', path.join(src, 'links/etcdir'));
  fs.mkdirSync(path.join(src, 'dev'));
  run('mknod', [path.join(src, 'dev/whiteout'), 'c', '0', '0']);
  run('mknod', [path.join(src, 'dev/sda1'), 'b', '8', '1']);
  run('mkfifo', [path.join(src, 'dev/fifo')]);
  fs.mkdirSync(path.join(src, 'empty'));
  const big = new Uint8Array(300_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 9)) & 0xff;
  w('data/big.bin', big);
  // Times with nanoseconds (set last, parents after children).
  const touch = (p: string, when: string, h = false): void => {
    run('touch', [...(h ? ['-h'] : []), '-d', when, path.join(src, p)]);
  };
  touch('etc/shadow', '2023-05-06 07:08:09.123456789 UTC');
  touch('etc/hostname', '2001-02-03 04:05:06.000000001 UTC');
  touch('links/abs', '2022-01-01 00:00:00.5 UTC', true);
  touch('xattr/file', '2024-12-31 23:59:59.999999999 UTC');
  for (const d of ['etc', 'links', 'dev', 'xattr']) touch(d, '2020-06-07 08:09:10.111111111 UTC');

  const sparseDir = path.join(dir, 'sparse');
  fs.mkdirSync(sparseDir);
  const sparseFile = path.join(sparseDir, 'holes');
  fs.writeFileSync(sparseFile, '');
  fs.truncateSync(sparseFile, 3 * 1024 * 1024);
  const fd = fs.openSync(sparseFile, 'r+');
  fs.writeSync(fd, 'start', 0);
  fs.writeSync(fd, 'middle of the file', 1024 * 1024 + 17);
  fs.writeSync(fd, 'tail', 3 * 1024 * 1024 - 4);
  fs.closeSync(fd);

  const xa = ['--xattrs', "--xattrs-include=*"];
  const out = (n: string): string => path.join(dir, n);
  run('tar', ['--format=pax', ...xa, '--numeric-owner', '-czf', out('pax.tar.gz'), '-C', src, '.']);
  run('tar', ['--format=pax', ...xa, '--numeric-owner', '-cf', out('pax.tar'), '-C', src, '.']);
  run('tar', ['--format=gnu', '--numeric-owner', '-cf', out('gnu.tar'), '-C', src, '.']);
  // ustar cannot store a link target over 100 bytes: that one member is left out.
  run('tar', ['--format=ustar', '--numeric-owner', '--exclude=./links/long', '-cf', out('ustar.tar'), '-C', src, '.']);
  run('tar', ['--format=gnu', '--sparse', '-cf', out('gnu-sparse.tar'), '-C', sparseDir, 'holes']);
  run('tar', ['--format=pax', '--sparse', '-cf', out('pax-sparse.tar'), '-C', sparseDir, 'holes']);
  run('tar', ['--format=pax', '--sparse', '--sparse-version=0.1', '-cf', out('pax-sparse01.tar'), '-C', sparseDir, 'holes']);
  return {
    dir,
    src,
    paxGz: out('pax.tar.gz'),
    paxTar: out('pax.tar'),
    gnuTar: out('gnu.tar'),
    ustarTar: out('ustar.tar'),
    gnuSparse: out('gnu-sparse.tar'),
    paxSparse: out('pax-sparse.tar'),
    paxSparse01: out('pax-sparse01.tar'),
    sparseFile,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Extracts an archive with GNU tar (owners, modes, devices, xattrs kept): the oracle. */
export function extractWithTar(archive: string, dest: string): void {
  fs.mkdirSync(dest, { recursive: true });
  run('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=*', '-xpf', archive, '-C', dest]);
}

/** Every path under dir (relative, '/'-joined, dirs included), sorted. */
export function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    out.push(r);
    if (e.isDirectory()) out.push(...walk(dir, r));
  }
  return out.sort();
}

/** getfattr -d -m - of one path (no dereference), as name -> bytes. */
export function getXattrs(p: string): Map<string, Uint8Array> {
  const txt = execFileSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'base64', '--absolute-names', p], { encoding: 'utf8' });
  const m = new Map<string, Uint8Array>();
  for (const line of txt.split('\n')) {
    const eq = line.indexOf('=');
    if (line.startsWith('#') || eq < 0) continue;
    const v = line.slice(eq + 1);
    m.set(line.slice(0, eq), new Uint8Array(Buffer.from(v.startsWith('0s') ? v.slice(2) : v.replace(/^"|"$/g, ''), 'base64')));
  }
  return m;
}
