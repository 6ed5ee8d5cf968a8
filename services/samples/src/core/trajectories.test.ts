import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CognitiveNode, ConversationGraph } from '@trajectory/contracts';
import { DECAY_DAYS, RELATION_WEIGHTS, timeDecay, trajectorySamples } from './trajectories.js';

const node = (id: string, role: string, createdAt: string): CognitiveNode => ({
  id,
  conversationId: 'c',
  messageIds: [id],
  role,
  text: `text ${id}`,
  createdAt: new Date(createdAt),
  tags: [],
  onCurrentBranch: true,
  sentenceStart: 0,
  sentenceEnd: 1,
});

const F = 'follows';
const R = 'responds';
// u1 <- a1 <- u2 <- a2 <- u3, and a regenerated a1b <- u1
const graph: ConversationGraph = {
  conversationId: 'c',
  title: 't',
  nodes: [
    node('u1', 'user', '2024-01-01T00:00:00Z'),
    node('a1', 'assistant', '2024-01-01T00:01:00Z'),
    node('a1b', 'assistant', '2024-01-01T00:02:00Z'),
    node('u2', 'user', '2024-01-01T00:03:00Z'),
    node('a2', 'assistant', '2024-01-01T00:04:00Z'),
    node('u3', 'user', '2024-01-01T00:05:00Z'),
  ],
  edges: [
    { fromId: 'a1', toId: 'u1', relation: F, confidence: 1, tags: [] },
    { fromId: 'a1', toId: 'u1', relation: R, confidence: 1, tags: [] },
    { fromId: 'a1b', toId: 'u1', relation: F, confidence: 1, tags: [] },
    { fromId: 'a1b', toId: 'u1', relation: R, confidence: 1, tags: [] },
    { fromId: 'u2', toId: 'a1', relation: F, confidence: 1, tags: [] },
    { fromId: 'a2', toId: 'u2', relation: F, confidence: 1, tags: [] },
    { fromId: 'a2', toId: 'u2', relation: R, confidence: 1, tags: [] },
    { fromId: 'u3', toId: 'a2', relation: F, confidence: 1, tags: [] },
  ],
  chains: [],
};

test('each node with a past is a target; context is its own branch, at most contextSize long', () => {
  const asOf = new Date('2024-01-01T00:05:00Z');
  const samples = trajectorySamples(graph, { asOf, contextSize: 3 });
  const byTarget = new Map(samples.map((s) => [s.next?.nodeId, s]));
  assert.deepEqual([...byTarget.keys()], ['a1', 'a1b', 'u2', 'a2', 'u3']);
  assert.deepEqual(
    byTarget.get('u3')?.context.map((t) => t.nodeId),
    ['a1', 'u2', 'a2'],
  );
  assert.deepEqual(
    byTarget.get('a1b')?.context.map((t) => t.nodeId),
    ['u1'],
  );
  assert.equal(byTarget.get('a2')?.relation, 'responds');
  assert.equal(byTarget.get('u3')?.relation, 'follows');
  assert.deepEqual(byTarget.get('u2')?.messages.at(-1), { role: 'user', content: 'text u2' });
  assert.equal(new Set(samples.map((s) => s.id)).size, samples.length);
});

test('weight = relation weight x e^(-age_days/730)', () => {
  const asOf = new Date(new Date('2024-01-01T00:04:00Z').getTime() + DECAY_DAYS * 86_400_000);
  const a2 = trajectorySamples(graph, { asOf, contextSize: 3 }).find((s) => s.next?.nodeId === 'a2');
  assert.ok(a2);
  assert.ok(Math.abs(a2.ageDays - DECAY_DAYS) < 1e-9);
  assert.ok(Math.abs(a2.weight - (RELATION_WEIGHTS[R] ?? 0) * Math.exp(-1)) < 1e-12);
  assert.equal(timeDecay(undefined, asOf), 1);
  assert.equal(timeDecay(new Date('2030-01-01'), asOf), 1, 'a future timestamp does not weigh more than now');
});
