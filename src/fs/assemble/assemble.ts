// Root assembly: from a disk image's volumes to ONE read-only VFS of the host, as its kernel would have mounted it.
// 1. Every partition (or the bare disk) is probed for an ext2/3/4 file system and opened read-only.
// 2. The Linux root is the file system with (/etc/fstab or /etc/os-release) and (/usr or /bin); failing that, one with
//    /etc and (fstab, os-release or hostname); failing that, a file system holding a Docker data root at its top
//    (the data root itself, a bare /var or a bare /var/lib) is attached where it belongs.
// 3. The root's /etc/fstab is replayed: each line naming another file system of this image (UUID=, LABEL=,
//    PARTUUID=, PARTLABEL=, /dev/disk/by-*, /dev/sdXN, /dev/vdXN, /dev/nvme0n1pN, ...) is attached at its mount
//    point. Whatever cannot be attached is a problem in the list, never an abort. See docs/formats/root-assembly.md.
//
// Step 1 is in filesystems.ts, step 3 in fstab-replay.ts (their exports re-exported here); this module chooses the
// root (step 2) and builds the MountedVfs.
import type { Problem } from '../../events/event.js';
import type { ByteSource } from '../../io/byte-source.js';
import { type VolumeList, listVolumes } from '../../volumes/index.js';
import { type Vfs, isDir, joinPath } from '../vfs.js';
import { type FilesystemInfo, describe, ids, probeFilesystems, problem } from './filesystems.js';
import { type FstabEntry, parseDeviceSpec, specMatches } from './fstab.js';
import { hostDiskName, readFstab, replayFstab } from './fstab-replay.js';
import { type Mount, MountedVfs } from './mounted-vfs.js';

export { COMPONENT, type FilesystemInfo, PARTITION_TYPE_NAMES } from './filesystems.js';
export { MAX_FSTAB_BYTES, MAX_FSTAB_MOUNTS } from './fstab-replay.js';

export type RootHow = 'linux-root' | 'linux-root-weak' | 'only-filesystem' | 'docker-data-root' | 'none';

export interface AssembledImage {
  vfs: MountedVfs;
  /** The disk byte source (raw, E01, qcow2, ...): its own metadata and read problems. */
  disk: ByteSource;
  location: string;
  diskSize: bigint;
  volumes: VolumeList;
  filesystems: FilesystemInfo[];
  root?: FilesystemInfo;
  rootHow: RootHow;
  fstab: FstabEntry[];
  /** Everything that could not be resolved or attached; forward to a ProblemLog. */
  problems: Problem[];
}

function rootScore(vfs: Vfs): number {
  const has = (p: string) => {
    try {
      vfs.lstat(p);
      return true;
    } catch {
      return false;
    }
  };
  if (!isDir(vfs, '/etc')) return 0;
  const idFile = has('/etc/fstab') || has('/etc/os-release') || has('/usr/lib/os-release');
  if (idFile && (has('/usr') || has('/bin'))) return 2;
  if (idFile || has('/etc/hostname')) return 1;
  return 0;
}

function looksLikeDockerRoot(vfs: Vfs, path: string): boolean {
  if (!isDir(vfs, path)) return false;
  return ['containers', 'image', 'overlay2', 'volumes'].some((m) => isDir(vfs, joinPath(path, m)));
}

/** Opens the volumes of `disk` and assembles the host. Never throws for what is inside the image; see `problems`. */
export function assembleImage(disk: ByteSource, location: string, opts: { ownsDisk?: boolean } = {}): AssembledImage {
  const volumes = listVolumes(disk);
  const problems: Problem[] = volumes.problems.map((p) => problem(location, p));
  const filesystems = probeFilesystems(disk, volumes, location, problems);
  const ext = filesystems.filter((f) => f.vfs !== undefined);

  // --- the root
  let root: FilesystemInfo | undefined;
  let rootHow: RootHow = 'none';
  const scored = ext.map((f) => ({ f, score: rootScore(f.vfs!) })).filter((x) => x.score > 0);
  const best = Math.max(0, ...scored.map((x) => x.score));
  let candidates = scored.filter((x) => x.score === best).map((x) => x.f);
  if (candidates.length > 1) {
    // Prefer the one whose own fstab names itself as `/`.
    const selfNamed = candidates.filter((c) => {
      const { entries } = readFstab(c.vfs!, []);
      const line = entries.find((e) => joinPath(e.file) === '/');
      return line !== undefined && specMatches(parseDeviceSpec(line.spec), ids(c), hostDiskName(entries));
    });
    if (selfNamed.length >= 1) candidates = selfNamed;
    if (candidates.length > 1) {
      problems.push(
        problem(location, `several Linux roots found (${candidates.map(describe).join('; ')}); using the first`),
      );
    }
  }
  if (candidates.length > 0) {
    root = candidates[0];
    rootHow = best === 2 ? 'linux-root' : 'linux-root-weak';
  }

  const mounts: Mount[] = [];
  let fstab: FstabEntry[] = [];
  const attach = (fs: FilesystemInfo, point: string): void => {
    fs.mountPoint = point;
    mounts.push({ point, vfs: fs.vfs!, what: describe(fs) });
  };

  if (root) {
    root.isRoot = true;
    attach(root, '/');
    fstab = readFstab(root.vfs!, problems).entries;
    replayFstab(fstab, root, ext, problems, attach);
  } else {
    // No Linux root: a file system holding a Docker data root at its top.
    const placements: Array<{ inner: string; point: string }> = [
      { inner: '/', point: '/' }, // the data root itself (/var/lib/docker on its own partition)
      { inner: '/lib/docker', point: '/var' }, // a bare /var
      { inner: '/docker', point: '/var/lib' }, // a bare /var/lib
    ];
    outer: for (const pl of placements) {
      for (const f of ext) {
        if (looksLikeDockerRoot(f.vfs!, pl.inner)) {
          root = f;
          rootHow = 'docker-data-root';
          attach(f, pl.point);
          break outer;
        }
      }
    }
    if (!root && ext.length === 1) {
      root = ext[0]!;
      rootHow = 'only-filesystem';
      attach(root, '/');
    }
    if (!root) {
      problems.push(
        problem(
          location,
          ext.length === 0
            ? 'no readable ext2/3/4 file system in the image'
            : `no Linux root and no Docker data root among ${ext.length} file systems; the first is used as the root`,
        ),
      );
      if (ext.length > 0) {
        root = ext[0]!;
        attach(root, '/');
      }
    }
    if (root) root.isRoot = rootHow !== 'docker-data-root' || root.mountPoint === '/';
  }
  for (const f of ext) {
    if (f.mountPoint === undefined && root !== undefined && (rootHow === 'linux-root' || rootHow === 'linux-root-weak')) {
      problems.push(problem(`${location} ${describe(f)}`, 'file system not named in /etc/fstab; not attached'));
    }
  }

  const kinds = new Set(mounts.map((m) => m.vfs.kind));
  const vfs = new MountedVfs(mounts, {
    kind: kinds.size === 1 ? [...kinds][0]! : [...kinds].join('+') || 'empty',
    location,
    onClose: opts.ownsDisk ? () => disk.close() : undefined,
  });
  // Open file systems that were not attached are closed now; their metadata stays in `filesystems`.
  for (const f of filesystems) {
    if (f.vfs && f.mountPoint === undefined) {
      f.vfs.close();
      f.vfs = undefined;
    }
  }
  return { vfs, disk, location, diskSize: disk.size, volumes, filesystems, root, rootHow, fstab, problems };
}
