import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConversationGraph, Edge } from '@trajectory/contracts';
import { conversationRecords, conversationTurns, type RecordOptions, turnPairSpans } from './build.js';
import { BRANCHED_GRAPH, node } from './fixtures.test-helper.js';
import type { ChatRecord, DatasetRecord, KnowledgeRecord, PreferenceRecord, QaRecord } from './records.js';
import { sampleShapeRow } from './report.js';
import { timeDecay } from './trajectories.js';

const options: RecordOptions = {
  referenceDate: new Date('2026-01-01T00:00:00Z'),
  contextSize: 3,
  targetRoles: ['user', 'assistant'],
  systemPrompt: 'You are my second brain.',
};
const ofType = <T extends DatasetRecord>(records: DatasetRecord[], type: T['type']) => records.filter((r): r is T => r.type === type);

test('chat records: 1-3 previous turns as User:/Assistant: lines, the next assistant turn as output', () => {
  const chats = ofType<ChatRecord>(conversationRecords(BRANCHED_GRAPH, options), 'chat');
  const a2 = chats.find((c) => c.output === 'text a2');
  assert.ok(a2);
  assert.equal(a2.input, 'User: text u1\nAssistant: text a1\nUser: text u2');
  assert.equal(a2.instruction, 'You are my second brain.');
  assert.deepEqual(a2.source, { conversationId: 'c', nodeIds: ['u1', 'a1', 'u2', 'a2'] });
  const decay = timeDecay(new Date('2024-01-01T00:04:00Z'), options.referenceDate);
  assert.ok(Math.abs(a2.weight - 2 * decay) < 1e-12, 'a revised answer weighs like its refines relation');
  assert.deepEqual(chats.map((c) => c.output).sort(), ['text a1', 'text a1b', 'text a2']);
  assert.ok(chats.every((c) => c.input.split('\n').length <= 3));
});

test('a node-split message is one turn: its nodes are joined in sentence order', () => {
  const graph: ConversationGraph = {
    conversationId: 'split',
    title: '',
    nodes: [
      node('q', 'user', '2025-01-01T00:00:00Z', { text: 'How do I cache builds?', tags: ['question'] }),
      node('p1', 'assistant', '2025-01-01T00:01:00Z', {
        messageIds: ['m-a'],
        text: 'First, key the cache.',
        sentenceStart: 0,
        sentenceEnd: 1,
      }),
      node('p2', 'assistant', '2025-01-01T00:01:00Z', { messageIds: ['m-a'], text: 'Next, restore it.', sentenceStart: 1, sentenceEnd: 2 }),
    ],
    edges: [
      { fromId: 'p1', toId: 'q', relation: 'follows', confidence: 1, tags: [] },
      { fromId: 'p1', toId: 'q', relation: 'responds', confidence: 1, tags: [] },
      { fromId: 'p2', toId: 'p1', relation: 'follows', confidence: 1, tags: [] },
    ],
    chains: [],
  };
  const records = conversationRecords(graph, options);
  assert.deepEqual(
    ofType<ChatRecord>(records, 'chat').map((c) => c.output),
    ['First, key the cache.\n\nNext, restore it.'],
  );
  const [qa] = ofType<QaRecord>(records, 'qa');
  assert.equal(qa?.question, 'How do I cache builds?');
  assert.equal(qa?.answer, 'First, key the cache.\n\nNext, restore it.');
  // Trajectories still predict node by node, across the message.
  assert.deepEqual(
    ofType(records, 'trajectory').map((r) => (r.type === 'trajectory' ? r.next.nodeId : '')),
    ['p1', 'p2'],
  );
});

test('preference pairs from a regenerated answer: chosen is the branch the user continued', () => {
  const prefs = ofType<PreferenceRecord>(conversationRecords(BRANCHED_GRAPH, options), 'preference');
  assert.equal(prefs.length, 1);
  assert.deepEqual(
    { prompt: prefs[0]?.prompt, chosen: prefs[0]?.chosen, rejected: prefs[0]?.rejected },
    { prompt: 'text u1', chosen: 'text a1', rejected: 'text a1b' },
  );
});

test('knowledge records: what a refinement chain settled on', () => {
  const graph: ConversationGraph = {
    ...BRANCHED_GRAPH,
    nodes: [...BRANCHED_GRAPH.nodes, node('a3', 'assistant', '2024-01-01T00:06:00Z', { text: 'The ThinkPad T14 with 16 GB.' })],
    edges: [...BRANCHED_GRAPH.edges, { fromId: 'a3', toId: 'u3', relation: 'follows', confidence: 1, tags: [] } satisfies Edge],
  };
  const [knowledge, ...rest] = ofType<KnowledgeRecord>(conversationRecords(graph, options), 'knowledge');
  assert.equal(rest.length, 0);
  assert.equal(knowledge?.topic, 'text u1');
  assert.equal(knowledge?.content, 'The ThinkPad T14 with 16 GB.', 'the answer to the restated question');
  assert.ok(knowledge?.tags?.includes('chain:ch'));
  // Without an answer after the convergence, the last revision is what was settled.
  const [open] = ofType<KnowledgeRecord>(conversationRecords(BRANCHED_GRAPH, options), 'knowledge');
  assert.equal(open?.content, 'text a2');
});

test('hard cases are tagged (the eval split draws them: split.test.ts)', () => {
  const records = conversationRecords(BRANCHED_GRAPH, options);
  const tagged = (kind: string) => records.filter((r) => r.tags?.includes(kind));
  assert.ok(tagged('follow-up').length > 0);
  assert.ok(tagged('conflicting-priorities').length > 0, 'the pushback turn u2 contrasts a1');
  assert.ok(tagged('ambiguity').length > 0, 'prompts of three words are terse');
});

test('turn pairs, the baseline: every answer with the user turn it answers, branches included, empty ones left out', () => {
  const graph: ConversationGraph = {
    ...BRANCHED_GRAPH,
    nodes: [node('s', 'system', '2023-12-31T23:59:00Z'), ...BRANCHED_GRAPH.nodes.map((n) => (n.id === 'a2' ? { ...n, text: ' ' } : n))],
    edges: [...BRANCHED_GRAPH.edges, { fromId: 'u1', toId: 's', relation: 'follows', confidence: 1, tags: [] }],
  };
  const spans = turnPairSpans(conversationTurns(graph).turns);
  assert.deepEqual(
    spans.map((p) => `${p.contextMessageIds.join()}>${p.targetMessageIds.join()}`),
    ['m-u1>m-a1', 'm-u1>m-a1b'],
  );
  assert.deepEqual(sampleShapeRow('turn pairs', spans), { method: 'turn pairs', samples: 2, singleTurn: 2, multiTurn: 0, averageTurns: 2 });
});
