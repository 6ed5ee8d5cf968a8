import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExportSource, Message } from '@trajectory/contracts';
import { relationDistribution, sampleShapeRow, turnPairSpan, turnPairs } from './report.js';

test('turn pairs: every answer with the question it answers, branches included', () => {
  const m = (id: string, parentId: string, role: string, text = id) => Message.fromPartial({ id, parentId, role, text });
  const pairs = turnPairs({
    id: 'c',
    source: ExportSource.EXPORT_SOURCE_CHATGPT,
    title: '',
    createdAt: undefined,
    updatedAt: undefined,
    currentLeafId: 'a2',
    sourceFile: '',
    messages: [
      m('s', '', 'system'),
      m('u1', 's', 'user'),
      m('a1', 'u1', 'assistant'),
      m('a1b', 'u1', 'assistant'),
      m('u2', 'a1', 'user'),
      m('a2', 'u2', 'assistant', ' '),
    ],
  });
  assert.deepEqual(
    pairs.map((p) => `${p.prompt.id}>${p.reply.id}`),
    ['u1>a1', 'u1>a1b'],
  );
  assert.deepEqual(sampleShapeRow('turn pairs', pairs.map(turnPairSpan)), {
    method: 'turn pairs',
    samples: 2,
    singleTurn: 2,
    multiTurn: 0,
    averageTurns: 2,
  });
});

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
