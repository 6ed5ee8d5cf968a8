import type { Conversation, Message } from '@trajectory/contracts';

/** The messages from the root to the current leaf: the conversation as the user left it. */
export function currentPath(conversation: Conversation): Message[] {
  const byId = new Map(conversation.messages.map((m) => [m.id, m]));
  const path: Message[] = [];
  const seen = new Set<string>();
  for (let m = byId.get(conversation.currentLeafId); m && !seen.has(m.id); m = byId.get(m.parentId)) {
    seen.add(m.id);
    path.unshift(m);
  }
  return path.length > 0 ? path : conversation.messages.filter((m) => m.onCurrentBranch);
}
