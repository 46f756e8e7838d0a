// Where the inflated copy of a .tar.gz goes (gzip-spool.ts): in the folder the caller names (openTarArchive and
// openEvidenceDetailed `tmpDir`, triage `--tmp-dir`), else in os.tmpdir(); unlinked at once, so the folder stays
// empty and nothing is left once the VFS is closed; a folder where it cannot be created is a clear error.
// The copy is found through /proc/self/fd: the only trace of an unlinked file is the descriptor holding it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvidenceError, openEvidenceDetailed } from '../../../src/fs/open-evidence.js';
import { TarError, openTarArchive } from '../../../src/fs/tar/index.js';
import { readFileLimited } from '../../../src/fs/vfs.js';
import { tempDir } from '../../helpers/corpus.js';
import { craftTar } from './craft.js';

/** Files this process holds open under `dir` (deleted ones included, as "<path> (deleted)"). */
function openFilesUnder(dir: string): string[] {
  const real = fs.realpathSync(dir) + path.sep;
  const out: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(real)) out.push(target);
    } catch {
      // closed meanwhile (the readdir's own descriptor)
    }
  }
  return out;
}

let work: { dir: string; cleanup: () => void };
let tgz: string;

beforeAll(() => {
  work = tempDir('flotsam-tar-spool-');
  const tar = craftTar([
    { name: 'host/', type: '5', mode: 0o755 },
    { name: 'host/etc/', type: '5', mode: 0o755 },
    { name: 'host/etc/hostname', data: 'spool-test\n' },
  ]);
  tgz = path.join(work.dir, 'evidence.tar.gz');
  fs.writeFileSync(tgz, gzipSync(tar));
});
afterAll(() => work?.cleanup());

function freshDir(name: string): string {
  const d = path.join(work.dir, name);
  fs.mkdirSync(d);
  return d;
}

describe.runIf(fs.existsSync('/proc/self/fd'))('the inflated copy of a .tar.gz', () => {
  it('openTarArchive({ tmpDir }): created in tmpDir, unlinked at once, gone after close', () => {
    const tmp = freshDir('tar-tmp');
    const t = openTarArchive(tgz, { tmpDir: tmp });
    try {
      expect(t.compression).toBe('gzip');
      expect(new TextDecoder().decode(readFileLimited(t.vfs, '/etc/hostname', 100))).toBe('spool-test\n');
      const held = openFilesUnder(tmp);
      expect(held).toHaveLength(1);
      expect(held[0]).toMatch(/\/flotsam-tar-[^/]+\/inflated\.tar \(deleted\)$/);
      expect(fs.readdirSync(tmp)).toEqual([]);
    } finally {
      t.vfs.close();
    }
    expect(openFilesUnder(tmp)).toEqual([]);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  it('openEvidenceDetailed({ tmpDir }) passes the folder to the tar opener', () => {
    const tmp = freshDir('evidence-tmp');
    const ev = openEvidenceDetailed(tgz, { tmpDir: tmp });
    try {
      expect(ev.kind).toBe('tar-archive');
      expect(openFilesUnder(tmp)).toHaveLength(1);
    } finally {
      ev.vfs.close();
    }
    expect(openFilesUnder(tmp)).toEqual([]);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  it('without tmpDir the copy goes to os.tmpdir()', () => {
    const before = new Set(openFilesUnder(os.tmpdir()));
    const ev = openEvidenceDetailed(tgz);
    try {
      const added = openFilesUnder(os.tmpdir()).filter((f) => !before.has(f));
      expect(added).toHaveLength(1);
      expect(added[0]).toMatch(/\/flotsam-tar-[^/]+\/inflated\.tar \(deleted\)$/);
      expect(path.dirname(path.dirname(added[0]!))).toBe(fs.realpathSync(os.tmpdir()));
    } finally {
      ev.vfs.close();
    }
  });

  it('a tmpDir where no file can be created is an error naming it, and nothing is left open', () => {
    const notADir = path.join(work.dir, 'plain-file');
    fs.writeFileSync(notADir, 'x');
    // Only descriptors into this test's folder count: the worker process may open or close others meanwhile.
    const before = openFilesUnder(work.dir);
    expect(() => openTarArchive(tgz, { tmpDir: notADir })).toThrow(TarError);
    let err: unknown;
    try {
      openEvidenceDetailed(tgz, { tmpDir: path.join(work.dir, 'missing') });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EvidenceError);
    expect((err as Error).message).toContain(
      `cannot open: cannot create the temporary file for the inflated archive in ${path.join(work.dir, 'missing')}: ENOENT`,
    );
    expect(openFilesUnder(work.dir)).toEqual(before);
  });
});
