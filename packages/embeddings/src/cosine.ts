/**
 * Cosine similarity of two vectors of the same length. For SentenceEmbedder output (unit length)
 * this equals the dot product, but it divides by the norms anyway so that it stays right for
 * averaged vectors such as centroids. Zero vectors give 0 rather than NaN.
 */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`cosine: lengths differ (${a.length} vs ${b.length})`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
