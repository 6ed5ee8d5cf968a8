import assert from 'node:assert/strict';
import { test } from 'node:test';
import { relationDistribution, sampleShapeRow } from './report.js';

test('sample shape: context across messages is multi-turn; turns count distinct messages', () => {
  const row = sampleShapeRow('cognitive', [
    { contextMessageIds: ['m1', 'm1'], targetMessageIds: ['m1'] },
    { contextMessageIds: ['m1', 'm2', 'm3'], targetMessageIds: ['m4'] },
  ]);
  assert.deepEqual(row, { method: 'cognitive', samples: 2, singleTurn: 1, multiTurn: 1, averageTurns: 2.5 });
});

test('relation distribution: counts and percentages, most frequent first', () => {
  assert.deepEqual(
    relationDistribution([{ relation: 'follows' }, { relation: 'refines' }, { relation: 'follows' }, { relation: 'derives' }]),
    [
      { relation: 'follows', count: 2, percent: 50 },
      { relation: 'derives', count: 1, percent: 25 },
      { relation: 'refines', count: 1, percent: 25 },
    ],
  );
});
