import { createHash } from 'node:crypto';
import { type CognitiveNode, type Conversation, type Edge, RelationType } from '@trajectory/contracts';

export const SEGMENTER = 'message-per-node/v1';

export interface Segmentation {
  nodes: CognitiveNode[];
  edges: Edge[];
}

/** Node ids derive from content identity, so segmenting the same conversation twice yields the same ids. */
export function nodeId(conversationId: string, messageIds: string[]): string {
  return createHash('sha256')
    .update(`${conversationId}\u0000${messageIds.join('\u0000')}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * The simplest honest segmentation: each visible message is one cognitive node. A node FOLLOWS
 * the node of its parent message (so branches stay branches), and an assistant node RESPONDS to
 * the user node it follows.
 */
export function segmentConversation(conversation: Conversation): Segmentation {
  const byMessage = new Map<string, CognitiveNode>();
  const nodes: CognitiveNode[] = [];
  const edges: Edge[] = [];
  for (const message of conversation.messages) {
    const node: CognitiveNode = {
      id: nodeId(conversation.id, [message.id]),
      conversationId: conversation.id,
      messageIds: [message.id],
      role: message.role,
      text: message.text,
      createdAt: message.createdAt,
      tags: [],
      onCurrentBranch: message.onCurrentBranch,
    };
    nodes.push(node);
    byMessage.set(message.id, node);
    const previous = message.parentId ? byMessage.get(message.parentId) : undefined;
    if (!previous) continue;
    edges.push({ fromId: node.id, toId: previous.id, type: RelationType.RELATION_TYPE_FOLLOWS, confidence: 1, tags: [] });
    if (node.role === 'assistant' && previous.role === 'user') {
      edges.push({ fromId: node.id, toId: previous.id, type: RelationType.RELATION_TYPE_RESPONDS, confidence: 1, tags: [] });
    }
  }
  return { nodes, edges };
}
