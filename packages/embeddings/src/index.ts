/** Turns sentences into unit-length vectors; cosine similarity is then a dot product. */
export interface SentenceEmbedder {
  /** Model identity, recorded with what the vectors decided (e.g. `all-MiniLM-L6-v2/onnx-int8`). */
  readonly id: string;
  readonly dimensions: number;
  embed(texts: string[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/**
 * Where an embedder's CPU went since it was loaded (or since resetProfile()): tokenisation and the
 * encoder proper (MiniLM: tensors, the ONNX run, pooling; static: row sums), in CPU milliseconds of
 * the whole process (process.cpuUsage), with the texts and tokens it saw. `paddedTokens` is what
 * MiniLM's batches computed on, padding included. The embedders of this package have it; the
 * SentenceEmbedder interface does not require it.
 */
export interface EmbedderProfile {
  calls: number;
  texts: number;
  tokens: number;
  paddedTokens: number;
  tokenizeCpuMs: number;
  encodeCpuMs: number;
}

export interface ProfiledEmbedder extends SentenceEmbedder {
  profile(): EmbedderProfile;
  resetProfile(): void;
}

export { type CacheStats, withEmbeddingCache } from './cache.js';
export { cosine } from './cosine.js';
export { type EmbedderOptions, ENCODER_CHOICES, type EncoderChoice, loadEmbedder } from './loader.js';
export { defaultModelDir, defaultStaticModelDir } from './model-dir.js';
export { type LoadOptions, loadSentenceEmbedder, MODEL_ID } from './onnx-embedder.js';
export { loadStaticEmbedder, STATIC_MODEL_ID, type StaticLoadOptions } from './static-embedder.js';
