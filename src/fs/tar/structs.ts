// The tar header block, declared once with the upstream field names, offsets and sizes.
// References: POSIX.1-2017 pax(1) "ustar Interchange Format" and "pax Interchange Format"; GNU tar 1.34 manual,
// "Basic Tar Format" (src/tar.h: struct posix_header, struct oldgnu_header, struct sparse); star(1) / libarchive
// tar(5) for the SCHILY.* and LIBARCHIVE.* pax keywords.

export const BLOCK_SIZE = 512;

/** One field of the 512-byte header: offset and length in bytes. */
export interface Field {
  offset: number;
  length: number;
}

/** struct posix_header (ustar, POSIX.1-1988 and pax). */
export const POSIX_HEADER = {
  name: { offset: 0, length: 100 },
  mode: { offset: 100, length: 8 },
  uid: { offset: 108, length: 8 },
  gid: { offset: 116, length: 8 },
  size: { offset: 124, length: 12 },
  mtime: { offset: 136, length: 12 },
  chksum: { offset: 148, length: 8 },
  typeflag: { offset: 156, length: 1 },
  linkname: { offset: 157, length: 100 },
  magic: { offset: 257, length: 6 },
  version: { offset: 263, length: 2 },
  uname: { offset: 265, length: 32 },
  gname: { offset: 297, length: 32 },
  devmajor: { offset: 329, length: 8 },
  devminor: { offset: 337, length: 8 },
  prefix: { offset: 345, length: 155 },
} as const satisfies Record<string, Field>;

/** struct oldgnu_header: GNU format reuses the ustar prefix area (magic "ustar  \0"). */
export const OLDGNU_HEADER = {
  atime: { offset: 345, length: 12 },
  ctime: { offset: 357, length: 12 },
  offset: { offset: 369, length: 12 },
  longnames: { offset: 381, length: 4 },
  /** Four struct sparse {offset[12], numbytes[12]}. */
  sp: { offset: 386, length: 96 },
  isextended: { offset: 482, length: 1 },
  realsize: { offset: 483, length: 12 },
} as const satisfies Record<string, Field>;

/** struct sparse inside headers: offset[12] then numbytes[12]. */
export const SPARSE_ENTRY_SIZE = 24;
/** Sparse entries in the old GNU header. */
export const OLDGNU_SPARSES_IN_HEADER = 4;
/** struct sparse_header (extension block): 21 entries then isextended at offset 504. */
export const SPARSES_IN_EXTENSION = 21;
export const SPARSE_EXT_ISEXTENDED = 504;

/** "ustar\0" + version "00": POSIX ustar and pax. */
export const TMAGIC = 'ustar\u0000';
export const TVERSION = '00';
/** "ustar  \0": GNU (and old GNU) format, magic + version fields together. */
export const OLDGNU_MAGIC = 'ustar  \u0000';

/** Typeflag values (tar.h). */
export const TYPEFLAG = {
  REGTYPE: '0',
  AREGTYPE: '\u0000',
  LNKTYPE: '1',
  SYMTYPE: '2',
  CHRTYPE: '3',
  BLKTYPE: '4',
  DIRTYPE: '5',
  FIFOTYPE: '6',
  CONTTYPE: '7',
  /** pax extended header for the next member. */
  XHDTYPE: 'x',
  /** pax global extended header. */
  XGLTYPE: 'g',
  /** GNU: the next member's long link name. */
  GNUTYPE_LONGLINK: 'K',
  /** GNU: the next member's long name. */
  GNUTYPE_LONGNAME: 'L',
  /** GNU: old-style sparse file. */
  GNUTYPE_SPARSE: 'S',
  /** GNU: directory listing of an incremental dump (a directory). */
  GNUTYPE_DUMPDIR: 'D',
  /** GNU: continuation of a file from the previous volume. */
  GNUTYPE_MULTIVOL: 'M',
  /** GNU: volume label. */
  GNUTYPE_VOLHDR: 'V',
  /** Solaris: extended header (old pax draft). */
  SOLARIS_XHDTYPE: 'X',
} as const;

/** File-type bits of st_mode (tar's mode field holds only the permission bits). */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;
