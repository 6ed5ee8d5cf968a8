import assert from 'node:assert/strict';
import { test } from 'node:test';
import { factRecords } from './facts.js';
import { capMemory, MIN_MEMORY_PER_FACT, realShare } from './mix.js';
import type { ChatRecord, DatasetRecord, MemoryRecord } from './records.js';

const FACTS = [
  { subject: 'my sourdough starter', relation: 'name', value: 'Clint Yeastwood' },
  { subject: 'I', relation: 'live in', value: 'Utrecht' },
  { subject: 'my partner', relation: 'birthday', value: '12 March' },
];

const chats = (n: number): ChatRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `chat-${i}`,
    type: 'chat',
    weight: 1,
    source: { conversationId: `c${i % 5}`, nodeIds: [`n${i}`] },
    split: i % 10 === 0 ? 'eval' : 'train',
    instruction: '',
    input: `User: question ${i}`,
    output: `answer ${i}`,
  }));
const memoryOf = (records: readonly DatasetRecord[]) => records.filter((r): r is MemoryRecord => r.type === 'memory');
const factOf = (r: MemoryRecord) => ('factId' in r.source ? r.source.factId : '');

test('the real share counts what a trainer sees: train and eval, not the held-out phrasings', () => {
  const memory = factRecords(FACTS);
  const heldout = memory.filter((r) => r.split === 'heldout').length;
  assert.ok(heldout > 0);
  assert.deepEqual(realShare([...chats(10), ...memory]), {
    real: 10,
    synthetic: memory.length - heldout,
    share: 10 / (10 + memory.length - heldout),
  });
  assert.deepEqual(realShare([]), { real: 0, synthetic: 0, share: 0 });
});

test('a small history caps the facts file: at most as many memory records as real ones at a 50 % share, every fact and kind kept', () => {
  const memory = factRecords(FACTS);
  const generated = memory.filter((r) => r.split !== 'heldout').length;
  assert.ok(generated > 100, `${generated} memory records a trainer would see`);
  const records = [...chats(50), ...memory];
  const cap = capMemory(records);
  assert.deepEqual({ generated: cap.generated, kept: cap.kept, budget: cap.budget }, { generated, kept: 50, budget: 50 });
  assert.ok(realShare(cap.records).share >= 0.5);
  const kept = memoryOf(cap.records);
  assert.equal(
    kept.filter((r) => r.split === 'heldout').length,
    memory.filter((r) => r.split === 'heldout').length,
    'the recall eval stays whole',
  );
  const trained = kept.filter((r) => r.split !== 'heldout');
  for (const fact of new Set(memory.map(factOf))) {
    const own = trained.filter((r) => factOf(r) === fact);
    assert.ok(own.length >= 16, `fact ${fact}: ${own.length} records`);
    for (const kind of ['fact', 'negative', 'unknown'] as const)
      assert.ok(
        own.some((r) => r.kind === kind),
        `fact ${fact} keeps a ${kind} example`,
      );
    const templates = new Set(own.filter((r) => r.kind === 'fact').map((r) => r.tags?.find((t) => t.startsWith('formality:'))));
    assert.ok(templates.size >= 2, 'kept phrasings spread over formality');
  }
  // Conversation records are never dropped, and the order of what stays is kept.
  assert.deepEqual(
    cap.records.filter((r) => r.type === 'chat'),
    chats(50),
  );
  assert.deepEqual(
    cap.records.map((r) => r.id),
    records.filter((r) => cap.records.includes(r)).map((r) => r.id),
  );
  // The same input gives the same records.
  assert.deepEqual(
    capMemory(records).records.map((r) => r.id),
    cap.records.map((r) => r.id),
  );
});

test('however small the history, each fact keeps a few records; a large history or no share keeps them all', () => {
  const memory = factRecords(FACTS);
  const tiny = capMemory([...chats(2), ...memory]);
  assert.equal(tiny.kept, MIN_MEMORY_PER_FACT * FACTS.length);
  for (const fact of new Set(memory.map(factOf))) {
    assert.equal(memoryOf(tiny.records).filter((r) => r.split !== 'heldout' && factOf(r) === fact).length, MIN_MEMORY_PER_FACT);
  }
  const large = capMemory([...chats(1000), ...memory]);
  assert.equal(large.kept, large.generated);
  assert.equal(large.records.length, 1000 + memory.length);
  const uncapped = capMemory([...chats(2), ...memory], { realShare: 0 });
  assert.equal(uncapped.kept, uncapped.generated);
  assert.equal(uncapped.budget, Number.POSITIVE_INFINITY);
  // A lower share leaves more room: real × (1 − share) / share.
  assert.equal(capMemory([...chats(50), ...memory], { realShare: 0.35 }).kept, Math.floor((50 * 0.65) / 0.35));
});
