// /etc/fstab parsing and device-spec matching: which file system of an image an fstab line names.
// References: fstab(5) (fields, `\040`-style octal escapes, UUID=/LABEL=/PARTUUID=/PARTLABEL= tags),
// udev's /dev/disk/by-* links (labels escape unsafe bytes as `\xHH`), Linux block device names
// (sdXN/vdXN/xvdXN/hdXN, nvmeMnNpP, mmcblkMpP; MBR logical partitions are numbered from 5).

/** Lines of /etc/fstab we look at (a real one has tens). */
export const MAX_FSTAB_LINES = 10_000;

export interface FstabEntry {
  /** 1-based line number in /etc/fstab. */
  line: number;
  /** fs_spec as written (escapes decoded). */
  spec: string;
  /** fs_file: the mount point, escapes decoded (not normalised). */
  file: string;
  vfstype: string;
  options: string[];
  freq: number;
  passno: number;
}

/** fstab(5): `\040` (space), `\011` (tab), `\012`, `\134` (backslash) and any other octal escape. */
export function unescapeFstab(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses fstab text; malformed lines (fewer than 2 fields) are returned in `bad` with their line numbers. */
export function parseFstab(text: string): { entries: FstabEntry[]; bad: Array<{ line: number; text: string }> } {
  const entries: FstabEntry[] = [];
  const bad: Array<{ line: number; text: string }> = [];
  const lines = text.split('\n');
  const n = Math.min(lines.length, MAX_FSTAB_LINES);
  for (let i = 0; i < n; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const f = trimmed.split(/[ \t]+/);
    if (f.length < 2) {
      bad.push({ line: i + 1, text: raw });
      continue;
    }
    const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : 0);
    entries.push({
      line: i + 1,
      spec: unescapeFstab(f[0]!),
      file: unescapeFstab(f[1]!),
      vfstype: f[2] ?? 'auto',
      options: (f[3] ?? 'defaults').split(',').filter((o) => o !== ''),
      freq: num(f[4]),
      passno: num(f[5]),
    });
  }
  return { entries, bad };
}

/** What an fs_spec names. `disk` names the whole disk (a bare file system); `part` a partition number on it. */
export type DeviceSpec =
  | { kind: 'uuid' | 'label' | 'partuuid' | 'partlabel'; value: string }
  | { kind: 'devname'; disk: string; part?: number }
  | { kind: 'other'; value: string }
  | { kind: 'none'; value: string };

/** udev escapes bytes outside [A-Za-z0-9#+-.:=@_] in by-label names as `\xHH`. */
function unescapeUdev(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function unquote(s: string): string {
  return s.length >= 2 && ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'"))) ? s.slice(1, -1) : s;
}

/** Parses one fs_spec. Pseudo file systems (`proc`, `tmpfs`, `none`, ...) and network specs come back as `none`/`other`. */
export function parseDeviceSpec(spec: string): DeviceSpec {
  const tag = /^(UUID|LABEL|PARTUUID|PARTLABEL)=(.*)$/i.exec(spec);
  if (tag) {
    const kind = tag[1]!.toLowerCase() as 'uuid' | 'label' | 'partuuid' | 'partlabel';
    return { kind, value: unquote(tag[2]!) };
  }
  const byLink = /^\/dev\/disk\/by-(uuid|label|partuuid|partlabel)\/(.+)$/.exec(spec);
  if (byLink) return { kind: byLink[1] as 'uuid' | 'label' | 'partuuid' | 'partlabel', value: unescapeUdev(byLink[2]!) };
  let m: RegExpExecArray | null;
  // sda1, vdb2, xvda1, hda3 (the disk is letters after the prefix).
  if ((m = /^\/dev\/((?:sd|vd|xvd|hd)[a-z]+)(\d+)?$/.exec(spec))) {
    return { kind: 'devname', disk: m[1]!, part: m[2] !== undefined ? Number(m[2]) : undefined };
  }
  // nvme0n1p2, mmcblk0p1, loop0p1
  if ((m = /^\/dev\/((?:nvme\d+n\d+)|(?:mmcblk\d+)|(?:loop\d+))(?:p(\d+))?$/.exec(spec))) {
    return { kind: 'devname', disk: m[1]!, part: m[2] !== undefined ? Number(m[2]) : undefined };
  }
  if (spec.startsWith('/dev/') || spec.startsWith('/') || spec.includes(':') || spec.startsWith('//')) {
    return { kind: 'other', value: spec };
  }
  return { kind: 'none', value: spec };
}

/** The identifiers of one file system in the image, as fstab may name it. */
export interface DeviceIds {
  /** File-system UUID (lower case, canonical 8-4-4-4-12). */
  uuid?: string;
  label?: string;
  /** GPT unique partition GUID (lower case); MBR: `<disk signature>-<NN>` as Linux builds it. */
  partuuid?: string;
  partlabel?: string;
  /** Partition number as Linux numbers it (1-based; MBR logical from 5); undefined for a bare file system. */
  partNumber?: number;
}

/** Disk names that mean "the first disk" when fstab does not say which disk the root is on. */
export const FIRST_DISK_NAMES = ['sda', 'vda', 'xvda', 'hda', 'nvme0n1', 'mmcblk0'];

/**
 * True when `spec` names `ids`. For device names, `diskName` is the name this image's disk had on the host (taken
 * from the fstab line of `/` when that uses a device name); without it any of FIRST_DISK_NAMES is accepted.
 */
export function specMatches(spec: DeviceSpec, ids: DeviceIds, diskName?: string): boolean {
  switch (spec.kind) {
    case 'uuid':
      return ids.uuid !== undefined && ids.uuid === spec.value.toLowerCase();
    case 'partuuid':
      return ids.partuuid !== undefined && ids.partuuid === spec.value.toLowerCase();
    case 'label':
      return ids.label !== undefined && ids.label !== '' && ids.label === spec.value;
    case 'partlabel':
      return ids.partlabel !== undefined && ids.partlabel !== '' && ids.partlabel === spec.value;
    case 'devname': {
      const sameDisk = diskName !== undefined ? spec.disk === diskName : FIRST_DISK_NAMES.includes(spec.disk);
      if (!sameDisk) return false;
      return spec.part === ids.partNumber;
    }
    default:
      return false;
  }
}

/** File-system types we can read (through the ext reader) and `auto`, which means "whatever is there". */
export const READABLE_FS_TYPES = new Set(['ext2', 'ext3', 'ext4', 'ext4dev', 'auto']);

/** Types with nothing on the disk image to attach (kernel, memory or network file systems, swap). */
export const NON_DISK_FS_TYPES = new Set([
  'swap', 'tmpfs', 'proc', 'sysfs', 'devpts', 'devtmpfs', 'cgroup', 'cgroup2', 'securityfs', 'debugfs', 'tracefs',
  'mqueue', 'hugetlbfs', 'pstore', 'efivarfs', 'bpf', 'configfs', 'fusectl', 'binfmt_misc', 'ramfs', 'none',
  'nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'sshfs', 'fuse.sshfs', 'glusterfs', 'ceph', '9p', 'virtiofs',
]);

/** Formats a 16-byte UUID the canonical way (lower case, 8-4-4-4-12). */
export function formatUuid(b: Uint8Array): string {
  const h = Array.from(b.subarray(0, 16), (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
