import type { CognitiveNode, Conversation, Edge, Message, TrajectorySample } from '@trajectory/contracts';

/**
 * The seed's comparison of segmentations, measured on the samples each one yields: how many, how
 * many see more than one turn of context, and how many turns (messages) a sample spans.
 */
export interface SampleShapeRow {
  method: string;
  samples: number;
  /** Samples whose context lies within one message. */
  singleTurn: number;
  /** Samples whose context spans two or more messages. */
  multiTurn: number;
  /** Distinct messages per sample, context and target together. */
  averageTurns: number;
}

/** What a sample covers: the messages of its context and of its target. */
export interface SampleSpan {
  contextMessageIds: readonly string[];
  targetMessageIds: readonly string[];
}

export function sampleShapeRow(method: string, spans: readonly SampleSpan[]): SampleShapeRow {
  let singleTurn = 0;
  let turns = 0;
  for (const span of spans) {
    const context = new Set(span.contextMessageIds);
    if (context.size <= 1) singleTurn++;
    turns += new Set([...context, ...span.targetMessageIds]).size;
  }
  return {
    method,
    samples: spans.length,
    singleTurn,
    multiTurn: spans.length - singleTurn,
    averageTurns: spans.length > 0 ? turns / spans.length : 0,
  };
}

/** The messages a trajectory sample covers, through its nodes. */
export function trajectorySpan(sample: TrajectorySample, nodes: ReadonlyMap<string, CognitiveNode>): SampleSpan {
  const messagesOf = (nodeId: string) => nodes.get(nodeId)?.messageIds ?? [];
  return {
    contextMessageIds: sample.context.flatMap((turn) => messagesOf(turn.nodeId)),
    targetMessageIds: sample.next ? messagesOf(sample.next.nodeId) : [],
  };
}

export interface TurnPair {
  conversationId: string;
  prompt: Message;
  reply: Message;
}

/**
 * The traditional segmentation, kept as the baseline: every assistant message paired with the
 * user message it answers (its parent), nothing before it.
 */
export function turnPairs(conversation: Conversation): TurnPair[] {
  const byId = new Map(conversation.messages.map((m) => [m.id, m]));
  const pairs: TurnPair[] = [];
  for (const reply of conversation.messages) {
    const prompt = byId.get(reply.parentId);
    if (reply.role === 'assistant' && prompt?.role === 'user' && prompt.text.trim() && reply.text.trim()) {
      pairs.push({ conversationId: conversation.id, prompt, reply });
    }
  }
  return pairs;
}

export const turnPairSpan = (pair: TurnPair): SampleSpan => ({ contextMessageIds: [pair.prompt.id], targetMessageIds: [pair.reply.id] });

export interface RelationRow {
  relation: string;
  count: number;
  /** Share of all edges, in percent. */
  percent: number;
}

/** Edges by relation, most frequent first. */
export function relationDistribution(edges: readonly Pick<Edge, 'relation'>[]): RelationRow[] {
  const counts = new Map<string, number>();
  for (const e of edges) counts.set(e.relation, (counts.get(e.relation) ?? 0) + 1);
  return [...counts]
    .map(([relation, count]) => ({ relation, count, percent: edges.length > 0 ? (100 * count) / edges.length : 0 }))
    .sort((a, b) => b.count - a.count || a.relation.localeCompare(b.relation));
}
