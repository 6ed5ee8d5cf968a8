import {
  type CognitiveNode,
  type ConversationSegmented,
  ExportSource,
  enumSuffix,
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

/** Every relationship type edges may have; Cypher cannot take a type as a parameter. */
export const RELATIONSHIP_TYPES = Object.values(RelationType)
  .filter((v): v is RelationType => typeof v === 'number' && v > 0)
  .map(relationshipType);

export const SCHEMA_STATEMENTS = [
  'CREATE CONSTRAINT conversation_id IF NOT EXISTS FOR (c:Conversation) REQUIRE c.id IS UNIQUE',
  'CREATE CONSTRAINT message_uid IF NOT EXISTS FOR (m:Message) REQUIRE m.uid IS UNIQUE',
  'CREATE CONSTRAINT cognitive_node_id IF NOT EXISTS FOR (n:CognitiveNode) REQUIRE n.id IS UNIQUE',
  'CREATE INDEX cognitive_node_conversation IF NOT EXISTS FOR (n:CognitiveNode) ON (n.conversationId)',
];

export interface Statement {
  text: string;
  parameters: Record<string, unknown>;
}

const iso = (d: Date | undefined) => (d ? d.toISOString() : null);

function nodeRow(node: CognitiveNode, position: number) {
  return {
    id: node.id,
    role: node.role,
    text: node.text,
    createdAt: iso(node.createdAt),
    tags: node.tags,
    onCurrentBranch: node.onCurrentBranch,
    position,
    messageUids: node.messageIds.map((m) => `${node.conversationId}/${m}`),
  };
}

/**
 * The statements that store one segmented conversation. All MERGE on stable ids, batched with
 * UNWIND, so replaying the same event changes nothing; nodes of an earlier segmentation of the
 * conversation that the new one no longer has are removed.
 */
export function conversationGraphStatements(event: ConversationSegmented): Statement[] {
  const conversation = event.conversation;
  if (!conversation) throw new Error('ConversationSegmented without a conversation');
  const cid = conversation.id;
  const statements: Statement[] = [
    {
      text: `MERGE (c:Conversation {id: $id})
             SET c.title = $title, c.source = $source, c.createdAt = datetime($createdAt),
                 c.updatedAt = datetime($updatedAt), c.currentLeafId = $currentLeafId, c.contentHash = $contentHash`,
      parameters: {
        id: cid,
        title: conversation.title,
        source: enumSuffix(ExportSource, conversation.source, 'EXPORT_SOURCE_'),
        createdAt: iso(conversation.createdAt),
        updatedAt: iso(conversation.updatedAt),
        currentLeafId: conversation.currentLeafId,
        contentHash: event.contentHash,
      },
    },
    {
      text: `MATCH (c:Conversation {id: $cid})
             UNWIND $messages AS m
             MERGE (msg:Message {uid: m.uid})
             SET msg.id = m.id, msg.conversationId = $cid, msg.role = m.role, msg.text = m.text,
                 msg.createdAt = datetime(m.createdAt), msg.contentType = m.contentType,
                 msg.onCurrentBranch = m.onCurrentBranch, msg.redactions = m.redactions
             MERGE (c)-[:HAS_MESSAGE]->(msg)
             WITH msg, m WHERE m.parentUid IS NOT NULL
             MATCH (parent:Message {uid: m.parentUid})
             MERGE (msg)-[:REPLY_TO]->(parent)`,
      parameters: {
        cid,
        messages: conversation.messages.map((m) => ({
          uid: `${cid}/${m.id}`,
          id: m.id,
          parentUid: m.parentId ? `${cid}/${m.parentId}` : null,
          role: m.role,
          text: m.text,
          createdAt: iso(m.createdAt),
          contentType: m.contentType,
          onCurrentBranch: m.onCurrentBranch,
          redactions: m.redactions,
        })),
      },
    },
    {
      text: `MATCH (c:Conversation {id: $cid})-[:HAS_NODE]->(old:CognitiveNode)
             WHERE NOT old.id IN $ids
             DETACH DELETE old`,
      parameters: { cid, ids: event.nodes.map((n) => n.id) },
    },
    {
      text: `MATCH (c:Conversation {id: $cid})
             UNWIND $nodes AS n
             MERGE (node:CognitiveNode {id: n.id})
             SET node.conversationId = $cid, node.role = n.role, node.text = n.text,
                 node.createdAt = datetime(n.createdAt), node.tags = n.tags,
                 node.onCurrentBranch = n.onCurrentBranch, node.position = n.position,
                 node.segmenter = $segmenter
             MERGE (c)-[:HAS_NODE]->(node)
             WITH node, n
             UNWIND n.messageUids AS uid
             MATCH (msg:Message {uid: uid})
             MERGE (node)-[:FROM_MESSAGE]->(msg)`,
      parameters: { cid, segmenter: event.segmenter, nodes: event.nodes.map(nodeRow) },
    },
  ];
  const byType = new Map<string, { from: string; to: string }[]>();
  for (const edge of event.edges) {
    const type = relationshipType(edge.type);
    byType.set(type, [...(byType.get(type) ?? []), { from: edge.fromId, to: edge.toId }]);
  }
  for (const [type, edges] of byType) {
    statements.push({
      // `type` comes from the RelationType enum, never from input text.
      text: `UNWIND $edges AS e
             MATCH (a:CognitiveNode {id: e.from}), (b:CognitiveNode {id: e.to})
             MERGE (a)-[:${type}]->(b)`,
      parameters: { edges },
    });
  }
  return statements;
}
