// The plain UNWIND baseline of the graph benches: what Neo4j does with the service's graph when
// nothing but large batches is asked of it. bench/graph-write.mjs writes it beside the service's
// write path on a generated graph, bench/end-to-end.mjs on the graph a whole history made.
import { rmSync } from 'node:fs';
import { migrate } from '@trajectory/graph';
import { startNeo4j } from '@trajectory/local-servers';
import { neo4jRelationshipType } from '@trajectory/relations';
import neo4j from 'neo4j-driver';

const seconds = (t0) => (performance.now() - t0) / 1000;
const iso = (d) => (d ? d.toISOString() : null);

/** Node-node edges grouped by relationship type: Cypher cannot take a type as a parameter. */
export function edgeRowsByType(events) {
  const byType = new Map();
  for (const e of events) {
    for (const x of e.edges) {
      const type = neo4jRelationshipType(x.relation);
      if (!byType.has(type)) byType.set(type, []);
      byType.get(type).push({ from: x.fromId, to: x.toId, confidence: x.confidence, tags: x.tags });
    }
  }
  return byType;
}

/**
 * A plain UNWIND of the same graph the service writes for `events` (ConversationSegmented):
 * every label and relationship of the model, each in batches of `batchSize` rows, none of the
 * service's guarantees (no per-conversation transaction, no removal of stale nodes): what the
 * service's extra care costs, like for like. Node-node edges reference nodes of their own
 * conversation only, so a history may be written in slices of conversations, one call each.
 */
export async function baselineSameGraph(driver, events, { batchSize = 10_000 } = {}) {
  const write = async (text, rows) => {
    for (let i = 0; i < rows.length; i += batchSize) await driver.executeQuery(text, { rows: rows.slice(i, i + batchSize) });
  };
  const conversations = events.map((e) => ({
    id: e.conversation.id,
    title: e.conversation.title,
    createdAt: iso(e.conversation.createdAt),
    source: e.conversation.sourceFile,
  }));
  const messages = events.flatMap((e) =>
    e.conversation.messages.map((m) => ({
      cid: e.conversation.id,
      uid: `${e.conversation.id}/${m.id}`,
      parentUid: m.parentId ? `${e.conversation.id}/${m.parentId}` : null,
      role: m.role,
      text: m.text,
      createdAt: iso(m.createdAt),
    })),
  );
  const nodes = events.flatMap((e) =>
    e.nodes.map((n, position) => ({
      cid: e.conversation.id,
      id: n.id,
      role: n.role,
      text: n.text,
      tags: n.tags,
      position,
      createdAt: iso(n.createdAt),
      messageUids: n.messageIds.map((m) => `${e.conversation.id}/${m}`),
    })),
  );
  const chains = events.flatMap((e) => e.chains.map((c) => ({ cid: e.conversation.id, id: c.id, nodeIds: c.nodeIds, tags: c.tags })));
  const t0 = performance.now();
  await write(
    `UNWIND $rows AS r MERGE (c:Conversation {id: r.id}) SET c.title = r.title, c.createdAt = datetime(r.createdAt)
     MERGE (s:Source {name: r.source}) MERGE (c)-[:FROM_SOURCE]->(s)`,
    conversations,
  );
  await write(
    `UNWIND $rows AS r MATCH (c:Conversation {id: r.cid}) MERGE (m:Message {uid: r.uid})
     SET m.conversationId = r.cid, m.role = r.role, m.text = r.text, m.createdAt = datetime(r.createdAt)
     MERGE (m)-[:IN_CONVERSATION]->(c)`,
    messages,
  );
  await write(
    'UNWIND $rows AS r WITH r WHERE r.parentUid IS NOT NULL MATCH (m:Message {uid: r.uid}), (p:Message {uid: r.parentUid}) MERGE (m)-[:REPLY_TO]->(p)',
    messages,
  );
  await write(
    `UNWIND $rows AS r MATCH (c:Conversation {id: r.cid}) MERGE (n:Node {id: r.id})
     SET n.conversationId = r.cid, n.role = r.role, n.text = r.text, n.tags = r.tags, n.position = r.position, n.createdAt = datetime(r.createdAt)
     MERGE (n)-[:IN_CONVERSATION]->(c)
     WITH n, r UNWIND r.messageUids AS uid MATCH (m:Message {uid: uid}) MERGE (n)-[:FROM_MESSAGE]->(m)`,
    nodes,
  );
  const nodeSeconds = seconds(t0);
  const t1 = performance.now();
  for (const [type, rows] of edgeRowsByType(events)) {
    await write(
      `UNWIND $rows AS r MATCH (a:Node {id: r.from}), (b:Node {id: r.to}) MERGE (a)-[e:${type}]->(b) SET e.confidence = r.confidence, e.tags = r.tags`,
      rows,
    );
  }
  await write(
    `UNWIND $rows AS r MATCH (c:Conversation {id: r.cid}) MERGE (ch:RefinementChain {id: r.id})
     SET ch.conversationId = r.cid, ch.length = size(r.nodeIds), ch.tags = r.tags MERGE (ch)-[:IN_CONVERSATION]->(c)
     WITH ch, r UNWIND range(0, size(r.nodeIds) - 1) AS i MATCH (n:Node {id: r.nodeIds[i]}) MERGE (n)-[s:IN_CHAIN]->(ch) SET s.position = i`,
    chains,
  );
  return { seconds: seconds(t0), nodeSeconds, edgeSeconds: seconds(t1) };
}

/** :Node nodes and node-node edges, and everything else (migrations' bookkeeping aside). */
export async function countGraph(driver) {
  const one = async (q) => (await driver.executeQuery(q)).records[0].get(0);
  return {
    nodes: await one('MATCH (n:Node) RETURN count(n)'),
    edges: await one('MATCH (:Node)-[r]->(:Node) RETURN count(r)'),
    allNodes: await one('MATCH (n) WHERE NOT n:SchemaMigration RETURN count(n)'),
    allRels: await one('MATCH ()-[r]->() RETURN count(r)'),
  };
}

/** Empties the graph, keeping the migrations' bookkeeping (constraints and indexes stay). */
export async function clearGraph(driver) {
  const s = driver.session();
  try {
    // Relationships first, in small transactions: a DETACH DELETE of well-connected nodes in
    // large batches does not fit the launcher's 512 MB heap once the full model is written.
    await s.run('MATCH ()-[r]->() CALL { WITH r DELETE r } IN TRANSACTIONS OF 5000 ROWS');
    await s.run('MATCH (n) WHERE NOT n:SchemaMigration CALL { WITH n DELETE n } IN TRANSACTIONS OF 5000 ROWS');
  } finally {
    await s.close();
  }
}

/**
 * A fresh local Neo4j in `dataDir` with the graph service's migrations applied, and a driver to
 * it; `close` stops it and removes its data.
 */
export async function freshNeo4j(dataDir, { poolSize = 8 } = {}) {
  const server = await startNeo4j({ dataDir });
  const driver = neo4j.driver(server.uri, neo4j.auth.basic(server.auth.user, server.auth.password), {
    maxConnectionPoolSize: poolSize,
    disableLosslessIntegers: true,
  });
  await driver.verifyConnectivity();
  await migrate(driver);
  return {
    driver,
    async close() {
      await driver.close();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
