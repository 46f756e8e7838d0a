export * from './byte-source.js';
export * from './raw.js';
export { VirtualDiskError } from './virtual-disk-common.js';
export * from './qcow2.js';
export * from './vmdk.js';
export * from './vhd.js';
export * from './vhdx.js';
