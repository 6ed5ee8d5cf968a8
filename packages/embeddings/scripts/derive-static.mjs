#!/usr/bin/env node
// Derives a static sentence encoder from the all-MiniLM-L6-v2 folder that fetch-model.mjs filled:
// one 384-d vector per WordPiece token, so that a sentence's vector is the mean of its tokens'
// rows (model2vec-style: no transformer at run time, ~80x less CPU per sentence embedded).
//
//   node packages/embeddings/scripts/derive-static.mjs [MINILM_DIR [OUT_DIR]]
//
// fetch-model.mjs runs it after the fetch (devstack's setup calls fetch-model.mjs); nothing is
// downloaded: the inputs are the fetched model and text files of this repository pinned by sha256
// in static-corpus.json. The recipe (v1), all of it deterministic (fixed order, seeded shuffles,
// float64 arithmetic, onnxruntime on one thread):
//   1. distil: every vocabulary token t (not [PAD]/[unusedN]/[UNK]/[CLS]/[SEP]/[MASK]) goes through
//      MiniLM as `[CLS] t [SEP]`; its row is the output at t's position (model2vec takes the mean
//      of the three; the middle one agreed better with MiniLM on real conversations);
//   2. centre the rows on their mean and weight them as model2vec does (SIF on the Zipf rank:
//      w = 1e-4 / (1e-4 + p(rank)), p ∝ 1 / (rank + 2));
//   3. map linearly (ridge, with bias) from the mean of a sentence's rows to MiniLM's own vector of
//      that sentence, on the corpus: PersonaChat dialogue (TIAGE train + dev, and the unlabelled
//      dialogues) and the real ChatGPT export without the conversations any gold set or benchmark
//      holds; the map is folded into the rows;
//   4. fine-tune the rows of the tokens the corpus has so that the mean of a sentence's rows
//      points where MiniLM's vector does (cosine loss, Adagrad, L2 to step 3's rows; every tenth
//      document held out to report the fit; 2 epochs, where the held-out loss bottoms out), as
//      tokenlearn does for model2vec's potion models;
//   5. store the rows as int8 with one float32 scale per row (vectors.i8, scales.f32), the
//      tokenizer files, config.json and manifest.json (sha256 of every file).
// The runtime (src/static-embedder.ts) tokenises with the same tokenizer.json, drops special
// tokens, averages the rows and normalises.
//
// Reproducibility: the same inputs give the same bytes on the same kind of CPU. onnxruntime's int8
// kernels differ between CPU generations in the last bits, so another machine may produce other
// bytes; REFERENCE.sha256 below is the hash on the reference machine, and a derivation that does
// not match it must still pass the probes (sentence-pair cosines within PROBE_TOLERANCE of the
// reference figures) or it fails.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..', '..', '..');

export const STATIC_MODEL_ID = 'all-MiniLM-L6-v2/static-v1';
export const STATIC_DIR_NAME = 'all-MiniLM-L6-v2-static';
const D = 384;
const SPECIAL = (id) => id === 0 || (id >= 1 && id <= 99) || (id >= 100 && id <= 103) || (id >= 104 && id <= 998);
const RECIPE = {
  position: 'middle',
  sif: 1e-4,
  ridge: 0.01,
  epochs: 2,
  learningRate: 0.05,
  l2: 3e-4,
  holdoutEvery: 10,
  seed: 1,
  batch: 256,
  maxTokens: 256,
};
/** The reference derivation: x86-64 (AMD EPYC, AVX-512 VNNI), Node 20, onnxruntime-node 1.30. */
const REFERENCE = {
  sha256: {
    'vectors.i8': 'd3bb3ade06a6e6bb399ed1eabfe58409f5ed2346e404d69fa79844dc8cbce428',
    'scales.f32': 'd9e7bef0b64fda77ba5616035ce27d7eb8a842b3116e50d9ec502fd996eba4b5',
    'config.json': '6ad334f9cfec2d5ce9101e0de234405b83a69ef78c3510fe9af3bf73d4cb534a',
  },
};
/** Sentence pairs whose cosines a derivation must reproduce within PROBE_TOLERANCE. */
const PROBES = [
  ['How do I bake sourdough bread?', "What's a good recipe for sourdough?", 0.775],
  ['How do I bake sourdough bread?', 'The stock market fell today', -0.019],
  ['My Django app cannot connect to the second database.', 'The multi-db router in settings.py is wrong.', 0.326],
  ['That did not work, I still get the same error.', 'Thanks, that works now!', 0.267],
  ['Actually, I meant the Python version, not JavaScript.', 'Sorry, here is the code in Python.', 0.52],
  ['Ich habe übrigens eine neue Frage zum Urlaub.', 'Wir fahren im Sommer nach Italien.', 0.342],
  ['Kun je dit korter maken?', 'Kun je de tekst inkorten?', 0.67],
  ['i love hiking with my dogs on weekends .', 'do you have any pets ?', 0.404],
];
const PROBE_TOLERANCE = 0.02;

export function defaultStaticDir(minilmDir) {
  if (process.env.TRAJECTORY_STATIC_EMBEDDING_MODEL_DIR) return resolve(process.env.TRAJECTORY_STATIC_EMBEDDING_MODEL_DIR);
  return join(dirname(minilmDir), STATIC_DIR_NAME);
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const FILES = ['vectors.i8', 'scales.f32', 'config.json', 'tokenizer.json', 'tokenizer_config.json'];

/** True when `dir` holds a derivation of the MiniLM folder's current files, every file matching manifest.json. */
export function staticComplete(dir, minilmDir) {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return false;
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (manifest.id !== STATIC_MODEL_ID) return false;
    if (manifest.source?.modelSha256 !== sha256(readFileSync(join(minilmDir, 'model.onnx')))) return false;
    return FILES.every((name) => existsSync(join(dir, name)) && sha256(readFileSync(join(dir, name))) === manifest.files?.[name]?.sha256);
  } catch {
    return false;
  }
}

// ---------- corpus ----------
const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
const FENCE = /```[\s\S]*?(?:```|$)/g;
/** Prose sentences of a text, code blocks left out (as segmentation's units, without positions). */
function sentencesOf(text) {
  const out = [];
  for (const block of text.replace(FENCE, '\n\n').split(/\n[ \t]*\n/)) {
    for (const { segment } of sentenceSegmenter.segment(block)) {
      const s = segment.trim();
      if (s) out.push(s);
    }
  }
  return out;
}

/** Documents (lists of sentences, in order, with the `format` of their file) from the pinned corpus files. */
export function readCorpus(root = REPO_ROOT) {
  const spec = JSON.parse(readFileSync(join(HERE, 'static-corpus.json'), 'utf8'));
  const excluded = new Set(spec.excludeConversations.ids);
  const documents = [];
  for (const file of spec.files) {
    const path = join(root, file.path);
    if (!existsSync(path)) throw new Error(`static encoder corpus: ${path} is missing`);
    const bytes = readFileSync(path);
    const got = sha256(bytes);
    if (got !== file.sha256)
      throw new Error(`static encoder corpus: ${file.path} has sha256 ${got}, static-corpus.json pins ${file.sha256} (the file changed)`);
    const text = bytes.toString('utf8');
    if (file.format === 'tiage-tsv') {
      for (const line of text.split('\n')) {
        const fields = line
          .split('\t')
          .slice(1)
          .map((s) => s.trim())
          .filter(Boolean);
        if (fields.length > 0) documents.push(Object.assign(fields, { format: file.format }));
      }
    } else if (file.format === 'tiage-json') {
      for (const turns of Object.values(JSON.parse(text))) {
        documents.push(Object.assign(turns.map((t) => String(t[0]).trim()).filter(Boolean), { format: file.format }));
      }
    } else if (file.format === 'chatgpt-export') {
      for (const conversation of JSON.parse(text)) {
        if (excluded.has(conversation.id ?? conversation.conversation_id)) continue;
        const sentences = [];
        for (const node of Object.values(conversation.mapping ?? {})) {
          const message = node?.message;
          const role = message?.author?.role;
          if (role !== 'user' && role !== 'assistant') continue;
          for (const part of message.content?.parts ?? []) if (typeof part === 'string') sentences.push(...sentencesOf(part));
        }
        if (sentences.length > 0) documents.push(Object.assign(sentences, { format: file.format }));
      }
    } else {
      throw new Error(`static encoder corpus: unknown format ${file.format}`);
    }
  }
  return documents;
}

// ---------- numerics ----------
function choleskySolve(A, B, n, m) {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new Error('ridge system is not positive definite');
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j];
    }
  }
  const X = new Float64Array(n * m);
  const y = new Float64Array(n);
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) {
      let s = B[i * m + c];
      for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k];
      y[i] = s / L[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < n; k++) s -= L[k * n + i] * X[k * m + c];
      X[i * m + c] = s / L[i * n + i];
    }
  }
  return X;
}

function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Mean of the rows of `ids` (dims d) into `out`; returns out (zeros for no ids). */
function meanRows(M, ids, d, out) {
  out.fill(0);
  for (const t of ids) {
    const base = t * d;
    for (let k = 0; k < d; k++) out[k] += M[base + k];
  }
  if (ids.length > 0) for (let k = 0; k < d; k++) out[k] /= ids.length;
  return out;
}

function cosine(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < a.length; k++) {
    dot += a[k] * b[k];
    na += a[k] * a[k];
    nb += b[k] * b[k];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

// ---------- derivation ----------
/**
 * Derives the static encoder from `minilmDir` into `outDir` (staged, then renamed into place).
 * Returns { dir, derived, seconds, matchesReference }.
 */
export async function deriveStatic(
  minilmDir,
  outDir = defaultStaticDir(minilmDir),
  log = console.log,
  { force = false, root = REPO_ROOT } = {},
) {
  if (!force && staticComplete(outDir, minilmDir)) {
    log(`static encoder: ${outDir} is complete`);
    return { dir: outDir, derived: false };
  }
  const started = Date.now();
  const [{ Tokenizer }, ort] = await Promise.all([import('@huggingface/tokenizers'), import('onnxruntime-node')]);
  const readJson = (name) => JSON.parse(readFileSync(join(minilmDir, name), 'utf8'));
  const tokenizer = new Tokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'));
  const V = tokenizer.get_vocab_size?.() ?? Object.keys(readJson('tokenizer.json').model.vocab).length;
  const session = await ort.InferenceSession.create(join(minilmDir, 'model.onnx'), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const run = async (rows, width, fill) => {
    const ids = new BigInt64Array(rows * width);
    const mask = new BigInt64Array(rows * width);
    fill(ids, mask);
    const result = await session.run({
      input_ids: new ort.Tensor('int64', ids, [rows, width]),
      attention_mask: new ort.Tensor('int64', mask, [rows, width]),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(rows * width), [rows, width]),
    });
    const data = Float32Array.from(result.last_hidden_state.data);
    for (const t of Object.values(result)) t.dispose();
    return data;
  };

  // 1. distil
  const raw = new Float64Array(V * D);
  for (let start = 0; start < V; start += RECIPE.batch) {
    const n = Math.min(RECIPE.batch, V - start);
    const out = await run(n, 3, (ids, mask) => {
      for (let r = 0; r < n; r++) {
        ids[r * 3] = 101n;
        ids[r * 3 + 1] = BigInt(start + r);
        ids[r * 3 + 2] = 102n;
        mask.fill(1n, r * 3, r * 3 + 3);
      }
    });
    for (let r = 0; r < n; r++) for (let k = 0; k < D; k++) raw[(start + r) * D + k] = out[(r * 3 + 1) * D + k];
  }
  const emptyOut = await run(1, 2, (ids, mask) => {
    ids[0] = 101n;
    ids[1] = 102n;
    mask.fill(1n);
  });
  log(`static encoder: distilled ${V} tokens in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // 2. centre and weight
  const usable = [];
  for (let t = 0; t < V; t++) if (!SPECIAL(t)) usable.push(t);
  const mu = new Float64Array(D);
  for (const t of usable) for (let k = 0; k < D; k++) mu[k] += raw[t * D + k];
  for (let k = 0; k < D; k++) mu[k] /= usable.length;
  let harmonic = 0;
  for (let r = 0; r < V; r++) harmonic += 1 / (r + 2);
  const X = new Float64Array(V * D);
  for (const t of usable) {
    const w = RECIPE.sif / (RECIPE.sif + 1 / (t + 2) / harmonic);
    for (let k = 0; k < D; k++) X[t * D + k] = (raw[t * D + k] - mu[k]) * w;
  }
  const xEmpty = new Float64Array(D);
  for (let k = 0; k < D; k++) xEmpty[k] = (emptyOut[k] + emptyOut[D + k]) / 2 - mu[k];

  // corpus: token ids and MiniLM's vectors (as the runtime embedder makes them)
  const documents = readCorpus(root);
  const sentences = [];
  const docOf = [];
  documents.forEach((doc, d) => {
    for (const s of doc) {
      sentences.push(s);
      docOf.push(d);
    }
  });
  const sepId = 102;
  const encoded = sentences.map((s) => {
    const ids = tokenizer.encode(s).ids;
    return ids.length <= RECIPE.maxTokens ? ids : [...ids.slice(0, RECIPE.maxTokens - 1), sepId];
  });
  const tokenIds = sentences.map((s) => tokenizer.encode(s, { add_special_tokens: false }).ids.filter((t) => !SPECIAL(t)));
  const Y = new Float64Array(sentences.length * D);
  const order = encoded.map((_, i) => i).sort((a, b) => encoded[a].length - encoded[b].length || a - b);
  for (let s = 0; s < order.length; s += 32) {
    const slice = order.slice(s, s + 32);
    const width = Math.max(...slice.map((i) => encoded[i].length));
    const out = await run(slice.length, width, (ids, mask) => {
      slice.forEach((i, r) => {
        encoded[i].forEach((id, t) => {
          ids[r * width + t] = BigInt(id);
          mask[r * width + t] = 1n;
        });
      });
    });
    slice.forEach((i, r) => {
      const len = encoded[i].length;
      const v = new Float64Array(D);
      for (let t = 0; t < len; t++) for (let k = 0; k < D; k++) v[k] += out[(r * width + t) * D + k];
      let norm = 0;
      for (let k = 0; k < D; k++) norm += v[k] * v[k];
      const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
      for (let k = 0; k < D; k++) Y[i * D + k] = v[k] * scale;
    });
  }
  await session.release();
  log(`static encoder: ${sentences.length} corpus sentences embedded with MiniLM at ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // 3. ridge map (with bias) from mean rows to MiniLM's vectors, folded into the rows
  const d1 = D + 1;
  const XtX = new Float64Array(d1 * d1);
  const XtY = new Float64Array(d1 * D);
  const m = new Float64Array(D);
  const x = new Float64Array(d1);
  for (let i = 0; i < sentences.length; i++) {
    if (tokenIds[i].length === 0) continue;
    meanRows(X, tokenIds[i], D, m);
    x.set(m);
    x[D] = 1;
    for (let p = 0; p < d1; p++) {
      const xp = x[p];
      if (xp === 0) continue;
      for (let q = p; q < d1; q++) XtX[p * d1 + q] += xp * x[q];
      for (let q = 0; q < D; q++) XtY[p * D + q] += xp * Y[i * D + q];
    }
  }
  for (let p = 0; p < d1; p++) for (let q = 0; q < p; q++) XtX[p * d1 + q] = XtX[q * d1 + p];
  let trace = 0;
  for (let p = 0; p < D; p++) trace += XtX[p * d1 + p];
  for (let p = 0; p < D; p++) XtX[p * d1 + p] += (RECIPE.ridge * trace) / D;
  const W = choleskySolve(XtX, XtY, d1, D);
  const apply = (row) => {
    const o = new Float64Array(D);
    for (let q = 0; q < D; q++) {
      let s = W[D * D + q];
      for (let p = 0; p < D; p++) s += row[p] * W[p * D + q];
      o[q] = s;
    }
    return o;
  };
  const M = new Float64Array(V * D);
  for (const t of usable) M.set(apply(X.subarray(t * D, (t + 1) * D)), t * D);
  const empty = apply(xEmpty);

  // 4. fine-tune
  const M0 = Float64Array.from(M);
  const G = new Float64Array(V * D);
  // Whole documents are held out (every tenth): the fit is reported on dialogue the rows were not
  // fitted to, and the number of epochs was chosen where that held-out loss is lowest.
  const heldOut = (i) => docOf[i] % RECIPE.holdoutEvery === 0;
  const holdout = [];
  const train = [];
  for (let i = 0; i < sentences.length; i++) {
    if (tokenIds[i].length === 0) continue;
    (heldOut(i) ? holdout : train).push(i);
  }
  const holdoutLoss = () => {
    let sum = 0;
    for (const i of holdout) sum += 1 - cosine(meanRows(M, tokenIds[i], D, m), Y.subarray(i * D, (i + 1) * D));
    return sum / holdout.length;
  };
  const fit = { holdoutSentences: holdout.length, holdout1MinusCos: [holdoutLoss()] };
  const random = lcg(RECIPE.seed);
  const grad = new Float64Array(D);
  for (let epoch = 0; epoch < RECIPE.epochs; epoch++) {
    for (let i = train.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [train[i], train[j]] = [train[j], train[i]];
    }
    for (const i of train) {
      const ids = tokenIds[i];
      meanRows(M, ids, D, m);
      let nn = 0;
      let dp = 0;
      for (let k = 0; k < D; k++) {
        nn += m[k] * m[k];
        dp += m[k] * Y[i * D + k];
      }
      const norm = Math.sqrt(nn) || 1;
      const c = dp / norm;
      for (let k = 0; k < D; k++) grad[k] = -(Y[i * D + k] / norm - (c * m[k]) / (norm * norm)) / ids.length;
      for (const t of ids) {
        const base = t * D;
        for (let k = 0; k < D; k++) {
          const idx = base + k;
          const g = grad[k] + RECIPE.l2 * (M[idx] - M0[idx]);
          G[idx] += g * g;
          M[idx] -= (RECIPE.learningRate * g) / (Math.sqrt(G[idx]) + 1e-8);
        }
      }
    }
    fit.holdout1MinusCos.push(holdoutLoss());
  }
  log(
    `static encoder: fitted (held-out 1 - cos ${fit.holdout1MinusCos[0].toFixed(4)} -> ${fit.holdout1MinusCos.at(-1).toFixed(4)}) at ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );

  // 5. int8 rows with a scale each.
  const q8 = new Int8Array(V * D);
  const scales = new Float32Array(V);
  for (const t of usable) {
    let max = 0;
    for (let k = 0; k < D; k++) max = Math.max(max, Math.abs(M[t * D + k]));
    const scale = Math.fround(max / 127);
    scales[t] = scale;
    if (scale > 0) for (let k = 0; k < D; k++) q8[t * D + k] = Math.round(M[t * D + k] / scale);
  }

  const config = {
    id: STATIC_MODEL_ID,
    dimensions: D,
    rows: V,
    empty: Array.from(empty, (v) => Number(v.toFixed(6))),
    recipe: RECIPE,
    corpus: { documents: documents.length, sentences: sentences.length },
    fit,
  };
  const staging = `${outDir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    writeFileSync(join(staging, 'vectors.i8'), new Uint8Array(q8.buffer));
    writeFileSync(join(staging, 'scales.f32'), new Uint8Array(scales.buffer));
    writeFileSync(join(staging, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    for (const name of ['tokenizer.json', 'tokenizer_config.json']) writeFileSync(join(staging, name), readFileSync(join(minilmDir, name)));
    const files = Object.fromEntries(
      FILES.map((name) => {
        const bytes = readFileSync(join(staging, name));
        return [name, { sha256: sha256(bytes), bytes: statSync(join(staging, name)).size }];
      }),
    );
    const probes = await probeCosines(staging);
    const matchesReference = Object.entries(REFERENCE.sha256).every(([name, hash]) => files[name]?.sha256 === hash);
    const probeErrors = PROBES.map(([s1, s2, expected], i) => ({ s1, s2, expected, got: probes[i] })).filter(
      (p) => Math.abs(p.got - p.expected) > PROBE_TOLERANCE,
    );
    if (!matchesReference && REFERENCE.sha256['vectors.i8'] && probeErrors.length > 0) {
      throw new Error(
        `derived vectors differ from the reference derivation beyond the tolerance: ${probeErrors
          .map((p) => `cos("${p.s1}", "${p.s2}") = ${p.got.toFixed(3)}, reference ${p.expected.toFixed(3)}`)
          .join('; ')}`,
      );
    }
    const manifest = {
      id: STATIC_MODEL_ID,
      note: 'Written by packages/embeddings/scripts/derive-static.mjs; the runtime checks files against it.',
      source: {
        model: 'all-MiniLM-L6-v2/onnx-int8',
        modelSha256: sha256(readFileSync(join(minilmDir, 'model.onnx'))),
        corpus: 'packages/embeddings/scripts/static-corpus.json',
      },
      reference: {
        sha256: REFERENCE.sha256,
        matches: matchesReference,
        probeTolerance: PROBE_TOLERANCE,
        probes: PROBES.map(([s1, s2, expected], i) => ({ s1, s2, expected, got: Number(probes[i].toFixed(4)) })),
      },
      files,
    };
    writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(dirname(outDir), { recursive: true });
    renameSync(staging, outDir);
    const seconds = (Date.now() - started) / 1000;
    log(
      `static encoder: derived into ${outDir} in ${seconds.toFixed(1)} s (` +
        `${matchesReference ? 'bit-identical to the reference derivation' : REFERENCE.sha256['vectors.i8'] ? `not bit-identical to the reference (other CPU kernels); probes agree within ${PROBE_TOLERANCE}` : 'no reference pinned'})`,
    );
    return { dir: outDir, derived: true, seconds, matchesReference, files, probes };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Cosines of the PROBES pairs with the encoder in `dir`, computed as the runtime does. */
async function probeCosines(dir) {
  const { Tokenizer } = await import('@huggingface/tokenizers');
  const readJson = (name) => JSON.parse(readFileSync(join(dir, name), 'utf8'));
  const tokenizer = new Tokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'));
  const config = readJson('config.json');
  const q8 = new Int8Array(readFileSync(join(dir, 'vectors.i8')).buffer.slice(0));
  const buf = readFileSync(join(dir, 'scales.f32'));
  const scales = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  const embed = (text) => {
    const ids = tokenizer.encode(text, { add_special_tokens: false }).ids.filter((t) => !SPECIAL(t));
    const v = new Float64Array(D);
    if (ids.length === 0) v.set(config.empty);
    for (const t of ids) for (let k = 0; k < D; k++) v[k] += q8[t * D + k] * scales[t];
    let norm = 0;
    for (let k = 0; k < D; k++) norm += v[k] * v[k];
    const s = 1 / Math.max(Math.sqrt(norm), 1e-12);
    return Array.from(v, (x) => x * s);
  };
  return PROBES.map(([s1, s2]) => cosine(embed(s1), embed(s2)));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const minilmDir = resolve(
    positional[0] ?? join(REPO_ROOT, process.env.TRAJECTORY_DATA_DIR ?? '.trajectory', 'models', 'all-MiniLM-L6-v2'),
  );
  const outDir = positional[1] ? resolve(positional[1]) : defaultStaticDir(minilmDir);
  deriveStatic(minilmDir, outDir, console.log, { force: process.argv.includes('--force') }).catch((err) => {
    console.error(`static encoder: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
}
