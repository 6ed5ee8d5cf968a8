import type { CognitiveNode, ConversationGraph, Edge } from '@trajectory/contracts';

/** Hand-written conversation graphs for the samples tests. */
export const node = (id: string, role: string, createdAt: string, extra: Partial<CognitiveNode> = {}): CognitiveNode => ({
  id,
  conversationId: 'c',
  messageIds: [`m-${id}`],
  role,
  text: `text ${id}`,
  createdAt: new Date(createdAt),
  tags: [],
  onCurrentBranch: true,
  sentenceStart: 0,
  sentenceEnd: 1,
  ...extra,
});
export const edge = (fromId: string, toId: string, relation: string): Edge => ({ fromId, toId, relation, confidence: 1, tags: [] });

// BRANCHED_GRAPH: u1 <- a1 <- u2 <- a2 <- u3, a regenerated a1b <- u1, and a chain u1 -> u3
export const BRANCHED_GRAPH: ConversationGraph = {
  conversationId: 'c',
  title: 't',
  nodes: [
    node('u1', 'user', '2024-01-01T00:00:00Z'),
    node('a1', 'assistant', '2024-01-01T00:01:00Z'),
    node('a1b', 'assistant', '2024-01-01T00:02:00Z', { onCurrentBranch: false }),
    node('u2', 'user', '2024-01-01T00:03:00Z'),
    node('a2', 'assistant', '2024-01-01T00:04:00Z'),
    node('u3', 'user', '2024-01-01T00:05:00Z'),
  ],
  edges: [
    edge('a1', 'u1', 'follows'),
    edge('a1', 'u1', 'responds'),
    edge('a1b', 'u1', 'follows'),
    edge('a1b', 'u1', 'responds'),
    edge('u2', 'a1', 'follows'),
    edge('u2', 'a1', 'contrasts'),
    edge('a2', 'u2', 'follows'),
    edge('a2', 'a1', 'refines'),
    edge('u3', 'a2', 'follows'),
    edge('u3', 'u1', 'refines'),
    edge('u1', 'u3', 'iteration_final'),
  ],
  chains: [
    {
      id: 'ch',
      conversationId: 'c',
      nodeIds: ['u1', 'a1', 'u2', 'a2', 'u3'],
      steps: ['idea', 'answer', 'challenge', 'revision', 'convergence'],
      tags: [],
    },
  ],
};
