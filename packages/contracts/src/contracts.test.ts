import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConversationChange, ConversationIngested, ConversationSegmented, ExportSource } from './index.js';

test('events round-trip through proto3 JSON with readable names', () => {
  const event: ConversationIngested = {
    ingestId: 'i1',
    fileName: 'conversations.json',
    contentHash: 'abc',
    conversation: {
      id: 'c1',
      source: ExportSource.EXPORT_SOURCE_CHATGPT,
      title: 'Hello',
      createdAt: new Date('2023-06-01T10:00:00.000Z'),
      updatedAt: undefined,
      currentLeafId: 'm2',
      messages: [],
      sourceFile: 'conversations.json',
    },
    change: ConversationChange.CONVERSATION_CHANGE_NEW,
    newMessageIds: [],
  };
  const json = JSON.parse(JSON.stringify(ConversationIngested.toJSON(event)));
  assert.equal(json.conversation.source, 'EXPORT_SOURCE_CHATGPT');
  assert.equal(json.conversation.createdAt, '2023-06-01T10:00:00.000Z');
  assert.equal(json.ingestId, 'i1');
  assert.deepEqual(ConversationIngested.fromJSON(json), { ...event, conversation: { ...event.conversation, updatedAt: undefined } });
});

test('relations travel as names of the vocabulary, not enum numbers', () => {
  const json = ConversationSegmented.toJSON(
    ConversationSegmented.fromPartial({ edges: [{ fromId: 'a', toId: 'b', relation: 'responds' }] }),
  ) as { edges: { relation: string }[] };
  assert.equal(json.edges[0]?.relation, 'responds');
  const decoded = ConversationSegmented.decode(ConversationSegmented.encode(ConversationSegmented.fromJSON(json)).finish());
  assert.equal(decoded.edges[0]?.relation, 'responds');
});
