import assert from 'node:assert/strict';
import { test } from 'node:test';
import { factRecords } from './facts.js';
import {
  evalSplitGate,
  nearDuplicateGate,
  outputUniqueness,
  realShareGate,
  runGates,
  schemaGate,
  typeBalance,
  uniquenessGate,
  validateAll,
} from './gates.js';
import { nearDuplicates } from './near-duplicates.js';
import type { ChatRecord, DatasetRecord, MemoryRecord, TrajectoryRecord } from './records.js';
import { validateRecords } from './validate.js';

const TOPICS = ['caching', 'sorting', 'parsing', 'testing', 'logging', 'retries', 'queues', 'indexes', 'hashing', 'streams'];
const VERBS = ['measure', 'refactor', 'document', 'benchmark', 'simplify'];

function chat(i: number, output?: string, tags: string[] = [], split: ChatRecord['split'] = 'train'): ChatRecord {
  const topic = TOPICS[i % TOPICS.length] as string;
  const verb = VERBS[Math.floor(i / TOPICS.length) % VERBS.length] as string;
  return {
    id: `chat-${i}`,
    type: 'chat',
    weight: 1,
    source: { conversationId: `c${i}`, nodeIds: [`n${i}`] },
    split,
    tags,
    instruction: '',
    input: `User: How should I ${verb} ${topic} in service number ${i}?`,
    output: output ?? `For ${topic}, ${verb} it step ${i}: start with the hot path ${i * 7}, then check ${topic} metrics.`,
  };
}

function trajectory(i: number, tags: string[] = [], split: TrajectoryRecord['split'] = 'train'): TrajectoryRecord {
  return {
    id: `traj-${i}`,
    type: 'trajectory',
    weight: 1.2,
    source: { conversationId: `t${i}`, nodeIds: [`a${i}`, `b${i}`] },
    split,
    tags,
    context: [{ role: 'user', text: `Draft ${i}: a plan for ${TOPICS[i % 10]} with ${i} steps`, nodeId: `a${i}` }],
    next: { role: 'assistant', text: `Refined draft ${i} of ${TOPICS[(i + 3) % 10]}, now ${i * 3} steps shorter`, nodeId: `b${i}` },
    relation: 'refines',
    ageDays: i,
  };
}

/** A good dataset: unique outputs, a 10 % eval split with the three hard cases. */
function goodSet(): DatasetRecord[] {
  const records: DatasetRecord[] = [];
  for (let i = 0; i < 40; i++) records.push(chat(i));
  for (let i = 0; i < 40; i++) records.push(trajectory(i));
  records.push(chat(100, undefined, ['ambiguity'], 'eval'), chat(101, undefined, ['follow-up'], 'eval'));
  records.push(trajectory(100, ['conflicting-priorities'], 'eval'), trajectory(101, [], 'eval'), chat(102, undefined, [], 'eval'));
  records.push({
    id: 'qa-1',
    type: 'qa',
    weight: 1,
    source: { conversationId: 'q', nodeIds: ['q1'] },
    split: 'train',
    question: 'What is a B-tree?',
    answer: 'A balanced search tree with many keys per node.',
  });
  return records;
}

test('the gates pass on a good set', () => {
  const records = goodSet();
  const outcome = runGates(records);
  assert.deepEqual(
    outcome.gates.map((g) => [g.name, g.passed, g.reason]),
    [
      ['schema', true, undefined],
      ['uniqueness', true, undefined],
      ['near-duplicates', true, undefined],
      ['type-balance', true, undefined],
      ['eval-split', true, undefined],
      ['real-share', true, undefined],
    ],
  );
  assert.equal(outcome.passed, true);
  assert.deepEqual(outcome.warnings, []);
});

test('schema gate: fails on invalid records and on an empty dataset, with the messages', async () => {
  const bad = [...goodSet(), { ...chat(7), output: '' }];
  const gate = schemaGate(validateAll(bad));
  assert.equal(gate.passed, false);
  assert.equal(gate.reason, '1 of 87 records fail their schema: line 87: /output must NOT have fewer than 1 characters');
  const fromFile = schemaGate(await validateRecords(['{"type":', JSON.stringify(chat(1))]));
  assert.equal(fromFile.passed, false);
  assert.match(fromFile.reason ?? '', /^1 of 2 records fail their schema: line 1: malformed JSON/);
  assert.deepEqual(schemaGate(await validateRecords([])).reason, 'the dataset has no records');
  assert.equal(runGates(bad).passed, false);
});

test('uniqueness gate: fails when one type repeats its outputs, naming the type and the ratio', () => {
  const records: DatasetRecord[] = goodSet().filter((r) => r.type !== 'chat');
  for (let i = 0; i < 20; i++) records.push(chat(i, i < 2 ? `Answer ${i}` : 'Sure, happy to help!'));
  records.push(chat(30, 'SURE — happy   to help'));
  const gate = uniquenessGate(records);
  assert.equal(gate.passed, false);
  assert.equal(gate.reason, 'uniqueness 0.14 < 0.25 for type chat (3 distinct of 21 outputs)');
  assert.equal(uniquenessGate(records, { threshold: 0.1 }).passed, true);
  assert.equal(uniquenessGate(goodSet()).passed, true);
});

test("near-duplicates: what de-duplication left, per type: records repeating another target, over each type's allowance", () => {
  const base = goodSet();
  const near: DatasetRecord[] = [];
  for (let i = 0; i < 12; i++) {
    // the same answer to another question: its target repeats (once exactly, once with a word added)
    const original = base[i] as ChatRecord;
    near.push({
      ...original,
      id: `copy-${i}`,
      input: `User: another question ${i}`,
      output: `${original.output.replace(/metrics\.$/, 'metrics!')} `,
    });
    near.push({
      ...original,
      id: `near-${i}`,
      input: `User: a third question ${i}`,
      output: original.output.replace('metrics.', 'metric.'),
    });
  }
  const records = [...base, ...near];
  const found = nearDuplicates(records);
  const pairOf = (a: string, b: string) => found.pairs.some((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a));
  assert.ok(pairOf('chat-0', 'copy-0'), 'identical after normalisation');
  assert.ok(pairOf('chat-0', 'near-0'), 'a small edit');
  assert.ok(!pairOf('chat-0', 'chat-1'), 'different records are not pairs');
  assert.equal(found.duplicated, 24, 'the first of each three is kept, the two others repeat it');
  assert.equal(found.byType.chat?.duplicated, 24);
  assert.ok(found.pairs.every((p) => p.jaccard >= 0.9 && p.type === 'chat'));

  const gate = nearDuplicateGate(records);
  assert.equal(gate.passed, false);
  assert.equal(gate.reason, "24 of 67 chat records (35.8%) repeat another's target, more than 5.0%");
  assert.equal(nearDuplicateGate(records, { limits: { chat: { maxShare: 0.4 } } }).passed, true);
  assert.equal(nearDuplicateGate(records, { exemptTypes: ['chat'] }).passed, true);
  assert.equal(nearDuplicateGate(base).passed, true);
  assert.equal(nearDuplicates(base).pairCount, 0);
  // Two repeats in a small set are no generator bug; trajectories may repeat 10 % of their targets.
  assert.equal(nearDuplicateGate([...base, ...near.slice(0, 2)]).passed, true);
  const trajectories = base.filter((r): r is TrajectoryRecord => r.type === 'trajectory');
  const repeatedTargets = trajectories
    .slice(0, 4)
    .map((r, i) => ({ ...r, id: `again-${i}`, context: [{ ...r.context[0], text: `other ${i}` }] }));
  assert.equal(nearDuplicateGate([...base, ...repeatedTargets] as DatasetRecord[]).passed, true);
  assert.equal(
    nearDuplicateGate([
      ...base,
      ...repeatedTargets,
      ...repeatedTargets.map((r) => ({ ...r, id: `${r.id}b`, context: [{ ...r.context[0], text: `more ${r.id}` }] })),
    ] as DatasetRecord[]).passed,
    false,
  );
  // Memory answers repeat by design: only exact repeats of a whole memory record count.
  const memory = factRecords([{ subject: 'my dog', relation: 'name', value: 'Pixel' }]);
  assert.equal(nearDuplicates(memory).duplicated, 0);
  const again = memory.slice(0, 3).map((r) => ({ ...r, id: `${r.id}-again` }));
  assert.equal(nearDuplicates([...memory, ...again]).byType.memory?.duplicated, 3);
  assert.equal(nearDuplicateGate([...memory, ...again]).passed, false);
});

test('type balance: warns (passes) when one type is more than 80 %', () => {
  const records: DatasetRecord[] = [];
  for (let i = 0; i < 90; i++) records.push(chat(i));
  for (let i = 0; i < 10; i++) records.push(trajectory(i));
  const gate = typeBalance(records);
  assert.equal(gate.passed, true);
  assert.equal(gate.reason, 'type chat is 90.0% of records (more than 80.0%)');
  assert.deepEqual(gate.details.counts, { chat: 90, trajectory: 10 });
  assert.equal(typeBalance(goodSet()).reason, undefined);
  const outcome = runGates(records);
  assert.ok(outcome.warnings.includes('type-balance: type chat is 90.0% of records (more than 80.0%)'));
});

test('eval split gate: needs ≥ 5 records or ≥ 1 %, and each hard case when there are chat or trajectory records', () => {
  assert.equal(evalSplitGate(goodSet()).passed, true);
  const noEval = goodSet().map((r) => ({ ...r, split: 'train' as const }));
  const gate = evalSplitGate(noEval);
  assert.equal(gate.passed, false);
  assert.equal(
    gate.reason,
    'the eval split has 0 records; it needs 1 (5 records or 1.0% of 86); the eval split has no hard cases tagged ambiguity, conflicting-priorities, follow-up',
  );
  // Follow-ups exist in the data but none reached the eval split: that fails.
  const missingFollowUp = goodSet().map((r) => (r.tags?.includes('follow-up') && r.split === 'eval' ? { ...r, tags: [] } : r));
  missingFollowUp.push(chat(900, undefined, ['follow-up'], 'train'));
  assert.equal(evalSplitGate(missingFollowUp).reason, 'the eval split has no hard cases tagged follow-up');
  // No follow-up anywhere in the data: a warning about the data, not a failed split.
  const noFollowUps = goodSet().map((r) => (r.tags?.includes('follow-up') ? { ...r, tags: [] } : r));
  assert.deepEqual(
    { passed: evalSplitGate(noFollowUps).passed, reason: evalSplitGate(noFollowUps).reason },
    { passed: true, reason: 'the data has no hard cases tagged follow-up' },
  );
  // 1000 records: 1 % is 10, so 5 eval records are enough; 4 are not.
  const big: DatasetRecord[] = [];
  for (let i = 0; i < 1000; i++)
    big.push(
      chat(i, undefined, i < 3 ? [['ambiguity', 'follow-up', 'conflicting-priorities'][i] as string] : [], i < 4 ? 'eval' : 'train'),
    );
  assert.match(evalSplitGate(big).reason ?? '', /^the eval split has 4 records; it needs 5/);
  (big[4] as ChatRecord).split = 'eval';
  assert.equal(evalSplitGate(big).passed, true);
  // Memory records only: held-out phrasings are the eval split, and no hard cases are needed.
  const memory = factRecords([{ subject: 'my dog', relation: 'name', value: 'Pixel' }]);
  assert.equal(evalSplitGate(memory).passed, true);
  assert.equal(evalSplitGate(memory, { splits: ['eval'] }).passed, false);
});

test('real share: fails below 35 %, warns below 50 % of the records a trainer sees; held-out phrasings do not count', () => {
  const memory = factRecords([{ subject: 'my dog', relation: 'name', value: 'Pixel' }]);
  const train = memory.filter((r) => r.split !== 'heldout');
  const heldout = memory.filter((r) => r.split === 'heldout');
  const real = (n: number) => Array.from({ length: n }, (_, i) => chat(i));
  const gate = (records: DatasetRecord[]) => realShareGate(records);
  const m = train.length;
  assert.equal(gate([...real(m), ...memory]).passed, true);
  assert.equal(gate([...real(m), ...memory]).reason, undefined, 'half real, half synthetic: no warning');
  const warned = gate([...real(m - 1), ...train]);
  assert.equal(warned.passed, true);
  assert.match(
    warned.reason ?? '',
    /^\d+\.\d% of the training records are from conversations \(\d+ real, \d+ synthetic memory records\), less than 50\.0%$/,
  );
  const failed = gate([...real(Math.floor(m / 3)), ...train]);
  assert.equal(failed.passed, false);
  assert.match(failed.reason ?? '', /less than 35\.0%$/);
  assert.equal(realShareGate([...real(Math.floor(m / 3)), ...train], { minShare: 0.2, warnShare: 0.2 }).reason, undefined);
  assert.equal(gate([...real(1), ...heldout]).passed, true, 'held-out phrasings are the recall eval, not training');
  assert.equal(gate([] as MemoryRecord[]).passed, false);
});

test('generated memory records pass every gate but the real share', () => {
  const records = factRecords([
    { subject: 'my dog', relation: 'name', value: 'Pixel' },
    { subject: 'I', relation: 'live in', value: 'Utrecht' },
    { subject: 'my partner', relation: 'birthday', value: '12 March' },
    { subject: 'I', relation: 'favourite colour', value: 'green' },
  ]);
  const outcome = runGates(records);
  const byName = Object.fromEntries(outcome.gates.map((g) => [g.name, g]));
  assert.deepEqual(
    outcome.gates.filter((g) => !g.passed).map((g) => g.name),
    ['real-share'],
  );
  assert.equal(runGates(records, { realShare: { minShare: 0, warnShare: 0 } }).passed, true);
  const uniqueness = outputUniqueness(records).memory;
  assert.ok(uniqueness && uniqueness.ratio >= 0.25, `memory answers: ${uniqueness?.distinct} distinct of ${uniqueness?.total}`);
  assert.equal(byName['type-balance']?.reason, 'type memory is 100.0% of records (more than 80.0%)');
});

test('eval split: a history of one conversation passes with a warning (no conversation can go to eval without sharing its turns)', () => {
  const one = (id: string, type: 'chat' | 'trajectory') =>
    ({
      id,
      type,
      weight: 1,
      split: 'train',
      tags: ['follow-up'],
      source: { conversationId: 'c1', nodeIds: [id] },
    }) as unknown as DatasetRecord;
  const gate = evalSplitGate([one('a', 'chat'), one('b', 'trajectory'), one('c', 'chat')]);
  assert.equal(gate.passed, true);
  assert.match(gate.reason ?? '', /one conversation: no eval split can be drawn by conversation/);
  const two = [one('a', 'chat'), { ...one('b', 'chat'), source: { conversationId: 'c2', nodeIds: ['b'] } } as DatasetRecord];
  assert.equal(evalSplitGate(two).passed, false, 'two conversations and no eval split still fail');
});
