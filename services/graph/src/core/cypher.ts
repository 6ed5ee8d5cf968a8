import {
  type ConversationSegmented,
  ExportSource,
  enumSuffix,
  type Message,
  RelationType,
  relationTypeToJSON,
} from '@trajectory/contracts';

/** Relationship type in Neo4j for a relation: RELATION_TYPE_ITERATION_FINAL -> ITERATION_FINAL. */
export function relationshipType(type: RelationType): string {
  if (type === RelationType.RELATION_TYPE_UNSPECIFIED || RelationType[type] === undefined) {
    throw new Error(`edge without a known relation type: ${relationTypeToJSON(type)}`);
  }
  return enumSuffix(RelationType, type, 'RELATION_TYPE_').toUpperCase();
}

/** Every relationship type between nodes; Cypher cannot take a type as a parameter. */
export const RELATIONSHIP_TYPES = Object.values(RelationType)
  .filter((v): v is RelationType => typeof v === 'number' && v > 0)
  .map(relationshipType);

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
 * The statements that store one segmented conversation, run in one transaction. All MERGE on
 * stable ids and are batched with UNWIND, so replaying the same event changes nothing; a grown
 * conversation gains its new messages; nodes, relations and chains of an earlier segmentation
 * that the new one no longer has are removed.
 */
export function conversationGraphStatements(event: ConversationSegmented): Statement[] {
  const conversation = event.conversation;
  if (!conversation) throw new Error('ConversationSegmented without a conversation');
  const cid = conversation.id;
  const uid = (messageId: string) => `${cid}/${messageId}`;
  const nodeTimes = new Map(event.nodes.map((n) => [n.id, iso(n.createdAt)]));
  const edges = event.edges.map((e) => ({
    from: e.fromId,
    to: e.toId,
    type: relationshipType(e.type),
    confidence: e.confidence > 0 ? e.confidence : 1,
    tags: e.tags,
  }));
  const statements: Statement[] = [
    {
      text: `MERGE (c:Conversation {id: $id})
             SET c.title = $title, c.source = $source, c.createdAt = datetime($createdAt),
                 c.updatedAt = datetime($updatedAt), c.currentLeafId = $currentLeafId, c.contentHash = $contentHash
             WITH c WHERE $sourceFile <> ''
             MERGE (s:Source {name: $sourceFile})
             MERGE (c)-[:FROM_SOURCE]->(s)`,
      parameters: {
        id: cid,
        title: conversation.title,
        source: enumSuffix(ExportSource, conversation.source, 'EXPORT_SOURCE_'),
        createdAt: iso(conversation.createdAt),
        updatedAt: iso(conversation.updatedAt),
        currentLeafId: conversation.currentLeafId,
        contentHash: event.contentHash,
        sourceFile: conversation.sourceFile,
      },
    },
    {
      text: `MATCH (c:Conversation {id: $cid})
             UNWIND $messages AS m
             MERGE (msg:Message {uid: m.uid})
             SET msg.id = m.id, msg.conversationId = $cid, msg.role = m.role, msg.authorName = m.authorName,
                 msg.text = m.text, msg.createdAt = datetime(m.createdAt), msg.contentType = m.contentType,
                 msg.onCurrentBranch = m.onCurrentBranch, msg.redactions = m.redactions
             MERGE (msg)-[:IN_CONVERSATION]->(c)
             WITH msg, m WHERE m.parentUid IS NOT NULL
             MATCH (parent:Message {uid: m.parentUid})
             MERGE (msg)-[:REPLY_TO]->(parent)`,
      parameters: {
        cid,
        messages: conversation.messages.map((m) => ({
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
        })),
      },
    },
    {
      text: `UNWIND $pairs AS p
             MATCH (alt:Message {uid: p.alternative}), (kept:Message {uid: p.kept})
             MERGE (alt)-[:BRANCH_OF]->(kept)`,
      parameters: { pairs: branchPairs(conversation.messages).map((p) => ({ alternative: uid(p.alternative), kept: uid(p.kept) })) },
    },
    {
      text: `MATCH (old:Node {conversationId: $cid}) WHERE NOT old.id IN $ids DETACH DELETE old`,
      parameters: { cid, ids: event.nodes.map((n) => n.id) },
    },
    {
      text: `MATCH (old:RefinementChain {conversationId: $cid}) WHERE NOT old.id IN $ids DETACH DELETE old`,
      parameters: { cid, ids: event.chains.map((c) => c.id) },
    },
    {
      text: `MATCH (c:Conversation {id: $cid})
             UNWIND $nodes AS n
             MERGE (node:Node {id: n.id})
             SET node.conversationId = $cid, node.role = n.role, node.text = n.text,
                 node.createdAt = datetime(n.createdAt), node.tags = n.tags,
                 node.onCurrentBranch = n.onCurrentBranch, node.position = n.position, node.segmenter = $segmenter
             MERGE (node)-[:IN_CONVERSATION]->(c)
             WITH node, n
             UNWIND n.messageUids AS messageUid
             MATCH (msg:Message {uid: messageUid})
             MERGE (node)-[:FROM_MESSAGE]->(msg)`,
      parameters: {
        cid,
        segmenter: event.segmenter,
        nodes: event.nodes.map((n, position) => ({
          id: n.id,
          role: n.role,
          text: n.text,
          createdAt: iso(n.createdAt),
          tags: n.tags,
          onCurrentBranch: n.onCurrentBranch,
          position,
          messageUids: n.messageIds.map(uid),
        })),
      },
    },
    {
      // Relations of an earlier segmentation between nodes that stay.
      text: `MATCH (a:Node {conversationId: $cid})-[r]->(b:Node)
             WHERE type(r) IN $types AND NOT (a.id + '|' + type(r) + '|' + b.id) IN $keep
             DELETE r`,
      parameters: { cid, types: RELATIONSHIP_TYPES, keep: edges.map((e) => `${e.from}|${e.type}|${e.to}`) },
    },
  ];
  for (const type of new Set(edges.map((e) => e.type))) {
    statements.push({
      // `type` comes from the RelationType enum, never from input text.
      text: `UNWIND $edges AS e
             MATCH (a:Node {id: e.from}), (b:Node {id: e.to})
             MERGE (a)-[r:${type}]->(b)
             SET r.confidence = e.confidence, r.tags = e.tags`,
      parameters: { edges: edges.filter((e) => e.type === type) },
    });
  }
  statements.push({
    text: `MATCH (c:Conversation {id: $cid})
           UNWIND $chains AS ch
           MERGE (chain:RefinementChain {id: ch.id})
           SET chain.conversationId = $cid, chain.length = size(ch.nodeIds), chain.tags = ch.tags,
               chain.startedAt = datetime(ch.startedAt), chain.endedAt = datetime(ch.endedAt)
           MERGE (chain)-[:IN_CONVERSATION]->(c)
           WITH chain, ch
           UNWIND range(0, size(ch.nodeIds) - 1) AS i
           MATCH (n:Node {id: ch.nodeIds[i]})
           MERGE (n)-[step:IN_CHAIN]->(chain)
           SET step.position = i`,
    parameters: {
      cid,
      chains: event.chains.map((c) => ({
        id: c.id,
        nodeIds: c.nodeIds,
        tags: c.tags,
        startedAt: nodeTimes.get(c.nodeIds[0] ?? '') ?? null,
        endedAt: nodeTimes.get(c.nodeIds.at(-1) ?? '') ?? null,
      })),
    },
  });
  return statements;
}
