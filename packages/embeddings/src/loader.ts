import type { ProfiledEmbedder } from './index.js';
import { loadSentenceEmbedder } from './onnx-embedder.js';
import { loadStaticEmbedder } from './static-embedder.js';

/**
 * Which encoder: `static` (the static encoder derived from MiniLM; fast), `minilm` (the
 * transformer itself), or `auto`: static where its folder exists, else MiniLM.
 */
export type EncoderChoice = 'auto' | 'static' | 'minilm';
export const ENCODER_CHOICES: readonly EncoderChoice[] = ['auto', 'static', 'minilm'];

export interface EmbedderOptions {
  encoder?: EncoderChoice;
  /** MiniLM's folder (default defaultModelDir()). */
  modelDir?: string;
  /** The static encoder's folder (default defaultStaticModelDir(), beside MiniLM's default). */
  staticModelDir?: string;
  /** onnxruntime threads for MiniLM (default 1). */
  threads?: number;
}

/**
 * The embedder the services use by default: CPU only, the static encoder where it was derived
 * (`auto`), else MiniLM, else null (no model at all: segmentation falls back to lexical cues).
 * An explicit `static` or `minilm` returns that one or null.
 */
export async function loadEmbedder(options: EmbedderOptions = {}): Promise<ProfiledEmbedder | null> {
  const encoder = options.encoder ?? 'auto';
  if (!ENCODER_CHOICES.includes(encoder)) throw new RangeError(`encoder must be one of ${ENCODER_CHOICES.join(', ')} (got ${encoder})`);
  if (encoder !== 'minilm') {
    const found = await loadStaticEmbedder(options.staticModelDir ? { modelDir: options.staticModelDir } : {});
    if (found || encoder === 'static') return found;
  }
  return loadSentenceEmbedder({
    ...(options.modelDir ? { modelDir: options.modelDir } : {}),
    ...(options.threads ? { threads: options.threads } : {}),
  });
}
