import type { Conversation } from '@trajectory/contracts';
import { DEFAULT_LIMITS, type ParseContext } from './types.js';

/** A ParseContext that redacts nothing and records its warnings and skips. */
export function context() {
  const warnings: { place: string; message: string }[] = [];
  const skips: { place: string; message: string }[] = [];
  const ctx: ParseContext = {
    file: 'export.zip:chats/archive.jsonl',
    redact: (t) => ({ text: t, counts: {} }),
    limits: DEFAULT_LIMITS,
    warn: (place, message) => warnings.push({ place, message }),
    skip: (place, message) => skips.push({ place, message }),
  };
  return { ctx, warnings, skips };
}

/** Whether each message follows the one before it. */
export const linear = (c: Conversation | undefined) =>
  c?.messages.map((m, i, all) => m.parentId === (i === 0 ? '' : all[i - 1]?.id)).every(Boolean);
