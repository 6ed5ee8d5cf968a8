import { createHash } from 'node:crypto';
import type { Conversation, ExportSource, Message } from '@trajectory/contracts';
import type { ParseContext } from './types.js';

/*
 * What the readers of hand-made formats (JSONL, Markdown transcripts, notes) share: their
 * conversations are one line of messages, each following the last.
 */

/** A stable id from the values that name a conversation. */
export const hash = (...values: string[]): string => createHash('sha256').update(values.join('\u0000')).digest('hex').slice(0, 32);

/** The conversation of `messages`, timed by them. */
export function conversationOf(id: string, source: ExportSource, title: string, messages: Message[], ctx: ParseContext): Conversation {
  const times = messages.flatMap((m) => (m.createdAt ? [m.createdAt.getTime()] : []));
  return {
    id,
    source,
    title,
    // A conversation is as old as its messages say; no time is invented when none has one.
    createdAt: times.length > 0 ? new Date(times.reduce((a, b) => Math.min(a, b))) : undefined,
    updatedAt: times.length > 0 ? new Date(times.reduce((a, b) => Math.max(a, b))) : undefined,
    currentLeafId: messages.at(-1)?.id ?? '',
    messages,
    sourceFile: ctx.file,
  };
}

/** Appends a linear message: it follows the last kept one. Returns whether it was kept. */
export function pushLinear(messages: Message[], built: Message | undefined): boolean {
  if (!built) return false;
  built.parentId = messages.at(-1)?.id ?? '';
  messages.push(built);
  return true;
}
