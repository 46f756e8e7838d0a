export * from './errors.js';
export * from './structures.js';
export * from './segments.js';
export * from './ewf-source.js';
export { InflatePool, POOL_TIMEOUT_MS, MAX_POOL_WORKERS } from './inflate-pool.js';
