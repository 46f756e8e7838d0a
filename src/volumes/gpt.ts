// GUID Partition Table.
// References: UEFI Specification 2.10, chapter 5.3 (GPT header, partition entry array, protective MBR);
// sleuthkit tsk/vs/gpt.c (the last LBA of an entry is inclusive: size = (EndingLBA - StartingLBA + 1) * sector).
// Both the header CRC32 (over HeaderSize bytes with the CRC field zeroed) and the entry-array CRC32 are checked; a
// damaged primary header or array makes us use the backup header at the last LBA of the disk (its AlternateLBA
// and MyLBA swapped), and the damage is reported in `problems`.
import { type ByteSource, SliceSource, readBytes } from '../io/byte-source.js';
import { crc32 } from './crc32.js';
import { MBR_PROTECTIVE_GPT, hasMbrSignature, parseMbrEntries } from './mbr.js';
import { type Partition, type VolumeList, VolumeError } from './types.js';

/** Entries we accept in one array (the spec's minimum array is 128 entries; tools never write more than 256). */
export const MAX_GPT_ENTRIES = 16_384;
/** Largest entry-array we read, in bytes. */
export const MAX_GPT_ARRAY_BYTES = 4 * 1024 * 1024;
export const GPT_SIGNATURE = 'EFI PART';
/** Sector sizes we try, in order. */
export const GPT_SECTOR_SIZES = [512, 4096] as const;

/** GPT header, UEFI 2.10 table 5-5 (all little-endian). Offsets in bytes from the start of the header sector. */
export interface GptHeader {
  Signature: string; // 0, 8 bytes
  Revision: number; // 8 u32
  HeaderSize: number; // 12 u32
  HeaderCRC32: number; // 16 u32
  MyLBA: bigint; // 24 u64
  AlternateLBA: bigint; // 32 u64
  FirstUsableLBA: bigint; // 40 u64
  LastUsableLBA: bigint; // 48 u64
  DiskGUID: string; // 56, 16 bytes
  PartitionEntryLBA: bigint; // 72 u64
  NumberOfPartitionEntries: number; // 80 u32
  SizeOfPartitionEntry: number; // 84 u32
  PartitionEntryArrayCRC32: number; // 88 u32
}

/** GPT partition entry, UEFI 2.10 table 5-6. */
export interface GptEntry {
  PartitionTypeGUID: string; // 0, 16 bytes
  UniquePartitionGUID: string; // 16, 16 bytes
  StartingLBA: bigint; // 32 u64
  EndingLBA: bigint; // 40 u64, inclusive
  Attributes: bigint; // 48 u64
  PartitionName: string; // 56, 72 bytes UTF-16LE, NUL-terminated
}

export const GPT_UNUSED_GUID = '00000000-0000-0000-0000-000000000000';

/** Formats a GUID stored in the EFI mixed-endian layout (first three fields little-endian). */
export function formatGuid(b: Uint8Array, off: number): string {
  const h = (i: number) => (b[off + i] as number).toString(16).padStart(2, '0');
  return (
    h(3) + h(2) + h(1) + h(0) + '-' + h(5) + h(4) + '-' + h(7) + h(6) + '-' + h(8) + h(9) + '-' +
    h(10) + h(11) + h(12) + h(13) + h(14) + h(15)
  );
}

/** Parses a header sector; returns the header and whether its CRC matches. Throws only if the bytes are too short. */
export function parseGptHeader(b: Uint8Array, off = 0): { header: GptHeader; crcOk: boolean; problems: string[] } {
  if (b.length < off + 92) throw new VolumeError('ECORRUPT', 'gpt header', `only ${b.length - off} bytes, need 92`);
  const dv = new DataView(b.buffer, b.byteOffset + off, b.length - off);
  const header: GptHeader = {
    Signature: String.fromCharCode(...b.subarray(off, off + 8)),
    Revision: dv.getUint32(8, true),
    HeaderSize: dv.getUint32(12, true),
    HeaderCRC32: dv.getUint32(16, true),
    MyLBA: dv.getBigUint64(24, true),
    AlternateLBA: dv.getBigUint64(32, true),
    FirstUsableLBA: dv.getBigUint64(40, true),
    LastUsableLBA: dv.getBigUint64(48, true),
    DiskGUID: formatGuid(b, off + 56),
    PartitionEntryLBA: dv.getBigUint64(72, true),
    NumberOfPartitionEntries: dv.getUint32(80, true),
    SizeOfPartitionEntry: dv.getUint32(84, true),
    PartitionEntryArrayCRC32: dv.getUint32(88, true),
  };
  const problems: string[] = [];
  if (header.Signature !== GPT_SIGNATURE) problems.push(`signature ${JSON.stringify(header.Signature)}, expected "EFI PART"`);
  if (header.HeaderSize < 92 || header.HeaderSize > b.length - off) {
    problems.push(`HeaderSize ${header.HeaderSize}, expected 92..${b.length - off}`);
    return { header, crcOk: false, problems };
  }
  const copy = b.slice(off, off + header.HeaderSize);
  copy.fill(0, 16, 20);
  const crc = crc32(copy);
  const crcOk = crc === header.HeaderCRC32;
  if (!crcOk) {
    problems.push(`header CRC32 0x${crc.toString(16).padStart(8, '0')}, expected 0x${header.HeaderCRC32.toString(16).padStart(8, '0')}`);
  }
  return { header, crcOk: crcOk && problems.length === 0, problems };
}

export function parseGptEntry(b: Uint8Array, off: number): GptEntry {
  const dv = new DataView(b.buffer, b.byteOffset + off, 128);
  let name = '';
  for (let i = 0; i < 36; i++) {
    const c = dv.getUint16(56 + i * 2, true);
    if (c === 0) break;
    name += String.fromCharCode(c);
  }
  return {
    PartitionTypeGUID: formatGuid(b, off),
    UniquePartitionGUID: formatGuid(b, off + 16),
    StartingLBA: dv.getBigUint64(32, true),
    EndingLBA: dv.getBigUint64(40, true),
    Attributes: dv.getBigUint64(48, true),
    PartitionName: name,
  };
}

function hasSignatureAt(src: ByteSource, pos: bigint): boolean {
  const b = readBytes(src, pos, 8);
  return b.length === 8 && String.fromCharCode(...b) === GPT_SIGNATURE;
}

/** Protective MBR (a 0xEE entry), or a GPT header signature at LBA 1 or at the last LBA, for 512 or 4096 sectors. */
export function probeGpt(src: ByteSource): boolean {
  const s = readBytes(src, 0, 512);
  if (hasMbrSignature(s) && parseMbrEntries(s).some((e) => e.sys_ind === MBR_PROTECTIVE_GPT)) return true;
  for (const ss of GPT_SECTOR_SIZES) {
    const n = BigInt(ss);
    if (hasSignatureAt(src, n)) return true;
    if (src.size >= 2n * n && hasSignatureAt(src, (src.size / n - 1n) * n)) return true;
  }
  return false;
}

interface LoadedTable {
  header: GptHeader;
  entries: Uint8Array;
}

function loadTable(src: ByteSource, ss: number, lba: bigint, which: string, problems: string[]): LoadedTable | undefined {
  const sector = readBytes(src, lba * BigInt(ss), ss);
  if (sector.length < 92) {
    problems.push(`${which} GPT header at LBA ${lba}: past the end of the image`);
    return undefined;
  }
  const { header, crcOk, problems: hp } = parseGptHeader(sector);
  if (header.Signature !== GPT_SIGNATURE) {
    problems.push(`${which} GPT header at LBA ${lba}: ${hp.join('; ')}`);
    return undefined;
  }
  if (!crcOk) {
    problems.push(`${which} GPT header at LBA ${lba}: ${hp.join('; ')}`);
    return undefined;
  }
  if (header.MyLBA !== lba) problems.push(`${which} GPT header at LBA ${lba} says MyLBA ${header.MyLBA}`);
  const count = header.NumberOfPartitionEntries;
  const esz = header.SizeOfPartitionEntry;
  if (esz < 128 || esz % 8 !== 0 || esz > 4096) {
    problems.push(`${which} GPT: SizeOfPartitionEntry ${esz}, expected 128 * 2^n`);
    return undefined;
  }
  if (count > MAX_GPT_ENTRIES || count * esz > MAX_GPT_ARRAY_BYTES) {
    problems.push(`${which} GPT: ${count} entries of ${esz} bytes exceeds MAX_GPT_ENTRIES ${MAX_GPT_ENTRIES} / ${MAX_GPT_ARRAY_BYTES} bytes`);
    return undefined;
  }
  const entries = readBytes(src, header.PartitionEntryLBA * BigInt(ss), count * esz);
  if (entries.length < count * esz) {
    problems.push(`${which} GPT entry array at LBA ${header.PartitionEntryLBA} runs past the end of the image`);
    return undefined;
  }
  const crc = crc32(entries);
  if (crc !== header.PartitionEntryArrayCRC32) {
    problems.push(
      `${which} GPT entry array CRC32 0x${crc.toString(16).padStart(8, '0')}, expected 0x${header.PartitionEntryArrayCRC32.toString(16).padStart(8, '0')}`,
    );
    return undefined;
  }
  return { header, entries };
}

export function readGpt(src: ByteSource): VolumeList {
  const problems: string[] = [];
  for (const ss of GPT_SECTOR_SIZES) {
    const n = BigInt(ss);
    const lastLba = src.size / n - 1n;
    if (lastLba < 1n) continue;
    const tried: string[] = [];
    let t = loadTable(src, ss, 1n, 'primary', tried);
    if (!t) {
      // Backup header: normally at the last LBA; a primary with a readable AlternateLBA is not trusted (it failed).
      const backup = loadTable(src, ss, lastLba, 'backup', tried);
      if (backup) problems.push(...tried.filter((p) => p.startsWith('primary')));
      if (backup) {
        problems.push(`using the backup GPT header at LBA ${lastLba}`);
        t = backup;
      }
    } else {
      // The primary is fine; note a damaged or missing backup without failing.
      const bp: string[] = [];
      const alt = t.header.AlternateLBA;
      if (alt !== lastLba) bp.push(`primary GPT AlternateLBA ${alt}, but the last LBA of the image is ${lastLba}`);
      if (alt <= lastLba && !loadTable(src, ss, alt, 'backup', bp)) problems.push(...bp);
      else if (bp.length) problems.push(...bp);
    }
    if (!t) {
      if (hasSignatureAt(src, n) || hasSignatureAt(src, lastLba * n)) {
        throw new VolumeError('ECORRUPT', src.description, `no usable GPT header (${tried.join('; ')})`);
      }
      continue;
    }
    const partitions: Partition[] = [];
    const { header, entries } = t;
    for (let i = 0; i < header.NumberOfPartitionEntries; i++) {
      const e = parseGptEntry(entries, i * header.SizeOfPartitionEntry);
      if (e.PartitionTypeGUID === GPT_UNUSED_GUID) continue;
      if (e.EndingLBA < e.StartingLBA) {
        problems.push(`entry ${i + 1}: EndingLBA ${e.EndingLBA} before StartingLBA ${e.StartingLBA}; skipped`);
        continue;
      }
      const start = e.StartingLBA * n;
      const size = (e.EndingLBA - e.StartingLBA + 1n) * n; // last LBA inclusive (UEFI 5.3.3)
      if (e.EndingLBA > header.LastUsableLBA || e.StartingLBA < header.FirstUsableLBA) {
        problems.push(`entry ${i + 1}: LBAs ${e.StartingLBA}..${e.EndingLBA} outside usable ${header.FirstUsableLBA}..${header.LastUsableLBA}`);
      }
      if (start + size > src.size) problems.push(`entry ${i + 1} ends at byte ${start + size}, past the end of the image (${src.size})`);
      partitions.push({
        index: i + 1,
        start,
        size,
        type: e.PartitionTypeGUID,
        name: e.PartitionName,
        guid: e.UniquePartitionGUID,
        source: new SliceSource(src, start, size, `p${i + 1}`),
      });
    }
    return { scheme: 'gpt', sectorSize: ss, partitions, problems };
  }
  throw new VolumeError('ECORRUPT', src.description, `protective MBR or GPT signature found, but no usable GPT header (${problems.join('; ')})`);
}
