// Turns what the user named (a mounted directory, or a disk image: raw, split raw) into a read-only VFS.
// One shape per layer: a cheap probe() then open(), chosen from a static table; two matches is an error.
// A disk image is detected by content (partition table or file-system magic), never by its name; its file systems
// are assembled into one host view by src/fs/assemble (root detection + /etc/fstab replay).
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { Problem } from '../events/event.js';
import { type ByteSource, ByteSourceError, VirtualDiskError, openImage } from '../io/index.js';
import { VolumeError } from '../volumes/index.js';
import { type AssembledImage, assembleImage } from './assemble/assemble.js';
import { Ext4Error } from './ext4/errors.js';
import { HostDirVfs } from './host-dir/host-dir.js';
import { atimeRisk } from './host-dir/mount-check.js';
import { TarError, openTarArchive, probeTar } from './tar/index.js';
import { type Vfs, VfsError } from './vfs.js';

export class EvidenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvidenceError';
  }
}

export type EvidenceKind = 'host-dir' | 'disk-image' | 'tar-archive';

export interface OpenedEvidence {
  vfs: Vfs;
  kind: EvidenceKind;
  /** For disk images: volumes, file systems, the root and the mounts. */
  layout?: AssembledImage;
  /** Problems met while opening (unresolvable fstab lines, damaged tables, ...); forward them to a ProblemLog. */
  problems: Problem[];
}

/** Options of openEvidence / openEvidenceDetailed. */
export interface OpenEvidenceOptions {
  /**
   * Where a .tar.gz is inflated for random access (an unlinked temporary file; default os.tmpdir()). Never beside
   * the evidence. Triage passes a folder inside `--tmp-dir` when one is given.
   */
  tmpDir?: string;
}

interface EvidenceOpener {
  kind: EvidenceKind;
  probe(path: string, st: fs.Stats): boolean;
  open(path: string, opts: OpenEvidenceOptions): OpenedEvidence;
}

function openDiskImage(path: string): OpenedEvidence {
  const disk = openImage(path);
  try {
    const layout = assembleImage(disk, nodePath.resolve(path), { ownsDisk: true });
    return { vfs: layout.vfs, kind: 'disk-image', layout, problems: layout.problems };
  } catch (err) {
    disk.close();
    throw err;
  }
}

const OPENERS: readonly EvidenceOpener[] = [
  {
    kind: 'host-dir',
    probe: (_path, st) => st.isDirectory(),
    open: (path) => {
      const risk = atimeRisk(path);
      const problems: Problem[] = risk ? [{ component: 'host-dir', path: '/', reason: risk, severity: 'warning' }] : [];
      return { vfs: new HostDirVfs(path), kind: 'host-dir', problems };
    },
  },
  {
    kind: 'disk-image',
    // Any regular file or block device but a tar archive; its content decides (listVolumes refuses the unknown).
    probe: (path, st) => st.isBlockDevice() || (st.isFile() && probeTar(path) === undefined),
    open: openDiskImage,
  },
  {
    kind: 'tar-archive',
    // By content: ustar magic at offset 257 (tar), or gzip whose first inflated block is such a header (tar.gz).
    probe: (path, st) => st.isFile() && probeTar(path) !== undefined,
    open: (path, opts) => {
      const t = openTarArchive(path, { tmpDir: opts.tmpDir });
      const problems: Problem[] = t.problems.map((p) => ({ component: 'tar', path: p.path, reason: p.reason, severity: 'warning' }));
      return { vfs: t.vfs, kind: 'tar-archive', problems };
    },
  },
];

/** Problems met while opening each VFS handed out by openEvidence (read them with evidenceProblems). */
const openProblems = new WeakMap<Vfs, Problem[]>();
/** The disk under each image VFS, for the problems its reader meets while being read (bad chunks, dirty logs). */
const openDisks = new WeakMap<Vfs, ByteSource>();

/**
 * Problems the image format reader recorded so far (E01 chunk errors, qcow2/VHD/VHDX damage, a dirty VHDX log).
 * They accumulate while the image is read, so call this after the reading is done.
 */
export function diskProblems(vfs: Vfs): Problem[] {
  const disk = openDisks.get(vfs) as (ByteSource & { problems?: unknown }) | undefined;
  const list = disk?.problems;
  if (!Array.isArray(list)) return [];
  return list.map((p: unknown) => {
    const o = (typeof p === 'object' && p !== null ? p : {}) as { reason?: string; path?: string; offset?: number | bigint };
    const reason = typeof p === 'string' ? p : (o.reason ?? String(p)) + (o.offset !== undefined ? ` (offset ${o.offset})` : '');
    return { component: 'image', path: o.path ?? disk?.description ?? '?', reason, severity: 'warning' as const };
  });
}

/** The problems met while opening `vfs` (from openEvidence); forward them to the source's ProblemLog. */
export function evidenceProblems(vfs: Vfs): Problem[] {
  return openProblems.get(vfs) ?? [];
}

function toEvidenceError(path: string, err: unknown): Error {
  if (err instanceof EvidenceError) return err;
  if (err instanceof VolumeError && err.code === 'EFORMAT') {
    return new EvidenceError(`${path}: not a known evidence format (not a directory, no partition table, no known file system)`);
  }
  if (
    err instanceof ByteSourceError ||
    err instanceof VirtualDiskError ||
    err instanceof VolumeError ||
    err instanceof Ext4Error ||
    err instanceof TarError ||
    err instanceof VfsError
  ) {
    return new EvidenceError(`${path}: cannot open: ${err.message}`);
  }
  return err as Error;
}

/** Opens evidence and says what it is; disk images come with their layout and the problems met assembling them. */
export function openEvidenceDetailed(path: string, opts: OpenEvidenceOptions = {}): OpenedEvidence {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new EvidenceError(
      code === 'ENOENT' ? `${path}: no such file or directory` : `${path}: cannot open (${code ?? String(err)})`,
    );
  }
  const matches = OPENERS.filter((o) => o.probe(path, st));
  if (matches.length === 0) {
    throw new EvidenceError(
      `${path}: not a known evidence format (supported: ${OPENERS.map((o) => o.kind).join(', ')})`,
    );
  }
  if (matches.length > 1) {
    throw new EvidenceError(`${path}: matches several formats (${matches.map((o) => o.kind).join(', ')})`);
  }
  let opened: OpenedEvidence;
  try {
    opened = matches[0]!.open(path, opts);
  } catch (err) {
    throw toEvidenceError(path, err);
  }
  openProblems.set(opened.vfs, opened.problems);
  if (opened.layout) openDisks.set(opened.vfs, opened.layout.disk);
  return opened;
}

export function openEvidence(path: string, opts: OpenEvidenceOptions = {}): Vfs {
  return openEvidenceDetailed(path, opts).vfs;
}
