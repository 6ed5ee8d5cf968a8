import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ConversationSegmented, ExportSource, Message } from '@trajectory/contracts';
import { branchPairs, conversationGraphStatements, RELATIONSHIP_TYPES } from './cypher.js';
import { fixtureEvents } from './fixture-graph.test-helper.js';

test('every relation of the vocabulary maps to an upper-case relationship type', () => {
  assert.deepEqual([...RELATIONSHIP_TYPES].sort(), [
    'CLARIFIES',
    'CONTRASTS',
    'DERIVES',
    'FOLLOWS',
    'HYPOTHESIZES',
    'ITERATION_FINAL',
    'REFINES',
    'RESPONDS',
    'RESTARTS',
    'SPECULATES',
  ]);
});

test('an edge whose relation is not in the vocabulary never reaches Cypher', () => {
  const [event] = fixtureEvents();
  assert.ok(event);
  const bad = { ...event, edges: [{ fromId: 'a', toId: 'b', relation: 'x]->() DETACH DELETE (n', confidence: 1, tags: [] }] };
  assert.throws(() => conversationGraphStatements([bad]), /unknown relation/);
});

test('an alternative answer is paired with the sibling the user kept', () => {
  const m = (id: string, parentId: string, onCurrentBranch: boolean) => Message.fromPartial({ id, parentId, onCurrentBranch });
  assert.deepEqual(branchPairs([m('q', '', true), m('a1', 'q', false), m('a2', 'q', true), m('a3', 'q', false), m('f', 'a2', true)]), [
    { alternative: 'a1', kept: 'a2' },
    { alternative: 'a3', kept: 'a2' },
  ]);
});

test('statements batch rows with UNWIND and MERGE on stable keys, one edge statement per type', () => {
  const event: ConversationSegmented = {
    ingestId: 'i',
    contentHash: 'h',
    segmenter: 's',
    conversation: {
      id: 'c',
      source: ExportSource.EXPORT_SOURCE_CHATGPT,
      title: 't',
      createdAt: new Date('2024-01-01T00:00:00Z'),
      updatedAt: undefined,
      currentLeafId: 'm2',
      sourceFile: 'conversations.json',
      messages: [
        Message.fromPartial({ id: 'm1', parentId: '', role: 'user', text: 'q', contentType: 'text', onCurrentBranch: true }),
        Message.fromPartial({ id: 'm2', parentId: 'm1', role: 'assistant', text: 'a', contentType: 'text', onCurrentBranch: true }),
      ],
    },
    nodes: [
      {
        id: 'n1',
        conversationId: 'c',
        messageIds: ['m1'],
        role: 'user',
        text: 'q',
        createdAt: undefined,
        tags: [],
        onCurrentBranch: true,
        sentenceStart: 0,
        sentenceEnd: 1,
      },
      {
        id: 'n2',
        conversationId: 'c',
        messageIds: ['m2'],
        role: 'assistant',
        text: 'a',
        createdAt: undefined,
        tags: ['x'],
        onCurrentBranch: true,
        sentenceStart: 0,
        sentenceEnd: 1,
      },
    ],
    edges: [
      { fromId: 'n2', toId: 'n1', relation: 'follows', confidence: 1, tags: [] },
      { fromId: 'n2', toId: 'n1', relation: 'responds', confidence: 0.5, tags: ['x'] },
    ],
    chains: [],
  };
  const statements = conversationGraphStatements([event]);
  assert.ok(
    statements.every((s) => !/\bCREATE\b/.test(s.text)),
    'writes must MERGE, never CREATE',
  );
  const messages = statements[1]?.parameters.messages as { uid: string; parentUid: string | null }[];
  assert.deepEqual(
    messages.map((m) => [m.uid, m.parentUid]),
    [
      ['c/m1', null],
      ['c/m2', 'c/m1'],
    ],
  );
  const edgeStatements = statements.filter((s) => s.text.includes('UNWIND $edges'));
  assert.deepEqual(
    edgeStatements.map((s) => s.text.match(/MERGE \(a\)-\[r:(\w+)\]->\(b\)/)?.[1]),
    ['FOLLOWS', 'RESPONDS'],
  );
  assert.deepEqual(edgeStatements[1]?.parameters.edges, [
    { cid: 'c', from: 'n2', to: 'n1', type: 'RESPONDS', confidence: 0.5, tags: ['x'] },
  ]);
});

test('several conversations share each statement: the round trips do not grow with the batch', () => {
  const one = conversationGraphStatements(fixtureEvents().slice(0, 1));
  const all = conversationGraphStatements(fixtureEvents());
  assert.ok(all.length <= one.length + 2, `${one.length} statements for one conversation, ${all.length} for three`);
  const nodes = all.find((s) => s.text.includes('UNWIND $nodes'))?.parameters.nodes as { cid: string }[];
  assert.deepEqual([...new Set(nodes.map((n) => n.cid))], ['conv-bread-2023', 'conv-bread-2025', 'conv-qlora']);
});
