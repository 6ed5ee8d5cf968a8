import { type Conversation, ExportSource, type Message, type MessagePart } from '@trajectory/contracts';
import { buildMessage, epochSecondsTime, part } from './message.js';
import type { ParseContext } from './types.js';

/** One conversation of a ChatGPT export as the file holds it (only what we read). */
interface ChatGptConversation {
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

/** True when an export element looks like a ChatGPT conversation. */
export const isChatGptConversation = (raw: unknown): boolean =>
  typeof raw === 'object' && raw !== null && !Array.isArray(raw) && 'mapping' in raw;

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** `parts` of text-like content: strings are text, image and file pointers are kept as references. */
function partsOf(parts: unknown[] | undefined, textType: string): MessagePart[] {
  return (parts ?? []).flatMap((p): MessagePart[] => {
    if (typeof p === 'string') return p === '' ? [] : [part(textType, p)];
    if (p && typeof p === 'object') {
      const o = p as Record<string, unknown>;
      const kind = str(o.content_type);
      if (kind === 'image_asset_pointer') return [part('image', '', { reference: str(o.asset_pointer) })];
      if (kind.endsWith('_asset_pointer')) return [part('file', '', { reference: str(o.asset_pointer) || kind })];
      if (typeof o.text === 'string') return [part(textType, o.text)];
    }
    return [];
  });
}

/**
 * A ChatGPT message's content as typed parts. Every content type met in real exports has a
 * mapping; an unknown one is kept as `unknown:<type>` with whatever text it carries, and the
 * caller warns, so a new export version degrades instead of failing.
 */
export function contentParts(content: ChatGptMessage['content']): { parts: MessagePart[]; known: boolean } {
  if (!content) return { parts: [], known: true };
  const type = content.content_type ?? 'unknown';
  switch (type) {
    case 'text':
    case 'multimodal_text':
      return { parts: partsOf(content.parts, 'text'), known: true };
    case 'code':
      return { parts: [part('code', str(content.text), { language: str(content.language) })], known: true };
    case 'execution_output':
      return { parts: [part('execution_output', str(content.text))], known: true };
    case 'tether_quote':
      return { parts: [part('quote', str(content.text), { reference: str(content.url) })], known: true };
    case 'tether_browsing_display':
      return { parts: [part('browsing', str(content.result))], known: true };
    case 'system_error':
      return { parts: [part('error', str(content.text))], known: true };
    case 'reasoning_recap':
      return {
        parts: [
          part(
            'reasoning_recap',
            str(content.content) ||
              partsOf(content.parts, 'text')
                .map((p) => p.text)
                .join('\n'),
          ),
        ],
        known: true,
      };
    case 'thoughts': {
      const thoughts = Array.isArray(content.thoughts) ? (content.thoughts as Record<string, unknown>[]) : [];
      const text = thoughts.map((t) => [str(t.summary), str(t.content)].filter(Boolean).join('\n')).filter(Boolean);
      return {
        parts: (text.length > 0 ? text : partsOf(content.parts, 'text').map((p) => p.text)).map((t) => part('thoughts', t)),
        known: true,
      };
    }
    case 'user_editable_context':
      // Custom instructions: profile data of the account, not something said in this conversation.
      return { parts: [], known: true };
    default: {
      const texts = [str(content.text), ...partsOf(content.parts, 'text').map((p) => p.text)].filter(Boolean);
      return { parts: [part(`unknown:${type}`, texts.join('\n'))], known: false };
    }
  }
}

function isHidden(message: ChatGptMessage): boolean {
  const meta = message.metadata ?? {};
  return meta.is_visually_hidden_from_conversation === true || message.content?.content_type === 'user_editable_context';
}

/**
 * Turns one ChatGPT conversation into our model. The export's `mapping` is a tree: an edited or
 * regenerated turn is a sibling of the original. Every visible message is kept with a link to
 * its nearest kept ancestor; the path from the root to `current_node` (what the user saw last)
 * is the current branch, every other branch stays a branch.
 */
export function normaliseChatGptConversation(raw: unknown, ctx: ParseContext, place: string): Conversation {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ExportFormatError('a conversation must be a JSON object');
  const conv = raw as ChatGptConversation;
  const id = conv.conversation_id ?? conv.id;
  if (typeof id !== 'string' || id === '') throw new ExportFormatError('conversation has no id or conversation_id');
  if (!conv.mapping || typeof conv.mapping !== 'object') throw new ExportFormatError(`conversation ${id} has no mapping`);
  const mapping = conv.mapping;
  const where = `${place} conversation ${id}`;

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
  const stack: { key: string; keptParent: string }[] = roots.reverse().map((key) => ({ key, keptParent: '' }));
  while (stack.length > 0) {
    const { key, keptParent } = stack.pop() as { key: string; keptParent: string };
    if (visited.has(key)) continue;
    visited.add(key);
    const node = mapping[key];
    if (!node) continue;
    let parentForChildren = keptParent;
    const raw = node.message;
    if (raw && !isHidden(raw)) {
      const { parts, known } = contentParts(raw.content);
      const messageId = raw.id ?? node.id ?? key;
      if (!known)
        ctx.warn(
          `${where} message ${messageId}`,
          `unknown content type ${JSON.stringify(raw.content?.content_type)}: kept as a typed part`,
        );
      const message = buildMessage(
        {
          id: messageId,
          parentId: keptParent,
          role: raw.author?.role ?? 'unknown',
          authorName: raw.author?.name ?? undefined,
          parts,
          createdAt: epochSecondsTime(raw.create_time),
          contentType: raw.content?.content_type ?? 'unknown',
          onCurrentBranch: currentBranch.has(key),
        },
        ctx,
        where,
      );
      if (message) {
        messages.push(message);
        parentForChildren = messageId;
      }
    }
    const children = node.children ?? [];
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i];
      if (child) stack.push({ key: child, keptParent: parentForChildren });
    }
  }

  return {
    id,
    source: ExportSource.EXPORT_SOURCE_CHATGPT,
    title: conv.title ?? '',
    createdAt: epochSecondsTime(conv.create_time),
    updatedAt: epochSecondsTime(conv.update_time),
    currentLeafId: messages.filter((m) => m.onCurrentBranch).at(-1)?.id ?? '',
    messages,
    sourceFile: ctx.file,
  };
}
