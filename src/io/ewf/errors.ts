// Typed errors and problems of the EWF (E01) reader.
// An EwfError is a ByteSourceError (code EFORMAT, or ENOENT for a missing segment) so callers that only know the
// ByteSource layer still catch it; `ewfCode` says exactly what went wrong.
import { ByteSourceError } from '../byte-source.js';

export type EwfErrorCode =
  /** Not an EWF segment file (signature), or an EWF variant we do not read (L01 logical, Ex01 EWF2). */
  | 'NOT_EWF'
  | 'UNSUPPORTED'
  /** A segment of the set is absent beside the first one. */
  | 'MISSING_SEGMENT'
  /** The path given is not the first segment of its set. */
  | 'NOT_FIRST_SEGMENT'
  /** A structure is damaged beyond use (no volume section, impossible geometry, ...). */
  | 'CORRUPT'
  /** A count, size or offset from the file exceeds a named limit. */
  | 'LIMIT'
  | 'IO';

export class EwfError extends ByteSourceError {
  constructor(
    readonly ewfCode: EwfErrorCode,
    where: string,
    detail: string,
  ) {
    super(ewfCode === 'MISSING_SEGMENT' ? 'ENOENT' : ewfCode === 'IO' ? 'EIO' : 'EFORMAT', where, detail);
    this.name = 'EwfError';
  }
}

export type EwfProblemCode =
  | 'SECTION_CHECKSUM'
  | 'SECTION_CHAIN'
  | 'TRUNCATED'
  | 'TABLE_CHECKSUM'
  | 'TABLE_ENTRY'
  | 'TABLE_LOST'
  | 'CHUNK_MISSING'
  | 'CHUNK_INFLATE'
  | 'CHUNK_SIZE'
  | 'CHUNK_CHECKSUM'
  | 'CHUNK_READ'
  | 'CHUNK_COUNT'
  | 'HEADER'
  | 'VOLUME'
  | 'HASH'
  | 'SET_MISMATCH'
  | 'EXTRA_SEGMENT'
  | 'ACQUISITION_ERRORS'
  | 'LIMIT';

/** Something damaged or suspicious met while opening or reading; reading goes on. */
export interface EwfProblem {
  code: EwfProblemCode;
  /** The segment file (or the set's first segment for set-wide problems). */
  path: string;
  /** Byte offset inside `path`, when known. */
  offset?: number;
  /** Chunk number (0-based), for chunk problems. */
  chunk?: number;
  reason: string;
}
