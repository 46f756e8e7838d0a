// Root assembly on generated images (test/fixtures-scripts/make-assembly-images.sh): root detection, fstab replay by
// UUID / device name, problems for what cannot be attached, the bare-/var fallback, and read-only opening.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvidenceError, evidenceProblems, openEvidence, openEvidenceDetailed } from '../../../src/fs/open-evidence.js';
import { isDir, readTextLimited } from '../../../src/fs/vfs.js';
import {
  type AssemblyImages,
  BARE_UUID,
  ROOT_UUID,
  UNKNOWN_UUID,
  VAR_UUID,
  buildAssemblyImages,
} from '../../fixtures-scripts/assembly-images.js';
import { sha256File } from '../../fixtures-scripts/images.js';

let img: AssemblyImages;
const hashes = new Map<string, string>();

beforeAll(() => {
  img = buildAssemblyImages();
  for (const p of [img.gptVar, img.bare, img.mbrUnknown, img.varOnly]) hashes.set(p, sha256File(p));
});

afterAll(() => {
  // (f) the images are never written.
  for (const [p, h] of hashes) expect(sha256File(p), p).toBe(h);
  img?.cleanup();
});

describe('GPT image with /var on its own partition', () => {
  it('finds the root, attaches /var by UUID and lists what it did not attach', () => {
    const ev = openEvidenceDetailed(img.gptVar);
    try {
      expect(ev.kind).toBe('disk-image');
      const l = ev.layout!;
      expect(l.volumes.scheme).toBe('gpt');
      expect(l.rootHow).toBe('linux-root');
      expect(l.root?.uuid).toBe(ROOT_UUID);
      expect(l.root?.partNumber).toBe(1);
      expect(l.filesystems.map((f) => [f.partNumber, f.fsKind, f.uuid, f.label, f.mountPoint, f.isRoot])).toEqual([
        [1, 'ext4', ROOT_UUID, 'rootfs', '/', true],
        [2, 'ext4', VAR_UUID, 'var', '/var', false],
        [3, undefined, undefined, undefined, undefined, false],
      ]);
      expect(l.filesystems[1]!.partlabel).toBe('var');
      expect(l.vfs.mountTable.map((m) => m.point)).toEqual(['/', '/var']);
      const reasons = ev.problems.map((p) => `${p.path}: ${p.reason}`);
      expect(reasons).toEqual([
        expect.stringMatching(/^\/etc\/fstab:5: swap .* not attached/),
        expect.stringMatching(/^\/etc\/fstab:6: tmpfs at \/tmp .*not attached/),
        expect.stringMatching(/^\/etc\/fstab:7: proc at \/proc .*not attached/),
      ]);
      expect(evidenceProblems(ev.vfs)).toBe(ev.problems);

      const vfs = ev.vfs;
      expect(readTextLimited(vfs, '/etc/hostname')).toBe('flotsam-sample\n');
      expect(isDir(vfs, '/var/lib/docker/containers')).toBe(true);
      expect(vfs.whereIs('/var/lib/docker').mountPoint).toBe('/var');
      // links across the mount: absolute onto /var, `..` out of the /var root
      expect(vfs.realpath('/srv/logs')).toBe('/var/log');
      expect(vfs.realpath('/var/lib/up-hostname')).toBe('/etc/hostname');
      expect(readTextLimited(vfs, '/var/lib/up-hostname')).toBe('flotsam-sample\n');
      expect(vfs.realpath('/bin')).toBe('/usr/bin');
      // the mount point's inode is the /var file system's root
      expect(vfs.lstat('/var').ino).toBe(2n);
      expect(vfs.readdir('/').find((e) => e.name === 'var')).toMatchObject({ type: 'dir', ino: 2n });
    } finally {
      ev.vfs.close();
    }
  });

  it('shows overlay whiteouts and the opaque xattr through the assembled view', () => {
    const vfs = openEvidence(img.gptVar);
    try {
      const overlay = '/var/lib/docker/overlay2';
      let whiteouts = 0;
      let opaque = 0;
      const walk = (dir: string, depth: number): void => {
        if (depth > 12) return;
        for (const e of vfs.readdir(dir)) {
          const p = `${dir}/${e.name}`;
          if (e.type === 'char') {
            const st = vfs.lstat(p);
            if (st.rdevMajor === 0 && st.rdevMinor === 0) whiteouts++;
          } else if (e.type === 'dir') {
            if (vfs.xattrs(p)?.get('trusted.overlay.opaque')?.[0] === 0x79) opaque++;
            walk(p, depth + 1);
          }
        }
      };
      walk(overlay, 0);
      expect(whiteouts).toBeGreaterThanOrEqual(2);
      expect(opaque).toBeGreaterThanOrEqual(1);
    } finally {
      vfs.close();
    }
  });
});

describe('other layouts', () => {
  it('bare file system (no partition table) is the root', () => {
    const ev = openEvidenceDetailed(img.bare);
    try {
      const l = ev.layout!;
      expect(l.volumes.scheme).toBe('none');
      expect(l.filesystems).toHaveLength(1);
      expect(l.root?.uuid).toBe(BARE_UUID);
      expect(l.root?.partNumber).toBeUndefined();
      expect(['linux-root-weak', 'linux-root']).toContain(l.rootHow);
      expect(ev.problems).toEqual([]);
      expect(isDir(ev.vfs, '/var/lib/docker/containers')).toBe(true);
    } finally {
      ev.vfs.close();
    }
  });

  it('MBR with a logical /var by device name; an unknown UUID and an xfs label are problems', () => {
    const ev = openEvidenceDetailed(img.mbrUnknown);
    try {
      const l = ev.layout!;
      expect(l.volumes.scheme).toBe('mbr');
      expect(l.filesystems.map((f) => [f.partNumber, f.mountPoint])).toEqual([
        [1, '/'],
        [5, '/var'],
      ]);
      expect(l.filesystems[0]!.partuuid).toBe('1234abcd-01');
      expect(l.filesystems[1]!.partuuid).toBe('1234abcd-05');
      const reasons = ev.problems.map((p) => `${p.path}: ${p.reason}`);
      expect(reasons).toEqual([
        expect.stringContaining(`/etc/fstab:3: no file system of this image matches uuid=${UNKNOWN_UUID}`),
        expect.stringMatching(/^\/etc\/fstab:4: unsupported file-system type xfs at \/backup/),
      ]);
      expect(isDir(ev.vfs, '/var/lib/docker/containers')).toBe(true);
      expect(isDir(ev.vfs, '/srv/data')).toBe(false);
    } finally {
      ev.vfs.close();
    }
  });

  it('a bare /var file system is attached at /var on a synthetic root', () => {
    const ev = openEvidenceDetailed(img.varOnly);
    try {
      expect(ev.layout!.rootHow).toBe('docker-data-root');
      expect(ev.layout!.root?.mountPoint).toBe('/var');
      expect(ev.vfs.readdir('/').map((e) => e.name)).toEqual(['var']);
      expect(isDir(ev.vfs, '/var/lib/docker/containers')).toBe(true);
    } finally {
      ev.vfs.close();
    }
  });

  it('non-images and missing files are EvidenceErrors', () => {
    const junk = `${img.dir}/junk.bin`;
    fs.writeFileSync(junk, Buffer.alloc(4096, 7));
    expect(() => openEvidence(junk)).toThrow(EvidenceError);
    expect(() => openEvidence(junk)).toThrow(/not a known evidence format/);
    expect(() => openEvidence(`${img.dir}/nope.img`)).toThrow(/no such file/);
    const truncated = `${img.dir}/trunc.img`;
    fs.writeFileSync(truncated, fs.readFileSync(img.bare).subarray(0, 1100));
    const ev = openEvidenceDetailed(truncated);
    ev.vfs.close();
    expect(ev.problems.map((p) => p.reason)).toEqual([
      expect.stringMatching(/cannot open file system: .*superblock/),
      'no readable ext2/3/4 file system in the image',
    ]);
  });
});

describe('corrupted images (seeded byte flips)', () => {
  it('opening and walking only ever raise typed errors', () => {
    const base = fs.readFileSync(img.gptVar);
    let seed = 0x5eed;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const copy = `${img.dir}/corrupt.img`;
    const typed = new Set(['EvidenceError', 'VfsError', 'LimitError']);
    const seen = new Map<string, number>();
    for (let round = 0; round < 25; round++) {
      const b = Buffer.from(base);
      // flip bytes in the GPT, and the metadata-dense starts of both file systems
      for (let k = 0; k < 40; k++) {
        const region = [
          [0, 34 * 512],
          [1048576, 1048576 + 600_000],
          [17825792, 17825792 + 600_000],
        ][k % 3]!;
        const off = region[0]! + Math.floor(rnd() * (region[1]! - region[0]!));
        b[off] = b[off]! ^ (1 << Math.floor(rnd() * 8));
      }
      fs.writeFileSync(copy, b);
      const t0 = Date.now();
      const note = (err: unknown) => {
        const name = err instanceof Error ? err.name : typeof err;
        if (!typed.has(name)) throw err;
        seen.set(name, (seen.get(name) ?? 0) + 1);
      };
      let ev;
      try {
        ev = openEvidenceDetailed(copy);
      } catch (err) {
        note(err);
        continue;
      }
      try {
        let budget = 5000;
        const walk = (dir: string, depth: number): void => {
          let entries;
          try {
            entries = ev!.vfs.readdir(dir);
          } catch (err) {
            return note(err);
          }
          for (const e of entries) {
            if (--budget <= 0 || depth > 20) return;
            const p = dir === '/' ? `/${e.name}` : `${dir}/${e.name}`;
            try {
              const st = ev!.vfs.lstat(p);
              if (st.type === 'dir') walk(p, depth + 1);
              else if (st.type === 'file' && st.size < 1_000_000n) readTextLimited(ev!.vfs, p, 1_000_000);
              else if (st.type === 'symlink') ev!.vfs.realpath(p);
            } catch (err) {
              note(err);
            }
          }
        };
        walk('/', 0);
      } finally {
        ev.vfs.close();
      }
      expect(Date.now() - t0).toBeLessThan(10_000);
    }
    fs.rmSync(copy);
    expect([...seen.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });
});
