import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SentenceEmbedder } from '@trajectory/embeddings';
import { conversationOf } from './conversation.test-helper.js';
import { pkPublished, segevalWindow, windowDiffPublished } from './published-metrics.js';
import { DEFAULT_LANGUAGES, segmentConversation } from './segment.js';
import {
  candidateFeatures,
  decodeBoundaries,
  EMBEDDING_FEATURES,
  FEATURE_NAMES,
  f1Threshold,
  fitDomainDecoder,
  fitSmallLogistic,
  identifiersOf,
  LEXICAL_SIGNAL,
  type LogisticScorer,
  parseTopicModel,
  scoreTopicBoundaries,
  type TopicUnit,
  topicUnitsOf,
} from './topic-model.js';
import { chatTopicUnits, defaultTopicModel, detectTopicShifts, topicShifts } from './topics.js';

const MINILM = 'all-MiniLM-L6-v2/onnx-int8';

test('published (segeval) Pk and WindowDiff: the values segeval 2.0.11 gives', () => {
  // [reference, hypothesis, n, k, Pk, WindowDiff], computed with segeval.pk / segeval.window_diff on masses.
  const cases: [number[], number[], number, number, number, number][] = [
    [[4, 6], [3, 7], 10, 2, 0.5, 0.5],
    [[5], [], 12, 3, 1 / 3, 1 / 3],
    [[2, 3, 9], [2, 8], 11, 2, 1 / 3, 4 / 9],
    [[4], [4], 9, 2, 0, 0],
    [[], [2], 6, 3, 2 / 3, 2 / 3],
    [[3, 6, 9], [1, 5], 13, 2, 0.6363636363636364, 0.6363636363636364],
    [[1, 2, 3, 4], [2], 6, 2, 0.5, 1],
    [[5, 10], [5], 15, 2, 0.15384615384615385, 0.15384615384615385],
  ];
  for (const [reference, hypothesis, n, k, p, w] of cases) {
    assert.equal(segevalWindow(reference, n), k, `k of ${reference} in ${n}`);
    assert.ok(Math.abs(pkPublished(reference, hypothesis, n) - p) < 1e-12, `Pk ${reference} vs ${hypothesis}`);
    assert.ok(Math.abs(windowDiffPublished(reference, hypothesis, n) - w) < 1e-12, `WD ${reference} vs ${hypothesis}`);
  }
  // round half to even, at least 2 (segeval's compute_window_size on masses [5,5], [7], [9], [11], [6,7], [1,1,1])
  assert.deepEqual(
    [
      segevalWindow([5], 10),
      segevalWindow([], 7),
      segevalWindow([], 9),
      segevalWindow([], 11),
      segevalWindow([6], 13),
      segevalWindow([1, 2], 3),
    ],
    [2, 4, 4, 6, 3, 2],
  );
});

/** A deterministic stand-in for a sentence embedder: word-hashed bag of words in 16 dimensions. */
const hashEmbedder: SentenceEmbedder = {
  id: 'test/hash-16',
  dimensions: 16,
  async embed(texts) {
    return texts.map((text) => {
      const v = new Float32Array(16);
      for (const w of text.toLowerCase().match(/\p{L}+/gu) ?? []) {
        let h = 7;
        for (const ch of w) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % 1_000_003;
        v[h % 16] = (v[h % 16] ?? 0) + 1;
      }
      const norm = Math.hypot(...v) || 1;
      return v.map((x) => x / norm);
    });
  },
  async close() {},
};

const DIALOGUE = [
  'Do you like cooking pasta at home?',
  'Yes, I cook pasta with tomato sauce every week.',
  'Tomato sauce with fresh basil is the best pasta sauce.',
  'I grow basil in my garden for the sauce.',
  'By the way, what kind of car do you drive?',
  'I drive an old red truck to work.',
];

test('the committed topic model loads, has a lexical and a MiniLM scorer, and scores a tiny dialogue deterministically', async () => {
  const model = defaultTopicModel();
  assert.equal(model.format, 'trajectory-topic-model/1');
  const lexical = model.signals[LEXICAL_SIGNAL];
  const minilm = model.signals[MINILM];
  assert.ok(lexical && minilm, `signals: ${Object.keys(model.signals).join(', ')}`);
  assert.equal(minilm.scorer.vector, true);
  assert.equal(minilm.scorer.mean.length - minilm.scorer.features.length, 384, 'MiniLM vectors are 384-dimensional');
  assert.ok(lexical.scorer.features.every((f) => !EMBEDDING_FEATURES.includes(f)));
  for (const entry of [lexical, minilm]) {
    assert.ok(entry.decoders.dialogue && entry.decoders.chat?.rescorer, 'a dialogue rule and a chat rescorer');
  }
  // Checking it again is a no-op; the file is what parseTopicModel accepts.
  assert.doesNotThrow(() => parseTopicModel(JSON.parse(JSON.stringify(model)), (s) => (s === MINILM ? 384 : undefined)));

  const units = await topicUnitsOf(DIALOGUE, { languages: ['en'] });
  const candidates = [1, 2, 3, 4, 5];
  const first = scoreTopicBoundaries(units, candidates, lexical.scorer);
  const again = scoreTopicBoundaries(await topicUnitsOf(DIALOGUE, { languages: ['en'] }), candidates, lexical.scorer);
  assert.deepEqual(first, again);
  assert.ok(first.every((p) => p > 0 && p < 1));
  // The car question opens a topic more likely than the basil follow-up does.
  assert.ok((first[3] ?? 0) > (first[2] ?? 1), `car ${first[3]} vs basil ${first[2]}`);
  assert.deepEqual(await detectTopicShifts(DIALOGUE, { languages: ['en'] }), await detectTopicShifts(DIALOGUE, { languages: ['en'] }));
});

test('a scorer weighs standardised features and the vector; the decoder thresholds and keeps local maxima', () => {
  const scorer: LogisticScorer = {
    features: ['lex.novelty', 'cue.question'],
    vector: true,
    vocabulary: ['pizza'],
    mean: [0.5, 0, 0, 0],
    scale: [0.5, 1, 1, 1],
    weights: [2, 1, 0.5, -0.5, 3],
    bias: -1,
  };
  const units: TopicUnit[] = [
    { text: 'I like trains.', tokens: ['train'], vector: Float32Array.of(1, 0) },
    { text: 'Pizza?', tokens: ['pizza'], vector: Float32Array.of(0, 2) },
  ];
  // novelty 1 → (1 − 0.5)/0.5 = 1; question 1; vector normalised (0, 1); 'pizza' cue word 1.
  const z = -1 + 2 * 1 + 1 * 1 + 0.5 * 0 - 0.5 * 1 + 3 * 1;
  const [p] = scoreTopicBoundaries(units, [1], scorer);
  assert.ok(Math.abs((p ?? 0) - 1 / (1 + Math.exp(-z))) < 1e-12);

  assert.deepEqual(decodeBoundaries([1, 2, 3, 4, 5], [0.2, 0.6, 0.5, 0.7, 0.7], { threshold: 0.4, peak: false }), [2, 3, 4, 5]);
  assert.deepEqual(decodeBoundaries([1, 2, 3, 4, 5], [0.2, 0.6, 0.5, 0.7, 0.7], { threshold: 0.4, peak: true }), [2, 5]);
});

test('features: identifiers, novelty against everything before, cosines that skip units without vectors', () => {
  assert.deepEqual([...identifiersOf('Use `manage.py test` with django.core.signing, my_field and getElementById.')].sort(), [
    'django.core.signing',
    'getelementbyid',
    'manage.py test',
    'my_field',
  ]);
  const units: TopicUnit[] = [
    { text: 'How do I sign with django.core.signing?', tokens: ['sign', 'django'], vector: Float32Array.of(1, 0) },
    { text: '```code only```', tokens: [] },
    { text: 'Does django.core.signing encrypt?', tokens: ['django', 'encrypt'], vector: Float32Array.of(1, 1) },
  ];
  const [row] = candidateFeatures(units, [2], ['lex.novelty', 'lex.identifiersShared', 'cos.prev', 'cos.prev2', 'history.max']);
  const expected = [0.5, 1, 0, Math.SQRT1_2, Math.SQRT1_2];
  row?.forEach((x, i) => {
    assert.ok(Math.abs(x - (expected[i] ?? Number.NaN)) < 1e-6, `feature ${i}: ${x}`);
  });
  assert.equal(row?.length, expected.length);
  assert.equal(FEATURE_NAMES.length, new Set(FEATURE_NAMES).size);
});

test('fitSmallLogistic matches scikit-learn; f1Threshold; fitDomainDecoder gives a rescorer over the scorer logit', () => {
  const rows = [
    [0.1, 1.0],
    [0.4, 0.5],
    [0.9, 0.2],
    [0.3, 0.8],
    [0.7, 0.1],
    [0.2, 0.9],
    [0.8, 0.3],
    [0.6, 0.6],
  ];
  const labels = [0, 0, 1, 0, 1, 0, 1, 1];
  const fitted = fitSmallLogistic(rows, labels, ['a', 'b'], 0.5);
  // sklearn LogisticRegression(C=0.5) on the standardised columns (population sd).
  const expected = { weights: [0.7643823313696865, -0.5527177222640302], bias: -0.009799349386483896 };
  fitted.weights.forEach((w, i) => {
    assert.ok(Math.abs(w - (expected.weights[i] ?? 0)) < 1e-6, `w${i} ${w}`);
  });
  assert.ok(Math.abs(fitted.bias - expected.bias) < 1e-6);
  assert.equal(f1Threshold([0.9, 0.8, 0.3, 0.2], [1, 0, 1, 0]), 0.3);
  assert.equal(f1Threshold([0.9, 0.8], [0, 0]), 1);

  const scorer = defaultTopicModel().signals[LEXICAL_SIGNAL]?.scorer;
  assert.ok(scorer);
  const units = (texts: string[]) => texts.map((text) => ({ text, tokens: text.toLowerCase().match(/\p{L}{3,}/gu) ?? [] }));
  const examples = [
    {
      units: units([
        'How do I bake bread?',
        'Knead the dough.',
        'How long should the bread dough rest?',
        'An hour.',
        'What is the capital of Peru?',
        'Lima.',
      ]),
      candidates: [2, 4],
      labels: [0, 1],
    },
    {
      units: units([
        'Fix my python loop.',
        'Use range.',
        'Why does the python loop stop early?',
        'Off by one.',
        'Recommend a jazz album?',
        'Kind of Blue.',
      ]),
      candidates: [2, 4],
      labels: [0, 1],
    },
  ];
  const decoder = fitDomainDecoder(examples, scorer, { features: ['scorer.logit', 'lex.novelty'], C: 1 });
  assert.deepEqual(decoder.rescorer?.features, ['scorer.logit', 'lex.novelty']);
  assert.equal(decoder.peak, false);
  assert.deepEqual(decoder, fitDomainDecoder(examples, scorer, { features: ['scorer.logit', 'lex.novelty'], C: 1 }));
});

test('the benchmark sees what the service does: chatTopicUnits + topicShifts give segmentConversation’s topic boundaries', async () => {
  const conversation = conversationOf([
    ['user', 'How long should I knead bread dough for a sourdough loaf?'],
    ['assistant', 'Knead the sourdough dough for about ten minutes.\n\nThen let it rest until it doubles.'],
    ['user', 'Should the sourdough dough rest in the fridge overnight?'],
    ['assistant', 'Yes, a cold overnight rest gives the sourdough loaf more flavour.'],
    ['user', 'Which jazz pianist should I listen to first, Bill Evans or Thelonious Monk?'],
    ['assistant', 'Start with Bill Evans, Sunday at the Village Vanguard.\n\n```\nplaylist = ["Gloria\'s Step"]\n```'],
    ['user', 'And after Bill Evans, which Monk album?'],
    ['assistant', 'Monk’s Dream is a good first Monk album.'],
  ]);
  // A model whose chat rules predict something: the lexical rule with a low threshold, and one for
  // the hash embedder whose rescorer reads vectors (closest earlier message, previous message).
  const base = defaultTopicModel();
  const model = JSON.parse(JSON.stringify(base)) as typeof base;
  const lexical = model.signals[LEXICAL_SIGNAL];
  assert.ok(lexical?.decoders.chat);
  lexical.decoders.chat.threshold = 0.05;
  const rescorer: LogisticScorer = {
    features: ['scorer.logit', 'history.max', 'cos.prev'],
    vector: false,
    vocabulary: [],
    mean: [0, 0, 0],
    scale: [1, 1, 1],
    weights: [1, -2, -1],
    bias: 1,
  };
  model.signals[hashEmbedder.id] = {
    scorer: lexical.scorer,
    decoders: { dialogue: { threshold: 0.5, peak: false }, chat: { threshold: 0.3, peak: false, rescorer } },
  };
  for (const embedder of [null, hashEmbedder]) {
    const segmentation = await segmentConversation(conversation, { embedder, topicModel: model });
    const { units, candidates, messageIndexes } = await chatTopicUnits(conversation, { embedder, languages: DEFAULT_LANGUAGES });
    assert.deepEqual(candidates, [2, 4, 6]);
    const decision = topicShifts(units, { candidates, domain: 'chat', signal: embedder?.id ?? null, model });
    assert.deepEqual(
      decision.shifts.map((s) => messageIndexes[s.index]),
      segmentation.topicBoundaries,
      `with ${embedder?.id ?? 'no embedder'}: scores ${decision.scores}`,
    );
    assert.ok(segmentation.topicBoundaries.length > 0);
    const restart = segmentation.edges.find((e) => e.relation === 'restarts');
    assert.ok(restart?.tags.includes('topic-shift'));
    assert.ok(restart?.tags.includes(`topic-model:${embedder?.id ?? 'lexical'}/chat`), restart?.tags.join(','));
  }
});
