import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jaccard, LshIndex, SKETCH, SketchStore, shingleSet, sketchSimilarity, sketchTexts } from './minhash.js';

const words = (n: number, seed: number) => Array.from({ length: n }, (_, i) => `w${(i * 7919 + seed) % 100_003}`).join(' ');

test('a field sketch of a short text is its whole shingle set, so the estimate is exact', () => {
  const a = 'keep the hot path small';
  const b = 'keep the hot path smaller';
  const [sa, sb] = [sketchTexts([a]).fields[0] as Uint32Array, sketchTexts([b]).fields[0] as Uint32Array];
  assert.ok(shingleSet(a).size + shingleSet(b).size <= SKETCH);
  assert.equal(sketchSimilarity(sa, sb), jaccard(shingleSet(a), shingleSet(b)));
  assert.equal(sketchSimilarity(new Uint32Array(), new Uint32Array()), 1);
});

test('on long texts the estimate stays within a few standard deviations of the exact Jaccard', () => {
  const base = words(2_000, 1);
  for (const edited of [`${base} ${words(100, 2)}`, `${words(1_000, 3)} ${base.slice(0, base.length / 2)}`]) {
    const j = jaccard(shingleSet(base), shingleSet(edited));
    const est = sketchSimilarity(sketchTexts([base]).fields[0] as Uint32Array, sketchTexts([edited]).fields[0] as Uint32Array);
    assert.ok(Math.abs(est - j) < 5 * Math.sqrt((j * (1 - j)) / SKETCH) + 0.01, `estimate ${est} against ${j}`);
  }
});

test('the fields of one record are sketched apart; the signature is the same for the same texts', () => {
  const one = sketchTexts(['answer', 'question']);
  const swapped = sketchTexts(['question', 'answer']);
  assert.notDeepEqual(one.signature, swapped.signature);
  assert.deepEqual(sketchTexts(['answer', 'question']).signature, one.signature);
});

test('LSH buckets keep the first peers in their order, across growth', () => {
  const index = new LshIndex(3, 4);
  for (let item = 0; item < 5_000; item++) index.put(item % 1_000, item);
  assert.deepEqual(index.get(7), [7, 1_007, 2_007]);
  assert.deepEqual(index.get(0xffffffff), []);
});

test('the sketch store gives back each field of each item', () => {
  const store = new SketchStore();
  const at = Array.from({ length: 5_000 }, (_, i) => store.add([Uint32Array.of(i), new Uint32Array(i % 5).fill(i)]));
  assert.deepEqual([...store.field(at[4_321] as number, 0)], [4_321]);
  assert.deepEqual([...store.field(at[4_321] as number, 1)], [4_321]);
  assert.deepEqual([...store.field(at[4_320] as number, 1)], []);
});
