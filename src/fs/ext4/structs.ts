// On-disk structures of ext2/ext3/ext4, declared once with the upstream field names, byte offsets and endianness
// (all little-endian). Parsers take a Uint8Array and an offset and never read the image themselves (STYLE.md 3, 4).
//
// References:
//   torvalds/linux Documentation/filesystems/ext4/super.rst   (struct ext4_super_block)
//   torvalds/linux Documentation/filesystems/ext4/group_descr.rst (struct ext4_group_desc)
//   torvalds/linux Documentation/filesystems/ext4/inodes.rst  (struct ext4_inode, timestamps, i_block)
//   torvalds/linux Documentation/filesystems/ext4/ifork.rst   (extent tree), directory.rst (dirents, htree, inline),
//   attributes.rst (extended attributes), fs/ext4/ext4.h, fs/ext4/ext4_extents.h, fs/ext4/xattr.h (Linux 6.x).
//
// One module per structure (structs-superblock, -inode, -extent, -dirent, -xattr), so each parser and its checks
// can be read and tested on their own; this module re-exports them all, so callers import every structure from
// one place.
export * from './structs-superblock.js';
export * from './structs-inode.js';
export * from './structs-extent.js';
export * from './structs-dirent.js';
export * from './structs-xattr.js';
