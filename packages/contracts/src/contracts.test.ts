import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ConversationChange, ConversationIngested, ConversationSegmented, ExportSource, SpotCheckStatus } from './index.js';
import * as web from './messages.js';

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

test('the browser entry point (./messages) reads the JSON the Node contracts write, with no gRPC in it', () => {
  const status = SpotCheckStatus.fromPartial({ datasetId: 'd', drawn: 100, judged: 3, acceptRate: 2 / 3, seed: 42 });
  const json = JSON.parse(JSON.stringify(SpotCheckStatus.toJSON(status)));
  assert.deepEqual(web.SpotCheckStatus.fromJSON(json), status);
  assert.deepEqual(web.SpotCheckStatus.toJSON(web.SpotCheckStatus.fromJSON(json)), json);
  // Only messages: no service clients, no binary codec (a page has no use for either).
  assert.equal('SamplesServiceClient' in web, false);
  assert.equal('encode' in web.SpotCheckStatus, false);
  const dir = new URL('./gen/web/trajectory/v1/', import.meta.url);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    assert.doesNotMatch(readFileSync(new URL(file, dir), 'utf8'), /@grpc\/grpc-js|@bufbuild\/protobuf/, file);
  }
});
