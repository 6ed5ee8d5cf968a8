import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dedupeRecords, findRepeats, jaccard, normaliseText, shingles, TRAINING_SIGNALS } from './dedupe.js';
import { factRecords } from './facts.js';
import type { ChatRecord, DatasetRecord, MemoryRecord, TrajectoryRecord } from './records.js';

const TOPICS = ['caching', 'sorting', 'parsing', 'testing', 'logging', 'retries', 'queues', 'indexes'];

function chat(id: string, input: string, output: string, weight = 1, conversationId = `c-${id}`): ChatRecord {
  return { id, type: 'chat', weight, source: { conversationId, nodeIds: [`n-${id}`] }, split: 'train', instruction: 'sys', input, output };
}

function trajectory(id: string, context: string[], next: string, weight = 1, conversationId = 'c'): TrajectoryRecord {
  return {
    id,
    type: 'trajectory',
    weight,
    source: { conversationId, nodeIds: [...context.map((_, i) => `${id}-${i}`), `${id}-next`] },
    split: 'train',
    context: context.map((text, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', text, nodeId: `${id}-${i}` })),
    next: { role: context.length % 2 === 0 ? 'user' : 'assistant', text: next, nodeId: `${id}-next` },
    relation: 'follows',
    ageDays: 1,
  };
}

/** A conversation's turns, long enough that windows share most of their text. */
const turnsOf = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => `Turn ${i} about ${TOPICS[i % TOPICS.length]}: ${'a long pasted paragraph that repeats. '.repeat(20)}`,
  );

test('normalisation and Jaccard', () => {
  assert.equal(normaliseText('  Hello,   World!  '), 'hello world');
  assert.equal(jaccard(shingles('the same text'), shingles('The same text!')), 1);
  assert.ok(jaccard(shingles('completely different'), shingles('nothing alike at all')) < 0.2);
});

test('overlapping trajectory windows are different signals; the same window twice is one', () => {
  const turns = turnsOf(8);
  // Sliding windows of three turns over one conversation: each has its own target.
  const windows = turns.slice(3).map((next, i) => trajectory(`w${i}`, turns.slice(i, i + 3), next));
  assert.equal(findRepeats(windows).repeats.length, 0, 'overlapping windows are the design');
  // The same window in a second (copied) conversation, and a branch that repeats a window with a trailing space.
  const copy = { ...(windows[1] as TrajectoryRecord), id: 'copy', weight: 0.5, source: { conversationId: 'other', nodeIds: ['x'] } };
  const branch = trajectory('branch', turns.slice(2, 5), `${turns[5]} `, 2);
  const { records, dropped, byType } = dedupeRecords([...windows, copy, branch]);
  assert.deepEqual(
    dropped.map((d) => [d.id, d.of, d.kind, d.origin]),
    [
      ['w2', 'branch', 'identical', 'same-conversation'],
      ['copy', 'w1', 'identical', 'other-conversation'],
    ],
    'the better-weighted record is kept: the branch (weight 2) over w2, w1 (weight 1) over its copy (0.5)',
  );
  assert.deepEqual(
    records.map((r) => r.id),
    ['w0', 'w1', 'w3', 'w4', 'branch'],
    'kept records stay in their order',
  );
  assert.deepEqual(byType, [
    {
      type: 'trajectory',
      before: 7,
      after: 5,
      dropped: 2,
      reasons: { 'identical, same-conversation': 1, 'identical, other-conversation': 1 },
    },
  ]);
});

test('chat: the same answer to another context is another signal; near-identical context and answer are one', () => {
  const output = `For caching, measure the hot path first, then check the cache hit rate. ${'Details follow. '.repeat(10)}`;
  const a = chat('a', 'User: How should I measure caching in service one?', output, 1.5);
  const sameAnswerOtherQuestion = chat('b', 'User: What is the first thing to do about a slow API?', output);
  const edited = chat('c', 'User: How should I measure caching in service one?', `${output} Done.`, 1, 'c-a');
  const found = findRepeats([sameAnswerOtherQuestion, edited, a]);
  assert.deepEqual(
    found.repeats.map((r) => [r.id, r.of, r.kind, r.origin]),
    [['c', 'a', 'near-identical', 'same-conversation']],
  );
  assert.ok((found.repeats[0]?.similarity ?? 0) >= 0.9 && (found.repeats[0]?.similarity ?? 1) < 1);
  assert.deepEqual(
    found.kept.map((r) => r.id),
    ['b', 'a'],
  );
});

test('memory: punctuation and typo variants are distinct phrasings; only exact copies repeat', () => {
  const memory = factRecords([{ subject: 'my dog', relation: 'name', value: 'Pixel' }]);
  const normalisedEqual = memory.filter((r, i) =>
    memory.some((o, j) => j !== i && normaliseText(o.question) === normaliseText(r.question)),
  );
  assert.ok(normalisedEqual.length > 0, 'the generator makes punctuation variants that normalise to the same text');
  assert.equal(findRepeats(memory).repeats.length, 0);
  const copy: MemoryRecord = { ...(memory[0] as MemoryRecord), id: 'copy' };
  const { dropped } = dedupeRecords([...memory, copy]);
  assert.equal(dropped.length, 1);
  assert.equal(dropped[0]?.origin, 'same-fact');
});

test('every dropped record names a kept one with the same signal, and no two kept records are the same signal', () => {
  const records: DatasetRecord[] = [];
  for (let i = 0; i < 300; i++) {
    const topic = TOPICS[i % TOPICS.length] as string;
    // 40 distinct answers, each given several times with small edits and to several questions
    const output = `Answer ${i % 40} on ${topic}: ${'keep the hot path small and measure it. '.repeat(3)}${i % 3 === 0 ? '' : ' '}`;
    records.push(chat(`r${i}`, `User: question ${i % 60} about ${topic}`, output, 1 + (i % 7) / 10));
  }
  const { records: kept, dropped } = dedupeRecords(records);
  assert.ok(dropped.length > 0);
  const byId = new Map(records.map((r) => [r.id, r]));
  const keptIds = new Set(kept.map((r) => r.id));
  const fields = (r: DatasetRecord) => TRAINING_SIGNALS.chat.fields(r).map((f) => shingles(f));
  for (const d of dropped) {
    assert.ok(keptIds.has(d.of), `${d.id} repeats ${d.of}, which is kept`);
    const [x, y] = [fields(byId.get(d.id) as DatasetRecord), fields(byId.get(d.of) as DatasetRecord)];
    assert.ok(
      x.every((f, i) => jaccard(f, y[i] as Set<number>) >= 0.9),
      `${d.id} and ${d.of} are the same signal`,
    );
    assert.ok((byId.get(d.of)?.weight ?? 0) >= (byId.get(d.id)?.weight ?? 0), 'the better-weighted one is kept');
  }
  assert.equal(findRepeats(kept).repeats.length, 0);
  assert.equal(kept.length + dropped.length, records.length);
});
