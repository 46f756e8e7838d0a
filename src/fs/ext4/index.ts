export * from './errors.js';
export * from './structs.js';
export * from './ext4.js';
export { Ext4Vfs, MAX_SYMLINK_HOPS, MAX_PATH_COMPONENTS } from './vfs.js';
