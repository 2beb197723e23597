export * from './event-log.js';
export * from './file-event-log.js';
export * from './memory-event-log.js';
export * from './snapshot-store.js';
export * from './rebuild.js';
export { LogCorruptionError } from './log-corruption-error.js';
export { LogLockedError } from './log-lock.js';
