// The static encoder that scripts/derive-static.mjs distils from all-MiniLM-L6-v2: one row per
// WordPiece token; a text's vector is the mean of its tokens' rows, normalised. No transformer runs: a sentence costs its tokenisation and a few
// thousand additions: ~80x less CPU per sentence than MiniLM, 40-46x less per segmented real
// conversation (bench/segmentation-speed.mjs).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import type { ProfiledEmbedder } from './index.js';
import { defaultStaticModelDir } from './model-dir.js';
import { Profiler } from './profile.js';

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
  for (const name of REQUIRED_FILES) {
    if (!existsSync(join(dir, name)))
      throw new Error(`static encoder folder ${dir} is incomplete: ${join(dir, name)} is missing; ${DERIVE_HINT}`);
  }
  const bytes = verifiedFiles(dir);
  const config = parseJson(bytes, dir, 'config.json') as StaticConfig;
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
  const tokenizer = new Tokenizer(parseJson(bytes, dir, 'tokenizer.json'), parseJson(bytes, dir, 'tokenizer_config.json'));
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
    const source = n > 0 ? sum : empty;
    let norm = 0;
    for (let k = 0; k < D; k++) norm += (source[k] as number) ** 2;
    const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
    const vector = new Float32Array(D);
    for (let k = 0; k < D; k++) vector[k] = (source[k] as number) * scale;
    return vector;
  };

  let closed = false;
  const profiler = new Profiler();
  return {
    id: STATIC_MODEL_ID,
    dimensions: D,
    async embed(texts: string[]): Promise<Float32Array[]> {
      if (closed) throw new Error('SentenceEmbedder.embed called after close()');
      const started = profiler.start();
      const encoded = texts.map((text) => tokenizer.encode(text, { add_special_tokens: false }).ids);
      const tokens = encoded.reduce((n, ids) => n + ids.length, 0);
      const tokenized = profiler.tokenized(started, texts.length, tokens);
      const vectors = encoded.map(rowSum);
      profiler.encoded(tokenized, tokens);
      return vectors;
    },
    async close(): Promise<void> {
      closed = true;
    },
    profile: () => profiler.get(),
    resetProfile: () => profiler.reset(),
  };
}

/** Every file read once; when manifest.json is there, each file it lists must match its size and sha256. */
function verifiedFiles(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of REQUIRED_FILES) files.set(name, readFileSync(join(dir, name)));
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return files;
  const manifest = parseJson(new Map([['manifest.json', readFileSync(manifestPath)]]), dir, 'manifest.json') as {
    files?: Record<string, { sha256?: string; bytes?: number }>;
  };
  for (const [name, expected] of Object.entries(manifest.files ?? {})) {
    const path = join(dir, name);
    if (!existsSync(path)) throw new Error(`static encoder folder ${dir} is incomplete: ${path} is missing; ${DERIVE_HINT}`);
    const bytes = files.get(name) ?? readFileSync(path);
    if (expected.bytes !== undefined && bytes.length !== expected.bytes) {
      throw new Error(`${path}: ${bytes.length} bytes, manifest.json says ${expected.bytes} (truncated?); ${DERIVE_HINT}`);
    }
    const hash = createHash('sha256').update(bytes).digest('hex');
    if (expected.sha256 !== undefined && hash !== expected.sha256) {
      throw new Error(`${path}: sha256 ${hash} does not match manifest.json (${expected.sha256}); ${DERIVE_HINT}`);
    }
  }
  return files;
}

function parseJson(files: Map<string, Buffer>, dir: string, name: string): object {
  try {
    return JSON.parse((files.get(name) as Buffer).toString('utf8')) as object;
  } catch (err) {
    throw new Error(`${join(dir, name)}: not readable JSON (${err instanceof Error ? err.message : String(err)}); ${DERIVE_HINT}`);
  }
}
