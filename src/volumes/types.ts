import type { ByteSource } from '../io/byte-source.js';

export type VolumeScheme = 'gpt' | 'mbr' | 'none';

export interface Partition {
  /** 1-based, in table order. MBR: 1-4 primary slots, 5.. logical partitions in chain order. GPT: entry index + 1. */
  index: number;
  /** Byte offset of the first byte. */
  start: bigint;
  /** Size in bytes (GPT: last LBA inclusive). */
  size: bigint;
  /** GPT: lower-case type GUID; MBR: `0x83`-style id; bare: `filesystem`. */
  type: string;
  /** GPT partition name (UTF-16LE), MBR: `primary`/`logical`/`extended`. */
  name: string;
  /** GPT unique partition GUID. */
  guid?: string;
  /** A window over the parent source covering exactly this partition (clamped to the image). */
  source: ByteSource;
}

export interface VolumeList {
  scheme: VolumeScheme;
  /** Sector size the table was read with. */
  sectorSize: number;
  partitions: Partition[];
  /** Things wrong with the table that did not stop us (damaged primary GPT, partition past the end, ...). */
  problems: string[];
}

export class VolumeError extends Error {
  constructor(
    readonly code: 'EFORMAT' | 'EAMBIGUOUS' | 'ECORRUPT' | 'ELIMIT',
    readonly where: string,
    detail: string,
  ) {
    super(`${where}: ${detail}`);
    this.name = 'VolumeError';
  }
}
