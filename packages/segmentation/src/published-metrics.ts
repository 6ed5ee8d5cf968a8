/**
 * Pk and WindowDiff as the published dialogue topic segmentation results compute them: the TIAGE /
 * CSM evaluation code (lxing532/Dialogue-Topic-Segmenter, `neural_texttiling.py`) calls
 * `segeval.pk(hypothesis, reference)` and `segeval.window_diff(...)` on segment masses with
 * segeval's defaults (segeval 2.0.11, `segeval/window/*.py`). That convention differs from NLTK's
 * (metrics.ts) in three ways:
 *
 * - k = round(mean reference segment length / 2), rounded half to even (Python's `round` on a
 *   Decimal), and **at least 2** (NLTK: at least 1);
 * - the windows are the n − k pairs of units (i, i + k), i = 0..n − k − 1 (NLTK slides n − k + 1
 *   windows over n labels, the last one reaching past the final unit);
 * - WindowDiff counts, per window, the boundaries between units i and i + k in each segmentation.
 *
 * Boundaries are unit indexes i (1 ≤ i ≤ n − 1) where a new segment starts, as everywhere here.
 * Lower is better; both lie in [0, 1]. A dialogue with n ≤ k has no window and scores 0, as in
 * segeval's Pk (its WindowDiff would divide by zero there).
 */

/** Round half to even, as Python 3's `round` (segeval rounds a Decimal, so halves are exact). */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (Math.abs(fraction - 0.5) < 1e-9) return floor % 2 === 0 ? floor : floor + 1;
  return Math.round(x);
}

/** segeval's default window: round_half_even(n / segments / 2), at least 2. */
export function segevalWindow(reference: readonly number[], n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  const segments = new Set(reference).size + 1;
  const k = roundHalfEven(n / segments / 2);
  return k > 1 ? k : 2;
}

/** Segment number of every unit (0-based), from sorted or unsorted boundary indexes. */
function segmentLabels(boundaries: readonly number[], n: number): Int32Array {
  const starts = new Uint8Array(n);
  for (const b of boundaries) {
    if (!Number.isInteger(b) || b < 1 || b > n - 1) throw new RangeError(`boundary ${b} outside 1..${n - 1}`);
    starts[b] = 1;
  }
  const labels = new Int32Array(n);
  let segment = 0;
  for (let i = 0; i < n; i++) {
    segment += starts[i] ?? 0;
    labels[i] = segment;
  }
  return labels;
}

function windowErrors(reference: readonly number[], hypothesis: readonly number[], n: number, k: number, count: boolean): number {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  const windows = n - k;
  if (windows <= 0) return 0;
  const ref = segmentLabels(reference, n);
  const hyp = segmentLabels(hypothesis, n);
  let errors = 0;
  for (let i = 0; i < windows; i++) {
    const r = (ref[i + k] ?? 0) - (ref[i] ?? 0);
    const h = (hyp[i + k] ?? 0) - (hyp[i] ?? 0);
    if (count ? r !== h : r > 0 !== h > 0) errors++;
  }
  return errors / windows;
}

/** segeval's Pk: the share of the n − k unit pairs (i, i + k) on whose sameness of segment the two disagree. */
export function pkPublished(
  reference: readonly number[],
  hypothesis: readonly number[],
  n: number,
  k = segevalWindow(reference, n),
): number {
  return windowErrors(reference, hypothesis, n, k, false);
}

/** segeval's WindowDiff: the share of the n − k unit pairs (i, i + k) with different boundary counts between them. */
export function windowDiffPublished(
  reference: readonly number[],
  hypothesis: readonly number[],
  n: number,
  k = segevalWindow(reference, n),
): number {
  return windowErrors(reference, hypothesis, n, k, true);
}
