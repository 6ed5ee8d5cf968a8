// Runs the real model (no mocks) from defaultModelDir(). Without the folder the model tests are
// skipped on a developer's machine, but fail under CI (env CI set): devstack's setup fetches the
// model there, so a missing folder means that step broke and must not pass as green.
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cosine, defaultModelDir, loadSentenceEmbedder, type SentenceEmbedder } from './index.js';

const MODEL_DIR = defaultModelDir();
const PRESENT = existsSync(join(MODEL_DIR, 'model.onnx'));
const FETCH = 'node packages/embeddings/scripts/fetch-model.mjs';
const SKIP = PRESENT ? false : `no model at ${MODEL_DIR}: run \`${FETCH}\``;

const norm = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - (b[i] as number))), 0);

test('the model folder is there under CI', () => {
  if (!PRESENT && process.env.CI) {
    assert.fail(`CI is set but the embedding model is missing at ${MODEL_DIR}: run \`${FETCH}\` (devstack setup does)`);
  }
});

test('a missing model folder gives null, not an error', async () => {
  assert.equal(await loadSentenceEmbedder({ modelDir: '/nonexistent/all-MiniLM-L6-v2' }), null);
});

describe('broken model folders throw errors that name the file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'embeddings-broken-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('missing tokenizer.json', async () => {
    writeFileSync(join(dir, 'model.onnx'), 'not a model');
    await assert.rejects(loadSentenceEmbedder({ modelDir: dir }), /tokenizer\.json is missing/);
  });

  test('truncated model.onnx, with the manifest', { skip: SKIP }, async () => {
    cpSync(MODEL_DIR, dir, { recursive: true });
    writeFileSync(join(dir, 'model.onnx'), readFileSync(join(MODEL_DIR, 'model.onnx')).subarray(0, 100_000));
    await assert.rejects(loadSentenceEmbedder({ modelDir: dir }), (err: Error) => {
      assert.match(err.message, /model\.onnx: 100000 bytes, manifest\.json says \d+/);
      return true;
    });
  });

  test('truncated model.onnx, no manifest: onnxruntime’s error, with the path', { skip: SKIP }, async () => {
    rmSync(join(dir, 'manifest.json'), { force: true });
    await assert.rejects(loadSentenceEmbedder({ modelDir: dir }), /model\.onnx: onnxruntime cannot load it/);
  });

  test('corrupt tokenizer.json', { skip: SKIP }, async () => {
    copyFileSync(join(MODEL_DIR, 'model.onnx'), join(dir, 'model.onnx'));
    writeFileSync(join(dir, 'tokenizer.json'), '{"truncated');
    await assert.rejects(loadSentenceEmbedder({ modelDir: dir }), /tokenizer\.json: not readable JSON/);
  });
});

describe('all-MiniLM-L6-v2 (onnx int8)', { skip: SKIP }, () => {
  let embedder: SentenceEmbedder;
  before(async () => {
    const loaded = await loadSentenceEmbedder({ modelDir: MODEL_DIR });
    assert.ok(loaded, 'model folder present but loadSentenceEmbedder returned null');
    embedder = loaded;
  });
  after(() => embedder?.close());

  test('identity', () => {
    assert.equal(embedder.id, 'all-MiniLM-L6-v2/onnx-int8');
    assert.equal(embedder.dimensions, 384);
  });

  test('vectors are 384-d and unit length, also for an empty string', async () => {
    const vectors = await embedder.embed(['How do I bake sourdough bread?', '', '   ', '😀']);
    assert.equal(vectors.length, 4);
    for (const v of vectors) {
      assert.ok(v instanceof Float32Array);
      assert.equal(v.length, 384);
      assert.ok(Math.abs(norm(v) - 1) < 1e-5, `norm ${norm(v)}`);
      assert.ok(v.every(Number.isFinite));
    }
  });

  test('a paraphrase is closer than an unrelated sentence', async () => {
    const [q, para, other] = await embedder.embed([
      'How do I bake sourdough bread?',
      "What's a good recipe for sourdough?",
      'The stock market fell today',
    ]);
    assert.ok(q && para && other);
    const near = cosine(q, para);
    const far = cosine(q, other);
    assert.ok(near > far + 0.3, `paraphrase ${near.toFixed(3)} vs unrelated ${far.toFixed(3)}`);
  });

  test('the same text gives the identical vector', async () => {
    const [a, b] = await embedder.embed(['Deterministic, please.', 'Deterministic, please.']);
    const [c] = await embedder.embed(['Deterministic, please.']);
    assert.ok(a && b && c);
    assert.deepEqual(a, b);
    assert.deepEqual(a, c);
  });

  test('batches (padded, reordered, several runs) give the vectors of one-by-one calls', async () => {
    // 70 texts of very different lengths: three runs of up to 32, each padded to its longest.
    const texts = Array.from({ length: 70 }, (_, i) => `Sentence ${i}: ${'and then something else happened '.repeat(i % 9)}`.trim());
    const batched = await embedder.embed(texts);
    assert.equal(batched.length, texts.length);
    for (const [i, text] of texts.entries()) {
      const [single] = await embedder.embed([text]);
      assert.ok(single && batched[i]);
      assert.ok(maxAbsDiff(single, batched[i]) < 1e-5, `text ${i} differs by ${maxAbsDiff(single, batched[i])}`);
    }
  });

  test('texts are cut at 256 tokens', async () => {
    const [long, longer] = await embedder.embed(['word '.repeat(300), 'word '.repeat(600)]);
    assert.ok(long && longer);
    assert.deepEqual(long, longer);
  });

  test('no texts, no vectors', async () => {
    assert.deepEqual(await embedder.embed([]), []);
  });
});

describe('cosine', () => {
  test('basics', () => {
    assert.equal(cosine([1, 0], [0, 1]), 0);
    assert.ok(Math.abs(cosine([1, 2, 3], [2, 4, 6]) - 1) < 1e-12);
    assert.ok(Math.abs(cosine(new Float32Array([1, 0]), [-1, 0]) + 1) < 1e-12);
    assert.equal(cosine([0, 0], [1, 1]), 0);
    assert.throws(() => cosine([1], [1, 2]), RangeError);
  });
});

test('close() then embed() rejects', { skip: SKIP }, async () => {
  const e = await loadSentenceEmbedder({ modelDir: MODEL_DIR });
  assert.ok(e);
  await e.close();
  await e.close(); // twice is fine
  await assert.rejects(e.embed(['x']), /after close/);
});
