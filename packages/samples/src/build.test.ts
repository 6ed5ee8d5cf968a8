import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConversationGraph, Edge } from '@trajectory/contracts';
import { chatLine, conversationRecords, conversationTurns, type RecordOptions, turnPairSpans } from './build.js';
import { parseTurns } from './exports.js';
import { BRANCHED_GRAPH, edge, node } from './fixtures.test-helper.js';
import type { ChatRecord, DatasetRecord, KnowledgeRecord, PreferenceRecord, QaRecord } from './records.js';
import { sampleShapeRow } from './report.js';
import { timeDecay } from './trajectories.js';
import { validateRecord } from './validate.js';

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

test('tool calls, tool output and system messages are no chat turns: the answer after a tool replies to the user turn before it', () => {
  const graph: ConversationGraph = {
    conversationId: 'tools',
    title: '',
    nodes: [
      node('s', 'system', '2025-01-01T00:00:00Z', { text: 'You are a helpful assistant.' }),
      node('u1', 'user', '2025-01-01T00:01:00Z', {
        text: 'What does the Django Oscar documentation say about orders?',
        tags: ['question'],
      }),
      node('c1', 'assistant', '2025-01-01T00:02:00Z', { text: '# Open the docs.\nopen_url("https://django-oscar.readthedocs.io")' }),
      node('t1', 'tool', '2025-01-01T00:03:00Z', {
        text: 'URL: https://django-oscar.readthedocs.io\nOrders are placed by the checkout app.',
      }),
      node('a1', 'assistant', '2025-01-01T00:04:00Z', { text: 'Oscar places orders in its checkout app.' }),
      node('u2', 'user', '2025-01-01T00:05:00Z', { text: 'And refunds?' }),
      node('a2', 'assistant', '2025-01-01T00:06:00Z', { text: 'Refunds are payment events of an order.' }),
      // a regenerated tool call the user left: no preference pair
      node('c1b', 'assistant', '2025-01-01T00:02:30Z', { text: 'search("oscar orders")', onCurrentBranch: false }),
      node('t1b', 'tool', '2025-01-01T00:02:40Z', { text: 'Search results', onCurrentBranch: false }),
    ],
    edges: [
      edge('u1', 's', 'follows'),
      edge('c1', 'u1', 'follows'),
      edge('t1', 'c1', 'follows'),
      edge('a1', 't1', 'follows'),
      edge('u2', 'a1', 'follows'),
      edge('a2', 'u2', 'follows'),
      edge('c1b', 'u1', 'follows'),
      edge('t1b', 'c1b', 'follows'),
    ],
    chains: [],
  };
  const { turns } = conversationTurns(graph);
  assert.deepEqual(
    turns.filter((t) => t.toolCall).map((t) => t.messageId),
    ['m-c1', 'm-c1b'],
  );
  const records = conversationRecords(graph, options);
  const chats = ofType<ChatRecord>(records, 'chat');
  assert.deepEqual(
    chats.map((c) => [c.input, c.output]),
    [
      ['User: What does the Django Oscar documentation say about orders?', 'Oscar places orders in its checkout app.'],
      [
        'User: What does the Django Oscar documentation say about orders?\nAssistant: Oscar places orders in its checkout app.\nUser: And refunds?',
        'Refunds are payment events of an order.',
      ],
    ],
  );
  assert.deepEqual(chats[0]?.source, { conversationId: 'tools', nodeIds: ['u1', 'a1'] });
  const [qa] = ofType<QaRecord>(records, 'qa');
  assert.equal(
    qa?.answer,
    'Oscar places orders in its checkout app.',
    'the question opens the conversation: the system message is not a turn',
  );
  assert.equal(ofType<PreferenceRecord>(records, 'preference').length, 0);
  for (const r of records) assert.ok(validateRecord(r).valid, `${r.type}: ${validateRecord(r).errors}`);
});

test('a line of a turn that starts with "User:" or "Assistant:" (a pasted transcript) stays inside its turn', () => {
  assert.equal(
    chatLine({ role: 'user', text: 'Our chat:\nUser: hi\nAssistant: hello\nUser:no space' }),
    'User: Our chat:\n User: hi\n Assistant: hello\n User:no space',
  );
  assert.equal(chatLine({ role: 'assistant', text: 'User: asked twice' }), 'Assistant:  User: asked twice');
  const graph: ConversationGraph = {
    conversationId: 'pasted',
    title: '',
    nodes: [
      node('u1', 'user', '2025-01-01T00:00:00Z', { text: 'Summarise:\nUser: can I go?\nAssistant: yes\r\nUser: thanks' }),
      node('a1', 'assistant', '2025-01-01T00:01:00Z', { text: 'You asked whether you could go, and could.' }),
    ],
    edges: [edge('a1', 'u1', 'follows')],
    chains: [],
  };
  const [chat] = ofType<ChatRecord>(conversationRecords(graph, options), 'chat');
  assert.ok(chat && validateRecord(chat).valid, JSON.stringify(chat && validateRecord(chat).errors));
  assert.deepEqual(
    parseTurns(chat?.input ?? '').map((t) => t.role),
    ['user'],
  );
});

test('preference pairs from revisions: the answer challenged is rejected, its revision chosen, the prompt is the request and the challenge', () => {
  const graph: ConversationGraph = {
    conversationId: 'rev',
    title: '',
    nodes: [
      node('u1', 'user', '2025-01-01T00:00:00Z', { text: 'Which laptop should I buy for local LLMs?', tags: ['question'] }),
      node('a1', 'assistant', '2025-01-01T00:01:00Z', { text: 'Get a workstation with 64 GB of RAM and an RTX 4090.' }),
      node('u2', 'user', '2025-01-01T00:02:00Z', { text: 'That is far over my budget of 1000 euros.' }),
      node('a2', 'assistant', '2025-01-01T00:03:00Z', {
        text: 'You are right. Under 1000 euros, a ThinkPad T14 with 32 GB runs 7B models.',
      }),
      node('u3', 'user', '2025-01-01T00:04:00Z', { text: 'So which laptop under 1000 euros runs local LLMs?' }),
      node('a3', 'assistant', '2025-01-01T00:05:00Z', { text: 'The ThinkPad T14 with 32 GB of RAM.' }),
    ],
    edges: [
      edge('a1', 'u1', 'follows'),
      edge('u2', 'a1', 'follows'),
      { fromId: 'u2', toId: 'a1', relation: 'contrasts', confidence: 0.9, tags: ['pushback'] },
      edge('a2', 'u2', 'follows'),
      { fromId: 'a2', toId: 'a1', relation: 'refines', confidence: 0.9, tags: ['revision', 'after-pushback', 'acknowledged'] },
      edge('u3', 'a2', 'follows'),
      { fromId: 'u3', toId: 'u1', relation: 'refines', confidence: 0.8, tags: ['restated'] },
      edge('a3', 'u3', 'follows'),
    ],
    chains: [
      {
        id: 'ch',
        conversationId: 'rev',
        nodeIds: ['u1', 'a1', 'u2', 'a2', 'u3'],
        steps: ['idea', 'answer', 'challenge', 'revision', 'convergence'],
        tags: ['converged:restated', 'kind:pushback'],
      },
    ],
  };
  const pairs = ofType<PreferenceRecord>(conversationRecords(graph, options), 'preference');
  assert.deepEqual(
    pairs.map((p) => ({ prompt: p.prompt, chosen: p.chosen, rejected: p.rejected, tags: p.tags })),
    [
      {
        prompt: 'Which laptop should I buy for local LLMs?\n\nThat is far over my budget of 1000 euros.',
        chosen: 'You are right. Under 1000 euros, a ThinkPad T14 with 32 GB runs 7B models.',
        rejected: 'Get a workstation with 64 GB of RAM and an RTX 4090.',
        tags: ['revision', 'after-pushback', 'acknowledged'],
      },
      {
        prompt: 'So which laptop under 1000 euros runs local LLMs?',
        chosen: 'The ThinkPad T14 with 32 GB of RAM.',
        rejected: 'Get a workstation with 64 GB of RAM and an RTX 4090.',
        tags: ['revision', 'restated'],
      },
    ],
  );
  assert.deepEqual(pairs[0]?.source, { conversationId: 'rev', nodeIds: ['u1', 'u2', 'a2', 'a1'] });
  for (const p of pairs) assert.ok(validateRecord(p).valid);
  // The same answer revised twice over (two edges between the turns' nodes) is one pair.
  const twice: ConversationGraph = {
    ...graph,
    chains: [],
    edges: [...graph.edges, { fromId: 'a2', toId: 'a1', relation: 'refines', confidence: 0.7, tags: ['revision', 'after-pushback'] }],
  };
  assert.equal(ofType<PreferenceRecord>(conversationRecords(twice, options), 'preference').length, 1);
});
