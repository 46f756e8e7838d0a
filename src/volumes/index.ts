// Finds the volumes on a disk: a partition table (GPT, MBR) or a bare file system filling the whole source.
// Every scheme has a cheap probe; exactly one must match (STYLE.md habit 1, sleuthkit tsk/vs/mm_open.c does the same).
import { type ByteSource, SliceSource, readBytes } from '../io/byte-source.js';
import { probeGpt, readGpt } from './gpt.js';
import { probeMbr, readMbr } from './mbr.js';
import { type VolumeList, type VolumeScheme, VolumeError } from './types.js';

export * from './types.js';
export { readMbr, probeMbr, MAX_LOGICAL_PARTITIONS } from './mbr.js';
export { readGpt, probeGpt, MAX_GPT_ENTRIES } from './gpt.js';

/** File-system magics we recognise at the start of a bare volume (a disk image without a partition table). */
export function probeBareFilesystem(src: ByteSource): string | undefined {
  const sb = readBytes(src, 1024 + 0x38, 2); // ext2/3/4 s_magic
  if (sb.length === 2 && sb[0] === 0x53 && sb[1] === 0xef) return 'ext';
  const x = readBytes(src, 0, 4);
  if (x.length === 4 && String.fromCharCode(...x) === 'XFSB') return 'xfs';
  const lvm = readBytes(src, 512, 8);
  if (lvm.length === 8 && String.fromCharCode(...lvm) === 'LABELONE') return 'lvm2';
  return undefined;
}

interface SchemeOpener {
  scheme: VolumeScheme;
  probe(src: ByteSource): boolean;
  read(src: ByteSource): VolumeList;
}

export const VOLUME_SCHEMES: readonly SchemeOpener[] = [
  { scheme: 'gpt', probe: probeGpt, read: readGpt },
  { scheme: 'mbr', probe: probeMbr, read: (s) => readMbr(s) },
  {
    scheme: 'none',
    probe: (s) => probeBareFilesystem(s) !== undefined,
    read: (s) => ({
      scheme: 'none',
      sectorSize: 512,
      partitions: [
        { index: 1, start: 0n, size: s.size, type: probeBareFilesystem(s) ?? 'unknown', name: 'whole source', source: new SliceSource(s, 0n, s.size, 'whole') },
      ],
      problems: [],
    }),
  },
];

export function listVolumes(src: ByteSource): VolumeList {
  const matches = VOLUME_SCHEMES.filter((o) => o.probe(src));
  if (matches.length === 0) {
    throw new VolumeError('EFORMAT', src.description, 'no GPT, no MBR and no known file system at the start of the source');
  }
  if (matches.length > 1) {
    throw new VolumeError('EAMBIGUOUS', src.description, `matches several volume schemes: ${matches.map((m) => m.scheme).join(', ')}`);
  }
  return (matches[0] as SchemeOpener).read(src);
}
