// The segmentation package's library surface (pure core modules). main.ts, which starts the
// service, is deliberately not exported.
export * from './core/gold.js';
export * from './core/markers.js';
export * from './core/metrics.js';
export * from './core/path.js';
export * from './core/refinements.js';
export * from './core/segment.js';
export * from './core/stopwords.js';
export * from './core/texttiling.js';
export * from './core/topics.js';
export * from './core/units.js';
