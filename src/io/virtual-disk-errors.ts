// The error type of the virtual-disk readers (qcow2, VMDK, VHD, VHDX): one base class with a code per kind of
// damage, a per-format subclass each, and the `fail` helper parsers throw through. Apart from the rest of
// virtual-disk-common.ts (which re-exports it) so the structure parsers import only what they throw.
// References: STYLE.md habit 2 (each format library has its own typed errors).

export type VirtualDiskFormat = 'qcow2' | 'vmdk' | 'vhd' | 'vhdx';

export type VirtualDiskErrorCode =
  /** Magic/signature/cookie not the expected one. */
  | 'EMAGIC'
  /** A header value is impossible (bad version, cluster size, checksum, misaligned offset ...). */
  | 'ECORRUPT'
  /** A header value exceeds one of our named limits. */
  | 'ELIMIT'
  /** A structure lies (partly) past the end of the image file. */
  | 'ETRUNCATED'
  /** A valid feature we do not read (encryption, external data file, zstd ...). */
  | 'EUNSUPPORTED'
  /** A backing / parent / extent file is needed and not found beside the image. */
  | 'EMISSING'
  /** A path in the image tries to leave the image's folder. */
  | 'EPATH'
  /** Backing / parent chains that loop or are too deep. */
  | 'ELOOP'
  /** Data that cannot be read (damaged compressed cluster, table pointing outside the file): strict mode only. */
  | 'EDATA';

/** Base class of the per-format errors (`Qcow2Error`, `VmdkError`, `VhdError`, `VhdxError`). */
export class VirtualDiskError extends Error {
  constructor(
    readonly format: VirtualDiskFormat,
    readonly code: VirtualDiskErrorCode,
    readonly where: string,
    detail: string,
  ) {
    super(`${where}: ${format}: ${detail}`);
    this.name = 'VirtualDiskError';
  }
}

/** Constructor of a per-format error class: `new Qcow2Error(code, where, detail)`. */
export type VirtualDiskErrorClass = new (code: VirtualDiskErrorCode, where: string, detail: string) => VirtualDiskError;

/** The error class of one format (`Qcow2Error` ...): a VirtualDiskError with its format and class name fixed. */
export function virtualDiskErrorClass(format: VirtualDiskFormat, name: string) {
  const cls = class extends VirtualDiskError {
    constructor(code: VirtualDiskErrorCode, where: string, detail: string) {
      super(format, code, where, detail);
      this.name = name;
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

/** A parser's or opener's `fail`: throws `new Err(code, where, prefix + detail)`. */
export function failWith(
  Err: VirtualDiskErrorClass,
  where: string,
  prefix = '',
): (code: VirtualDiskErrorCode, detail: string) => never {
  return (code, detail) => {
    throw new Err(code, where, prefix + detail);
  };
}
