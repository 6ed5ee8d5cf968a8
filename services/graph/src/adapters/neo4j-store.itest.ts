import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ConversationSegmented, ExportSource, Message, RelationType } from '@trajectory/contracts';
import { clearGraph, query, startTestServers, type TestServers, testDriver } from '@trajectory/testkit';
import type { Driver } from 'neo4j-driver';
import { ensureSchema, writeConversationGraph } from './neo4j-store.js';

let servers: TestServers;
let driver: Driver;

before(async () => {
  servers = await startTestServers();
  driver = testDriver(servers.neo4jUri, servers.neo4jAuth);
  await clearGraph(driver);
  await ensureSchema(driver);
});

after(async () => {
  await driver?.close();
  await servers?.stop();
});

function event(nodeIds: string[]): ConversationSegmented {
  const messages = nodeIds.map((id, i) =>
    Message.fromPartial({
      id: `m-${id}`,
      parentId: i === 0 ? '' : `m-${nodeIds[i - 1]}`,
      role: i % 2 === 0 ? 'user' : 'assistant',
      text: `text ${id}`,
      createdAt: new Date(Date.UTC(2024, 0, 1, 0, i)),
      contentType: 'text',
      onCurrentBranch: true,
    }),
  );
  return {
    ingestId: 'i',
    contentHash: nodeIds.join(''),
    segmenter: 'test',
    conversation: {
      id: 'conv-1',
      source: ExportSource.EXPORT_SOURCE_CHATGPT,
      title: 'idempotence',
      createdAt: new Date('2024-01-01T00:00:00Z'),
      updatedAt: undefined,
      currentLeafId: messages.at(-1)?.id ?? '',
      messages,
      sourceFile: 'conversations.json',
    },
    nodes: nodeIds.map((id, i) => ({
      id,
      conversationId: 'conv-1',
      messageIds: [`m-${id}`],
      role: messages[i]?.role ?? 'user',
      text: `text ${id}`,
      createdAt: messages[i]?.createdAt,
      tags: [],
      onCurrentBranch: true,
    })),
    edges: nodeIds
      .slice(1)
      .flatMap((id, i) => [
        { fromId: id, toId: nodeIds[i] as string, type: RelationType.RELATION_TYPE_FOLLOWS },
        ...(i % 2 === 0 ? [{ fromId: id, toId: nodeIds[i] as string, type: RelationType.RELATION_TYPE_RESPONDS }] : []),
      ]),
  };
}

const counts = async () =>
  (
    await query(
      driver,
      `CALL { MATCH (n) RETURN count(n) AS nodes }
       CALL { MATCH ()-[r]->() RETURN count(r) AS relationships }
       RETURN nodes, relationships`,
    )
  )[0];

test('writing the same conversation again changes nothing (redelivery never duplicates)', async () => {
  await writeConversationGraph(driver, event(['n1', 'n2', 'n3']));
  const first = await counts();
  // 1 conversation + 3 messages + 3 nodes; 3 HAS_MESSAGE + 2 REPLY_TO + 3 HAS_NODE + 3 FROM_MESSAGE + 2 FOLLOWS + 1 RESPONDS
  assert.deepEqual(first, { nodes: 7, relationships: 14 });
  await writeConversationGraph(driver, event(['n1', 'n2', 'n3']));
  await Promise.all([writeConversationGraph(driver, event(['n1', 'n2', 'n3'])), writeConversationGraph(driver, event(['n1', 'n2', 'n3']))]);
  assert.deepEqual(await counts(), first);
});

test('a new segmentation of a conversation replaces nodes it no longer has', async () => {
  await writeConversationGraph(driver, event(['n1', 'n2', 'n3']));
  await writeConversationGraph(driver, event(['n1', 'n2']));
  const ids = await query<{ id: string }>(driver, 'MATCH (n:CognitiveNode) RETURN n.id AS id ORDER BY id');
  assert.deepEqual(
    ids.map((r) => r.id),
    ['n1', 'n2'],
  );
});

test('the graph reads back through the JavaScript driver as a user would query it', async () => {
  const rows = await query<{ title: string; follows: number }>(
    driver,
    `MATCH (c:Conversation)-[:HAS_NODE]->(b:CognitiveNode)-[:FOLLOWS]->(a:CognitiveNode)
     RETURN c.title AS title, count(*) AS follows`,
  );
  assert.deepEqual(rows, [{ title: 'idempotence', follows: 1 }]);
});
