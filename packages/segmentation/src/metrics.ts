/**
 * Segmentation error metrics: Pk (Beeferman, Berger & Lafferty 1999) and WindowDiff (Pevzner &
 * Hearst 2002), computed exactly as NLTK's `nltk.metrics.segmentation.pk` / `windowdiff` on label
 * sequences. Lower is better; both lie in [0, 1].
 *
 * Segmentations are given as boundary indexes: a boundary at i (1 ≤ i ≤ n − 1) means a new segment
 * starts at unit i. They become NLTK label sequences of length n where label j = 1 marks a boundary
 * between unit j and unit j + 1 (so boundary i sets label i − 1); the last label is always 0. A window
 * of k labels starting at j then spans units j..j + k, and Pk/WindowDiff look at the n − k + 1 windows
 * j = 0..n − k, as NLTK does (the last window reaches one past the final unit; NLTK's convention).
 */

/** NLTK label sequence (0/1) of length n for boundary indexes; validates them. */
export function boundaryLabels(boundaries: readonly number[], n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  const labels = new Uint8Array(n);
  for (const b of boundaries) {
    if (!Number.isInteger(b) || b < 1 || b > n - 1) throw new RangeError(`boundary ${b} outside 1..${n - 1}`);
    labels[b - 1] = 1;
  }
  return labels;
}

/**
 * Half the mean reference segment length, rounded half up, at least 1:
 * max(1, round(n / (2 · segments))) with segments = distinct boundaries + 1. (NLTK's default divides
 * by the count of boundary labels and rounds half to even; pass k explicitly to reproduce it.)
 */
export function defaultWindow(reference: readonly number[], n: number): number {
  const segments = new Set(reference).size + 1;
  return Math.max(1, Math.round(n / (2 * segments)));
}

function resolveK(reference: readonly number[], n: number, k: number | undefined): number {
  const window = k ?? defaultWindow(reference, n);
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`k must be a positive integer, got ${window}`);
  if (window > n) throw new RangeError(`k (${window}) must not exceed the number of units (${n})`);
  return window;
}

/** Boundary counts of every window of k labels, j = 0..n − k (a sliding sum). */
function windowCounts(labels: Uint8Array, k: number): number[] {
  const counts: number[] = [];
  let count = 0;
  for (let j = 0; j < k; j++) count += labels[j] ?? 0;
  counts.push(count);
  for (let j = 1; j + k <= labels.length; j++) {
    count += (labels[j + k - 1] ?? 0) - (labels[j - 1] ?? 0);
    counts.push(count);
  }
  return counts;
}

/**
 * Pk: the share of windows of k labels in which reference and hypothesis disagree on whether the
 * window contains any boundary (whether units j and j + k lie in different segments).
 */
export function pk(reference: readonly number[], hypothesis: readonly number[], n: number, k?: number): number {
  const window = resolveK(reference, n, k);
  const ref = windowCounts(boundaryLabels(reference, n), window);
  const hyp = windowCounts(boundaryLabels(hypothesis, n), window);
  let errors = 0;
  for (let j = 0; j < ref.length; j++) if ((ref[j] ?? 0) > 0 !== (hyp[j] ?? 0) > 0) errors++;
  return errors / ref.length;
}

/**
 * WindowDiff: the share of windows of k labels in which reference and hypothesis contain a
 * different number of boundaries.
 */
export function windowDiff(reference: readonly number[], hypothesis: readonly number[], n: number, k?: number): number {
  const window = resolveK(reference, n, k);
  const ref = windowCounts(boundaryLabels(reference, n), window);
  const hyp = windowCounts(boundaryLabels(hypothesis, n), window);
  let errors = 0;
  for (let j = 0; j < ref.length; j++) if (ref[j] !== hyp[j]) errors++;
  return errors / ref.length;
}
