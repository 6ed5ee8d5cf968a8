import {
  ChainOrder,
  type CognitiveNode,
  type ConversationGraph,
  type Edge,
  type GraphStats,
  type ListRefinementChainsRequest,
  type Neighbourhood,
  type RefinementChain,
  type RefinementChainView,
  type StoredConversation,
  type TopicPoint,
} from '@trajectory/contracts';
import { relationOfNeo4jType } from '@trajectory/relations';
import neo4j from 'neo4j-driver';
import { RELATIONSHIP_TYPES } from './cypher.js';

/*
 * Read-only Cypher of the GraphService. Every query is a constant: caller input only ever travels
 * as a parameter. Temporal values leave Cypher as ISO strings (`toString`) and become `Date`s here.
 */

/** The map one node is returned as; `v` is a variable name of these constant queries, never input. */
const nodeMap = (v: string) =>
  `{id: ${v}.id, conversationId: ${v}.conversationId, role: ${v}.role, text: ${v}.text,
    createdAt: toString(${v}.createdAt), tags: ${v}.tags, onCurrentBranch: ${v}.onCurrentBranch,
    sentenceStart: ${v}.sentenceStart, sentenceEnd: ${v}.sentenceEnd,
    messageIds: [(${v})-[:FROM_MESSAGE]->(msg:Message) | msg.id]}`;

/** The map one edge is returned as. */
const edgeMap = (from: string, r: string, to: string) =>
  `{fromId: ${from}.id, toId: ${to}.id, type: type(${r}), confidence: ${r}.confidence, tags: ${r}.tags}`;

/** Steps of chain `ch`, unordered: `{position, id}` (the mappers order them). */
const chainStepIds = (ch: string) => `[(step:Node)-[s:IN_CHAIN]->(${ch}) | {position: s.position, role: s.role, id: step.id}]`;

/** Every node-node relationship type as a pattern alternation (types from the relation vocabulary only). */
const RELATION_ALTERNATION = RELATIONSHIP_TYPES.join('|');

export const STATS_QUERY = `
  CALL { MATCH (c:Conversation) RETURN count(c) AS conversations }
  CALL { MATCH (m:Message) RETURN count(m) AS messages }
  CALL { MATCH (n:Node) RETURN count(n) AS nodes, count(n.createdAt) AS timedNodes }
  CALL {
    MATCH (:Node)-[r]->(:Node)
    WHERE type(r) IN $types
    WITH type(r) AS type, count(r) AS count
    RETURN collect({type: type, count: count}) AS relations
  }
  CALL { MATCH (ch:RefinementChain) RETURN count(ch) AS chains, avg(ch.length) AS averageChainLength }
  RETURN conversations, messages, nodes, timedNodes, relations, chains, averageChainLength`;

export const STATS_PARAMS = () => ({ types: RELATIONSHIP_TYPES });

export interface StatsRow {
  conversations: number;
  messages: number;
  nodes: number;
  timedNodes: number;
  relations: { type: string; count: number }[];
  chains: number;
  averageChainLength: number | null;
}

export function toGraphStats(row: StatsRow | undefined): GraphStats {
  if (!row) {
    return {
      conversations: 0,
      messages: 0,
      nodes: 0,
      edges: 0,
      edgesByRelation: {},
      refinementChains: 0,
      averageChainLength: 0,
      nodesWithTimePercent: 0,
    };
  }
  const edgesByRelation: Record<string, number> = {};
  for (const r of [...row.relations].sort((a, b) => a.type.localeCompare(b.type))) edgesByRelation[r.type] = r.count;
  return {
    conversations: row.conversations,
    messages: row.messages,
    nodes: row.nodes,
    edges: row.relations.reduce((sum, r) => sum + r.count, 0),
    edgesByRelation,
    refinementChains: row.chains,
    averageChainLength: row.averageChainLength ?? 0,
    nodesWithTimePercent: row.nodes > 0 ? (row.timedNodes / row.nodes) * 100 : 0,
  };
}

export const CONVERSATION_GRAPH_QUERY = `
  MATCH (c:Conversation)
  WHERE size($ids) = 0 OR c.id IN $ids
  CALL {
    WITH c
    MATCH (n:Node)-[:IN_CONVERSATION]->(c)
    WITH n ORDER BY n.position, n.id
    RETURN collect(${nodeMap('n')}) AS nodes
  }
  CALL {
    WITH c
    MATCH (a:Node {conversationId: c.id})-[r]->(b:Node)
    WHERE type(r) IN $types
    WITH a, r, b ORDER BY a.position, type(r), b.position
    RETURN collect(${edgeMap('a', 'r', 'b')}) AS edges
  }
  CALL {
    WITH c
    MATCH (ch:RefinementChain)-[:IN_CONVERSATION]->(c)
    WITH ch ORDER BY ch.startedAt, ch.id
    RETURN collect({id: ch.id, tags: ch.tags, steps: ${chainStepIds('ch')}}) AS chains
  }
  RETURN c.id AS id, c.title AS title, nodes, edges, chains
  ORDER BY c.createdAt, c.id`;

export const CONVERSATION_GRAPH_PARAMS = (ids: string[]) => ({ ids, types: RELATIONSHIP_TYPES });

/**
 * The conversations StreamConversationGraphs sends, in its order, with their node counts: cheap
 * (index lookups, no node content), so the graphs themselves can be read a page at a time. Reading
 * every graph in one query holds the whole history in one transaction, past the transaction memory
 * limit of a small Neo4j (346.5 MiB for 1,122 conversations and 253,689 nodes in the end-to-end bench).
 */
export const CONVERSATION_IDS_QUERY = `
  MATCH (c:Conversation)
  WHERE size($ids) = 0 OR c.id IN $ids
  RETURN c.id AS id, COUNT { MATCH (n:Node {conversationId: c.id}) } AS nodes
  ORDER BY c.createdAt, c.id`;

export const CONVERSATION_IDS_PARAMS = (ids: string[]) => ({ ids });

export interface ConversationIdRow {
  id: string;
  nodes: number | bigint;
}

export interface PageLimits {
  /** Most conversations one page query reads. */
  conversations: number;
  /** A page closes once it holds this many nodes (a conversation larger than that is a page of its own). */
  nodes: number;
}

/** 100 conversations or 20,000 nodes: a few MiB a page, whatever the size of the history. */
export const CONVERSATION_PAGE: PageLimits = { conversations: 100, nodes: 20_000 };

/**
 * The ordered ids cut into pages for CONVERSATION_GRAPH_QUERY. A page's query orders its rows by
 * the same key as CONVERSATION_IDS_QUERY, so the pages one after the other keep the whole order.
 */
export function conversationPages(rows: readonly ConversationIdRow[], limits: PageLimits = CONVERSATION_PAGE): string[][] {
  const pages: string[][] = [];
  let page: string[] = [];
  let nodes = 0;
  for (const row of rows) {
    const size = Number(row.nodes);
    if (page.length > 0 && (page.length >= limits.conversations || nodes + size > limits.nodes)) {
      pages.push(page);
      page = [];
      nodes = 0;
    }
    page.push(row.id);
    nodes += size;
  }
  if (page.length > 0) pages.push(page);
  return pages;
}

/** Most conversation versions one GetStoredConversations call may ask about. */
export const MAX_STORED_QUERY = 1_000;

/**
 * The asked versions the graph holds. A conversation's content hash is written in the same
 * transaction as its messages, nodes and edges, so a matching hash means the version is stored whole.
 */
export const STORED_CONVERSATIONS_QUERY = `
  UNWIND $versions AS v
  MATCH (c:Conversation {id: v.conversationId})
  WHERE c.contentHash = v.contentHash
  RETURN c.id AS conversationId, c.contentHash AS contentHash,
         COUNT { MATCH (n:Node {conversationId: c.id}) } AS nodeCount,
         COUNT { MATCH (:Node {conversationId: c.id})-[r]->(:Node) WHERE type(r) IN $types } AS edgeCount`;

export const STORED_CONVERSATIONS_PARAMS = (versions: { conversationId: string; contentHash: string }[]) => ({
  versions: versions.map(({ conversationId, contentHash }) => ({ conversationId, contentHash })),
  types: RELATIONSHIP_TYPES,
});

export interface StoredConversationRow {
  conversationId: string;
  contentHash: string;
  nodeCount: number | bigint;
  edgeCount: number | bigint;
}

export const toStoredConversation = (row: StoredConversationRow): StoredConversation => ({
  conversationId: row.conversationId,
  contentHash: row.contentHash,
  nodeCount: Number(row.nodeCount),
  edgeCount: Number(row.edgeCount),
});

export interface NodeRow {
  id: string;
  conversationId: string | null;
  role: string | null;
  text: string | null;
  createdAt: string | null;
  tags: string[] | null;
  onCurrentBranch: boolean | null;
  sentenceStart?: number | null;
  sentenceEnd?: number | null;
  messageIds: string[] | null;
}

export interface EdgeRow {
  fromId: string;
  toId: string;
  type: string;
  confidence: number | null;
  tags: string[] | null;
}

interface StepRow {
  position: number;
  role: string | null;
  id: string;
}

export interface ConversationGraphRow {
  id: string;
  title: string | null;
  nodes: NodeRow[];
  edges: EdgeRow[];
  chains: { id: string; tags: string[] | null; steps: StepRow[] }[];
}

const toDate = (iso: string | null | undefined) => (iso ? new Date(iso) : undefined);

export function toNode(n: NodeRow, conversationId = ''): CognitiveNode {
  return {
    id: n.id,
    conversationId: n.conversationId ?? conversationId,
    messageIds: [...(n.messageIds ?? [])].sort(),
    role: n.role ?? '',
    text: n.text ?? '',
    createdAt: toDate(n.createdAt),
    tags: n.tags ?? [],
    onCurrentBranch: n.onCurrentBranch ?? false,
    sentenceStart: n.sentenceStart ?? 0,
    sentenceEnd: n.sentenceEnd ?? 0,
  };
}

export function toEdge(e: EdgeRow): Edge {
  return {
    fromId: e.fromId,
    toId: e.toId,
    relation: relationOfNeo4jType(e.type),
    confidence: e.confidence ?? 1,
    tags: e.tags ?? [],
  };
}

const inChainOrder = <T extends { position: number }>(steps: T[]) => [...steps].sort((a, b) => a.position - b.position);

/** Turns one row of CONVERSATION_GRAPH_QUERY into the gRPC message. */
export function toConversationGraph(row: ConversationGraphRow): ConversationGraph {
  const chains: RefinementChain[] = (row.chains ?? []).map((ch) => ({
    id: ch.id,
    conversationId: row.id,
    nodeIds: inChainOrder(ch.steps).map((s) => s.id),
    steps: inChainOrder(ch.steps).map((s) => s.role ?? ''),
    tags: ch.tags ?? [],
  }));
  return {
    conversationId: row.id,
    title: row.title ?? '',
    nodes: row.nodes.map((n) => toNode(n, row.id)),
    edges: row.edges.map(toEdge),
    chains,
  };
}

/**
 * Chains by length, time and tag, in the request's order (oldest first by default), the limit
 * applied after ordering, so "the 10 longest" are the longest of all. Chains without an end time
 * count by their start; in newest-first order chains without any time come last.
 */
const CHAIN_ORDER_BY = `CASE $order WHEN 'longest' THEN ch.length END DESC,
  CASE $order WHEN 'recent' THEN coalesce(ch.endedAt, ch.startedAt, datetime({year: 1})) END DESC,
  ch.startedAt, ch.id`;

export const REFINEMENT_CHAINS_QUERY = `
  MATCH (ch:RefinementChain)
  WHERE ($minLength = 0 OR ch.length >= $minLength)
    AND ($maxLength = 0 OR ch.length <= $maxLength)
    AND ($from IS NULL OR coalesce(ch.endedAt, ch.startedAt) >= datetime($from))
    AND ($to IS NULL OR coalesce(ch.startedAt, ch.endedAt) <= datetime($to))
    AND ($tag = '' OR $tag IN ch.tags)
  WITH ch ORDER BY ${CHAIN_ORDER_BY} LIMIT $limit
  OPTIONAL MATCH (ch)-[:IN_CONVERSATION]->(c:Conversation)
  RETURN ch.id AS id, ch.conversationId AS conversationId, ch.tags AS tags, c.title AS title,
         [(step:Node)-[s:IN_CHAIN]->(ch) | {position: s.position, role: s.role, node: ${nodeMap('step')}}] AS steps
  ORDER BY ${CHAIN_ORDER_BY}`;

/** The order's name in REFINEMENT_CHAINS_QUERY ('' for oldest first). */
const CHAIN_ORDERS: Record<ChainOrder, string> = {
  [ChainOrder.CHAIN_ORDER_UNSPECIFIED]: '',
  [ChainOrder.CHAIN_ORDER_LONGEST]: 'longest',
  [ChainOrder.CHAIN_ORDER_RECENT]: 'recent',
  [ChainOrder.UNRECOGNIZED]: '',
};

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
const limitOf = (limit: number) => neo4j.int(limit > 0 ? Math.min(Math.floor(limit), MAX_LIMIT) : DEFAULT_LIMIT);
const isoOf = (d: Date | undefined) => (d && !Number.isNaN(d.getTime()) ? d.toISOString() : null);

export const REFINEMENT_CHAINS_PARAMS = (req: ListRefinementChainsRequest) => ({
  minLength: Math.max(0, req.minLength),
  maxLength: Math.max(0, req.maxLength),
  from: isoOf(req.from),
  to: isoOf(req.to),
  tag: req.tag,
  limit: limitOf(req.limit),
  order: CHAIN_ORDERS[req.order] ?? '',
});

export interface RefinementChainRow {
  id: string;
  conversationId: string;
  tags: string[] | null;
  title: string | null;
  steps: { position: number; role: string | null; node: NodeRow }[];
}

export function toRefinementChainView(row: RefinementChainRow): RefinementChainView {
  const steps = inChainOrder(row.steps);
  return {
    chain: {
      id: row.id,
      conversationId: row.conversationId,
      nodeIds: steps.map((s) => s.node.id),
      steps: steps.map((s) => s.role ?? ''),
      tags: row.tags ?? [],
    },
    nodes: steps.map((s) => toNode(s.node)),
    conversationTitle: row.title ?? '',
  };
}

/**
 * A node, the nodes within `depth` hops of it over node-node relations (either direction), and the
 * relations among all of them. Cypher cannot take a path bound as a parameter, so there is one
 * constant query per allowed depth.
 */
const neighbourhoodQuery = (depth: 1 | 2 | 3) => `
  MATCH (center:Node {id: $id})
  OPTIONAL MATCH p = (center)-[:${RELATION_ALTERNATION}*1..${depth}]-(other:Node)
  WHERE other <> center
  WITH center, other, min(length(p)) AS distance
  ORDER BY distance, other.createdAt, other.id
  WITH center, collect(other)[..$limit] AS others
  WITH center, others, [center] + others AS members
  CALL {
    WITH members
    UNWIND members AS a
    MATCH (a)-[r]->(b:Node)
    WHERE type(r) IN $types AND b IN members
    WITH a, r, b ORDER BY a.id, type(r), b.id
    RETURN collect(${edgeMap('a', 'r', 'b')}) AS edges
  }
  RETURN ${nodeMap('center')} AS center, [o IN others | ${nodeMap('o')}] AS nodes, edges`;

export const NEIGHBOURHOOD_QUERIES = { 1: neighbourhoodQuery(1), 2: neighbourhoodQuery(2), 3: neighbourhoodQuery(3) } as const;

/** Depth clamped to 1..3 (0: 1). */
export const neighbourhoodDepth = (depth: number): 1 | 2 | 3 => (depth >= 3 ? 3 : depth === 2 ? 2 : 1);

export const NEIGHBOURHOOD_PARAMS = (nodeId: string, limit: number) => ({ id: nodeId, limit: limitOf(limit), types: RELATIONSHIP_TYPES });

export function toNeighbourhood(row: { center: NodeRow; nodes: NodeRow[]; edges: EdgeRow[] }): Neighbourhood {
  return { center: toNode(row.center), nodes: row.nodes.map((n) => toNode(n)), edges: row.edges.map(toEdge) };
}

/**
 * Nodes whose text matches, oldest first (nodes without time last), each with the nodes that
 * refine it: REFINES relations into it and the later nodes of the chains it belongs to.
 */
export const TOPIC_EVOLUTION_QUERY = `
  CALL db.index.fulltext.queryNodes('node_text', $query) YIELD node, score
  WHERE node:Node
    AND ($from IS NULL OR node.createdAt >= datetime($from))
    AND ($to IS NULL OR node.createdAt <= datetime($to))
  WITH node, score ORDER BY node.createdAt, score DESC, node.id LIMIT $limit
  RETURN ${nodeMap('node')} AS node, score,
         [(r:Node)-[:REFINES]->(node) | ${nodeMap('r')}]
         + [(node)-[s:IN_CHAIN]->(:RefinementChain)<-[t:IN_CHAIN]-(later:Node) WHERE t.position > s.position | ${nodeMap('later')}]
           AS refinements
  ORDER BY node.createdAt, score DESC, node.id`;

/** Lucene words and operators that a caller's text must never act as. */
const LUCENE_OPERATORS = new Set(['AND', 'OR', 'NOT', 'TO']);
const MAX_TERMS = 32;

/**
 * The caller's text as a safe Lucene query: only letters and digits survive (every Lucene special
 * character is dropped), operator words are dropped, and each remaining word is quoted as a term;
 * terms are alternatives, ranked by score. '' where no word remains (nothing to look for).
 */
export function luceneQuery(text: string): string {
  const terms = text
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .split(' ')
    .filter((t) => t !== '' && !LUCENE_OPERATORS.has(t));
  return [...new Set(terms)]
    .slice(0, MAX_TERMS)
    .map((t) => `"${t}"`)
    .join(' ');
}

export const TOPIC_EVOLUTION_PARAMS = (req: { text: string; from?: Date | undefined; to?: Date | undefined; limit: number }) => ({
  query: luceneQuery(req.text),
  from: isoOf(req.from),
  to: isoOf(req.to),
  limit: limitOf(req.limit),
});

export function toTopicPoint(row: { node: NodeRow; score: number; refinements: NodeRow[] }): TopicPoint {
  const seen = new Set<string>([row.node.id]);
  const refinements = row.refinements
    .filter((r) => !seen.has(r.id) && seen.add(r.id))
    .map((r) => toNode(r))
    .sort(
      (a, b) =>
        (a.createdAt?.getTime() ?? Number.POSITIVE_INFINITY) - (b.createdAt?.getTime() ?? Number.POSITIVE_INFINITY) ||
        a.id.localeCompare(b.id),
    );
  return { node: toNode(row.node), score: row.score, refinements };
}
