// Root assembly: from a disk image's volumes to ONE read-only VFS of the host, as its kernel would have mounted it.
// 1. Every partition (or the bare disk) is probed for an ext2/3/4 file system and opened read-only.
// 2. The Linux root is the file system with (/etc/fstab or /etc/os-release) and (/usr or /bin); failing that, one with
//    /etc and (fstab, os-release or hostname); failing that, a file system holding a Docker data root at its top
//    (the data root itself, a bare /var or a bare /var/lib) is attached where it belongs.
// 3. The root's /etc/fstab is replayed: each line naming another file system of this image (UUID=, LABEL=,
//    PARTUUID=, PARTLABEL=, /dev/disk/by-*, /dev/sdXN, /dev/vdXN, /dev/nvme0n1pN, ...) is attached at its mount
//    point. Whatever cannot be attached is a problem in the list, never an abort. See docs/formats/root-assembly.md.
import type { Problem } from '../../events/event.js';
import { type ByteSource, readBytes } from '../../io/byte-source.js';
import { type Partition, type VolumeList, listVolumes, probeBareFilesystem } from '../../volumes/index.js';
import { Ext4Fs } from '../ext4/ext4.js';
import { COMPAT, INCOMPAT } from '../ext4/structs.js';
import { Ext4Vfs } from '../ext4/vfs.js';
import { type Vfs, exists, isDir, joinPath, readTextLimited } from '../vfs.js';
import {
  type DeviceIds,
  type DeviceSpec,
  FIRST_DISK_NAMES,
  type FstabEntry,
  NON_DISK_FS_TYPES,
  READABLE_FS_TYPES,
  formatUuid,
  parseDeviceSpec,
  parseFstab,
  specMatches,
} from './fstab.js';
import { type Mount, MountedVfs } from './mounted-vfs.js';

export const COMPONENT = 'assemble';
/** File systems attached from fstab (a real host has a handful; each costs a prefix test per path component). */
export const MAX_FSTAB_MOUNTS = 256;
/** Largest /etc/fstab we read. */
export const MAX_FSTAB_BYTES = 1024 * 1024;

/** Known GPT partition type GUIDs and MBR ids, for `flotsam info`. */
export const PARTITION_TYPE_NAMES: Readonly<Record<string, string>> = {
  '0fc63daf-8483-4772-8e79-3d69d8477de4': 'Linux filesystem',
  '4f68bce3-e8cd-4db1-96e7-fbcaf984b709': 'Linux root (x86-64)',
  '933ac7e1-2eb4-4f13-b844-0e14e2aef915': 'Linux /home',
  '4d21b016-b534-45c2-a9fb-5c16e091fd2d': 'Linux /var',
  '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f': 'Linux swap',
  'e6d6d379-f507-44c2-a23c-238f2a3df928': 'Linux LVM',
  'a19d880f-05fc-4d3b-a006-743f0f84911e': 'Linux RAID',
  'c12a7328-f81f-11d2-ba4b-00a0c93ec93b': 'EFI System',
  '21686148-6449-6e6f-744e-656564454649': 'BIOS boot',
  'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7': 'Microsoft basic data',
  '0x83': 'Linux',
  '0x82': 'Linux swap',
  '0x8e': 'Linux LVM',
  '0xfd': 'Linux RAID',
  '0x05': 'Extended',
  '0x0f': 'Extended (LBA)',
  '0x85': 'Linux extended',
  '0x07': 'NTFS/exFAT',
  '0x0b': 'FAT32',
  '0x0c': 'FAT32 (LBA)',
  '0xef': 'EFI System',
  '0xee': 'GPT protective',
};

export interface FilesystemInfo {
  /** Partition number as Linux numbers it (undefined for a bare file system on the whole disk). */
  partNumber?: number;
  partition: Partition;
  /** `ext2`, `ext3`, `ext4`, `xfs`, `lvm2`, or undefined when nothing we know is there. */
  fsKind?: string;
  uuid?: string;
  label?: string;
  partuuid?: string;
  partlabel?: string;
  /** Where the file system was last mounted (ext superblock s_last_mounted), a hint only. */
  lastMounted?: string;
  /** Open problems (corrupt superblock, ...). */
  openError?: string;
  /** Notes from the reader (needs journal recovery, truncated, ...). */
  notes: string[];
  isRoot: boolean;
  /** Where it is attached in the assembled VFS (from fstab, `/` for the root). */
  mountPoint?: string;
  /** The open VFS (owned by the assembled MountedVfs when mounted; closed by closeUnmounted otherwise). */
  vfs?: Ext4Vfs;
}

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

function problem(path: string, reason: string, severity: Problem['severity'] = 'warning'): Problem {
  return { component: COMPONENT, path, reason, severity };
}

function extKind(fs: Ext4Fs): string {
  const inc = fs.sb.s_feature_incompat;
  if (inc & (INCOMPAT.EXTENTS | INCOMPAT['64BIT'] | INCOMPAT.FLEX_BG | INCOMPAT.INLINE_DATA | INCOMPAT.META_BG)) return 'ext4';
  if (fs.sb.s_feature_compat & COMPAT.HAS_JOURNAL) return 'ext3';
  return 'ext2';
}

/** The MBR disk signature (bytes 440..443), as Linux builds MBR PARTUUIDs (`xxxxxxxx-NN`). */
function mbrSignature(disk: ByteSource): string | undefined {
  const b = readBytes(disk, 440, 4);
  if (b.length < 4) return undefined;
  const v = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  return v === 0 ? undefined : v.toString(16).padStart(8, '0');
}

function describe(fs: FilesystemInfo): string {
  const where = fs.partNumber !== undefined ? `partition ${fs.partNumber}` : 'whole disk';
  return `${where}${fs.fsKind ? ' ' + fs.fsKind : ''}${fs.uuid ? ' UUID=' + fs.uuid : ''}`;
}

function probeFilesystem(part: Partition, partNumber: number | undefined, sig: string | undefined, scheme: string): FilesystemInfo {
  const info: FilesystemInfo = { partNumber, partition: part, notes: [], isRoot: false };
  if (scheme === 'gpt') {
    if (part.guid) info.partuuid = part.guid.toLowerCase();
    if (part.name) info.partlabel = part.name;
  } else if (scheme === 'mbr' && sig !== undefined && partNumber !== undefined) {
    info.partuuid = `${sig}-${partNumber.toString(16).padStart(2, '0')}`;
  }
  if (Ext4Fs.probe(part.source)) {
    try {
      const vfs = new Ext4Vfs(part.source, part.source.description);
      info.vfs = vfs;
      info.fsKind = extKind(vfs.fs);
      info.uuid = formatUuid(vfs.fs.sb.s_uuid);
      info.label = vfs.fs.sb.s_volume_name || undefined;
      info.lastMounted = vfs.fs.sb.s_last_mounted || undefined;
      info.notes.push(...vfs.fs.problems);
    } catch (err) {
      info.fsKind = 'ext?';
      info.openError = err instanceof Error ? err.message : String(err);
    }
  } else {
    info.fsKind = probeBareFilesystem(part.source);
  }
  return info;
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

/** Which disk name the host used for this image, from the fstab line of `/` (when that uses a device name). */
function hostDiskName(fstab: FstabEntry[]): string | undefined {
  const rootLine = fstab.find((e) => joinPath(e.file) === '/');
  if (!rootLine) return undefined;
  const spec = parseDeviceSpec(rootLine.spec);
  return spec.kind === 'devname' ? spec.disk : undefined;
}

function ids(fs: FilesystemInfo): DeviceIds {
  return { uuid: fs.uuid, label: fs.label, partuuid: fs.partuuid, partlabel: fs.partlabel, partNumber: fs.partNumber };
}

/** Opens the volumes of `disk` and assembles the host. Never throws for what is inside the image; see `problems`. */
export function assembleImage(disk: ByteSource, location: string, opts: { ownsDisk?: boolean } = {}): AssembledImage {
  const volumes = listVolumes(disk);
  const problems: Problem[] = volumes.problems.map((p) => problem(location, p));
  const sig = volumes.scheme === 'mbr' ? mbrSignature(disk) : undefined;
  const filesystems: FilesystemInfo[] = [];
  for (const part of volumes.partitions) {
    if (volumes.scheme === 'mbr' && (part.name === 'extended' || part.type === '0x05' || part.type === '0x0f' || part.type === '0x85')) {
      continue;
    }
    const partNumber = volumes.scheme === 'none' ? undefined : part.index;
    const info = probeFilesystem(part, partNumber, sig, volumes.scheme);
    if (info.openError) problems.push(problem(`${location} ${describe(info)}`, `cannot open file system: ${info.openError}`));
    for (const n of info.notes) problems.push(problem(`${location} ${describe(info)}`, n));
    filesystems.push(info);
  }
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

function readFstab(vfs: Vfs, problems: Problem[]): { entries: FstabEntry[] } {
  if (!exists(vfs, '/etc/fstab')) return { entries: [] };
  let text: string;
  try {
    text = readTextLimited(vfs, '/etc/fstab', MAX_FSTAB_BYTES);
  } catch (err) {
    problems.push(problem('/etc/fstab', `cannot read: ${err instanceof Error ? err.message : String(err)}`));
    return { entries: [] };
  }
  const { entries, bad } = parseFstab(text);
  for (const b of bad) problems.push(problem(`/etc/fstab:${b.line}`, `malformed line ignored: ${JSON.stringify(b.text)}`));
  return { entries };
}

function specText(spec: DeviceSpec): string {
  switch (spec.kind) {
    case 'devname':
      return `/dev/${spec.disk}${spec.part ?? ''}`;
    default:
      return `${spec.kind}=${spec.value}`;
  }
}

function replayFstab(
  fstab: FstabEntry[],
  root: FilesystemInfo,
  ext: FilesystemInfo[],
  problems: Problem[],
  attach: (fs: FilesystemInfo, point: string) => void,
): void {
  const diskName = hostDiskName(fstab);
  const attached = new Set<string>(['/']);
  for (const e of fstab) {
    const where = `/etc/fstab:${e.line}`;
    const type = e.vfstype.toLowerCase();
    if (type === 'swap' || e.file === 'none' || e.file === 'swap') {
      problems.push(problem(where, `swap ${e.spec} is not a file system; not attached`));
      continue;
    }
    if (!e.file.startsWith('/')) {
      problems.push(problem(where, `mount point ${JSON.stringify(e.file)} is not absolute; ignored`));
      continue;
    }
    const point = joinPath(e.file);
    const spec = parseDeviceSpec(e.spec);
    if (point === '/') {
      if (spec.kind !== 'none' && spec.kind !== 'other' && !specMatches(spec, ids(root), diskName)) {
        problems.push(problem(where, `fstab names ${e.spec} as /, but the root found is ${describe(root)}`));
      }
      continue;
    }
    if (e.options.includes('bind') || e.options.includes('rbind')) {
      problems.push(problem(where, `bind mount ${e.spec} -> ${point} not replayed`));
      continue;
    }
    if (NON_DISK_FS_TYPES.has(type)) {
      problems.push(problem(where, `${type} at ${point} has no content in a disk image; not attached`));
      continue;
    }
    if (spec.kind === 'none' || spec.kind === 'other') {
      problems.push(problem(where, `cannot resolve ${e.spec} (${type}) at ${point}: not a device of this image`));
      continue;
    }
    if (spec.kind === 'devname' && !(diskName !== undefined ? spec.disk === diskName : FIRST_DISK_NAMES.includes(spec.disk))) {
      problems.push(problem(where, `${e.spec} at ${point} is on another disk (not in this image)`));
      continue;
    }
    const matches = ext.filter((f) => specMatches(spec, ids(f), diskName));
    if (matches.length === 0) {
      problems.push(
        problem(
          where,
          READABLE_FS_TYPES.has(type)
            ? `no file system of this image matches ${specText(spec)} (${type} at ${point})`
            : `unsupported file-system type ${type} at ${point} (${e.spec}); not attached`,
        ),
      );
      continue;
    }
    if (matches.length > 1) {
      problems.push(problem(where, `${e.spec} matches ${matches.length} file systems (${matches.map(describe).join('; ')}); using the first`));
    }
    const fs = matches[0]!;
    if (attached.size > MAX_FSTAB_MOUNTS) {
      problems.push(problem(where, `more than ${MAX_FSTAB_MOUNTS} mounts; the rest of /etc/fstab is ignored`));
      break;
    }
    if (attached.has(point)) {
      problems.push(problem(where, `${point} is mounted twice in fstab; the first line wins`));
      continue;
    }
    if (fs.mountPoint !== undefined) {
      problems.push(problem(where, `${describe(fs)} is already mounted at ${fs.mountPoint}; also attaching it at ${point}`));
    }
    if (!READABLE_FS_TYPES.has(type)) {
      problems.push(problem(where, `fstab says ${type} for ${e.spec}, the image holds ${fs.fsKind}; attached as ${fs.fsKind}`));
    }
    attached.add(point);
    if (fs.mountPoint === undefined) attach(fs, point);
    else attachAgain(fs, point, attach);
  }
}

function attachAgain(fs: FilesystemInfo, point: string, attach: (fs: FilesystemInfo, point: string) => void): void {
  const first = fs.mountPoint;
  attach(fs, point);
  fs.mountPoint = first; // the info view keeps the first mount point
}
