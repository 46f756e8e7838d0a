// Step 3 of root assembly (assemble.ts): the root's /etc/fstab read and replayed, each line naming another file
// system of this image attached at its mount point, and everything that cannot be attached (swap, tmpfs, other
// disks, bind mounts, unknown devices) turned into a problem. Apart from the root choice so the replay rules read on
// their own; assemble.ts re-exports its limits. Parsing the lines themselves is fstab.ts.
// References: man 5 fstab (util-linux), man 8 mount (bind mounts); docs/formats/root-assembly.md.
import type { Problem } from '../../events/event.js';
import { type Vfs, exists, joinPath, readTextLimited } from '../vfs.js';
import { type FilesystemInfo, describe, ids, problem } from './filesystems.js';
import {
  type DeviceSpec,
  FIRST_DISK_NAMES,
  type FstabEntry,
  NON_DISK_FS_TYPES,
  READABLE_FS_TYPES,
  parseDeviceSpec,
  parseFstab,
  specMatches,
} from './fstab.js';

/** File systems attached from fstab (a real host has a handful; each costs a prefix test per path component). */
export const MAX_FSTAB_MOUNTS = 256;
/** Largest /etc/fstab we read. */
export const MAX_FSTAB_BYTES = 1024 * 1024;

/** Which disk name the host used for this image, from the fstab line of `/` (when that uses a device name). */
export function hostDiskName(fstab: FstabEntry[]): string | undefined {
  const rootLine = fstab.find((e) => joinPath(e.file) === '/');
  if (!rootLine) return undefined;
  const spec = parseDeviceSpec(rootLine.spec);
  return spec.kind === 'devname' ? spec.disk : undefined;
}

/** The entries of a file system's /etc/fstab (none when it has none); unreadable or malformed lines are problems. */
export function readFstab(vfs: Vfs, problems: Problem[]): { entries: FstabEntry[] } {
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

/** Attaches, through `attach`, every file system of `ext` that a line of the root's fstab names. */
export function replayFstab(
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
