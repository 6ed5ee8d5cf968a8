import { isObject } from '@trajectory/config/util';
import { ExportSource, type Message, type MessagePart } from '@trajectory/contracts';
import { parseHumanTime } from './dates.js';
import { conversationOf, hash, pushLinear } from './linear-conversation.js';
import { buildMessage, isoTime, part } from './message.js';
import type { ParseContext, ParsedItem } from './types.js';

/* JSONL transcripts: one message a line. */

/** Epoch seconds or milliseconds, told apart by size: 1e11 seconds is the year 5138, 1e11 ms is 1973. */
function epochTime(value: number): Date | undefined {
  if (!Number.isFinite(value) || value <= 0) return undefined;
  const date = new Date(value >= 1e11 ? value : value * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function jsonlTime(value: unknown): Date | undefined {
  if (typeof value === 'number') return epochTime(value);
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return epochTime(Number(value));
  return parseHumanTime(value) ?? isoTime(value);
}

const ROLE_ALIASES: Record<string, string> = {
  user: 'user',
  human: 'user',
  assistant: 'assistant',
  ai: 'assistant',
  bot: 'assistant',
  model: 'assistant',
  system: 'system',
  tool: 'tool',
  function: 'tool',
};

function normaliseRole(value: string): string {
  return ROLE_ALIASES[value.trim().toLowerCase()] ?? value.trim();
}

/** Part types a line may name as they are; others are kept as `unknown:<type>`. */
const KNOWN_PART_TYPES = new Set([
  'text',
  'code',
  'image',
  'file',
  'thoughts',
  'reasoning_recap',
  'execution_output',
  'tool_use',
  'tool_result',
  'quote',
  'browsing',
  'error',
]);
const PART_ALIASES: Record<string, string> = { input_text: 'text', output_text: 'text', thinking: 'thoughts', reasoning: 'thoughts' };

function jsonlParts(content: unknown, ctx: ParseContext, where: string): MessagePart[] | undefined {
  if (typeof content === 'string') return [part('text', content)];
  if (!Array.isArray(content)) return undefined;
  const parts: MessagePart[] = [];
  for (const [index, item] of content.entries()) {
    if (typeof item === 'string') {
      parts.push(part('text', item));
      continue;
    }
    if (!isObject(item)) {
      const shape = item === null ? 'null' : Array.isArray(item) ? 'a list' : `a ${typeof item}`;
      ctx.warn(where, `content item [${index}] is ${shape}, not text or a typed part: left out`);
      continue;
    }
    const text = typeof item.text === 'string' ? item.text : typeof item.content === 'string' ? item.content : '';
    const rawType = typeof item.type === 'string' && item.type !== '' ? item.type : 'text';
    const type = PART_ALIASES[rawType] ?? rawType;
    if (KNOWN_PART_TYPES.has(type)) {
      parts.push(part(type, text));
    } else {
      ctx.warn(where, `unknown content type ${JSON.stringify(rawType)}: kept as unknown:${rawType}`);
      parts.push(part(`unknown:${rawType}`, text));
    }
  }
  return parts;
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * Reads a JSONL transcript, one message a line: `{role, content, timestamp?, conversation_id? |
 * conversation?, id?, title?, name?}`. Consecutive lines with the same conversation id form one
 * conversation (lines without one belong to a conversation named after the file); each is
 * yielded as soon as the id changes, so only one conversation is held at a time. A bad line is
 * reported with its line number and the rest goes on.
 */
export async function* parseJsonlConversations(
  lines: AsyncIterable<string>,
  ctx: ParseContext,
  baseName: string,
): AsyncGenerator<ParsedItem> {
  const defaultId = hash('jsonl', baseName);
  const seen = new Map<string, number>();
  let current:
    | { key: string | undefined; id: string; title: string | undefined; first: number; last: number; messages: Message[] }
    | undefined;

  const flush = (): ParsedItem | undefined => {
    const done = current;
    current = undefined;
    if (!done || done.messages.length === 0) return undefined;
    const place = done.first === done.last ? `line ${done.first}` : `lines ${done.first}-${done.last}`;
    // The first `title` of its lines names a conversation; lines without a conversation id are named after the file.
    const title = done.title ?? (done.key === undefined ? baseName : '');
    return { ok: true, place, conversation: conversationOf(done.id, ExportSource.EXPORT_SOURCE_TRANSCRIPT, title, done.messages, ctx) };
  };

  let lineNo = 0;
  for await (const rawLine of lines) {
    lineNo++;
    const line = (lineNo === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine).trim();
    if (line === '') continue;
    const place = `line ${lineNo}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      yield { ok: false, place, message: `malformed JSON: ${(err as Error).message}` };
      continue;
    }
    if (!isObject(value)) {
      yield { ok: false, place, message: 'a line must be a JSON object (a message)' };
      continue;
    }
    if (typeof value.role !== 'string' || value.role.trim() === '') {
      yield { ok: false, place, message: 'the message has no role' };
      continue;
    }
    const parts = jsonlParts(value.content, ctx, place);
    if (!parts || parts.every((p) => p.text.trim() === '')) {
      yield { ok: false, place, message: 'the message has no content' };
      continue;
    }

    const key = idOf(value.conversation_id) ?? idOf(value.conversation);
    if (!current || current.key !== key) {
      const item = flush();
      if (item) yield item;
      const baseId = key ?? defaultId;
      const times = (seen.get(baseId) ?? 0) + 1;
      seen.set(baseId, times);
      // A conversation id that comes back after another one is a second conversation: its id is made unique.
      const id = times === 1 ? baseId : `${baseId}:${times}`;
      if (times > 1) ctx.warn(place, `conversation ${baseId} appears again after other lines: read as conversation ${id}`);
      current = { key, id, title: undefined, first: lineNo, last: lineNo, messages: [] };
    }
    if (current.title === undefined && typeof value.title === 'string' && value.title.trim() !== '') current.title = value.title.trim();
    current.last = lineNo;

    const timeValue = value.timestamp ?? value.created_at ?? value.time;
    const createdAt = jsonlTime(timeValue);
    if (timeValue !== undefined && timeValue !== null && timeValue !== '' && !createdAt) {
      ctx.warn(place, `timestamp ${JSON.stringify(timeValue)} is not a time this reader knows`);
    }
    const messageId = idOf(value.id) ?? `line-${lineNo}`;
    pushLinear(
      current.messages,
      buildMessage(
        {
          id: messageId,
          parentId: '',
          role: normaliseRole(value.role),
          authorName: typeof value.name === 'string' ? value.name : undefined,
          parts,
          createdAt,
          contentType: 'text',
          onCurrentBranch: true,
        },
        ctx,
        place,
      ),
    );
  }
  const item = flush();
  if (item) yield item;
}
