import type { SentenceEmbedder } from './index.js';

export interface CacheStats {
  hits: number;
  misses: number;
  entries: number;
}

/**
 * `embedder` with an in-memory LRU of vectors keyed by the text itself (a Map's string key: V8
 * hashes it once, no digest needed). Re-segmenting an unchanged message (a redelivery, a re-run
 * on the next export) then costs a lookup instead of an embedding. Same id and vectors as
 * `embedder`; the vectors returned are shared, so callers must not write into them (segmentation
 * only reads). `maxEntries` bounds memory: about 1.6 kB per 384-d entry, so the default 100,000
 * is ~160 MB at most.
 */
export function withEmbeddingCache(
  embedder: SentenceEmbedder,
  options: { maxEntries?: number } = {},
): SentenceEmbedder & { stats(): CacheStats } {
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer (got ${maxEntries})`);
  const cache = new Map<string, Float32Array>();
  let hits = 0;
  let misses = 0;
  return {
    id: embedder.id,
    dimensions: embedder.dimensions,
    async embed(texts: string[]): Promise<Float32Array[]> {
      const out = new Array<Float32Array>(texts.length);
      const missing: string[] = [];
      const missingAt = new Map<string, number[]>();
      texts.forEach((text, i) => {
        const hit = cache.get(text);
        if (hit) {
          // Refresh its place in the LRU order.
          cache.delete(text);
          cache.set(text, hit);
          out[i] = hit;
          hits++;
          return;
        }
        const at = missingAt.get(text);
        if (at) at.push(i);
        else {
          missingAt.set(text, [i]);
          missing.push(text);
        }
      });
      if (missing.length > 0) {
        misses += missing.length;
        const vectors = await embedder.embed(missing);
        missing.forEach((text, k) => {
          const vector = vectors[k] as Float32Array;
          for (const i of missingAt.get(text) ?? []) out[i] = vector;
          cache.set(text, vector);
        });
        while (cache.size > maxEntries) {
          const oldest = cache.keys().next().value as string;
          cache.delete(oldest);
        }
      }
      return out;
    },
    close: () => embedder.close(),
    stats: () => ({ hits, misses, entries: cache.size }),
  };
}
