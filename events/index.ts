export * from './catalogue.js';
export * from './envelope.js';
export * from './validators.js';
export * from './upcasters.js';
