import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BRANCHED_GRAPH as graph } from './fixtures.test-helper.js';
import { DECAY_DAYS, RELATION_WEIGHTS, timeDecay, trajectoryRecords } from './trajectories.js';

const referenceDate = new Date('2026-01-01T00:00:00Z');
const both = { referenceDate, contextSize: 3, targetRoles: ['user', 'assistant'] };

test('the default weights are the issue table: iteration_final 2.5, refines 2.0, ... follows 1.0', () => {
  assert.deepEqual(
    { ...RELATION_WEIGHTS },
    {
      follows: 1,
      responds: 1,
      iteration_final: 2.5,
      refines: 2,
      restarts: 1.3,
      contrasts: 1,
      derives: 1.5,
      hypothesizes: 1.3,
      speculates: 1.5,
      clarifies: 1,
    },
  );
});

test('time decay is e^(-age/730) from the recorded reference date; no time means no decay', () => {
  assert.equal(DECAY_DAYS, 730);
  const twoYears = new Date(referenceDate.getTime() - 730 * 86_400_000);
  assert.ok(Math.abs(timeDecay(twoYears, referenceDate) - Math.exp(-1)) < 1e-12);
  assert.ok(Math.abs(timeDecay(twoYears, referenceDate, 365) - Math.exp(-2)) < 1e-12);
  assert.equal(timeDecay(undefined, referenceDate), 1);
  assert.equal(timeDecay(new Date('2030-01-01'), referenceDate), 1, 'a node after the reference date is not boosted');
});

test('samples [n(t-2), n(t-1), n(t)] -> n(t+1) cross turns; a branch sees only its own past', () => {
  const records = trajectoryRecords(graph, both);
  const byTarget = new Map(records.map((r) => [r.next.nodeId, r]));
  assert.deepEqual(
    byTarget.get('u3')?.context.map((c) => c.nodeId),
    ['a1', 'u2', 'a2'],
  );
  assert.deepEqual(
    byTarget.get('a1b')?.context.map((c) => c.nodeId),
    ['u1'],
  );
  assert.equal(byTarget.has('u1'), false, 'the first node has no context');
  assert.deepEqual(byTarget.get('u3')?.source, { conversationId: 'c', nodeIds: ['a1', 'u2', 'a2', 'u3'] });
  const narrow = trajectoryRecords(graph, { ...both, contextSize: 1 });
  assert.ok(narrow.every((r) => r.context.length === 1));
});

test('weights: the strongest relation into the target times the decay; iteration_final reaches the chain end', () => {
  const records = trajectoryRecords(graph, both);
  const u3 = records.find((r) => r.next.nodeId === 'u3');
  assert.equal(u3?.relation, 'iteration_final');
  const decay = timeDecay(new Date('2024-01-01T00:05:00Z'), referenceDate);
  assert.ok(Math.abs((u3?.weight ?? 0) - 2.5 * decay) < 1e-12);
  assert.equal(records.find((r) => r.next.nodeId === 'a2')?.relation, 'refines');
  assert.equal(records.find((r) => r.next.nodeId === 'a1')?.relation, 'responds', 'a tie with follows names the specific relation');
  const custom = trajectoryRecords(graph, { ...both, relationWeights: { iteration_final: 5 }, decayDays: 365 });
  const u3custom = custom.find((r) => r.next.nodeId === 'u3');
  assert.ok(Math.abs((u3custom?.weight ?? 0) - 5 * timeDecay(new Date('2024-01-01T00:05:00Z'), referenceDate, 365)) < 1e-12);
  assert.ok(Math.abs((u3?.ageDays ?? 0) - (referenceDate.getTime() - Date.parse('2024-01-01T00:05:00Z')) / 86_400_000) < 1e-9);
});

test('only the configured target roles are predicted', () => {
  assert.deepEqual(
    trajectoryRecords(graph, { ...both, targetRoles: ['assistant'] })
      .map((r) => r.next.nodeId)
      .sort(),
    ['a1', 'a1b', 'a2'],
  );
  assert.deepEqual(
    trajectoryRecords(graph, { ...both, targetRoles: ['user'] })
      .map((r) => r.next.nodeId)
      .sort(),
    ['u2', 'u3'],
  );
});
