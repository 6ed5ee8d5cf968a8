import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BRANCHED_GRAPH as graph } from './fixtures.test-helper.js';
import type { DatasetRecord, MemoryRecord } from './records.js';
import { DECAY_DAYS, normaliseWeights, RELATION_WEIGHTS, timeDecay, trajectoryRecords, weightDistribution } from './trajectories.js';

const referenceDate = new Date('2026-01-01T00:00:00Z');
const both = { referenceDate, contextSize: 3, targetRoles: ['user', 'assistant'] };

test('the default weights: iteration_final 2.5, refines 2.0, ... follows 1.0', () => {
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

test('normalisation: the conversation records average 1.0, their ratios kept; memory records untouched; none keeps the rule', () => {
  // Two years old: every rule weight is e^-1 of its relation's, below 1.0 however strong the relation.
  const old = trajectoryRecords(graph, { ...both, referenceDate: new Date('2026-01-01T00:05:00Z') });
  assert.ok(old.every((r) => r.weight < 1 || r.relation === 'iteration_final'));
  const fact: MemoryRecord = {
    id: 'm',
    type: 'memory',
    weight: 1,
    split: 'train',
    source: { factId: 'f' },
    subject: 'I',
    relation: 'live in',
    value: 'Lisbon',
    question: 'where?',
    answer: 'Lisbon.',
    kind: 'fact',
    system: '',
  };
  const records: DatasetRecord[] = [...structuredClone(old), fact];
  const rule = old.map((r) => r.weight);
  const scale = normaliseWeights(records, 'mean');
  const conversation = records.filter((r) => r.type === 'trajectory');
  const mean = conversation.reduce((sum, r) => sum + r.weight, 0) / conversation.length;
  assert.ok(Math.abs(mean - 1) < 1e-12);
  for (const [i, r] of conversation.entries()) assert.ok(Math.abs(r.weight - (rule[i] ?? 0) * scale) < 1e-12, 'ratios kept');
  assert.equal(fact.weight, 1);
  const unscaled = structuredClone(old);
  assert.equal(normaliseWeights(unscaled, 'none'), 1);
  assert.deepEqual(
    unscaled.map((r) => r.weight),
    rule,
  );
});

test('the distribution: by relation (trajectories) or type, by year, a histogram, and the share above the mean', () => {
  const records = trajectoryRecords(graph, both);
  normaliseWeights(records, 'mean');
  const d = weightDistribution(records, (r) => (r.type === 'trajectory' && r.next.nodeId === 'a1' ? '2023' : '2024'));
  assert.ok(Math.abs(d.mean - 1) < 1e-12);
  assert.deepEqual(
    d.byRelation.map((x) => [x.name, x.records]),
    [
      ['trajectory: responds', 2],
      ['trajectory: contrasts', 1],
      ['trajectory: iteration_final', 1],
      ['trajectory: refines', 1],
    ],
  );
  const finalRow = d.byRelation.find((x) => x.name === 'trajectory: iteration_final');
  assert.equal(finalRow?.aboveMeanPercent, 100);
  assert.deepEqual(
    d.byYear.map((x) => [x.name, x.records]),
    [
      ['2023', 1],
      ['2024', 4],
    ],
  );
  assert.equal(
    d.histogram.reduce((sum, h) => sum + h.count, 0),
    records.length,
  );
  assert.equal(d.histogram[0]?.name, '< 0.25');
  assert.equal(d.histogram.at(-1)?.name, '≥ 3');
  const above = records.filter((r) => r.weight > 1).length;
  assert.ok(Math.abs(d.aboveMeanPercent - (100 * above) / records.length) < 1e-9);
});

test('the weight distribution of a whole history: a group of 200,000 records', () => {
  const one = trajectoryRecords(graph, {
    referenceDate: new Date('2024-01-01T00:00:00Z'),
    contextSize: 2,
    targetRoles: ['user', 'assistant'],
  })[0];
  assert.ok(one);
  const records = Array.from({ length: 200_000 }, (_, i) => ({ ...one, id: `r${i}`, weight: 1 + (i % 10) / 10 }));
  const d = weightDistribution(records, () => '2024');
  assert.deepEqual(
    d.byYear.map((row) => [row.name, row.records, row.min, row.max]),
    [['2024', 200_000, 1, 1.9]],
  );
});
