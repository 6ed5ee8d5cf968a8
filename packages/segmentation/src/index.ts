// The segmentation package's library surface (pure core modules). main.ts, which starts the
// service, is deliberately not exported.
export * from './gold.js';
export * from './markers.js';
export * from './metrics.js';
export * from './path.js';
export * from './refinements.js';
export * from './segment.js';
export * from './stopwords.js';
export * from './texttiling.js';
export * from './topics.js';
export * from './units.js';
