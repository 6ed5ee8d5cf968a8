import { isObject } from '@trajectory/config/util';
import { type Conversation, ExportSource, type Message, type MessagePart } from '@trajectory/contracts';
import { buildMessage, isoTime, jsonText, part, textsWithin } from './message.js';
import type { ParseContext } from './types.js';

/** One conversation of a Claude.ai `conversations.json` as the file holds it (only what we read). */
export interface ClaudeConversation {
  uuid?: string;
  name?: string | null;
  summary?: string | null;
  created_at?: string | null;
  updated_at?: string | null;
  /** Present in API dumps, not known in exports; honoured when it names a message. */
  current_leaf_message_uuid?: string | null;
  chat_messages?: unknown[];
}

interface ClaudeMessage {
  uuid?: string;
  text?: string | null;
  content?: unknown[] | null;
  sender?: string | null;
  created_at?: string | null;
  updated_at?: string | null;
  parent_message_uuid?: string | null;
  attachments?: { file_name?: string | null; file_size?: number; file_type?: string; extracted_content?: string | null }[] | null;
  files?: { file_name?: string | null }[] | null;
}

type Block = Record<string, unknown> & { type?: unknown };

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

function role(sender: unknown): string {
  if (sender === 'human') return 'user';
  if (sender === 'assistant') return 'assistant';
  return typeof sender === 'string' && sender !== '' ? sender : 'unknown';
}

/**
 * The text of a tool_result's `content`: a list of blocks (the export) or, in some dumps, a
 * string; blocks may nest blocks, to any depth (read without recursion).
 */
const nestedText = (content: unknown): string => textsWithin(content, ['text', 'content']).texts.join('\n');

/** Whatever readable text an unknown block carries. */
function anyText(block: Block): string {
  for (const key of ['text', 'thinking', 'summary', 'title']) if (str(block[key]) !== '') return str(block[key]);
  return nestedText(block.content);
}

function blockPart(block: Block, ctx: ParseContext, where: string): MessagePart {
  const type = typeof block.type === 'string' && block.type !== '' ? block.type : 'untyped';
  switch (type) {
    case 'text':
      return part('text', str(block.text));
    case 'thinking': {
      let thinking = str(block.thinking);
      if (thinking.trim() === '' && Array.isArray(block.summaries)) {
        thinking = block.summaries
          .map((s) => (isObject(s) ? str(s.summary) : ''))
          .filter((s) => s !== '')
          .join('\n');
      }
      return part('thoughts', thinking);
    }
    case 'tool_use': {
      const name = str(block.name);
      return part('tool_use', `${name} ${jsonText(block.input ?? {})}`, { reference: name });
    }
    case 'tool_result': {
      const text = nestedText(block.content);
      // MessagePart has no error flag: a failed tool call is marked in its text.
      return part('tool_result', block.is_error === true ? `[error] ${text}`.trimEnd() : text, { reference: str(block.name) });
    }
    default:
      ctx.warn(where, `unknown content block type ${JSON.stringify(type)}: kept as unknown:${type}`);
      return part(`unknown:${type}`, anyText(block));
  }
}

/** The typed parts of a message and its content type. */
function messageParts(message: ClaudeMessage, ctx: ParseContext, where: string): { parts: MessagePart[]; contentType: string } {
  const blocks = Array.isArray(message.content) ? message.content : [];
  const parts: MessagePart[] = [];
  let contentType = 'text';
  if (blocks.length > 0) {
    // The message-level `text` may be thinking and answer joined: never used when blocks exist.
    const typed = blocks.filter(isObject) as Block[];
    if (typed.length < blocks.length) ctx.warn(where, `${blocks.length - typed.length} content block(s) are not objects: left out`);
    for (const block of typed) parts.push(blockPart(block, ctx, where));
    const first = typed[0];
    if (first && !typed.some((b) => b.type === 'text')) contentType = typeof first.type === 'string' && first.type ? first.type : 'untyped';
  } else if (str(message.text) !== '') {
    // Older exports: no content blocks, only the message-level text.
    parts.push(part('text', str(message.text)));
  }
  const attached = new Set<string>();
  for (const a of message.attachments ?? []) {
    if (!isObject(a)) continue;
    const name = str(a.file_name);
    attached.add(name);
    parts.push(part('file', str(a.extracted_content), { reference: name }));
  }
  for (const f of message.files ?? []) {
    if (!isObject(f)) continue;
    const name = str(f.file_name);
    // A file whose extracted text is already kept as an attachment is not listed twice.
    if (name !== '' && attached.has(name)) continue;
    parts.push(part('file', '', { reference: name }));
  }
  return { parts, contentType };
}

/**
 * Turns one element of a Claude.ai `conversations.json` into our model. Exports are linear: each
 * message follows the one before it. Newer exports carry `parent_message_uuid`; then the links
 * follow it (an edited or retried turn is a sibling) and the current branch is the path from the
 * last message (or `current_leaf_message_uuid` where present) back to the root. A message that is
 * left out (empty, or over the size limit) is skipped over: its children link to its parent.
 */
export function normaliseClaudeConversation(raw: unknown, ctx: ParseContext, place: string): Conversation {
  if (!isObject(raw)) throw new Error('a Claude conversation must be a JSON object');
  const conv = raw as ClaudeConversation;
  if (typeof conv.uuid !== 'string' || conv.uuid === '') throw new Error('Claude conversation has no uuid');
  const id = conv.uuid;
  if (!Array.isArray(conv.chat_messages)) throw new Error(`Claude conversation ${id} has no chat_messages list`);

  // First pass: the id and raw parent of every message, so links can skip over left-out messages.
  const entries: { raw: ClaudeMessage | undefined; id: string; parent: string }[] = [];
  const rawParent = new Map<string, string>();
  const branched = conv.chat_messages.some((m) => isObject(m) && typeof m.parent_message_uuid === 'string');
  let previous = '';
  conv.chat_messages.forEach((m, index) => {
    if (!isObject(m)) {
      ctx.skip(`${place} message [${index}]`, 'a message must be a JSON object: skipped');
      entries.push({ raw: undefined, id: '', parent: '' });
      return;
    }
    const message = m as ClaudeMessage;
    const messageId = typeof message.uuid === 'string' && message.uuid !== '' ? message.uuid : `${id}:${index}`;
    const parent = typeof message.parent_message_uuid === 'string' ? message.parent_message_uuid : previous;
    entries.push({ raw: message, id: messageId, parent });
    if (!rawParent.has(messageId)) rawParent.set(messageId, parent);
    previous = messageId;
  });

  const currentBranch = new Set<string>();
  if (branched) {
    const leaf =
      typeof conv.current_leaf_message_uuid === 'string' && rawParent.has(conv.current_leaf_message_uuid)
        ? conv.current_leaf_message_uuid
        : entries.findLast((e) => e.raw)?.id;
    for (let cursor = leaf; cursor && !currentBranch.has(cursor); cursor = rawParent.get(cursor)) {
      if (!rawParent.has(cursor)) break;
      currentBranch.add(cursor);
    }
  }

  const messages: Message[] = [];
  const kept = new Set<string>();
  for (const entry of entries) {
    if (!entry.raw) continue;
    const where = `${place} message ${entry.id}`;
    const { parts, contentType } = messageParts(entry.raw, ctx, where);
    const message = buildMessage(
      {
        id: entry.id,
        parentId: '',
        role: role(entry.raw.sender),
        parts,
        createdAt: isoTime(entry.raw.created_at),
        contentType,
        onCurrentBranch: branched ? currentBranch.has(entry.id) : true,
      },
      ctx,
      place,
    );
    if (message && !kept.has(message.id)) {
      messages.push(message);
      kept.add(message.id);
    } else if (message) {
      ctx.skip(where, 'a second message with the same uuid: skipped');
    }
  }

  // Second pass: each message links to its nearest kept ancestor ('' for the root).
  for (const message of messages) {
    const seen = new Set<string>([message.id]);
    let cursor = rawParent.get(message.id) ?? '';
    while (cursor !== '' && !kept.has(cursor) && !seen.has(cursor)) {
      seen.add(cursor);
      cursor = rawParent.get(cursor) ?? '';
    }
    message.parentId = kept.has(cursor) && !seen.has(cursor) ? cursor : '';
  }

  return {
    id,
    source: ExportSource.EXPORT_SOURCE_CLAUDE,
    title: str(conv.name),
    createdAt: isoTime(conv.created_at),
    updatedAt: isoTime(conv.updated_at),
    currentLeafId: messages.filter((m) => m.onCurrentBranch).at(-1)?.id ?? '',
    messages,
    sourceFile: ctx.file,
  };
}
