/**
 * TextTiling (Hearst 1997, "TextTiling: Segmenting Text into Multi-paragraph Subtopic Passages")
 * adapted to dialogue: the unit is an utterance rather than a fixed-size pseudo-sentence. The
 * pipeline follows NLTK's `TextTilingTokenizer` (block comparison, smoothing, depth scores,
 * HC/LC cutoff, dropping boundaries too close to a deeper one), with the departures listed below.
 *
 *   lexicalTokens → gapSimilarities → smoothScores → depthScores → selectBoundaries
 *
 * The last three work on any similarity curve, so embedding similarities between windows can use
 * the same depth and cutoff logic. Curves are indexed by gap: entry `j` is the gap between unit `j`
 * and unit `j + 1`, so a curve over `n` units has `n - 1` entries, and a boundary chosen at gap `j`
 * is reported as unit index `j + 1` (the unit that starts the new segment).
 *
 * Departures from NLTK, all for short dialogues:
 * - units are utterances; NLTK's pseudo-sentences of w = 20 tokens and its snapping of boundaries to
 *   paragraph breaks have no counterpart;
 * - a light suffix stemmer is on by default (Hearst used a morphological analyser; NLTK skips it),
 *   because blocks of a few short utterances share few surface forms;
 * - smoothing averages over the neighbours that exist at the two ends instead of NLTK's reflected
 *   padding (which, copied from the SciPy cookbook, is off by one);
 * - the cutoff's mean and standard deviation are taken over the gaps that may hold a boundary (the
 *   clipped ends excluded, where NLTK counts their zero depths), and a boundary needs a positive depth
 *   (NLTK's cutoff can fall below zero and then admit gaps of depth 0);
 * - the minimum distance between boundaries is a parameter (NLTK fixes it at 4 pseudo-sentences,
 *   about 80 tokens, longer than many dialogue topics); the default is the block size.
 */
import { primaryLanguage, stopwordsFor } from './stopwords.js';

export type CutoffPolicy = 'hc' | 'lc' | number;

export interface LexicalOptions {
  /** Languages whose stopwords are removed (ISO 639-1, e.g. `['en', 'de']`). Default `['en']`. */
  languages?: readonly string[];
  /** Apply the light suffix stemmer (default true). */
  stem?: boolean;
}

export interface BoundaryOptions {
  /**
   * `'hc'`: a gap is a boundary when its depth exceeds mean − sd/2 of the depth scores (Hearst's
   * conservative cutoff, NLTK's default); `'lc'`: mean − sd (liberal); a number: a fixed depth
   * threshold. Default `'hc'`.
   */
  cutoff?: CutoffPolicy;
  /**
   * Boundaries closer than this many units to a deeper boundary are dropped (NLTK: 4
   * pseudo-sentences). Default 2 (`textTilingBoundaries`: its `window`). 1 keeps every boundary
   * that passes the cutoff.
   */
  minGap?: number;
  /**
   * Gaps at each end of the curve that cannot hold a boundary and do not enter the cutoff
   * statistics. Default NLTK's rule: min(max(⌊gaps / 10⌋, 2), 5).
   */
  clip?: number;
}

export interface TextTilingOptions extends LexicalOptions, BoundaryOptions {
  /** Utterances per block on each side of a gap (NLTK's `k`). Default 2. */
  window?: number;
  /** Width of the moving-average smoothing (NLTK's `smoothing_width`; the window is width + 1). Default 2; 0 turns it off. */
  smoothingWidth?: number;
  /** Smoothing passes (NLTK's `smoothing_rounds`). Default 1. */
  smoothingRounds?: number;
}

export const TEXTTILING_DEFAULTS = {
  window: 2,
  languages: ['en'] as readonly string[],
  stem: true,
  cutoff: 'hc' as CutoffPolicy,
  smoothingWidth: 2,
  smoothingRounds: 1,
} as const;

// A word: letters, digits and combining marks, with inner apostrophes ("don't", "o’clock").
const WORD = /[\p{L}\p{N}\p{M}]+(?:['’][\p{L}\p{N}\p{M}]+)*/gu;

/**
 * Lowercase word tokens of `text` without the stopwords of `languages` and without one-character
 * tokens; possessive `'s` is dropped, and with `stem` (default) a light suffix stemmer applies
 * (German endings too when `languages` includes German).
 */
export function lexicalTokens(text: string, languages: readonly string[] = TEXTTILING_DEFAULTS.languages, stem = true): string[] {
  return lexicalTokenizer(languages, stem)(text);
}

/** {@link lexicalTokens} with the stopword table built once, for many texts. */
export function lexicalTokenizer(languages: readonly string[] = TEXTTILING_DEFAULTS.languages, stem = true): (text: string) => string[] {
  const stopwords = stopwordsFor(languages);
  const german = languages.some((l) => primaryLanguage(l) === 'de');
  return (text) => {
    const tokens: string[] = [];
    for (const match of text.normalize('NFC').toLowerCase().matchAll(WORD)) {
      let token = match[0].replace(/’/g, "'");
      if (stopwords.has(token)) continue;
      if (token.endsWith("'s")) token = token.slice(0, -2);
      if (stem) token = lightStem(token, german);
      if (token.length < 2 || stopwords.has(token)) continue;
      tokens.push(token);
    }
    return tokens;
  };
}

/**
 * A deliberately light stemmer: strips a few inflectional endings so that "cars"/"car",
 * "tomatoes"/"tomato" and "cooking"/"cooked"/"cook" meet, then a final "e" so that "serve" and
 * "serving" do too, never leaving fewer than 3 characters (4 for the German endings, applied when
 * `german`). Not Porter: derivational suffixes stay. Tokens with digits pass unchanged.
 */
export function lightStem(token: string, german = false): string {
  if (/\p{N}/u.test(token)) return token;
  let t = token;
  if (t.length > 4 && t.endsWith('ies')) t = `${t.slice(0, -3)}y`;
  else if (t.endsWith('sses')) t = t.slice(0, -2);
  else if (t.length > 4 && /(ch|sh|x|z|o)es$/.test(t)) t = t.slice(0, -2);
  else if (t.length >= 6 && t.endsWith('ing')) t = undouble(t.slice(0, -3));
  else if (t.length >= 5 && t.endsWith('ed') && !t.endsWith('eed')) t = undouble(t.slice(0, -2));
  else if (t.length > 3 && t.endsWith('s') && !/(ss|us|is)$/.test(t)) t = t.slice(0, -1);
  if (t.length > 3 && t.endsWith('e')) t = t.slice(0, -1);
  if (german) {
    for (const suffix of ['ern', 'em', 'en', 'er', 'es', 'n', 's']) {
      if (t.endsWith(suffix) && t.length - suffix.length >= 4) {
        t = t.slice(0, -suffix.length);
        break;
      }
    }
  }
  return t;
}

/** "runn" → "run", "stopp" → "stop"; not for l, s, z ("fall", "pass", "buzz") nor below 3 letters ("add"). */
function undouble(stem: string): string {
  return stem.length > 3 && /([^aeiouylsz])\1$/.test(stem) ? stem.slice(0, -1) : stem;
}

function termFrequencies(units: readonly (readonly string[])[], from: number, to: number): Map<string, number> {
  const tf = new Map<string, number>();
  for (let u = from; u < to; u++) for (const token of units[u] ?? []) tf.set(token, (tf.get(token) ?? 0) + 1);
  return tf;
}

function cosine(a: Map<string, number>, b: Map<string, number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [term, x] of a) {
    na += x * x;
    const y = b.get(term);
    if (y !== undefined) dot += x * y;
  }
  for (const y of b.values()) nb += y * y;
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * Block comparison: for each gap j (between unit j and j + 1, j = 0..n−2) the cosine of the
 * term-frequency vectors of the `window` units before and the `window` units after it. Near the ends
 * both blocks shrink to the units available on the shorter side, min(window, j + 1, n − 1 − j). This
 * equals NLTK's `_block_comparison` except on sequences shorter than about 2 · window, where NLTK
 * keeps a left block of j + 1 units against a shorter right one. A block without tokens gives
 * similarity 0 (NLTK's ZeroDivisionError → 0).
 */
export function gapSimilarities(units: readonly (readonly string[])[], window: number = TEXTTILING_DEFAULTS.window): number[] {
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be a positive integer, got ${window}`);
  const n = units.length;
  const scores: number[] = [];
  for (let j = 0; j < n - 1; j++) {
    const size = Math.min(window, j + 1, n - 1 - j);
    scores.push(cosine(termFrequencies(units, j + 1 - size, j + 1), termFrequencies(units, j + 1, j + 1 + size)));
  }
  return scores;
}

/** Same as {@link gapSimilarities}; the name used in the design notes. Entry j is the gap before unit j + 1. */
export const cohesionScores = gapSimilarities;

/**
 * Flat moving average over `width + 1` points (NLTK: `smoothing_width` 2 → 3 points, centred),
 * `rounds` times. At the ends the average covers only the neighbours that exist. With an odd width
 * the extra point is taken on the right.
 */
export function smoothScores(scores: readonly number[], width: number = TEXTTILING_DEFAULTS.smoothingWidth, rounds = 1): number[] {
  let current = [...scores];
  const span = width + 1;
  if (span < 3) return current;
  const left = Math.floor((span - 1) / 2);
  const right = span - 1 - left;
  for (let r = 0; r < rounds; r++) {
    const next: number[] = [];
    for (let i = 0; i < current.length; i++) {
      let sum = 0;
      let count = 0;
      for (let j = Math.max(0, i - left); j <= Math.min(current.length - 1, i + right); j++) {
        sum += current[j] ?? 0;
        count++;
      }
      next.push(sum / count);
    }
    current = next;
  }
  return current;
}

/**
 * Hearst's depth score of every point of a similarity curve: (left peak − s) + (right peak − s),
 * where each peak is found by climbing from the point while the curve does not fall (as NLTK's
 * `_depth_scores`, without its edge clipping, which {@link selectBoundaries} applies). Works on any
 * similarity curve: lexical cohesion or cosine similarities of embeddings.
 */
export function depthScores(scores: readonly number[]): number[] {
  const depths: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] ?? 0;
    let leftPeak = s;
    for (let j = i - 1; j >= 0; j--) {
      const v = scores[j] ?? 0;
      if (v < leftPeak) break;
      leftPeak = v;
    }
    let rightPeak = s;
    for (let j = i + 1; j < scores.length; j++) {
      const v = scores[j] ?? 0;
      if (v < rightPeak) break;
      rightPeak = v;
    }
    depths.push(leftPeak - s + (rightPeak - s));
  }
  return depths;
}

/** NLTK's edge clip for a curve of `gaps` points: min(max(⌊gaps / 10⌋, 2), 5). */
export function defaultClip(gaps: number): number {
  return Math.min(Math.max(Math.floor(gaps / 10), 2), 5);
}

/**
 * The boundaries a depth curve implies, as sorted unit indexes (depth entry j → boundary at unit
 * j + 1). Candidates are the gaps outside the clipped ends; the cutoff is computed from their depths
 * (population standard deviation, as numpy.std); a candidate is a boundary if its depth is positive
 * and exceeds the cutoff. Candidates are then taken deepest first (ties: later gap first, as NLTK's
 * reversed sort) and one within `minGap` units of a boundary already taken is dropped.
 */
export function selectBoundaries(depths: readonly number[], options: BoundaryOptions = {}): number[] {
  const cutoffPolicy = options.cutoff ?? TEXTTILING_DEFAULTS.cutoff;
  const minGap = options.minGap ?? 2;
  const clip = options.clip ?? defaultClip(depths.length);
  if (!Number.isInteger(clip) || clip < 0) throw new RangeError(`clip must be a non-negative integer, got ${clip}`);
  if (!Number.isInteger(minGap) || minGap < 1) throw new RangeError(`minGap must be a positive integer, got ${minGap}`);
  const candidates: { gap: number; depth: number }[] = [];
  for (let gap = clip; gap < depths.length - clip; gap++) candidates.push({ gap, depth: depths[gap] ?? 0 });
  if (candidates.length === 0) return [];

  let cutoff: number;
  if (typeof cutoffPolicy === 'number') {
    if (!Number.isFinite(cutoffPolicy)) throw new RangeError(`cutoff must be finite, got ${cutoffPolicy}`);
    cutoff = cutoffPolicy;
  } else {
    const mean = candidates.reduce((sum, c) => sum + c.depth, 0) / candidates.length;
    const sd = Math.sqrt(candidates.reduce((sum, c) => sum + (c.depth - mean) ** 2, 0) / candidates.length);
    if (cutoffPolicy === 'lc') cutoff = mean - sd;
    else if (cutoffPolicy === 'hc') cutoff = mean - sd / 2;
    else throw new RangeError(`unknown cutoff policy ${String(cutoffPolicy)}`);
  }

  const passing = candidates.filter((c) => c.depth > 0 && c.depth > cutoff).sort((a, b) => b.depth - a.depth || b.gap - a.gap);
  const chosen: number[] = [];
  for (const c of passing) {
    if (chosen.every((g) => Math.abs(g - c.gap) >= minGap)) chosen.push(c.gap);
  }
  return chosen.map((g) => g + 1).sort((a, b) => a - b);
}

/**
 * TextTiling over utterances: sorted indexes i (1..n−1) where a new topic starts at utterance i.
 * Defaults: {@link TEXTTILING_DEFAULTS}.
 */
export function textTilingBoundaries(utterances: readonly string[], options: TextTilingOptions = {}): number[] {
  const window = options.window ?? TEXTTILING_DEFAULTS.window;
  const languages = options.languages ?? TEXTTILING_DEFAULTS.languages;
  const stem = options.stem ?? TEXTTILING_DEFAULTS.stem;
  const units = utterances.map(lexicalTokenizer(languages, stem));
  const similarities = gapSimilarities(units, window);
  const smoothed = smoothScores(
    similarities,
    options.smoothingWidth ?? TEXTTILING_DEFAULTS.smoothingWidth,
    options.smoothingRounds ?? TEXTTILING_DEFAULTS.smoothingRounds,
  );
  const boundaryOptions: BoundaryOptions = { cutoff: options.cutoff ?? TEXTTILING_DEFAULTS.cutoff, minGap: options.minGap ?? window };
  if (options.clip !== undefined) boundaryOptions.clip = options.clip;
  return selectBoundaries(depthScores(smoothed), boundaryOptions);
}
