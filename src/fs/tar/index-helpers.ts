// Helpers of the tar indexing pass (see ./archive.ts): positional reads, member types, header probing, pax xattrs.
import type { MemberType, StreamReader } from './archive-types.js';
import { decodeXattrName, isZeroBlock, parseHeader, verifyChecksum } from './parse.js';
import { BLOCK_SIZE, TYPEFLAG } from './structs.js';

export const latin1 = new TextDecoder('latin1');

export function roundUp(n: number): number {
  return Math.ceil(n / BLOCK_SIZE) * BLOCK_SIZE;
}

export function readExact(r: StreamReader, pos: number, len: number): Uint8Array {
  const buf = new Uint8Array(len);
  let got = 0;
  while (got < len) {
    const n = r.read(buf, got, len - got, pos + got);
    if (n <= 0) break;
    got += n;
  }
  return got === len ? buf : buf.subarray(0, got);
}

export function memberType(typeflag: string, name: string): MemberType | undefined {
  switch (typeflag) {
    case TYPEFLAG.REGTYPE:
    case TYPEFLAG.AREGTYPE:
    case TYPEFLAG.CONTTYPE:
      // Pre-POSIX archives mark directories with a trailing slash on a regular entry.
      return name.endsWith('/') ? 'dir' : 'file';
    case TYPEFLAG.LNKTYPE: return 'hardlink';
    case TYPEFLAG.SYMTYPE: return 'symlink';
    case TYPEFLAG.CHRTYPE: return 'char';
    case TYPEFLAG.BLKTYPE: return 'block';
    case TYPEFLAG.DIRTYPE:
    case TYPEFLAG.GNUTYPE_DUMPDIR: return 'dir';
    case TYPEFLAG.FIFOTYPE: return 'fifo';
    case TYPEFLAG.GNUTYPE_SPARSE: return 'file';
    default: return undefined;
  }
}

/** A header block that can start a member: checksum valid and parseable. */
export function looksLikeHeader(block: Uint8Array): boolean {
  if (block.length < BLOCK_SIZE || isZeroBlock(block) || !verifyChecksum(block).ok) return false;
  try {
    parseHeader(block);
    return true;
  } catch {
    return false;
  }
}

/** Extended attributes carried in a member's effective pax records (star, libarchive and Red Hat spellings). */
export function paxXattrs(pax: Map<string, Uint8Array>): Map<string, Uint8Array> {
  const xattrs = new Map<string, Uint8Array>();
  for (const [k, v] of pax) {
    if (k.startsWith('SCHILY.xattr.')) xattrs.set(k.slice('SCHILY.xattr.'.length), v);
    else if (k.startsWith('LIBARCHIVE.xattr.')) {
      const value = Buffer.from(latin1.decode(v), 'base64');
      xattrs.set(decodeXattrName(k.slice('LIBARCHIVE.xattr.'.length)), new Uint8Array(value));
    } else if (k === 'RHT.security.selinux') xattrs.set('security.selinux', v);
  }
  return xattrs;
}
