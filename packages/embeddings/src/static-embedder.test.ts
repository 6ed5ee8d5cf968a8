// The static encoder from defaultStaticModelDir() (derived by scripts/fetch-model.mjs), no mocks.
// Without its folder the model tests are skipped on a developer's machine but fail under CI (env
// CI set), where devstack's setup derives it.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  cosine,
  defaultModelDir,
  defaultStaticModelDir,
  loadEmbedder,
  loadSentenceEmbedder,
  loadStaticEmbedder,
  MODEL_ID,
  type ProfiledEmbedder,
  STATIC_MODEL_ID,
  withEmbeddingCache,
} from './index.js';

const STATIC_DIR = defaultStaticModelDir();
const PRESENT = existsSync(join(STATIC_DIR, 'vectors.i8'));
const MINILM_PRESENT = existsSync(join(defaultModelDir(), 'model.onnx'));
const FETCH = 'node packages/embeddings/scripts/fetch-model.mjs';
const SKIP = PRESENT ? false : `no static encoder at ${STATIC_DIR}: run \`${FETCH}\``;
const norm = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

test('the static encoder folder is there under CI', () => {
  if (!PRESENT && process.env.CI) assert.fail(`CI is set but the static encoder is missing at ${STATIC_DIR}: run \`${FETCH}\``);
});

test('defaultStaticModelDir: beside the MiniLM folder, or from its own variable', () => {
  assert.equal(defaultStaticModelDir({ TRAJECTORY_EMBEDDING_MODEL_DIR: '/opt/m/all-MiniLM-L6-v2' }), '/opt/m/all-MiniLM-L6-v2-static');
  assert.equal(defaultStaticModelDir({ TRAJECTORY_STATIC_EMBEDDING_MODEL_DIR: '/x/static' }), '/x/static');
  assert.equal(defaultStaticModelDir({ TRAJECTORY_DATA_DIR: '/data' }), '/data/models/all-MiniLM-L6-v2-static');
});

test('a missing folder gives null, not an error', async () => {
  assert.equal(await loadStaticEmbedder({ modelDir: '/nonexistent/static' }), null);
  assert.equal(await loadEmbedder({ encoder: 'static', staticModelDir: '/nonexistent/static' }), null);
});

test('loadEmbedder refuses an unknown encoder', async () => {
  // @ts-expect-error: not an EncoderChoice
  await assert.rejects(loadEmbedder({ encoder: 'bert' }), RangeError);
});

describe('broken static folders throw errors that name the file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'static-broken-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('missing vectors.i8', async () => {
    writeFileSync(join(dir, 'config.json'), '{}');
    await assert.rejects(loadStaticEmbedder({ modelDir: dir }), /vectors\.i8 is missing/);
  });

  test('truncated vectors.i8, with the manifest', { skip: SKIP }, async () => {
    cpSync(STATIC_DIR, dir, { recursive: true });
    writeFileSync(join(dir, 'vectors.i8'), readFileSync(join(STATIC_DIR, 'vectors.i8')).subarray(0, 1000));
    await assert.rejects(loadStaticEmbedder({ modelDir: dir }), /vectors\.i8: 1000 bytes, manifest\.json says \d+/);
  });

  test('truncated vectors.i8, no manifest: the size check', { skip: SKIP }, async () => {
    rmSync(join(dir, 'manifest.json'));
    await assert.rejects(loadStaticEmbedder({ modelDir: dir }), /vectors\.i8: 1000 bytes for \d+ rows/);
  });

  test('a flipped byte fails the sha256 check', { skip: SKIP }, async () => {
    cpSync(STATIC_DIR, dir, { recursive: true });
    const bytes = readFileSync(join(STATIC_DIR, 'scales.f32'));
    bytes[100] = (bytes[100] ?? 0) ^ 1;
    writeFileSync(join(dir, 'scales.f32'), bytes);
    await assert.rejects(loadStaticEmbedder({ modelDir: dir }), /scales\.f32: sha256 \w+ does not match manifest\.json/);
  });

  test('corrupt config.json', { skip: SKIP }, async () => {
    cpSync(STATIC_DIR, dir, { recursive: true });
    rmSync(join(dir, 'manifest.json'));
    writeFileSync(join(dir, 'config.json'), '{"truncated');
    await assert.rejects(loadStaticEmbedder({ modelDir: dir }), /config\.json: not readable JSON/);
  });
});

describe('the static encoder', { skip: SKIP }, () => {
  let embedder: ProfiledEmbedder;
  before(async () => {
    const loaded = await loadStaticEmbedder();
    assert.ok(loaded, 'folder present but loadStaticEmbedder returned null');
    embedder = loaded;
  });
  after(() => embedder?.close());

  test('identity: 384-d like MiniLM', () => {
    assert.equal(embedder.id, STATIC_MODEL_ID);
    assert.equal(embedder.dimensions, 384);
  });

  test('the folder is the reference derivation, or agrees with its probes', () => {
    const manifest = JSON.parse(readFileSync(join(STATIC_DIR, 'manifest.json'), 'utf8'));
    assert.equal(manifest.id, STATIC_MODEL_ID);
    if (!manifest.reference.matches) {
      for (const p of manifest.reference.probes)
        assert.ok(Math.abs(p.got - p.expected) <= manifest.reference.probeTolerance, JSON.stringify(p));
    }
  });

  test('vectors are unit length and finite, also for empty and unknown text', async () => {
    const vectors = await embedder.embed(['How do I bake sourdough bread?', '', '   ', '😀', '[CLS] [SEP]']);
    assert.equal(vectors.length, 5);
    for (const v of vectors) {
      assert.ok(v instanceof Float32Array);
      assert.equal(v.length, 384);
      assert.ok(Math.abs(norm(v) - 1) < 1e-5, `norm ${norm(v)}`);
      assert.ok(v.every(Number.isFinite));
    }
    assert.deepEqual(vectors[1], vectors[2]);
  });

  test('a paraphrase is closer than an unrelated sentence (English, German, Dutch)', async () => {
    const pairs: [string, string, string][] = [
      ['How do I bake sourdough bread?', "What's a good recipe for sourdough?", 'The stock market fell today'],
      ['Kun je dit korter maken?', 'Kun je de tekst inkorten?', 'De trein naar Utrecht is vertraagd.'],
      ['Wie installiere ich Python unter Windows?', 'Python Installation auf Windows', 'Das Wetter ist heute schön.'],
    ];
    for (const [q, para, other] of pairs) {
      const [a, b, c] = await embedder.embed([q, para, other]);
      assert.ok(a && b && c);
      assert.ok(cosine(a, b) > cosine(a, c) + 0.2, `${q}: paraphrase ${cosine(a, b).toFixed(3)} vs unrelated ${cosine(a, c).toFixed(3)}`);
    }
  });

  test('the same text gives the identical vector, alone or in a batch', async () => {
    const [a, b] = await embedder.embed(['Deterministic, please.', 'Something else entirely.']);
    const [c] = await embedder.embed(['Deterministic, please.']);
    assert.ok(a && b && c);
    assert.deepEqual(a, c);
  });

  test('no length limit: a long text is not cut', async () => {
    const [long, longer] = await embedder.embed(['word '.repeat(300), `${'word '.repeat(300)} sourdough bread recipe`]);
    assert.ok(long && longer);
    assert.notDeepEqual(long, longer);
  });

  test('profile counts texts, tokens and CPU', async () => {
    embedder.resetProfile();
    await embedder.embed(['one two three', 'four']);
    const p = embedder.profile();
    assert.equal(p.calls, 1);
    assert.equal(p.texts, 2);
    assert.equal(p.tokens, 4);
    assert.ok(p.tokenizeCpuMs >= 0 && p.encodeCpuMs >= 0);
  });

  test('close() then embed() rejects', async () => {
    const e = await loadStaticEmbedder();
    assert.ok(e);
    await e.close();
    await assert.rejects(e.embed(['x']), /after close/);
  });
});

describe('agreement with MiniLM', { skip: SKIP || (MINILM_PRESENT ? false : 'no MiniLM model') }, () => {
  test('cosines of sentence pairs rank like MiniLM’s (Spearman > 0.5; 0.64 when written)', async () => {
    const sentences = [
      'How do I connect Django to two databases?',
      'Configure DATABASES with a default and a second entry, then add a router.',
      'The router decides which database a model reads from.',
      'That did not work, I still get OperationalError.',
      'Can you write me a poem about autumn?',
      'Leaves fall softly on the quiet lane.',
      'What is the capital of France?',
      'Paris is the capital of France.',
      'I like to go hiking with my dog on weekends.',
      'Do you have any pets?',
      'Hoe laat is het in Tokyo?',
      'Ich möchte meinen Urlaub in Italien planen.',
    ];
    const minilm = await loadSentenceEmbedder();
    const fast = await loadStaticEmbedder();
    assert.ok(minilm && fast);
    const a = await minilm.embed(sentences);
    const b = await fast.embed(sentences);
    await minilm.close();
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < sentences.length; i++)
      for (let j = i + 1; j < sentences.length; j++) {
        x.push(cosine(a[i] as Float32Array, a[j] as Float32Array));
        y.push(cosine(b[i] as Float32Array, b[j] as Float32Array));
      }
    const rank = (v: number[]) => {
      const order = v.map((_, i) => i).sort((p, q) => (v[p] as number) - (v[q] as number));
      const r = new Array<number>(v.length);
      order.forEach((i, k) => {
        r[i] = k;
      });
      return r;
    };
    const rx = rank(x);
    const ry = rank(y);
    const n = x.length;
    const d2 = rx.reduce((s, r, i) => s + (r - (ry[i] as number)) ** 2, 0);
    const spearman = 1 - (6 * d2) / (n * (n * n - 1));
    assert.ok(spearman > 0.5, `Spearman ${spearman.toFixed(3)}`);
  });
});

describe('loadEmbedder', () => {
  test('auto prefers the static encoder, minilm asks for MiniLM', {
    skip: SKIP || (MINILM_PRESENT ? false : 'no MiniLM model'),
  }, async () => {
    const auto = await loadEmbedder();
    assert.equal(auto?.id, STATIC_MODEL_ID);
    await auto?.close();
    const minilm = await loadEmbedder({ encoder: 'minilm' });
    assert.equal(minilm?.id, MODEL_ID);
    await minilm?.close();
  });

  test('auto falls back to MiniLM where the static folder is absent', { skip: MINILM_PRESENT ? false : 'no MiniLM model' }, async () => {
    const e = await loadEmbedder({ staticModelDir: '/nonexistent/static' });
    assert.equal(e?.id, MODEL_ID);
    await e?.close();
  });
});

describe('withEmbeddingCache', () => {
  const counting = () => {
    const calls: string[][] = [];
    return {
      calls,
      embedder: {
        id: 'fake/1',
        dimensions: 2,
        embed: async (texts: string[]) => {
          calls.push(texts);
          return texts.map((t) => Float32Array.from([t.length, 1]));
        },
        close: async () => {},
      },
    };
  };

  test('embeds each distinct text once, keeps order and duplicates', async () => {
    const { calls, embedder } = counting();
    const cached = withEmbeddingCache(embedder);
    assert.equal(cached.id, 'fake/1');
    const first = await cached.embed(['a', 'bb', 'a']);
    assert.deepEqual(
      first.map((v) => v[0]),
      [1, 2, 1],
    );
    const second = await cached.embed(['bb', 'ccc']);
    assert.deepEqual(
      second.map((v) => v[0]),
      [2, 3],
    );
    assert.deepEqual(calls, [['a', 'bb'], ['ccc']]);
    assert.deepEqual(cached.stats(), { hits: 1, misses: 3, entries: 3 });
  });

  test('evicts the least recently used beyond maxEntries', async () => {
    const { calls, embedder } = counting();
    const cached = withEmbeddingCache(embedder, { maxEntries: 2 });
    await cached.embed(['a', 'b']);
    await cached.embed(['a']); // a is now the most recent
    await cached.embed(['c']); // evicts b
    await cached.embed(['a', 'b']);
    assert.deepEqual(calls, [['a', 'b'], ['c'], ['b']]);
    assert.throws(() => withEmbeddingCache(embedder, { maxEntries: 0 }), RangeError);
  });
});
