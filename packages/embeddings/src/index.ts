/** Turns sentences into unit-length vectors; cosine similarity is then a dot product. */
export interface SentenceEmbedder {
  /** Model identity, recorded with what the vectors decided (e.g. `all-MiniLM-L6-v2/onnx-int8`). */
  readonly id: string;
  readonly dimensions: number;
  embed(texts: string[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

export { cosine } from './cosine.js';
export { defaultModelDir } from './model-dir.js';
export { type LoadOptions, loadSentenceEmbedder, MODEL_ID } from './onnx-embedder.js';
