import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isObject, mulberry32 } from './util.js';

test('mulberry32 gives the sequence generated data is pinned to', () => {
  const random = mulberry32(42);
  assert.deepEqual([random(), random(), random()], [0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  // Seeds are taken as unsigned 32-bit: -1 and 0xffffffff are one generator.
  assert.equal(mulberry32(-1)(), 0.8964226141106337);
  assert.equal(mulberry32(0xffffffff)(), 0.8964226141106337);
});

test('isObject: plain objects only', () => {
  assert.equal(isObject({}), true);
  assert.equal(isObject({ a: 1 }), true);
  for (const value of [null, undefined, [], 'x', 1, true]) assert.equal(isObject(value), false);
});
