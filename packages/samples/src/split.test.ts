import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConversationGraph } from '@trajectory/contracts';
import { conversationRecords, type RecordOptions } from './build.js';
import { BRANCHED_GRAPH } from './fixtures.test-helper.js';
import type { DatasetRecord, MemoryRecord } from './records.js';
import { assignEvalSplit, HARD_CASES, turnTexts } from './split.js';

const options: RecordOptions = {
  referenceDate: new Date('2026-01-01T00:00:00Z'),
  contextSize: 3,
  targetRoles: ['user', 'assistant'],
  systemPrompt: 'You are my second brain.',
};

/** BRANCHED_GRAPH as conversation `c<i>`, its own node ids and texts (a regenerated answer: one preference pair). */
function conversation(i: number, text = (id: string) => `c${i} ${id} terse`): ConversationGraph {
  const id = (n: string) => `c${i}-${n}`;
  return {
    ...BRANCHED_GRAPH,
    conversationId: `c${i}`,
    nodes: BRANCHED_GRAPH.nodes.map((n) => ({
      ...n,
      id: id(n.id),
      conversationId: `c${i}`,
      messageIds: [id(`m-${n.id}`)],
      text: text(n.id),
    })),
    edges: BRANCHED_GRAPH.edges.map((e) => ({ ...e, fromId: id(e.fromId), toId: id(e.toId) })),
    chains: BRANCHED_GRAPH.chains.map((c) => ({ ...c, id: id(c.id), conversationId: `c${i}`, nodeIds: c.nodeIds.map(id) })),
  };
}
const recordsOf = (graphs: ConversationGraph[]) => graphs.flatMap((g) => conversationRecords(g, options));
const memory = (i: number, split: 'train' | 'heldout'): MemoryRecord => ({
  id: `mem-${i}`,
  type: 'memory',
  weight: 1,
  split,
  source: { factId: 'f1' },
  subject: 'I',
  relation: 'live in',
  value: 'Lisbon',
  question: `where do i live ${i}?`,
  answer: 'Lisbon.',
  kind: 'fact',
  system: '',
});
const conversationOf = (r: DatasetRecord) => ('conversationId' in r.source ? r.source.conversationId : undefined);
const nodesOf = (records: DatasetRecord[]) => new Set(records.flatMap((r) => ('nodeIds' in r.source ? r.source.nodeIds : [])));

test('whole conversations go to eval: no eval record shares a node or a turn text with a training record', () => {
  const records = recordsOf(Array.from({ length: 40 }, (_, i) => conversation(i)));
  const summary = assignEvalSplit(records, { evalShare: 0.1 });
  const evalRecords = records.filter((r) => r.split === 'eval');
  const train = records.filter((r) => r.split === 'train');
  assert.ok(evalRecords.length > 0 && train.length > 0);
  const evalConversations = new Set(evalRecords.map(conversationOf));
  assert.ok(
    train.every((r) => !evalConversations.has(conversationOf(r))),
    'a conversation is on one side only',
  );
  const trainNodes = nodesOf(train);
  assert.ok([...nodesOf(evalRecords)].every((n) => !trainNodes.has(n)));
  const trainTexts = new Set(train.flatMap(turnTexts));
  assert.ok(evalRecords.flatMap(turnTexts).every((t) => !trainTexts.has(t)));
  assert.equal(summary.sharedTurns, 0);
  assert.equal(summary.evalConversations, evalConversations.size);
  assert.equal(summary.evalRecords, evalRecords.length);
  assert.match(summary.method, /^by conversation: \d+ of 40 conversations/);
});

test('the budget: evalShare of the conversation records, capped by evalMaxRecords; hard cases and a preference pair first', () => {
  const records = recordsOf(Array.from({ length: 60 }, (_, i) => conversation(i)));
  const perConversation = records.length / 60;
  const capped = structuredClone(records);
  const summary = assignEvalSplit(capped, { evalShare: 0.5, evalMaxRecords: 3 * perConversation });
  assert.equal(summary.target, 3 * perConversation);
  assert.equal(capped.filter((r) => r.split === 'eval').length, 3 * perConversation);
  for (const kind of [...HARD_CASES, 'preference']) assert.ok((summary.kinds[kind] ?? 0) > 0, kind);
  assert.ok(
    capped.some((r) => r.split === 'eval' && r.type === 'preference'),
    'pairs in eval when two conversations have them',
  );
  assert.ok(
    capped.some((r) => r.split === 'train' && r.type === 'preference'),
    'and pairs left to train',
  );

  const share = structuredClone(records);
  const byShare = assignEvalSplit(share, { evalShare: 0.1 });
  assert.equal(byShare.target, Math.round(0.1 * records.length));
  assert.ok(byShare.evalRecords <= byShare.target);
});

test('deterministic, and a different seed draws differently', () => {
  const graphs = Array.from({ length: 30 }, (_, i) => conversation(i));
  const draw = (seed?: string) => {
    const records = recordsOf(graphs);
    assignEvalSplit(records, { evalShare: 0.1, ...(seed ? { seed } : {}) });
    return records.filter((r) => r.split === 'eval').map((r) => r.id);
  };
  assert.deepEqual(draw(), draw());
  assert.notDeepEqual(draw(), draw('another'));
});

test('conversations that share a turn text go together; short texts ("thanks") join nothing', () => {
  const pasted = 'How do I make my sourdough rise higher in a cold kitchen?';
  // c0 and c1 open with the same pasted question; c2 and c3 only share a short reply.
  const graphs = [
    conversation(0, (id) => (id === 'u1' ? pasted : `c0 ${id} with enough text to count`)),
    conversation(1, (id) => (id === 'u1' ? pasted : `c1 ${id} with enough text to count`)),
    conversation(2, (id) => (id === 'u3' ? 'Thanks!' : `c2 ${id} with enough text to count`)),
    conversation(3, (id) => (id === 'u3' ? 'Thanks!' : `c3 ${id} with enough text to count`)),
    ...Array.from({ length: 8 }, (_, i) => conversation(i + 4)),
  ];
  const records = recordsOf(graphs);
  const summary = assignEvalSplit(records, { evalShare: 0.5 });
  assert.equal(summary.groups, 11);
  const side = (cid: string) => new Set(records.filter((r) => conversationOf(r) === cid).map((r) => r.split));
  assert.deepEqual(side('c0'), side('c1'));
  assert.equal(side('c0').size, 1);
});

test('training keeps a conversation: one conversation alone is never drawn; memory records never are', () => {
  const records: DatasetRecord[] = [...recordsOf([conversation(0)]), memory(1, 'train'), memory(2, 'heldout')];
  const summary = assignEvalSplit(records, { evalShare: 0.5 });
  assert.equal(summary.evalRecords, 0);
  assert.ok(records.every((r) => r.split !== 'eval'));
  assert.equal(records.find((r) => r.id === 'mem-2')?.split, 'heldout');

  const two = recordsOf([conversation(0), conversation(1)]);
  assignEvalSplit(two, { evalShare: 0.9 });
  const drawn = new Set(two.filter((r) => r.split === 'eval').map(conversationOf));
  assert.equal(drawn.size, 1, 'one of two: the other stays in training');
  assert.ok(
    two.some((r) => r.split === 'train' && r.type === 'preference'),
    'the last conversation with pairs trains',
  );
});

test('eval share 0: no eval split', () => {
  const records = recordsOf(Array.from({ length: 5 }, (_, i) => conversation(i)));
  const summary = assignEvalSplit(records, { evalShare: 0 });
  assert.equal(summary.evalRecords, 0);
  assert.match(summary.method, /no eval split/);
});
