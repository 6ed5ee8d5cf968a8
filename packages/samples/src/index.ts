// The samples package's library surface (its pure core); main.ts starts the service.

export * from './build.js';
export * from './dataset.js';
export * from './dedupe.js';
export * from './exports.js';
export * from './facts.js';
export * from './gates.js';
export * from './mix.js';
export * from './near-duplicates.js';
export * from './records.js';
export * from './report.js';
export * from './split.js';
export * from './spot-check.js';
export * from './tokenizer.js';
export * from './trajectories.js';
export * from './validate.js';
