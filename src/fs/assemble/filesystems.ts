// Step 1 of root assembly (assemble.ts): every partition of the disk (or the bare disk) probed for an ext2/3/4 file
// system, opened read-only, and described by the ids /etc/fstab may name it by (UUID, LABEL, PARTUUID, PARTLABEL,
// partition number). Apart from the root choice and fstab replay so each step reads on its own; assemble.ts
// re-exports what it declares.
// References: torvalds/linux block/partitions/msdos.c (MBR PARTUUID `<disk signature>-<partition number>`),
// util-linux libblkid (GPT PARTUUID / PARTLABEL); docs/formats/root-assembly.md.
import type { Problem } from '../../events/event.js';
import { type ByteSource, readBytes } from '../../io/byte-source.js';
import { type Partition, type VolumeList, probeBareFilesystem } from '../../volumes/index.js';
import { Ext4Fs } from '../ext4/ext4.js';
import { COMPAT, INCOMPAT } from '../ext4/structs.js';
import { Ext4Vfs } from '../ext4/vfs.js';
import { type DeviceIds, formatUuid } from './fstab.js';

export const COMPONENT = 'assemble';

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

/** A problem of the assembly. */
export function problem(path: string, reason: string, severity: Problem['severity'] = 'warning'): Problem {
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

/** The file system in problem messages: `partition 2 ext4 UUID=...` or `whole disk ...`. */
export function describe(fs: FilesystemInfo): string {
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

/**
 * Every partition (MBR extended containers skipped) or the bare disk, probed and opened; open errors and the
 * readers' notes are added to `problems`.
 */
export function probeFilesystems(
  disk: ByteSource,
  volumes: VolumeList,
  location: string,
  problems: Problem[],
): FilesystemInfo[] {
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
  return filesystems;
}

/** The ids fstab may name a file system by. */
export function ids(fs: FilesystemInfo): DeviceIds {
  return { uuid: fs.uuid, label: fs.label, partuuid: fs.partuuid, partlabel: fs.partlabel, partNumber: fs.partNumber };
}
