// The samples package's library surface: its pure core, and from io/ the parts that read and write
// files (a version's folder, the exports, a JSONL file to validate, a tokenizer.json).

export * from './build.js';
export * from './dataset.js';
export * from './dedupe.js';
export * from './exports.js';
export * from './facts.js';
export * from './gates.js';
export * from './io/dataset.js';
export * from './io/exports.js';
export * from './io/tokenizer.js';
export * from './io/validate-file.js';
export * from './manifest.js';
export * from './mix.js';
export * from './near-duplicates.js';
export * from './records.js';
export * from './report.js';
export * from './service-settings.js';
export * from './split.js';
export * from './spot-check.js';
export * from './tokenizer.js';
export * from './trajectories.js';
export * from './validate.js';
