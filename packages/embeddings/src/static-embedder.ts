// The static encoder that scripts/derive-static.mjs distils from all-MiniLM-L6-v2: one row per
// WordPiece token; a text's vector is the mean of its tokens' rows, normalised. No transformer runs: a sentence costs its tokenisation and a few
// thousand additions: ~80x less CPU per sentence than MiniLM, 40-46x less per segmented real
// conversation (bench/segmentation-speed.mjs).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import type { ProfiledEmbedder } from './index.js';
import { defaultStaticModelDir } from './model-dir.js';
import { type ModelFolder, readJsonFile, requireFiles, unitLength, verifyManifest } from './model-folder.js';
import { profiledEmbedder } from './profile.js';

export const STATIC_MODEL_ID = 'all-MiniLM-L6-v2/static-v1';
const REQUIRED_FILES = ['config.json', 'vectors.i8', 'scales.f32', 'tokenizer.json', 'tokenizer_config.json'] as const;
const DERIVE_HINT = 'run `node packages/embeddings/scripts/fetch-model.mjs` to derive it again';

export interface StaticLoadOptions {
  /** The folder derive-static.mjs filled; default defaultStaticModelDir(). */
  modelDir?: string;
}

interface StaticConfig {
  id: string;
  dimensions: number;
  rows: number;
  empty: number[];
}

/** BERT's [PAD], [unusedN], [UNK], [CLS], [SEP], [MASK]: no row, never averaged. */
const isSpecial = (id: number): boolean => id <= 103 || (id >= 104 && id <= 998);

/**
 * The static embedder, or null when its folder does not exist. A folder that exists but is
 * incomplete or corrupt throws an error naming the file (as loadSentenceEmbedder does).
 */
export async function loadStaticEmbedder(options: StaticLoadOptions = {}): Promise<ProfiledEmbedder | null> {
  const dir = options.modelDir ?? defaultStaticModelDir();
  if (!existsSync(dir)) return null;
  const folder: ModelFolder = { dir, kind: 'static encoder folder', hint: DERIVE_HINT };
  requireFiles(folder, REQUIRED_FILES);
  // Every file read once, then checked against manifest.json where there is one.
  const bytes = new Map<string, Buffer>(REQUIRED_FILES.map((name) => [name, readFileSync(join(dir, name))]));
  verifyManifest(folder, (name) => bytes.get(name) ?? readFileSync(join(dir, name)));
  const parseJson = (name: string): object => readJsonFile(folder, name, bytes.get(name));
  const config = parseJson('config.json') as StaticConfig;
  const D = config.dimensions;
  if (config.id !== STATIC_MODEL_ID || !Number.isInteger(D) || D < 1 || !Number.isInteger(config.rows) || config.empty?.length !== D) {
    throw new Error(`${join(dir, 'config.json')}: not a ${STATIC_MODEL_ID} configuration; ${DERIVE_HINT}`);
  }
  const vectorsBytes = bytes.get('vectors.i8') as Buffer;
  const scalesBytes = bytes.get('scales.f32') as Buffer;
  if (vectorsBytes.length !== config.rows * D || scalesBytes.length !== config.rows * 4) {
    throw new Error(
      `${join(dir, 'vectors.i8')}: ${vectorsBytes.length} bytes for ${config.rows} rows of ${D} (truncated?); ${DERIVE_HINT}`,
    );
  }
  // Rows as float32 (scale applied once here): 47 MB, summed without conversions per token.
  const q8 = new Int8Array(vectorsBytes.buffer, vectorsBytes.byteOffset, vectorsBytes.length);
  const scales = new Float32Array(scalesBytes.buffer.slice(scalesBytes.byteOffset, scalesBytes.byteOffset + scalesBytes.length));
  const rows = new Float32Array(config.rows * D);
  for (let t = 0; t < config.rows; t++) {
    const s = scales[t] as number;
    if (s === 0) continue;
    for (let k = 0; k < D; k++) rows[t * D + k] = (q8[t * D + k] as number) * s;
  }
  const tokenizer = new Tokenizer(parseJson('tokenizer.json'), parseJson('tokenizer_config.json'));
  const empty = Float64Array.from(config.empty);
  const sum = new Float64Array(D);

  const rowSum = (ids: readonly number[]): Float32Array => {
    sum.fill(0);
    let n = 0;
    for (const id of ids) {
      if (isSpecial(id) || id >= config.rows) continue;
      const base = id * D;
      for (let k = 0; k < D; k++) sum[k] = (sum[k] as number) + (rows[base + k] as number);
      n++;
    }
    return unitLength(n > 0 ? sum : empty);
  };

  return profiledEmbedder({
    id: STATIC_MODEL_ID,
    dimensions: D,
    tokenize: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    // No padding: every token position is one row added.
    encode: async (encoded) => ({ vectors: encoded.map(rowSum), paddedTokens: encoded.reduce((n, ids) => n + ids.length, 0) }),
  });
}
