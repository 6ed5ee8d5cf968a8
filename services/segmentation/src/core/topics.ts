import { cosine, type SentenceEmbedder } from '@trajectory/embeddings';
import { depthScores, gapSimilarities, lexicalTokenizer, selectBoundaries, smoothScores } from './texttiling.js';

/** One utterance as the topic detector sees it: its content words and, with a model, its embedding. */
export interface TopicUnit {
  tokens: readonly string[];
  vector?: Float32Array;
}

export interface TopicShift {
  /** The unit that starts the new topic. */
  index: number;
  /** Depth of the similarity valley at the gap before it (Hearst's depth score). */
  depth: number;
}

/**
 * Parameters fixed before any evaluation (the gold set's test split is for reporting only):
 * windows of two utterances each side, as in TextTiling for dialogue; the embedding curve weighs
 * three times the lexical one, because short utterances share few words but still sit close in
 * embedding space when on one topic. No smoothing: with blocks of two utterances the block
 * comparison already averages, and a moving average would shift valleys by an utterance.
 */
export const TOPIC_DEFAULTS = { window: 2, embeddingWeight: 0.75, smoothingWidth: 0, minGap: 2 } as const;

/** The mean of the vectors that are there; undefined when none is. */
export function meanVector(vectors: readonly (Float32Array | undefined)[]): Float32Array | undefined {
  const present = vectors.filter((v): v is Float32Array => v !== undefined);
  const first = present[0];
  if (!first) return undefined;
  const mean = new Float32Array(first.length);
  for (const v of present) for (let i = 0; i < mean.length; i++) mean[i] = (mean[i] ?? 0) + (v[i] ?? 0) / present.length;
  return mean;
}

const cosineOf = (a: Float32Array | undefined, b: Float32Array | undefined) => (a && b ? cosine(a, b) : 0);

/** Block comparison on embeddings: cosine of the mean vectors of `window` units each side of every gap. */
export function embeddingGapSimilarities(vectors: readonly (Float32Array | undefined)[], window: number): number[] {
  const scores: number[] = [];
  const n = vectors.length;
  for (let j = 0; j < n - 1; j++) {
    const size = Math.min(window, j + 1, n - 1 - j);
    scores.push(cosineOf(meanVector(vectors.slice(j + 1 - size, j + 1)), meanVector(vectors.slice(j + 1, j + 1 + size))));
  }
  return scores;
}

/**
 * Where new topics start: TextTiling's depth scores over a similarity curve that mixes embedding
 * similarity with lexical cohesion, or lexical cohesion alone when there are no vectors (the
 * documented fallback when the embedding model is absent). `forced` units (an explicit "new
 * topic" marker) always start a topic.
 */
export function topicShifts(units: readonly TopicUnit[], options: { forced?: readonly number[]; clip?: number } = {}): TopicShift[] {
  const { window, embeddingWeight, smoothingWidth, minGap } = TOPIC_DEFAULTS;
  const lexical = gapSimilarities(
    units.map((u) => u.tokens),
    window,
  );
  const withVectors = units.length > 0 && units.every((u) => u.vector);
  const curve = withVectors
    ? embeddingGapSimilarities(
        units.map((u) => u.vector),
        window,
      ).map((s, j) => embeddingWeight * s + (1 - embeddingWeight) * (lexical[j] ?? 0))
    : lexical;
  const depths = depthScores(smoothScores(curve, smoothingWidth));
  const chosen = new Set(selectBoundaries(depths, { cutoff: 'hc', minGap, ...(options.clip === undefined ? {} : { clip: options.clip }) }));
  for (const index of options.forced ?? []) if (index > 0 && index < units.length) chosen.add(index);
  return [...chosen].sort((a, b) => a - b).map((index) => ({ index, depth: depths[index - 1] ?? 0 }));
}

/**
 * Topic boundaries of a dialogue given as plain utterances (the gold-set evaluation's entry point):
 * unit indexes where a new topic starts.
 */
export async function detectTopicShifts(
  utterances: readonly string[],
  options: { embedder?: SentenceEmbedder | null; languages?: readonly string[] } = {},
): Promise<number[]> {
  const tokenize = lexicalTokenizer(options.languages ?? ['en']);
  const vectors = options.embedder ? await options.embedder.embed([...utterances]) : [];
  const units = utterances.map((text, i) => {
    const vector = vectors[i];
    return vector ? { tokens: tokenize(text), vector } : { tokens: tokenize(text) };
  });
  return topicShifts(units).map((shift) => shift.index);
}
