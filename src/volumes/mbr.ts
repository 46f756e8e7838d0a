// MBR ("DOS") partition tables with extended/logical chains.
// References: sleuthkit tsk/vs/dos.c (dos_load_prim_table, dos_load_ext_table); the classic IBM PC MBR layout:
//   offset 446: four 16-byte entries { boot_ind u8, chs_start[3], sys_ind u8, chs_end[3], start_lba u32le,
//   nr_sects u32le }; offset 510: signature 0x55 0xAA.
// In an EBR (extended boot record) entry 1 is the logical partition (start relative to this EBR) and entry 2 links
// to the next EBR (start relative to the start of the *first* extended partition).
import { type ByteSource, SliceSource, readBytes } from '../io/byte-source.js';
import { type Partition, type VolumeList, VolumeError } from './types.js';

/** Logical partitions followed in one extended chain before we stop (a looping or absurd chain). */
export const MAX_LOGICAL_PARTITIONS = 128;

export const MBR_SIGNATURE_OFFSET = 510;
export const MBR_TABLE_OFFSET = 446;
export const MBR_ENTRY_SIZE = 16;

/** Partition type ids that mark an extended partition container (DOS 0x05, Windows LBA 0x0F, Linux 0x85). */
export const MBR_EXTENDED_TYPES: ReadonlySet<number> = new Set([0x05, 0x0f, 0x85]);
export const MBR_PROTECTIVE_GPT = 0xee;

export interface MbrEntry {
  boot_ind: number;
  sys_ind: number;
  start_lba: number;
  nr_sects: number;
}

/** Parses the four table entries of an MBR/EBR sector (pure: bytes in, values out). */
export function parseMbrEntries(sector: Uint8Array, off = 0): MbrEntry[] {
  if (sector.length < off + 512) throw new VolumeError('ECORRUPT', 'mbr', `sector is ${sector.length - off} bytes, expected 512`);
  const dv = new DataView(sector.buffer, sector.byteOffset + off, 512);
  const out: MbrEntry[] = [];
  for (let i = 0; i < 4; i++) {
    const e = MBR_TABLE_OFFSET + i * MBR_ENTRY_SIZE;
    out.push({
      boot_ind: dv.getUint8(e),
      sys_ind: dv.getUint8(e + 4),
      start_lba: dv.getUint32(e + 8, true),
      nr_sects: dv.getUint32(e + 12, true),
    });
  }
  return out;
}

export function hasMbrSignature(sector: Uint8Array): boolean {
  return sector.length >= 512 && sector[MBR_SIGNATURE_OFFSET] === 0x55 && sector[MBR_SIGNATURE_OFFSET + 1] === 0xaa;
}

/** Cheap check: signature present, no protective 0xEE entry (that is GPT), boot flags sane, and at least one entry. */
export function probeMbr(src: ByteSource): boolean {
  const s = readBytes(src, 0, 512);
  if (!hasMbrSignature(s)) return false;
  const entries = parseMbrEntries(s);
  if (entries.some((e) => e.sys_ind === MBR_PROTECTIVE_GPT)) return false;
  if (entries.some((e) => e.boot_ind !== 0 && e.boot_ind !== 0x80)) return false;
  return entries.some((e) => e.sys_ind !== 0 && e.nr_sects !== 0);
}

export function readMbr(src: ByteSource, sectorSize = 512): VolumeList {
  const ss = BigInt(sectorSize);
  const problems: string[] = [];
  const partitions: Partition[] = [];
  const mk = (index: number, startLba: bigint, sects: bigint, type: number, name: string): Partition => {
    const start = startLba * ss;
    const size = sects * ss;
    if (start + size > src.size) {
      problems.push(`partition ${index} (${name}) ends at byte ${start + size}, past the end of the image (${src.size})`);
    }
    return {
      index,
      start,
      size,
      type: '0x' + type.toString(16).padStart(2, '0'),
      name,
      source: new SliceSource(src, start, size, `p${index}`),
    };
  };
  const first = readBytes(src, 0, 512);
  if (first.length < 512 || !hasMbrSignature(first)) throw new VolumeError('EFORMAT', src.description, 'no MBR signature 0x55AA at offset 510');
  const primary = parseMbrEntries(first);
  let extStart: bigint | undefined;
  primary.forEach((e, i) => {
    if (e.sys_ind === 0 || e.nr_sects === 0) return;
    if (MBR_EXTENDED_TYPES.has(e.sys_ind)) {
      if (extStart !== undefined) problems.push(`second extended partition in slot ${i + 1} ignored`);
      else extStart = BigInt(e.start_lba);
      partitions.push(mk(i + 1, BigInt(e.start_lba), BigInt(e.nr_sects), e.sys_ind, 'extended'));
      return;
    }
    partitions.push(mk(i + 1, BigInt(e.start_lba), BigInt(e.nr_sects), e.sys_ind, 'primary'));
  });
  if (extStart !== undefined) {
    const visited = new Set<bigint>();
    let ebr = extStart;
    let index = 5;
    for (;;) {
      if (visited.has(ebr)) {
        problems.push(`extended partition chain loops back to sector ${ebr}; stopped`);
        break;
      }
      if (visited.size >= MAX_LOGICAL_PARTITIONS) {
        problems.push(`extended partition chain longer than MAX_LOGICAL_PARTITIONS (${MAX_LOGICAL_PARTITIONS}); stopped`);
        break;
      }
      visited.add(ebr);
      const sector = readBytes(src, ebr * ss, 512);
      if (sector.length < 512) {
        problems.push(`EBR at sector ${ebr} is past the end of the image`);
        break;
      }
      if (!hasMbrSignature(sector)) {
        problems.push(`EBR at sector ${ebr} has no 0x55AA signature; chain stopped`);
        break;
      }
      const [logical, link] = parseMbrEntries(sector) as [MbrEntry, MbrEntry];
      if (logical.sys_ind !== 0 && logical.nr_sects !== 0) {
        partitions.push(mk(index++, ebr + BigInt(logical.start_lba), BigInt(logical.nr_sects), logical.sys_ind, 'logical'));
      }
      if (link.sys_ind === 0 || link.nr_sects === 0 || !MBR_EXTENDED_TYPES.has(link.sys_ind)) break;
      ebr = extStart + BigInt(link.start_lba);
    }
  }
  return { scheme: 'mbr', sectorSize, partitions, problems };
}
