/** Image archives (docker save/load): the documents, their parsing, the load plan, the spooled archive. */
export * from './archive-documents.js';
export * from './archive-parse.js';
export * from './load-plan.js';
export * from './spooled-archive.js';
