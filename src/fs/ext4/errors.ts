// Typed errors and named limits of the ext4 reader. Every count, length, offset, link and depth read from the image
// is hostile (STYLE.md habit 5): each guard below has a name, and each is exercised by a test in test/fs/ext4/.

export type Ext4ErrorCode =
  | 'EBADMAGIC' // a magic number is wrong (superblock, extent header, xattr header)
  | 'ECORRUPT' // a structure is internally inconsistent
  | 'ERANGE' // an inode or block number is outside the file system
  | 'ELOOP' // a structure points back into itself (extent tree)
  | 'ELIMIT' // a named limit was exceeded
  | 'EUNSUPPORTED' // a feature we do not read (compression, journal device, ...)
  | 'ETRUNCATED' // the image ends before a structure does
  | 'ENOTDIR'
  | 'EINVAL';

export class Ext4Error extends Error {
  constructor(
    readonly code: Ext4ErrorCode,
    readonly where: string,
    detail: string,
  ) {
    super(`ext4 ${where}: ${detail}`);
    this.name = 'Ext4Error';
  }
}

/** Extent tree depth (the kernel's own maximum is 5, see ext4_ext_check_inode / EXT4_MAX_EXTENT_DEPTH). */
export const MAX_EXTENT_DEPTH = 5;
/** Leaf extents collected for one file (a 16 TiB file of 128 MiB extents needs 131072). */
export const MAX_EXTENTS_PER_FILE = 1 << 20;
/** Bytes of one directory we read (a 1 M-entry directory is about 40 MiB). */
export const MAX_DIR_BYTES = 256 * 1024 * 1024;
/** Entries returned from one directory. */
export const MAX_DIR_ENTRIES = 2_000_000;
/** Linux's PATH_MAX; symlink targets longer than this are refused. */
export const MAX_SYMLINK_LENGTH = 4096;
/** Extended attributes in one inode (body + block); the kernel fits at most ~ blocksize/16 in a block. */
export const MAX_XATTR_COUNT = 4096;
/** Size of one xattr value we return (ea_inode values can be up to 64 KiB in the kernel, XATTR_SIZE_MAX). */
export const MAX_XATTR_VALUE_BYTES = 64 * 1024;
/** Block groups we accept (a 1 EiB fs with 4 KiB blocks has 2^33 groups; real images have far fewer). */
export const MAX_GROUPS = 1 << 24;
/** Deleted-inode candidates returned by one scan. */
export const MAX_DELETED_INODES = 1_000_000;
/** Unallocated ranges returned by one scan. */
export const MAX_UNALLOCATED_RANGES = 4_000_000;
/** Inode size in bytes (s_inode_size): the kernel accepts 128..blocksize, a power of two. */
export const MAX_INODE_SIZE = 65536;
/** Inline data (i_block + system.data) larger than this is refused (the value lives in one inode). */
export const MAX_INLINE_DATA = 65536;
