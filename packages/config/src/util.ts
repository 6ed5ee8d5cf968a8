// Small helpers that every layer of the tree uses. This module imports nothing (zod included),
// so importing it through `@trajectory/config/util` adds nothing to a process's start or memory.

/**
 * mulberry32: a small, fast 32-bit PRNG, numbers in [0, 1). Generated data (samples' phrasings,
 * the benches' synthetic exports, test corpora) is pinned to its sequences, so it never changes.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A plain object as parsed JSON gives it: not null, not an array. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
