import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { type ConversationSegmented, Message } from '@trajectory/contracts';
import { clearGraph, query, startTestServers, type TestServers, testDriver } from '@trajectory/testkit';
import type { Driver } from 'neo4j-driver';
import { MIGRATIONS } from '../cypher.js';
import { FIXTURE_COUNTS, fixtureEvents } from '../fixture-graph.test-helper.js';
import { migrate, writeConversationGraph, writeConversationGraphs } from './neo4j-store.js';

let servers: TestServers;
let driver: Driver;

before(async () => {
  servers = await startTestServers();
  driver = testDriver(servers.neo4jUri, servers.neo4jAuth);
});

beforeEach(async () => {
  await clearGraph(driver);
  await migrate(driver);
});

after(async () => {
  await driver?.close();
  await servers?.stop();
});

const counts = async () =>
  (
    await query<{ nodes: number; relationships: number }>(
      driver,
      `CALL { MATCH (n) WHERE NOT n:SchemaMigration RETURN count(n) AS nodes }
       CALL { MATCH ()-[r]->() RETURN count(r) AS relationships }
       RETURN nodes, relationships`,
    )
  )[0];

test('migrations create the constraints and indexes once, and record themselves', async () => {
  assert.deepEqual(await migrate(driver), [], 'a second start applies nothing');
  const constraints = await query<{ name: string }>(driver, 'SHOW CONSTRAINTS YIELD name RETURN name ORDER BY name');
  assert.deepEqual(
    constraints.map((c) => c.name),
    ['conversation_id', 'message_uid', 'node_id', 'refinement_chain_id', 'schema_migration_id', 'source_name'],
  );
  const indexes = (await query<{ name: string }>(driver, 'SHOW INDEXES YIELD name RETURN name')).map((i) => i.name);
  for (const name of ['node_text', 'node_created_at', 'node_conversation', 'chain_length', 'chain_started_at'])
    assert.ok(indexes.includes(name), name);
  const recorded = await query<{ id: string }>(driver, 'MATCH (m:SchemaMigration) RETURN m.id AS id ORDER BY id');
  assert.deepEqual(
    recorded.map((r) => r.id),
    MIGRATIONS.map((m) => m.id),
  );
});

test('the model: labels, relationships, temporal values, branches, chains', async () => {
  await writeConversationGraphs(driver, fixtureEvents());
  const labels = await query<{ label: string; n: number }>(
    driver,
    'MATCH (n) WHERE NOT n:SchemaMigration RETURN labels(n)[0] AS label, count(*) AS n ORDER BY label',
  );
  assert.deepEqual(labels, [
    { label: 'Conversation', n: FIXTURE_COUNTS.conversations },
    { label: 'Message', n: FIXTURE_COUNTS.messages },
    { label: 'Node', n: FIXTURE_COUNTS.nodes },
    { label: 'RefinementChain', n: FIXTURE_COUNTS.chains },
    { label: 'Source', n: 1 },
  ]);
  const relations = await query<{ type: string; n: number }>(
    driver,
    'MATCH (:Node)-[r]->(:Node) RETURN type(r) AS type, count(*) AS n ORDER BY type',
  );
  assert.deepEqual(Object.fromEntries(relations.map((r) => [r.type, r.n])), FIXTURE_COUNTS.edgesByRelation);
  const [refines] = await query<{ confidence: number; tags: string[] }>(
    driver,
    "MATCH (:Node {id: 'h3'})-[r:REFINES]->(:Node {id: 'h1'}) RETURN r.confidence AS confidence, r.tags AS tags",
  );
  assert.deepEqual(refines, { confidence: 0.8, tags: ['correction'] });
  // Temporal values: Cypher date functions work on them.
  const [year] = await query<{ year: number }>(driver, "MATCH (n:Node {id: 'b1'}) RETURN n.createdAt.year AS year");
  assert.equal(year?.year, 2025);
  const [branch] = await query<{ alt: string; kept: string }>(
    driver,
    'MATCH (a:Message)-[:BRANCH_OF]->(k:Message) RETURN a.id AS alt, k.id AS kept',
  );
  assert.deepEqual(branch, { alt: 'm-h2b', kept: 'm-h2' });
  const chain = await query<{ id: string }>(
    driver,
    "MATCH (n:Node)-[s:IN_CHAIN]->(:RefinementChain {id: 'bread-2023'}) RETURN n.id AS id ORDER BY s.position",
  );
  assert.deepEqual(
    chain.map((c) => c.id),
    ['h1', 'h3', 'h4'],
  );
  const [span] = await query<{ length: number; started: string; ended: string }>(
    driver,
    "MATCH (c:RefinementChain {id: 'bread-2023'}) RETURN c.length AS length, toString(c.startedAt) AS started, toString(c.endedAt) AS ended",
  );
  assert.deepEqual(span, { length: 3, started: '2023-03-01T09:00:00Z', ended: '2023-03-01T10:05:00Z' });
});

test('writing the same conversations again changes nothing (redelivery never duplicates)', async () => {
  await writeConversationGraphs(driver, fixtureEvents());
  const first = await counts();
  await writeConversationGraphs(driver, fixtureEvents());
  await Promise.all(fixtureEvents().map((e) => writeConversationGraph(driver, e)));
  assert.deepEqual(await counts(), first);
});

test('a conversation that grew is extended, not duplicated; a re-segmentation replaces what it dropped', async () => {
  const [bread] = fixtureEvents();
  assert.ok(bread?.conversation);
  await writeConversationGraph(driver, bread);
  const grown: ConversationSegmented = structuredClone(bread);
  grown.conversation?.messages.push(
    Message.fromPartial({
      id: 'm-h5',
      parentId: 'm-h4',
      role: 'user',
      text: 'Trying 72% tomorrow',
      contentType: 'text',
      onCurrentBranch: true,
    }),
  );
  grown.nodes.push({
    id: 'h5',
    conversationId: bread.conversation.id,
    messageIds: ['m-h5'],
    role: 'user',
    text: 'Trying 72% tomorrow',
    createdAt: undefined,
    tags: [],
    onCurrentBranch: true,
    sentenceStart: 0,
    sentenceEnd: 1,
  });
  grown.edges = grown.edges.filter((e) => !(e.fromId === 'h4' && e.toId === 'h3' && e.relation === 'refines'));
  grown.edges.push({ fromId: 'h5', toId: 'h4', relation: 'follows', confidence: 1, tags: [] });
  await writeConversationGraph(driver, grown);
  const [after] = await query<{ messages: number; nodes: number; h4h3: number }>(
    driver,
    `CALL { MATCH (m:Message {conversationId: 'conv-bread-2023'}) RETURN count(m) AS messages }
     CALL { MATCH (n:Node {conversationId: 'conv-bread-2023'}) RETURN count(n) AS nodes }
     CALL { MATCH (:Node {id: 'h4'})-[r]->(:Node {id: 'h3'}) RETURN count(r) AS h4h3 }
     RETURN messages, nodes, h4h3`,
  );
  // h4 -> h3 keeps its FOLLOWS but loses the REFINES the new segmentation no longer has.
  assert.deepEqual(after, { messages: 6, nodes: 5, h4h3: 1 });
});

test('a conversation is written atomically: a failing write leaves none of it', async () => {
  const [good, bad] = fixtureEvents();
  assert.ok(good && bad);
  // A map inside a list property makes Neo4j fail on the node statement, after the
  // conversation and message statements of the same transaction have already run.
  (bad.nodes[0] as { tags: unknown }).tags = [{ not: 'a string' }];
  await assert.rejects(writeConversationGraphs(driver, [good, bad]));
  assert.deepEqual(await counts(), { nodes: 0, relationships: 0 });
});
