// The samples package's library surface (its pure core); main.ts starts the service.

export * from './core/build.js';
export * from './core/dataset.js';
export * from './core/dedupe.js';
export * from './core/exports.js';
export * from './core/facts.js';
export * from './core/gates.js';
export * from './core/mix.js';
export * from './core/records.js';
export * from './core/report.js';
export * from './core/split.js';
export * from './core/spot-check.js';
export * from './core/trajectories.js';
export * from './core/validate.js';
export * from './tokenizer.js';
