// Typed errors of the tar reader (mapped to VfsError by the VFS adapter, src/fs/tar/vfs.ts).

export type TarErrorCode = 'EFORMAT' | 'ECHECKSUM' | 'ELIMIT' | 'ETRUNC' | 'EIO' | 'EUNSUPPORTED';

export class TarError extends Error {
  constructor(
    readonly code: TarErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TarError';
  }
}
