import type { Message, MessagePart } from '@trajectory/contracts';
import type { ParseContext } from './types.js';

export interface MessageInput {
  id: string;
  parentId: string;
  role: string;
  authorName?: string | undefined;
  parts: MessagePart[];
  createdAt: Date | undefined;
  contentType: string;
  onCurrentBranch: boolean;
}

export const part = (type: string, text: string, extra: Partial<MessagePart> = {}): MessagePart => ({
  type,
  text,
  language: '',
  reference: '',
  ...extra,
});

/** Parts that are not what the author said: reasoning and attached files. */
const ASIDE_PARTS = new Set(['thoughts', 'file']);

/**
 * The readable text of a message, one part per paragraph: what the author said, without
 * reasoning or attachments; a message that is only reasoning (ChatGPT's `thoughts`) reads as it.
 */
export function partsToText(parts: MessagePart[]): string {
  const withText = parts.filter((p) => p.text.trim() !== '');
  const said = withText.filter((p) => !ASIDE_PARTS.has(p.type));
  return (said.length > 0 ? said : withText.filter((p) => p.type === 'thoughts')).map((p) => p.text).join('\n\n');
}

/**
 * Builds a Message the same way for every source: redaction over every part, the readable
 * text, the size limit, and an honest flag where the source had no time. Returns undefined (and
 * reports why through ctx) when the message is left out; callers then link its children to its
 * parent.
 */
export function buildMessage(input: MessageInput, ctx: ParseContext, place: string): Message | undefined {
  let redactions = 0;
  const parts = input.parts.map((p) => {
    if (!p.text) return p;
    const r = ctx.redact(p.text);
    for (const count of Object.values(r.counts)) redactions += count;
    return { ...p, text: r.text };
  });
  const text = partsToText(parts);
  if (text.trim() === '' && parts.every((p) => !p.reference)) return undefined;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > ctx.limits.maxMessageBytes) {
    ctx.skip(
      `${place} message ${input.id}`,
      `message of ${bytes} bytes is over the ${ctx.limits.maxMessageBytes}-byte limit (INGESTION_MAX_MESSAGE_BYTES): skipped`,
    );
    return undefined;
  }
  return {
    id: input.id,
    parentId: input.parentId,
    role: input.role,
    text,
    createdAt: input.createdAt,
    contentType: input.contentType,
    onCurrentBranch: input.onCurrentBranch,
    redactions,
    authorName: input.authorName ?? '',
    parts,
    createdAtFromSource: input.createdAt !== undefined,
  };
}

/** Parses an ISO 8601 time; undefined for anything else (never "now"). */
export function isoTime(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Epoch seconds (fractional allowed) as used by ChatGPT; undefined for null, 0 or junk. */
export function epochSecondsTime(value: unknown): Date | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? new Date(Math.round(value * 1000)) : undefined;
}

/**
 * The strings nested in a JSON value, in document order: the string items of arrays and the
 * string values under `keys` of objects, at any depth. Walked with an explicit stack because a
 * hostile export can nest deeper than the call stack goes. `depth` is the deepest level reached.
 */
export function textsWithin(value: unknown, keys: readonly string[]): { texts: string[]; depth: number } {
  const texts: string[] = [];
  let depth = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    depth = Math.max(depth, item.depth);
    const v = item.value;
    if (typeof v === 'string') {
      if (v !== '') texts.push(v);
      continue;
    }
    const inner: unknown[] = Array.isArray(v)
      ? v
      : v && typeof v === 'object'
        ? keys.map((key) => (Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined))
        : [];
    for (let i = inner.length - 1; i >= 0; i--) if (inner[i] !== undefined) stack.push({ value: inner[i], depth: item.depth + 1 });
  }
  return { texts, depth };
}

/**
 * JSON.stringify for a parsed JSON value (plain objects, arrays, strings, numbers, booleans,
 * null), without recursion: V8's own overflows the call stack on a value nested a few thousand
 * levels deep, and a hostile export can hold one.
 */
export function jsonText(value: unknown): string {
  const out: string[] = [];
  // A value still to write, or punctuation already decided.
  type Pending = { value: unknown } | { literal: string };
  const stack: Pending[] = [{ value }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if ('literal' in item) {
      out.push(item.literal);
      continue;
    }
    const v = item.value;
    if (!v || typeof v !== 'object') {
      out.push(JSON.stringify(v) ?? 'null');
      continue;
    }
    const entries: [string | undefined, unknown][] = Array.isArray(v)
      ? v.map((e): [undefined, unknown] => [undefined, e])
      : Object.entries(v).filter(([, e]) => e !== undefined);
    const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
    const work: Pending[] = [{ literal: open }];
    entries.forEach(([key, e], i) => {
      if (i > 0) work.push({ literal: ',' });
      if (key !== undefined) work.push({ literal: `${JSON.stringify(key)}:` });
      work.push({ value: e === undefined ? null : e });
    });
    work.push({ literal: close });
    for (let i = work.length - 1; i >= 0; i--) stack.push(work[i] as Pending);
  }
  return out.join('');
}
