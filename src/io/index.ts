export * from './byte-source.js';
export * from './raw.js';
