export * from './bytes.js';
export * from './cpuset.js';
export * from './parse-limits.js';
export * from './check-limits.js';
