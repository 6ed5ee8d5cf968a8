import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Conversation, ExportSource, Message, RelationType } from '@trajectory/contracts';
import { nodeId, segmentConversation } from './segment.js';

const message = (id: string, parentId: string, role: string, onCurrentBranch = true): Message =>
  Message.fromPartial({
    id,
    parentId,
    role,
    text: `text of ${id}`,
    createdAt: new Date('2024-01-01T00:00:00Z'),
    contentType: 'text',
    onCurrentBranch,
  });

/** u1 -> (a1 | a2 regenerated) ; a2 -> u2 -> a3 */
const conversation: Conversation = {
  sourceFile: 'conversations.json',
  id: 'conv',
  source: ExportSource.EXPORT_SOURCE_CHATGPT,
  title: 'branchy',
  createdAt: undefined,
  updatedAt: undefined,
  currentLeafId: 'a3',
  messages: [
    message('u1', '', 'user'),
    message('a1', 'u1', 'assistant', false),
    message('a2', 'u1', 'assistant'),
    message('u2', 'a2', 'user'),
    message('a3', 'u2', 'assistant'),
  ],
};

test('one node per message; FOLLOWS along the tree, RESPONDS from answers to questions', () => {
  const { nodes, edges } = segmentConversation(conversation);
  assert.equal(nodes.length, 5);
  const id = (m: string) => nodeId('conv', [m]);
  const pairs = (type: RelationType) =>
    edges
      .filter((e) => e.type === type)
      .map((e) => [e.fromId, e.toId])
      .sort();
  assert.deepEqual(
    pairs(RelationType.RELATION_TYPE_FOLLOWS),
    [
      [id('a1'), id('u1')],
      [id('a2'), id('u1')],
      [id('u2'), id('a2')],
      [id('a3'), id('u2')],
    ].sort(),
  );
  assert.deepEqual(
    pairs(RelationType.RELATION_TYPE_RESPONDS),
    [
      [id('a1'), id('u1')],
      [id('a2'), id('u1')],
      [id('a3'), id('u2')],
    ].sort(),
  );
  assert.equal(nodes.find((n) => n.id === id('a1'))?.onCurrentBranch, false);
});

test('segmenting twice gives the same ids (redelivery cannot create new nodes)', () => {
  assert.deepEqual(segmentConversation(conversation), segmentConversation(structuredClone(conversation)));
  assert.notEqual(nodeId('conv', ['m']), nodeId('other', ['m']));
});
