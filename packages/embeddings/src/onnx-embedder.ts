// all-MiniLM-L6-v2 on onnxruntime (CPU), tokenised by @huggingface/tokenizers (pure JS, reads the
// model's own tokenizer.json). Reproduces what sentence-transformers does for this model:
// WordPiece with [CLS] … [SEP], at most 256 tokens, mean pooling over the attention mask, then L2
// normalisation. Nothing is downloaded: the folder comes from scripts/fetch-model.mjs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import type { ProfiledEmbedder } from './index.js';
import { defaultModelDir } from './model-dir.js';
import { type ModelFolder, readJsonFile, requireFiles, unitLength, verifyManifest } from './model-folder.js';
import { profiledEmbedder } from './profile.js';

export const MODEL_ID = 'all-MiniLM-L6-v2/onnx-int8';
const DIMENSIONS = 384;
/**
 * sentence-transformers' max_seq_length for this model (sentence_bert_config.json). Note that
 * tokenizer.json itself says truncate *and pad* to 128; the JS tokenizer ignores both, and we
 * truncate here, as sentence-transformers does (its 256 overrides the tokenizer's 128).
 */
const DEFAULT_MAX_TOKENS = 256;
/** Texts per onnxruntime run; each batch is padded to its own longest text. */
const BATCH_SIZE = 32;
const REQUIRED_FILES = ['model.onnx', 'tokenizer.json', 'tokenizer_config.json'] as const;
const FETCH_HINT = 'run `node packages/embeddings/scripts/fetch-model.mjs` to fetch it again';

export interface LoadOptions {
  /** The folder fetch-model.mjs filled; default defaultModelDir(). */
  modelDir?: string;
  /**
   * onnxruntime's intra- and inter-op threads. Default 1: segmentation scales by running more
   * worker processes, one core each, and ORT's default (all cores per session) would make
   * those processes fight over the same cores.
   */
  threads?: number;
}

/**
 * The embedder, or null when the model folder does not exist (the caller then segments on
 * lexical features alone). A folder that exists but is incomplete or corrupt throws an error
 * that names the file, since silently degrading there would hide a broken deployment.
 */
export async function loadSentenceEmbedder(options: LoadOptions = {}): Promise<ProfiledEmbedder | null> {
  const dir = options.modelDir ?? defaultModelDir();
  if (!existsSync(dir)) return null;
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer (got ${threads})`);

  const folder: ModelFolder = { dir, kind: 'embedding model folder', hint: FETCH_HINT };
  requireFiles(folder, REQUIRED_FILES);
  // About 60 ms for the 23 MB model, once per process.
  verifyManifest(folder);

  const tokenizer = new Tokenizer(readJsonFile(folder, 'tokenizer.json'), readJsonFile(folder, 'tokenizer_config.json'));
  const sepId = tokenizer.token_to_id('[SEP]');
  if (sepId === undefined) throw new Error(`${join(dir, 'tokenizer.json')}: no [SEP] token (not a BERT WordPiece tokenizer?)`);
  const maxTokens = readMaxTokens(folder);

  const modelPath = join(dir, 'model.onnx');
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: threads,
      interOpNumThreads: threads,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new Error(`${modelPath}: onnxruntime cannot load it (${errorMessage(err)}); ${FETCH_HINT}`);
  }
  for (const input of ['input_ids', 'attention_mask']) {
    if (!session.inputNames.includes(input))
      throw new Error(`${modelPath}: model has no input '${input}' (inputs: ${session.inputNames.join(', ')})`);
  }
  // The export takes token_type_ids too; all zeros for single sentences, but stay correct for an
  // export that drops it.
  const wantsTokenTypes = session.inputNames.includes('token_type_ids');
  const output = session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : session.outputNames[0];
  if (output === undefined) throw new Error(`${modelPath}: model has no outputs`);

  /** Token ids, [CLS] … [SEP], cut like HF truncation: keep the first maxTokens - 1, end with [SEP]. */
  const tokenize = (text: string): number[] => {
    const ids = tokenizer.encode(text).ids;
    return ids.length <= maxTokens ? ids : [...ids.slice(0, maxTokens - 1), sepId];
  };

  const runBatch = async (batch: number[][]): Promise<Float32Array[]> => {
    const rows = batch.length;
    const width = Math.max(...batch.map((ids) => ids.length));
    const inputIds = new BigInt64Array(rows * width); // zeros = [PAD]
    const mask = new BigInt64Array(rows * width);
    batch.forEach((ids, r) => {
      ids.forEach((id, t) => {
        inputIds[r * width + t] = BigInt(id);
        mask[r * width + t] = 1n;
      });
    });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', inputIds, [rows, width]),
      attention_mask: new ort.Tensor('int64', mask, [rows, width]),
    };
    if (wantsTokenTypes) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(rows * width), [rows, width]);
    const result = await session.run(feeds);
    const hidden = result[output];
    if (hidden?.dims.length !== 3 || hidden.dims[2] !== DIMENSIONS) {
      throw new Error(`${modelPath}: expected ${output} of shape [batch, tokens, ${DIMENSIONS}], got [${hidden?.dims.join(', ')}]`);
    }
    const data = hidden.data as Float32Array;
    const vectors = batch.map((ids, r) => meanPoolNormalised(data, r, width, ids.length));
    for (const tensor of Object.values(result)) tensor.dispose();
    return vectors;
  };

  return profiledEmbedder({
    id: MODEL_ID,
    dimensions: DIMENSIONS,
    tokenize,
    async encode(encoded) {
      let padded = 0;
      // Batch texts of similar length together so little compute goes to padding; results
      // go back in the caller's order.
      const order = encoded.map((_, i) => i).sort((a, b) => (encoded[a]?.length ?? 0) - (encoded[b]?.length ?? 0));
      const out = new Array<Float32Array>(encoded.length);
      for (let start = 0; start < order.length; start += BATCH_SIZE) {
        const slice = order.slice(start, start + BATCH_SIZE);
        padded += slice.length * Math.max(...slice.map((i) => encoded[i]?.length ?? 0));
        const vectors = await runBatch(slice.map((i) => encoded[i] ?? []));
        slice.forEach((i, k) => {
          out[i] = vectors[k] as Float32Array;
        });
      }
      return { vectors: out, paddedTokens: padded };
    },
    release: () => session.release(),
  });
}

/**
 * Mean of the first `length` token vectors of row `row` (the unmasked ones: padding is always at
 * the end), scaled to unit length. Sums in float64 for stability.
 */
function meanPoolNormalised(data: Float32Array, row: number, width: number, length: number): Float32Array {
  const sum = new Float64Array(DIMENSIONS);
  for (let t = 0; t < length; t++) {
    const base = (row * width + t) * DIMENSIONS;
    for (let d = 0; d < DIMENSIONS; d++) sum[d] = (sum[d] as number) + (data[base + d] as number);
  }
  return unitLength(sum);
}

function readMaxTokens(folder: ModelFolder): number {
  if (!existsSync(join(folder.dir, 'sentence_bert_config.json'))) return DEFAULT_MAX_TOKENS;
  const value = (readJsonFile(folder, 'sentence_bert_config.json') as { max_seq_length?: unknown }).max_seq_length;
  return typeof value === 'number' && Number.isInteger(value) && value >= 2 ? value : DEFAULT_MAX_TOKENS;
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
