// `flotsam info|ls|cat|stat` end to end through bin/flotsam (run `npx tsc` first; `npm test` does), on a generated
// GPT image (root + /var) and on the sample host directory. Exit codes: 0, and 2 for missing files or paths.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatXattrValue, modeString, parseTarget, printable } from '../../src/cli/browse.js';
import { type AssemblyImages, REPO, ROOT_UUID, VAR_UUID, buildAssemblyImages } from '../fixtures-scripts/assembly-images.js';
import { sha256File } from '../fixtures-scripts/images.js';

const BIN = path.join(REPO, 'bin/flotsam');
const SAMPLE_DIR = path.join(REPO, 'sample-images/sample-host');

let img: AssemblyImages;
let before: string;

function flotsam(...args: string[]): { code: number; stdout: string; stderr: string; raw: Buffer } {
  const r = spawnSync('node', [BIN, ...args], { cwd: REPO, env: { ...process.env, TZ: 'UTC' }, maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), raw: r.stdout };
}

beforeAll(() => {
  if (!fs.existsSync(path.join(REPO, 'dist/src/cli/browse.js'))) throw new Error('dist/ is not built: run `npx tsc` first');
  img = buildAssemblyImages();
  before = sha256File(img.gptVar);
});

afterAll(() => {
  expect(sha256File(img.gptVar)).toBe(before);
  img?.cleanup();
});

describe('flotsam info', () => {
  it('describes the disk, the partitions, the root, its mounts, the OS and the Docker roots', () => {
    const r = flotsam('info', img.gptVar);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Partition table: gpt');
    expect(r.stdout).toContain('Disk size:       67108864 bytes');
    expect(r.stdout).toMatch(new RegExp(`^  1 +1048576 +16777216 +0fc63daf-8483-4772-8e79-3d69d8477de4 \\(Linux filesystem\\) +root +ext4 +rootfs +${ROOT_UUID} +/ \\(root\\)$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^  2 .*Linux /var.* var +ext4 +var +${VAR_UUID} +/var$`, 'm'));
    expect(r.stdout).toMatch(/^  3 .*Linux swap/m);
    expect(r.stdout).toContain('Linux root:      partition 1 (linux-root)');
    expect(r.stdout).toContain('Hostname:        flotsam-sample');
    expect(r.stdout).toContain('OS release:      Debian GNU/Linux 12 (bookworm)');
    expect(r.stdout).toContain('Docker roots:    /var/lib/docker');
    expect(r.stdout).toMatch(/\/etc\/fstab:6: tmpfs at \/tmp/);
  });

  it('--json', () => {
    const r = flotsam('info', img.gptVar, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.partition_table).toBe('gpt');
    expect(j.partitions).toHaveLength(3);
    expect(j.partitions[1]).toMatchObject({ index: 2, filesystem: 'ext4', uuid: VAR_UUID, mount_point: '/var', is_root: false, name: 'var' });
    expect(j.partitions[0]).toMatchObject({ is_root: true, mount_point: '/', label: 'rootfs' });
    expect(j.root).toEqual({ how: 'linux-root', partition: 1, uuid: ROOT_UUID });
    expect(j.docker_data_roots.map((d: { path: string }) => d.path)).toEqual(['/var/lib/docker']);
    expect(j.mounts.map((m: { point: string }) => m.point)).toEqual(['/', '/var']);
  });

  it('works on a directory and fails with 2 on a missing file', () => {
    const d = flotsam('info', SAMPLE_DIR, '--json');
    expect(d.code).toBe(0);
    expect(JSON.parse(d.stdout)).toMatchObject({ kind: 'host-dir', hostname: 'flotsam-sample' });
    const m = flotsam('info', path.join(img.dir, 'missing.img'));
    expect(m.code).toBe(2);
    expect(m.stderr.trim().split('\n')).toHaveLength(1);
    expect(m.stderr).toMatch(/no such file or directory/);
  });
});

describe('flotsam ls', () => {
  it('lists the same container directories as the directory form', () => {
    const r = flotsam('ls', `${img.gptVar}:/var/lib/docker/containers`);
    expect(r.code).toBe(0);
    const names = r.stdout.trim().split('\n').map((l) => l.replace(/\/$/, ''));
    expect(names).toEqual(fs.readdirSync(path.join(SAMPLE_DIR, 'var/lib/docker/containers')).sort());
    const d = flotsam('ls', `${SAMPLE_DIR}:/var/lib/docker/containers`);
    expect(d.stdout).toBe(r.stdout);
  });

  it('-l -r shows whiteouts, links, inodes; the root listing shows the /var mount', () => {
    const r = flotsam('ls', '-l', '-r', `${img.gptVar}:/var/lib/docker/overlay2`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^c--------- +1 +0 +0 +0,0 .*\/diff\/bin\/sleep$/m);
    const root = flotsam('ls', '-l', img.gptVar);
    expect(root.stdout).toMatch(/^lrwxrwxrwx .* bin -> usr\/bin$/m);
    expect(root.stdout).toMatch(/^drwxr-xr-x .* 2 var$/m);
  });

  it('exit 2 for a missing path, with one line', () => {
    const r = flotsam('ls', `${img.gptVar}:/var/nothing-here`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^flotsam: .*\/var\/nothing-here: no such file or directory\n$/);
  });
});

describe('flotsam cat', () => {
  it('writes file bytes equal to the directory form, following links across mounts', () => {
    const containers = fs.readdirSync(path.join(SAMPLE_DIR, 'var/lib/docker/containers'));
    const id = containers.find((c) => fs.existsSync(path.join(SAMPLE_DIR, 'var/lib/docker/containers', c, `${c}-json.log`)))!;
    const rel = `/var/lib/docker/containers/${id}/${id}-json.log`;
    const r = flotsam('cat', img.gptVar, rel);
    expect(r.code).toBe(0);
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(sha(r.raw)).toBe(sha(fs.readFileSync(path.join(SAMPLE_DIR, rel))));
    expect(flotsam('cat', img.gptVar, '/srv/logs/../lib/up-hostname').stdout).toBe('flotsam-sample\n');
    expect(flotsam('cat', SAMPLE_DIR, 'etc/hostname').stdout).toBe('flotsam-sample\n');
  });

  it('exit 2 for a directory or a missing file', () => {
    expect(flotsam('cat', img.gptVar, '/var').code).toBe(2);
    const r = flotsam('cat', img.gptVar, '/etc/nope');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });
});

describe('flotsam stat', () => {
  it('shows inode, mode, times with ns and crtime, the mount and xattrs', () => {
    const list = flotsam('ls', '-r', `${img.gptVar}:/var/lib/docker/overlay2`).stdout.split('\n');
    const opaque = list.find((l) => l.endsWith('/diff/opt/app/'))!.slice(0, -1);
    const r = flotsam('stat', img.gptVar, opaque);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  Type: dir');
    expect(r.stdout).toMatch(/^ Inode: \d+$/m);
    expect(r.stdout).toMatch(/^ Birth: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \(\d+\.\d{9}\)$/m);
    expect(r.stdout).toMatch(/^Access: .*\.\d{9}Z/m);
    expect(r.stdout).toContain('mounted at /var');
    expect(r.stdout).toContain('  trusted.overlay.opaque = "y"');
    const j = JSON.parse(flotsam('stat', img.gptVar, opaque, '--json').stdout);
    expect(j.xattrs['trusted.overlay.opaque']).toBe('"y"');
    expect(j.file_system.mount_point).toBe('/var');
    expect(typeof j.birthtime).toBe('string');
  });

  it('lstat by default, -L follows; directory sources too; exit 2 when missing', () => {
    const l = flotsam('stat', img.gptVar, '/srv/logs');
    expect(l.stdout).toContain('  Path: /srv/logs -> /var/log');
    expect(l.stdout).toContain('  Type: symlink');
    const f = flotsam('stat', img.gptVar, '/srv/logs', '-L');
    expect(f.stdout).toContain('  Type: dir');
    expect(f.stdout).toContain('mounted at /var, path there /log');
    const d = flotsam('stat', SAMPLE_DIR, '/etc/hostname');
    expect(d.code).toBe(0);
    expect(d.stdout).toContain('  Size: 15');
    const m = flotsam('stat', img.gptVar, '/etc/nope');
    expect(m.code).toBe(2);
  });
});

describe('helpers', () => {
  it('formatXattrValue shows text quoted and binary as hex', () => {
    expect(formatXattrValue(new TextEncoder().encode('y'))).toBe('"y"');
    expect(formatXattrValue(new TextEncoder().encode('system_u:object_r:etc_t:s0\0'))).toBe('"system_u:object_r:etc_t:s0"');
    expect(formatXattrValue(Uint8Array.from([0, 0xff, 0x10]))).toBe('0x00ff10');
    expect(formatXattrValue(new TextEncoder().encode('\u001b[31mred'))).toBe('0x1b5b33316d726564');
    expect(formatXattrValue(new Uint8Array(300))).toMatch(/^0x(00){256}\.\.\. \(300 bytes\)$/);
  });
  it('printable, modeString, parseTarget', () => {
    expect(printable('a\u001b[2Jb\n')).toBe('a\\x1b[2Jb\\x0a');
    expect(modeString(0o104751, 'file')).toBe('-rwsr-x--x');
    expect(modeString(0o41777, 'dir')).toBe('drwxrwxrwt');
    expect(parseTarget(`${SAMPLE_DIR}:/etc`)).toEqual({ evidence: SAMPLE_DIR, path: '/etc' });
    expect(parseTarget(SAMPLE_DIR)).toEqual({ evidence: SAMPLE_DIR, path: '/' });
    expect(parseTarget(`${SAMPLE_DIR}:/a:b`)).toEqual({ evidence: SAMPLE_DIR, path: '/a:b' });
  });
});
