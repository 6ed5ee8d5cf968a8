import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTiage } from './gold.js';

const SAMPLE = `{
  "7": [["hello , how are you ?", "-1"], ["fine , i just got back from the gym .", "0"],
        ["do you like cats ?", "1"], ["i have two of them", "0"], ["what music do you play ?", "1"]],
  "8": [["hi", "-1"], ["hey there", "0"]]
}`;

test('parseTiage: utterances in order, boundaries where a label is 1', () => {
  assert.deepEqual(parseTiage(SAMPLE), [
    {
      id: '7',
      utterances: [
        'hello , how are you ?',
        'fine , i just got back from the gym .',
        'do you like cats ?',
        'i have two of them',
        'what music do you play ?',
      ],
      boundaries: [2, 4],
    },
    { id: '8', utterances: ['hi', 'hey there'], boundaries: [] },
  ]);
  // Already parsed JSON, and numeric labels, are accepted too.
  assert.deepEqual(
    parseTiage({
      a: [
        ['x', -1],
        ['y', 1],
      ],
    }),
    [{ id: 'a', utterances: ['x', 'y'], boundaries: [1] }],
  );
});

test('parseTiage: refuses what is not the TIAGE format', () => {
  assert.throws(() => parseTiage('[]'), TypeError);
  assert.throws(() => parseTiage({ a: 'x' }), TypeError);
  assert.throws(() => parseTiage({ a: [['x']] }), TypeError);
  assert.throws(() => parseTiage({ a: [['x', '1']] }), RangeError);
  assert.throws(
    () =>
      parseTiage({
        a: [
          ['x', '-1'],
          ['y', '-1'],
        ],
      }),
    RangeError,
  );
  assert.throws(
    () =>
      parseTiage({
        a: [
          ['x', '-1'],
          ['y', '2'],
        ],
      }),
    RangeError,
  );
});
