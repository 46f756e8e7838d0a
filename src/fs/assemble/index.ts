export * from './fstab.js';
export * from './mounted-vfs.js';
export * from './assemble.js';
