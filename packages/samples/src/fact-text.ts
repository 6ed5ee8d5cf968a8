// Text helpers of the fact phrasings, and their randomness: a PRNG seeded from a hash, so the same
// facts always give the same phrasings.
import { createHash } from 'node:crypto';
import { mulberry32 } from '@trajectory/config/util';

/** Lowercase, whitespace collapsed and trimmed: the form phrasings must be distinct in. */
export const normalisePhrasing = (text: string): string => collapse(text).toLowerCase();

/** `normalisePhrasing` with punctuation dropped too, for the stricter held-out/train separation. */
export const loose = (text: string): string => collapse(text.replace(/[\p{P}\p{S}]+/gu, ' ')).toLowerCase();

export function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
export const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Does `text` mention `value` as a whole word (case-insensitive)? */
export function mentionsValue(text: string, value: string): boolean {
  const v = collapse(value);
  if (v === '') return false;
  return new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegExp(v)}($|[^\\p{L}\\p{N}])`, 'iu').test(text);
}

/** Seeded from a hash (its first 32 bits), never from Math.random. */
export const prng = (seedHex: string): (() => number) => mulberry32(Number.parseInt(seedHex.slice(0, 8), 16));

export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
