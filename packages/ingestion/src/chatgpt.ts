import { isObject } from '@trajectory/config/util';
import { type Conversation, ExportSource, type Message, type MessagePart } from '@trajectory/contracts';
import { buildMessage, epochSecondsTime, part, textsWithin } from './message.js';
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
export const isChatGptConversation = (raw: unknown): boolean => isObject(raw) && 'mapping' in raw;

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** Where ChatGPT content keeps its text, for a part of a shape this reader does not know. */
const PART_TEXT_KEYS = ['text', 'parts', 'content', 'result'] as const;

/** Tells the caller about a part kept with a caveat or left out. */
export type PartNote = (message: string) => void;

/** A JSON value's shape in words, for messages. */
function shapeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value !== 'object') return `a ${typeof value}`;
  const kind = str((value as Record<string, unknown>).content_type);
  return kind ? `an object of type ${JSON.stringify(kind)}` : 'an object';
}

/**
 * `parts` of text-like content: strings are text, image and file pointers are kept as references.
 * A part of another shape keeps whatever text it nests (at any depth) and is reported.
 */
function partsOf(parts: unknown[] | undefined, textType: string, note: PartNote): MessagePart[] {
  return (Array.isArray(parts) ? parts : []).flatMap((p, index): MessagePart[] => {
    if (typeof p === 'string') return p === '' ? [] : [part(textType, p)];
    if (isObject(p)) {
      const kind = str(p.content_type);
      if (kind === 'image_asset_pointer') return [part('image', '', { reference: str(p.asset_pointer) })];
      if (kind.endsWith('_asset_pointer')) return [part('file', '', { reference: str(p.asset_pointer) || kind })];
      if (typeof p.text === 'string') return [part(textType, p.text)];
    }
    const { texts, depth } = textsWithin(p, PART_TEXT_KEYS);
    const shape = shapeOf(p);
    if (texts.length === 0) {
      note(`content part [${index}] is ${shape} with no text: left out`);
      return [];
    }
    note(`content part [${index}] is ${shape} of a shape this reader does not know, ${depth} level(s) deep: its text is kept`);
    return [part(textType, texts.join('\n'))];
  });
}

/**
 * A ChatGPT message's content as typed parts. Every content type met in real exports has a
 * mapping; an unknown one is kept as `unknown:<type>` with whatever text it carries, and the
 * caller warns, so a new export version degrades instead of failing. `note` hears of parts kept
 * with a caveat or left out.
 */
export function contentParts(content: ChatGptMessage['content'], note: PartNote): { parts: MessagePart[]; known: boolean } {
  if (!content) return { parts: [], known: true };
  const type = content.content_type ?? 'unknown';
  switch (type) {
    case 'text':
    case 'multimodal_text':
      return { parts: partsOf(content.parts, 'text', note), known: true };
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
              partsOf(content.parts, 'text', note)
                .map((p) => p.text)
                .join('\n'),
          ),
        ],
        known: true,
      };
    case 'thoughts': {
      const thoughts = Array.isArray(content.thoughts) ? (content.thoughts as Record<string, unknown>[]) : [];
      const text = thoughts.map((t) => [str(t?.summary), str(t?.content)].filter(Boolean).join('\n')).filter(Boolean);
      return {
        parts: (text.length > 0 ? text : partsOf(content.parts, 'text', note).map((p) => p.text)).map((t) => part('thoughts', t)),
        known: true,
      };
    }
    case 'user_editable_context':
      // Custom instructions: profile data of the account, not something said in this conversation.
      return { parts: [], known: true };
    default: {
      const texts = [str(content.text), ...partsOf(content.parts, 'text', note).map((p) => p.text)].filter(Boolean);
      return { parts: [part(`unknown:${type}`, texts.join('\n'))], known: false };
    }
  }
}

function isHidden(message: ChatGptMessage): boolean {
  const meta = message.metadata ?? {};
  return meta.is_visually_hidden_from_conversation === true || message.content?.content_type === 'user_editable_context';
}

/** At most this many node ids are quoted when a message lists the nodes of a cycle. */
const CYCLE_IDS_SHOWN = 6;

const isNode = (value: unknown): value is ChatGptNode => isObject(value);

/** Parent links of a mapping: which nodes start a tree, and each node's children in the export's order. */
interface Forest {
  roots: string[];
  children: Map<string, string[]>;
  /** Each node's parent, as read (after cycles are cut). */
  parent: Map<string, string>;
}

/**
 * The trees of a mapping by its `parent` links. A node whose parent is missing starts a tree. A
 * cycle of parent links (a node its own parent, or a → b → a) would leave its nodes and
 * everything below them out of every tree: it is cut at its oldest message, which then starts a
 * tree, and reported. A node is read below its parent even where the parent's `children` list
 * forgets it; `children` gives the order where it has one.
 */
function forestOf(nodes: Map<string, ChatGptNode>, report: (key: string, message: string) => void): Forest {
  const parent = new Map<string, string>();
  for (const [key, node] of nodes) if (typeof node.parent === 'string' && nodes.has(node.parent)) parent.set(key, node.parent);

  // Follows each node's parent links until a root, a node already placed, or a node of the same
  // walk (a cycle). Iterative, and each node is walked once: O(nodes).
  const placed = new Set<string>();
  for (const start of nodes.keys()) {
    const walk: string[] = [];
    const onWalk = new Set<string>();
    let cursor: string | undefined = start;
    while (cursor !== undefined && !placed.has(cursor) && !onWalk.has(cursor)) {
      walk.push(cursor);
      onWalk.add(cursor);
      cursor = parent.get(cursor);
    }
    if (cursor !== undefined && onWalk.has(cursor)) {
      const cycle = walk.slice(walk.indexOf(cursor));
      const cut = oldest(cycle, nodes);
      const was = parent.get(cut);
      parent.delete(cut);
      if (cycle.length === 1) {
        report(cut, 'is its own parent: read as the start of the conversation');
      } else {
        const shown =
          cycle.slice(0, CYCLE_IDS_SHOWN).join(' → ') +
          (cycle.length > CYCLE_IDS_SHOWN ? ` → … (${cycle.length} nodes)` : ` → ${cycle[0]}`);
        report(cut, `parent links form a cycle (${shown}): the link from ${cut} to its parent ${was} is cut, ${cut} is read as the start`);
      }
    }
    for (const key of walk) placed.add(key);
  }

  const children = new Map<string, string[]>();
  const listed = new Set<string>();
  for (const [key, node] of nodes) {
    const own = (Array.isArray(node.children) ? node.children : []).filter(
      (child): child is string => typeof child === 'string' && parent.get(child) === key && !listed.has(child),
    );
    for (const child of own) listed.add(child);
    children.set(key, own);
  }
  const roots: string[] = [];
  for (const key of nodes.keys()) {
    const up = parent.get(key);
    if (up === undefined) roots.push(key);
    else if (!listed.has(key)) children.get(up)?.push(key);
  }
  return { roots, children, parent };
}

/** The node of `keys` whose message is oldest (the first of them where none has a time). */
function oldest(keys: string[], nodes: Map<string, ChatGptNode>): string {
  let best = keys[0] as string;
  let bestTime = Number.POSITIVE_INFINITY;
  for (const key of keys) {
    const time = epochSecondsTime(nodes.get(key)?.message?.create_time)?.getTime() ?? Number.POSITIVE_INFINITY;
    if (time < bestTime) [best, bestTime] = [key, time];
  }
  return best;
}

/**
 * The node the current branch ends at: `current_node`, or, where it is missing or names no
 * node, the visible message written last (the last in the mapping where none has a time), with a
 * warning naming it.
 */
function currentLeaf(current: unknown, nodes: Map<string, ChatGptNode>, warn: (message: string) => void): string | undefined {
  if (typeof current === 'string' && nodes.has(current)) return current;
  let leaf: string | undefined;
  let leafTime = Number.NEGATIVE_INFINITY;
  for (const [key, node] of nodes) {
    if (!node.message || typeof node.message !== 'object' || isHidden(node.message)) continue;
    const time = epochSecondsTime(node.message.create_time)?.getTime() ?? Number.NEGATIVE_INFINITY;
    if (leaf === undefined || time >= leafTime) [leaf, leafTime] = [key, time];
  }
  const why =
    current === undefined || current === null
      ? 'has no current_node'
      : `current_node ${JSON.stringify(current)} names no node of the mapping`;
  warn(
    leaf === undefined
      ? `${why}, and no message to end the current branch at`
      : `${why}: the current branch is taken to end at node ${leaf}, the message written last`,
  );
  return leaf;
}

/**
 * Turns one ChatGPT conversation into our model. The export's `mapping` is a tree: an edited or
 * regenerated turn is a sibling of the original. Every visible message is kept with a link to
 * its nearest kept ancestor; the path from the root to `current_node` (what the user saw last)
 * is the current branch, every other branch stays a branch. A damaged mapping (cycles, a missing
 * or unknown `current_node`, nodes that are not objects) is read as far as it goes and reported.
 */
export function normaliseChatGptConversation(raw: unknown, ctx: ParseContext, place: string): Conversation {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ExportFormatError('a conversation must be a JSON object');
  const conv = raw as ChatGptConversation;
  const id = conv.conversation_id ?? conv.id;
  if (typeof id !== 'string' || id === '') throw new ExportFormatError('conversation has no id or conversation_id');
  if (!conv.mapping || typeof conv.mapping !== 'object' || Array.isArray(conv.mapping)) {
    throw new ExportFormatError(`conversation ${id} has no mapping`);
  }
  const where = `${place} conversation ${id}`;

  // A Map, not the parsed object: node ids such as "__proto__" or "constructor" are only data.
  const nodes = new Map<string, ChatGptNode>();
  for (const [key, node] of Object.entries(conv.mapping)) {
    if (isNode(node)) nodes.set(key, node);
    else ctx.skip(`${where} node ${key}`, `a mapping node must be a JSON object, found ${shapeOf(node)}: left out`);
  }
  const { roots, children, parent } = forestOf(nodes, (key, message) => ctx.warn(`${where} node ${key}`, message));

  const currentBranch = new Set<string>();
  const leaf = currentLeaf(conv.current_node, nodes, (message) => ctx.warn(where, message));
  for (let cursor = leaf; cursor !== undefined && !currentBranch.has(cursor); cursor = parent.get(cursor)) currentBranch.add(cursor);

  const messages: Message[] = [];
  // Iterative depth-first walk in the export's child order: parents always precede children.
  const stack: { key: string; keptParent: string }[] = roots.reverse().map((key) => ({ key, keptParent: '' }));
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { key, keptParent } = item;
    const node = nodes.get(key) as ChatGptNode;
    let parentForChildren = keptParent;
    const raw = node.message;
    if (raw && typeof raw === 'object' && !isHidden(raw)) {
      const messageId = str(raw.id) || str(node.id) || key;
      const at = `${where} message ${messageId}`;
      const { parts, known } = contentParts(raw.content, (message) => ctx.warn(at, message));
      if (!known) ctx.warn(at, `unknown content type ${JSON.stringify(raw.content?.content_type)}: kept as a typed part`);
      const message = buildMessage(
        {
          id: messageId,
          parentId: keptParent,
          role: str(raw.author?.role) || 'unknown',
          authorName: str(raw.author?.name) || undefined,
          parts,
          createdAt: epochSecondsTime(raw.create_time),
          contentType: str(raw.content?.content_type) || 'unknown',
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
    const below = children.get(key) ?? [];
    for (let i = below.length - 1; i >= 0; i--) stack.push({ key: below[i] as string, keptParent: parentForChildren });
  }

  return {
    id,
    source: ExportSource.EXPORT_SOURCE_CHATGPT,
    title: str(conv.title),
    createdAt: epochSecondsTime(conv.create_time),
    updatedAt: epochSecondsTime(conv.update_time),
    currentLeafId: messages.filter((m) => m.onCurrentBranch).at(-1)?.id ?? '',
    messages,
    sourceFile: ctx.file,
  };
}
