export * from './scanner.js';
export * from './records.js';
export * from './carve.js';
export * from './evidence.js';
