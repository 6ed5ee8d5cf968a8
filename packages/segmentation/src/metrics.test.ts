import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boundaryLabels, defaultWindow, pk, windowDiff } from './metrics.js';

// Every expected value below was computed with NLTK 3.10.4 (nltk.metrics.segmentation.pk and
// .windowdiff) on the label strings shown, with the same k; the first two are the windowdiff
// doctest of NLTK. A further 300 random cases (n 2..40) matched NLTK exactly when this was written.
// Label j = 1 marks a boundary between unit j and j + 1, so boundary i sets label i − 1.
const NLTK_CASES: { n: number; ref: number[]; hyp: number[]; k: number; labels: [string, string]; pk: number; wd: number }[] = [
  { n: 12, ref: [4, 11], hyp: [5, 10], k: 3, labels: ['000100000010', '000010000100'], pk: 0.3, wd: 0.3 },
  { n: 12, ref: [5, 10], hyp: [1, 8], k: 3, labels: ['000010000100', '100000010000'], pk: 0.8, wd: 0.8 },
  { n: 12, ref: [4, 11], hyp: [4, 11], k: 3, labels: ['000100000010', '000100000010'], pk: 0, wd: 0 },
  { n: 10, ref: [3, 6], hyp: [], k: 2, labels: ['0010010000', '0000000000'], pk: 0.4444444444444444, wd: 0.4444444444444444 },
  { n: 10, ref: [3, 6], hyp: [1, 2, 3, 4, 5, 6, 7, 8, 9], k: 2, labels: ['0010010000', '1111111110'], pk: 0.5555555555555556, wd: 1 },
  {
    n: 15,
    ref: [4, 9, 12],
    hyp: [5, 9],
    k: 2,
    labels: ['000100001001000', '000010001000000'],
    pk: 0.2857142857142857,
    wd: 0.2857142857142857,
  },
  { n: 8, ref: [], hyp: [4], k: 4, labels: ['00000000', '00010000'], pk: 0.8, wd: 0.8 },
  {
    n: 16,
    ref: [3, 7],
    hyp: [2, 8, 12],
    k: 3,
    labels: ['0010001000000000', '0100000100010000'],
    pk: 0.42857142857142855,
    wd: 0.42857142857142855,
  },
];

test('Pk and WindowDiff equal NLTK on hand cases', () => {
  for (const c of NLTK_CASES) {
    const labels = (b: number[]) => Array.from(boundaryLabels(b, c.n)).join('');
    assert.deepEqual([labels(c.ref), labels(c.hyp)], c.labels);
    assert.ok(Math.abs(pk(c.ref, c.hyp, c.n, c.k) - c.pk) < 1e-12, `pk ${JSON.stringify(c)}`);
    assert.ok(Math.abs(windowDiff(c.ref, c.hyp, c.n, c.k) - c.wd) < 1e-12, `wd ${JSON.stringify(c)}`);
  }
});

test('default k: half the mean reference segment length, rounded half up, at least 1', () => {
  assert.equal(defaultWindow([4, 9, 12], 15), 2); // 4 segments: 15 / 8 = 1.875
  assert.equal(defaultWindow([3, 7], 16), 3); // 3 segments: 16 / 6 = 2.67
  assert.equal(defaultWindow([], 9), 5); // 1 segment: 4.5 → 5
  assert.equal(defaultWindow([1, 2, 3], 4), 1); // 0.5 → 1
  assert.equal(defaultWindow([5, 5], 10), 3); // duplicates count once: 10 / 4 = 2.5 → 3 (Python's round gives 2)
  assert.equal(pk([4, 9, 12], [5, 9], 15), 0.2857142857142857);
  assert.equal(pk([3, 7], [2, 8, 12], 16), 0.42857142857142855);
  // n = 10, reference [5], hypothesis [3]: k = 3 here; NLTK gives pk 0.5 with k = 3 and 0.4444… with k = 2.
  assert.equal(pk([5], [3], 10), 0.5);
  assert.equal(windowDiff([5], [3], 10), 0.5);
});

test('trivial hypotheses', () => {
  const ref = [4, 8];
  assert.equal(pk(ref, ref, 12), 0);
  assert.equal(windowDiff(ref, ref, 12), 0);
  assert.ok(pk(ref, [], 12) > 0);
  assert.equal(windowDiff(ref, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 12), 1);
});

test('invalid input is refused', () => {
  assert.throws(() => pk([0], [], 5), RangeError);
  assert.throws(() => pk([5], [], 5), RangeError);
  assert.throws(() => pk([2], [1.5], 5), RangeError);
  assert.throws(() => pk([2], [], 5, 6), RangeError);
  assert.throws(() => windowDiff([2], [], 5, 0), RangeError);
  assert.throws(() => boundaryLabels([], 0), RangeError);
});
