import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STOPWORDS, stopwordsFor } from './stopwords.js';
import {
  defaultClip,
  depthScores,
  gapSimilarities,
  lexicalTokens,
  lightStem,
  selectBoundaries,
  smoothScores,
  textTilingBoundaries,
} from './texttiling.js';

const close = (actual: readonly number[], expected: readonly number[], epsilon = 1e-9) => {
  assert.equal(actual.length, expected.length, `${actual} vs ${expected}`);
  actual.forEach((a, i) => {
    assert.ok(Math.abs(a - (expected[i] ?? Number.NaN)) < epsilon, `[${i}] ${a} vs ${expected[i]}`);
  });
};

const COOKING_THEN_CARS = [
  'I am trying a new pasta recipe tonight with fresh tomatoes and garlic.',
  'Nice! Do you cook the garlic slowly in olive oil before adding the tomatoes?',
  'Yes, I cook the garlic in olive oil, then simmer the tomato sauce for twenty minutes.',
  'Add some basil to the sauce at the end and salt the pasta water well.',
  'Good idea, fresh basil and salted water make the pasta taste much better.',
  'I also grate parmesan over the pasta and sauce right before serving.',
  'By the way, my car broke down on the highway yesterday.',
  'Oh no, was it the engine or the battery of the car?',
  'The mechanic said the engine overheated because the radiator was leaking coolant.',
  'Replacing a radiator is not too expensive, and the engine should be fine if the car cooled down.',
  'I hope so, the car is old and I need it to drive to work.',
  'Maybe it is time to look at a newer car with a reliable engine.',
];

test('two clearly distinct topics: a boundary where the cars start (6 ± 1)', () => {
  const boundaries = textTilingBoundaries(COOKING_THEN_CARS);
  assert.ok(
    boundaries.some((b) => b >= 5 && b <= 7),
    `boundaries ${boundaries}`,
  );
  assert.ok(boundaries.length <= 3, `boundaries ${boundaries}`);
  // With blocks of three utterances the curve has a single valley.
  assert.deepEqual(textTilingBoundaries(COOKING_THEN_CARS, { window: 3 }), [6]);
});

test('the gap between the topics shares no vocabulary', () => {
  const units = COOKING_THEN_CARS.map((u) => lexicalTokens(u));
  const similarities = gapSimilarities(units, 2);
  assert.equal(similarities.length, COOKING_THEN_CARS.length - 1);
  assert.equal(similarities[5], 0); // gap between utterance 5 and 6
});

test('depth scores on a small curve, computed by hand (NLTK _depth_scores agrees inside its clip)', () => {
  // s:      0.8  0.5  0.2  0.4  0.9  0.7  0.7  0.3  0.6
  // gap 2:  left peak 0.8 (0.5, 0.8), right peak 0.9 (0.4, 0.9) → 0.6 + 0.7 = 1.3
  // gap 5/6: plateau 0.7 0.7 is climbed (>=): left 0.9, right 0.7 → 0.2
  // gap 7:  left peak 0.9 (0.7, 0.7, 0.9), right peak 0.6 → 0.6 + 0.3 = 0.9
  const curve = [0.8, 0.5, 0.2, 0.4, 0.9, 0.7, 0.7, 0.3, 0.6];
  const depths = depthScores(curve);
  close(depths, [0, 0.3, 1.3, 0.5, 0, 0.2, 0.2, 0.9, 0]);
  // NLTK's _identify_boundaries on these depths (HC and LC, boundaries at least 4 apart) marks gaps 2 and 7.
  assert.deepEqual(selectBoundaries(depths, { cutoff: 'hc', minGap: 4, clip: 0 }), [3, 8]);
  assert.deepEqual(selectBoundaries(depths, { cutoff: 'lc', minGap: 4, clip: 0 }), [3, 8]);
  // mean 0.378, sd 0.426 → HC cutoff 0.165: every gap deeper than that, when none is too close.
  assert.deepEqual(selectBoundaries(depths, { cutoff: 'hc', minGap: 1, clip: 0 }), [2, 3, 4, 6, 7, 8]);
  // A fixed threshold, and NLTK's clip of 2 gaps at each end for a short curve.
  assert.deepEqual(selectBoundaries(depths, { cutoff: 0.45, minGap: 1, clip: 0 }), [3, 4, 8]);
  assert.deepEqual(selectBoundaries(depths, { cutoff: 0.45, minGap: 1 }), [3, 4]);
  assert.equal(defaultClip(9), 2);
  assert.equal(defaultClip(37), 3);
  assert.equal(defaultClip(120), 5);
});

test('a flat curve and a too-short curve have no boundaries', () => {
  assert.deepEqual(depthScores([0.5, 0.5, 0.5]), [0, 0, 0]);
  assert.deepEqual(selectBoundaries([0, 0, 0, 0, 0, 0], { clip: 0 }), []);
  assert.deepEqual(selectBoundaries([1, 2, 3], { clip: 2 }), []);
  assert.deepEqual(textTilingBoundaries([]), []);
  assert.deepEqual(textTilingBoundaries(['only one utterance']), []);
});

test('smoothing is a centred moving average of 3 that shrinks at the ends', () => {
  close(smoothScores([0.8, 0.5, 0.2, 0.4]), [0.65, 0.5, 0.366666666666667, 0.3]);
  close(smoothScores([1, 2, 3], 0), [1, 2, 3]);
  // two rounds: [1.5, 1, 1.5] → [1.25, 4/3, 1.25]
  close(smoothScores([0, 3, 0], 2, 2), [1.25, 4 / 3, 1.25]);
});

test('block comparison: cosine of term frequencies of the blocks either side', () => {
  const units = [['a', 'b'], ['a'], ['c'], ['c', 'a']];
  // gap 0: [a b] vs [a] → 1/√2; gap 1 (window 2): [a b a] vs [c c a] → (2·1)/(√5·√5) = 0.4; gap 2: [c] vs [c a] → 1/√2
  close(gapSimilarities(units, 2), [Math.SQRT1_2, 0.4, Math.SQRT1_2]);
  close(gapSimilarities([[], ['a']], 1), [0]);
  assert.throws(() => gapSimilarities(units, 0), RangeError);
});

test('stopwords are removed in English and German', () => {
  assert.deepEqual(lexicalTokens('The engine of my car is making a noise', ['en']), ['engin', 'car', 'mak', 'nois']);
  assert.deepEqual(lexicalTokens('Der Motor von meinem Auto macht ein Geräusch', ['de'], false), ['motor', 'auto', 'macht', 'geräusch']);
  const both = lexicalTokens('I think that der Motor und the engine sind kaputt', ['en', 'de'], false);
  assert.deepEqual(both, ['think', 'motor', 'engine', 'kaputt']);
  // German function words stay when only English is configured.
  assert.ok(lexicalTokens('und der Motor', ['en'], false).includes('und'));
  assert.ok(STOPWORDS.en && STOPWORDS.en.size >= 100 && STOPWORDS.en.size <= 200);
  assert.ok(STOPWORDS.de && STOPWORDS.de.size >= 100 && STOPWORDS.de.size <= 200);
  // Region subtags and case are accepted; unknown languages contribute nothing.
  assert.equal(stopwordsFor(['EN-gb']).size, STOPWORDS.en.size);
  assert.equal(stopwordsFor(['xx']).size, 0);
});

test('tokens: lowercase, Unicode letters and digits, contractions and possessives', () => {
  assert.deepEqual(lexicalTokens("Don't touch Anna's Überraschung in 2024!", ['en'], false), ['touch', 'anna', 'überraschung', '2024']);
  assert.deepEqual(lexicalTokens('don t stop', ['en'], false), ['stop']);
});

test('light stemmer: inflections meet, short words stay', () => {
  const stems = (words: string[], german = false) => words.map((w) => lightStem(w, german));
  assert.deepEqual(stems(['cars', 'car']), ['car', 'car']);
  assert.deepEqual(stems(['cooking', 'cooked', 'cook', 'cooks']), ['cook', 'cook', 'cook', 'cook']);
  assert.deepEqual(stems(['tomatoes', 'tomato', 'berries', 'berry']), ['tomato', 'tomato', 'berry', 'berry']);
  assert.deepEqual(stems(['serving', 'serve', 'running', 'run', 'added', 'add']), ['serv', 'serv', 'run', 'run', 'add', 'add']);
  assert.deepEqual(stems(['bus', 'glass', 'this', 'sing', '4x4s']), ['bus', 'glass', 'this', 'sing', '4x4s']);
  assert.deepEqual(stems(['kochen', 'kocht', 'autos', 'auto'], true), ['koch', 'kocht', 'auto', 'auto']);
});
