import { type CognitiveNode, type ConversationGraph, type Edge, type RelationType, relationTypeFromJSON } from '@trajectory/contracts';
import { RELATIONSHIP_TYPES } from './cypher.js';

export const STATS_QUERY = `
  CALL { MATCH (c:Conversation) RETURN count(c) AS conversations }
  CALL { MATCH (m:Message) RETURN count(m) AS messages }
  CALL { MATCH (n:CognitiveNode) RETURN count(n) AS nodes }
  CALL { MATCH (:CognitiveNode)-[r]->(:CognitiveNode) RETURN count(r) AS edges }
  RETURN conversations, messages, nodes, edges`;

export const CONVERSATION_GRAPH_QUERY = `
  MATCH (c:Conversation)
  WHERE size($ids) = 0 OR c.id IN $ids
  CALL {
    WITH c
    MATCH (c)-[:HAS_NODE]->(n:CognitiveNode)
    OPTIONAL MATCH (n)-[:FROM_MESSAGE]->(m:Message)
    WITH n, collect(m.id) AS messageIds
    ORDER BY n.position
    RETURN collect({id: n.id, role: n.role, text: n.text, createdAt: toString(n.createdAt), tags: n.tags,
                    onCurrentBranch: n.onCurrentBranch, messageIds: messageIds}) AS nodes
  }
  CALL {
    WITH c
    MATCH (c)-[:HAS_NODE]->(a:CognitiveNode)-[r]->(b:CognitiveNode)
    WHERE type(r) IN $types
    RETURN collect({fromId: a.id, toId: b.id, type: type(r)}) AS edges
  }
  RETURN c.id AS id, c.title AS title, nodes, edges
  ORDER BY c.createdAt, c.id`;

export const CONVERSATION_GRAPH_PARAMS = (ids: string[]) => ({ ids, types: RELATIONSHIP_TYPES });

interface NodeRow {
  id: string;
  role: string;
  text: string;
  createdAt: string | null;
  tags: string[] | null;
  onCurrentBranch: boolean | null;
  messageIds: string[];
}

/** Turns one row of CONVERSATION_GRAPH_QUERY into the gRPC message. */
export function toConversationGraph(row: {
  id: string;
  title: string | null;
  nodes: NodeRow[];
  edges: { fromId: string; toId: string; type: string }[];
}): ConversationGraph {
  const nodes: CognitiveNode[] = row.nodes.map((n) => ({
    id: n.id,
    conversationId: row.id,
    messageIds: n.messageIds,
    role: n.role,
    text: n.text,
    createdAt: n.createdAt ? new Date(n.createdAt) : undefined,
    tags: n.tags ?? [],
    onCurrentBranch: n.onCurrentBranch ?? false,
  }));
  const edges: Edge[] = row.edges.map((e) => ({
    fromId: e.fromId,
    toId: e.toId,
    type: relationTypeFromJSON(`RELATION_TYPE_${e.type}`) as RelationType,
  }));
  return { conversationId: row.id, title: row.title ?? '', nodes, edges };
}
