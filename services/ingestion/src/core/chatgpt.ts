import { type Conversation, ExportSource, type Message } from '@trajectory/contracts';
import { redactSecrets } from './redact.js';

/** One conversation of a ChatGPT export as the file holds it (only what we read). */
export interface ChatGptConversation {
  id?: string;
  conversation_id?: string;
  title?: string | null;
  create_time?: number | null;
  update_time?: number | null;
  current_node?: string | null;
  mapping?: Record<string, ChatGptNode>;
}

interface ChatGptNode {
  id?: string;
  parent?: string | null;
  children?: string[];
  message?: ChatGptMessage | null;
}

interface ChatGptMessage {
  id?: string;
  author?: { role?: string; name?: string | null };
  create_time?: number | null;
  content?: Record<string, unknown> & { content_type?: string; parts?: unknown[] };
  metadata?: Record<string, unknown>;
}

export class ExportFormatError extends Error {
  override name = 'ExportFormatError';
}

export interface NormaliseOptions {
  redact: boolean;
}

/** ChatGPT times are epoch seconds with a fraction; some exports hold null or 0. */
function epochToDate(value: unknown): Date | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? new Date(Math.round(value * 1000)) : undefined;
}

function partsText(parts: unknown[] | undefined): string {
  return (parts ?? [])
    .map((p) => (typeof p === 'string' ? p : ''))
    .filter((p) => p.length > 0)
    .join('\n');
}

/** The readable text of a message, by content type; '' when it carries none. */
export function messageText(content: ChatGptMessage['content']): string {
  if (!content) return '';
  const str = (key: string) => (typeof content[key] === 'string' ? (content[key] as string) : '');
  switch (content.content_type) {
    case 'text':
    case 'multimodal_text':
    case 'reasoning_recap':
      return partsText(content.parts);
    case 'code':
    case 'execution_output':
    case 'tether_quote':
    case 'system_error':
      return str('text');
    case 'tether_browsing_display':
      return str('result');
    case 'thoughts': {
      const thoughts = Array.isArray(content.thoughts) ? (content.thoughts as { content?: unknown }[]) : [];
      const text = thoughts
        .map((t) => (typeof t.content === 'string' ? t.content : ''))
        .filter(Boolean)
        .join('\n');
      return text || partsText(content.parts);
    }
    default:
      // user_editable_context (custom instructions) and unknown types are not conversation text.
      return '';
  }
}

function isHidden(message: ChatGptMessage): boolean {
  const meta = message.metadata ?? {};
  return meta.is_visually_hidden_from_conversation === true || message.content?.content_type === 'user_editable_context';
}

/**
 * Turns one ChatGPT conversation into our model. The export's `mapping` is a tree: an edited or
 * regenerated turn is a sibling of the original. We keep every visible message, link each to its
 * nearest visible ancestor, and mark the path from the root to `current_node` (what the user saw
 * last) as the current branch.
 */
export function normaliseChatGptConversation(raw: unknown, options: NormaliseOptions): Conversation {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ExportFormatError('a conversation must be a JSON object');
  const conv = raw as ChatGptConversation;
  const id = conv.conversation_id ?? conv.id;
  if (typeof id !== 'string' || id === '') throw new ExportFormatError('conversation has no id or conversation_id');
  if (!conv.mapping || typeof conv.mapping !== 'object') throw new ExportFormatError(`conversation ${id} has no mapping`);
  const mapping = conv.mapping;

  const currentBranch = new Set<string>();
  for (let cursor = conv.current_node ?? undefined, guard = 0; cursor && guard <= Object.keys(mapping).length; guard++) {
    currentBranch.add(cursor);
    cursor = mapping[cursor]?.parent ?? undefined;
  }

  const roots = Object.entries(mapping)
    .filter(([, node]) => !node.parent || !mapping[node.parent])
    .map(([key]) => key);
  const messages: Message[] = [];
  const visited = new Set<string>();
  // Iterative depth-first walk in the export's child order: parents always precede children.
  const stack: { key: string; visibleParent: string }[] = roots.reverse().map((key) => ({ key, visibleParent: '' }));
  while (stack.length > 0) {
    const { key, visibleParent } = stack.pop() as { key: string; visibleParent: string };
    if (visited.has(key)) continue;
    visited.add(key);
    const node = mapping[key];
    if (!node) continue;
    let parentForChildren = visibleParent;
    const message = node.message;
    if (message && !isHidden(message)) {
      const raw = messageText(message.content);
      if (raw.trim() !== '') {
        const { text, redactions } = options.redact ? redactSecrets(raw) : { text: raw, redactions: 0 };
        const messageId = message.id ?? node.id ?? key;
        messages.push({
          id: messageId,
          parentId: visibleParent,
          role: message.author?.role ?? 'unknown',
          text,
          createdAt: epochToDate(message.create_time),
          contentType: message.content?.content_type ?? 'unknown',
          onCurrentBranch: currentBranch.has(key),
          redactions,
        });
        parentForChildren = messageId;
      }
    }
    const children = node.children ?? [];
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i];
      if (child) stack.push({ key: child, visibleParent: parentForChildren });
    }
  }

  const onBranch = messages.filter((m) => m.onCurrentBranch);
  return {
    id,
    source: ExportSource.EXPORT_SOURCE_CHATGPT,
    title: conv.title ?? '',
    createdAt: epochToDate(conv.create_time),
    updatedAt: epochToDate(conv.update_time),
    currentLeafId: onBranch.at(-1)?.id ?? '',
    messages,
  };
}
