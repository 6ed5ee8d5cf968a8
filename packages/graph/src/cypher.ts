import { type ConversationSegmented, ExportSource, enumSuffix, type Message } from '@trajectory/contracts';
import { NEO4J_RELATIONSHIP_TYPES, neo4jRelationshipType } from '@trajectory/relations';

/** Every relationship type between nodes, from the relation vocabulary; Cypher cannot take a type as a parameter. */
export const RELATIONSHIP_TYPES: string[] = [...NEO4J_RELATIONSHIP_TYPES];

/**
 * Schema migrations, applied in order once each (recorded as :SchemaMigration nodes), on every
 * start of the graph service. Each statement is idempotent on its own too.
 */
export const MIGRATIONS: { id: string; statements: string[] }[] = [
  {
    id: '001-constraints-and-indexes',
    statements: [
      'CREATE CONSTRAINT conversation_id IF NOT EXISTS FOR (c:Conversation) REQUIRE c.id IS UNIQUE',
      'CREATE CONSTRAINT message_uid IF NOT EXISTS FOR (m:Message) REQUIRE m.uid IS UNIQUE',
      'CREATE CONSTRAINT node_id IF NOT EXISTS FOR (n:Node) REQUIRE n.id IS UNIQUE',
      'CREATE CONSTRAINT refinement_chain_id IF NOT EXISTS FOR (r:RefinementChain) REQUIRE r.id IS UNIQUE',
      'CREATE CONSTRAINT source_name IF NOT EXISTS FOR (s:Source) REQUIRE s.name IS UNIQUE',
      'CREATE CONSTRAINT schema_migration_id IF NOT EXISTS FOR (m:SchemaMigration) REQUIRE m.id IS UNIQUE',
      'CREATE INDEX node_conversation IF NOT EXISTS FOR (n:Node) ON (n.conversationId)',
      'CREATE INDEX node_created_at IF NOT EXISTS FOR (n:Node) ON (n.createdAt)',
      'CREATE INDEX message_conversation IF NOT EXISTS FOR (m:Message) ON (m.conversationId)',
      'CREATE INDEX chain_length IF NOT EXISTS FOR (r:RefinementChain) ON (r.length)',
      'CREATE INDEX chain_started_at IF NOT EXISTS FOR (r:RefinementChain) ON (r.startedAt)',
      'CREATE FULLTEXT INDEX node_text IF NOT EXISTS FOR (n:Node) ON EACH [n.text]',
    ],
  },
  {
    // Graphs written before the model had its final names (the walking skeleton).
    id: '002-rename-skeleton-labels',
    statements: [
      'MATCH (n:CognitiveNode) SET n:Node REMOVE n:CognitiveNode',
      'MATCH (c:Conversation)-[r:HAS_NODE]->(n:Node) MERGE (n)-[:IN_CONVERSATION]->(c) DELETE r',
      'MATCH (c:Conversation)-[r:HAS_MESSAGE]->(m:Message) MERGE (m)-[:IN_CONVERSATION]->(c) DELETE r',
    ],
  },
];

export interface Statement {
  text: string;
  parameters: Record<string, unknown>;
}

const iso = (d: Date | undefined) => (d ? d.toISOString() : null);

/** Alternatives of an edited or regenerated turn, each paired with the sibling the user kept. */
export function branchPairs(messages: Message[]): { alternative: string; kept: string }[] {
  const children = new Map<string, Message[]>();
  for (const m of messages) if (m.parentId) children.set(m.parentId, [...(children.get(m.parentId) ?? []), m]);
  const pairs: { alternative: string; kept: string }[] = [];
  for (const siblings of children.values()) {
    const kept = siblings.find((m) => m.onCurrentBranch);
    if (!kept || siblings.length < 2) continue;
    for (const m of siblings) if (m !== kept) pairs.push({ alternative: m.id, kept: kept.id });
  }
  return pairs;
}

/**
 * The statements that store segmented conversations, run together in one transaction. Rows of
 * every conversation share each UNWIND, so a batch of conversations costs a dozen round trips,
 * not a dozen per conversation. All MERGE on stable ids: replaying an event changes nothing; a
 * grown conversation gains its new messages; nodes, relations and chains of an earlier
 * segmentation that the new one no longer has are removed.
 */
export function conversationGraphStatements(events: ConversationSegmented[]): Statement[] {
  type Row = Record<string, unknown>;
  const conversations: Row[] = [];
  const messages: (Row & { uid: string; parentUid: string | null })[] = [];
  const pairs: Row[] = [];
  const nodes: Row[] = [];
  const chains: Row[] = [];
  const edges: { cid: string; from: string; to: string; type: string; confidence: number; tags: string[] }[] = [];
  const keep: { cid: string; nodeIds: string[]; chainIds: string[]; edgeKeys: string[] }[] = [];
  for (const event of events) {
    const conversation = event.conversation;
    if (!conversation) throw new Error('ConversationSegmented without a conversation');
    const cid = conversation.id;
    const uid = (messageId: string) => `${cid}/${messageId}`;
    const nodeTimes = new Map(event.nodes.map((n) => [n.id, iso(n.createdAt)]));
    conversations.push({
      id: cid,
      title: conversation.title,
      source: enumSuffix(ExportSource, conversation.source, 'EXPORT_SOURCE_'),
      createdAt: iso(conversation.createdAt),
      updatedAt: iso(conversation.updatedAt),
      currentLeafId: conversation.currentLeafId,
      contentHash: event.contentHash,
      sourceFile: conversation.sourceFile,
    });
    for (const m of conversation.messages) {
      messages.push({
        cid,
        uid: uid(m.id),
        id: m.id,
        parentUid: m.parentId ? uid(m.parentId) : null,
        role: m.role,
        authorName: m.authorName,
        text: m.text,
        createdAt: iso(m.createdAt),
        contentType: m.contentType,
        onCurrentBranch: m.onCurrentBranch,
        redactions: m.redactions,
      });
    }
    for (const p of branchPairs(conversation.messages)) pairs.push({ alternative: uid(p.alternative), kept: uid(p.kept) });
    event.nodes.forEach((n, position) => {
      nodes.push({
        cid,
        id: n.id,
        role: n.role,
        text: n.text,
        createdAt: iso(n.createdAt),
        tags: n.tags,
        onCurrentBranch: n.onCurrentBranch,
        sentenceStart: n.sentenceStart,
        sentenceEnd: n.sentenceEnd,
        position,
        segmenter: event.segmenter,
        messageUids: n.messageIds.map(uid),
      });
    });
    const own = event.edges.map((e) => ({
      cid,
      from: e.fromId,
      to: e.toId,
      type: neo4jRelationshipType(e.relation),
      confidence: e.confidence > 0 ? e.confidence : 1,
      tags: e.tags,
    }));
    edges.push(...own);
    for (const c of event.chains) {
      chains.push({
        cid,
        id: c.id,
        nodeIds: c.nodeIds,
        steps: c.steps,
        tags: c.tags,
        startedAt: nodeTimes.get(c.nodeIds[0] ?? '') ?? null,
        endedAt: nodeTimes.get(c.nodeIds.at(-1) ?? '') ?? null,
      });
    }
    keep.push({
      cid,
      nodeIds: event.nodes.map((n) => n.id),
      chainIds: event.chains.map((c) => c.id),
      edgeKeys: own.map((e) => `${e.from}|${e.type}|${e.to}`),
    });
  }

  const statements: Statement[] = [
    {
      text: `UNWIND $conversations AS row
             MERGE (c:Conversation {id: row.id})
             SET c.title = row.title, c.source = row.source, c.createdAt = datetime(row.createdAt),
                 c.updatedAt = datetime(row.updatedAt), c.currentLeafId = row.currentLeafId, c.contentHash = row.contentHash
             WITH c, row WHERE row.sourceFile <> ''
             MERGE (s:Source {name: row.sourceFile})
             MERGE (c)-[:FROM_SOURCE]->(s)`,
      parameters: { conversations },
    },
    {
      text: `UNWIND $messages AS m
             MATCH (c:Conversation {id: m.cid})
             MERGE (msg:Message {uid: m.uid})
             SET msg.id = m.id, msg.conversationId = m.cid, msg.role = m.role, msg.authorName = m.authorName,
                 msg.text = m.text, msg.createdAt = datetime(m.createdAt), msg.contentType = m.contentType,
                 msg.onCurrentBranch = m.onCurrentBranch, msg.redactions = m.redactions
             MERGE (msg)-[:IN_CONVERSATION]->(c)`,
      parameters: { messages },
    },
    {
      // After all messages exist: a reply may come before its parent in another batch order.
      text: `UNWIND $messages AS m
             WITH m WHERE m.parentUid IS NOT NULL
             MATCH (msg:Message {uid: m.uid}), (parent:Message {uid: m.parentUid})
             MERGE (msg)-[:REPLY_TO]->(parent)`,
      parameters: { messages: messages.map((m) => ({ uid: m.uid, parentUid: m.parentUid })) },
    },
    {
      text: `UNWIND $pairs AS p
             MATCH (alt:Message {uid: p.alternative}), (kept:Message {uid: p.kept})
             MERGE (alt)-[:BRANCH_OF]->(kept)`,
      parameters: { pairs },
    },
    {
      text: `UNWIND $keep AS k
             MATCH (old:Node {conversationId: k.cid}) WHERE NOT old.id IN k.nodeIds
             DETACH DELETE old`,
      parameters: { keep },
    },
    {
      text: `UNWIND $keep AS k
             MATCH (old:RefinementChain {conversationId: k.cid}) WHERE NOT old.id IN k.chainIds
             DETACH DELETE old`,
      parameters: { keep },
    },
    {
      text: `UNWIND $nodes AS n
             MATCH (c:Conversation {id: n.cid})
             MERGE (node:Node {id: n.id})
             SET node.conversationId = n.cid, node.role = n.role, node.text = n.text,
                 node.createdAt = datetime(n.createdAt), node.tags = n.tags,
                 node.onCurrentBranch = n.onCurrentBranch, node.sentenceStart = n.sentenceStart,
                 node.sentenceEnd = n.sentenceEnd, node.position = n.position, node.segmenter = n.segmenter
             MERGE (node)-[:IN_CONVERSATION]->(c)
             WITH node, n
             UNWIND n.messageUids AS messageUid
             MATCH (msg:Message {uid: messageUid})
             MERGE (node)-[:FROM_MESSAGE]->(msg)`,
      parameters: { nodes },
    },
    {
      // Relations of an earlier segmentation between nodes that stay.
      text: `UNWIND $keep AS k
             MATCH (a:Node {conversationId: k.cid})-[r]->(b:Node)
             WHERE type(r) IN $types AND NOT (a.id + '|' + type(r) + '|' + b.id) IN k.edgeKeys
             DELETE r`,
      parameters: { keep, types: RELATIONSHIP_TYPES },
    },
  ];
  for (const type of new Set(edges.map((e) => e.type))) {
    statements.push({
      // `type` is a name of the relation vocabulary (checked snake_case), never free input text.
      text: `UNWIND $edges AS e
             MATCH (a:Node {id: e.from}), (b:Node {id: e.to})
             MERGE (a)-[r:${type}]->(b)
             SET r.confidence = e.confidence, r.tags = e.tags`,
      parameters: { edges: edges.filter((e) => e.type === type) },
    });
  }
  statements.push({
    text: `UNWIND $chains AS ch
           MATCH (c:Conversation {id: ch.cid})
           MERGE (chain:RefinementChain {id: ch.id})
           SET chain.conversationId = ch.cid, chain.length = size(ch.nodeIds), chain.tags = ch.tags,
               chain.startedAt = datetime(ch.startedAt), chain.endedAt = datetime(ch.endedAt)
           MERGE (chain)-[:IN_CONVERSATION]->(c)
           WITH chain, ch
           UNWIND range(0, size(ch.nodeIds) - 1) AS i
           MATCH (n:Node {id: ch.nodeIds[i]})
           MERGE (n)-[step:IN_CHAIN]->(chain)
           SET step.position = i, step.role = ch.steps[i]`,
    parameters: { chains },
  });
  // An UNWIND over no rows still costs a round trip.
  return statements.filter((statement) => {
    const rows = Object.values(statement.parameters)[0];
    return !Array.isArray(rows) || rows.length > 0;
  });
}
