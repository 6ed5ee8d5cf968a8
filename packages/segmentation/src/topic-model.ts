/**
 * The topic-boundary scorer: for a candidate unit i of a conversation (an utterance or a message),
 * the probability that a new topic starts at i, from features of the context before and after it,
 * weighed by a logistic model fitted on TIAGE (scripts/fit-topic-model.mjs writes the parameters to
 * topic-model.json, one entry per sentence embedder plus a lexical one). Pure functions, CPU only.
 *
 * Features of candidate i over units u_0..u_{n-1} (vectors are unit-normalised first):
 *   cos.prev, cos.prev2          cosine of u_i with u_{i-1}, u_{i-2}
 *   cos.nextPrev, cos.nextSelf   cosine of u_{i+1} with u_{i-1} and with u_i (0 without u_{i+1})
 *   block2..4                    cosine of the mean vectors of w units each side of the gap
 *   history.mean, history.max    u_i against the mean of everything before it, and its closest earlier unit
 *   history.maxSameRole          u_i against its closest earlier unit of the same role
 *   lex.jaccardPrev, lex.jaccardPrev3, lex.tiling2
 *                                content-word overlap with u_{i-1}, with u_{i-3..i-1}, TextTiling's block cosine (w = 2)
 *   lex.novelty                  share of u_i's distinct content words never seen before
 *   lex.identifiersShared        share of u_i's identifiers (dotted, snake_case, camelCase names, quoted code) seen before
 *   pos.relative, pos.fromStart, pos.toEnd, pos.first, pos.last   where i lies
 *   cue.question, cue.questionPrev, cue.length                    '?' in u_i, in u_{i-1}; u_i's length in words (/30, capped)
 *   sent.firstContext, sent.lastContext, sent.minContext
 *                                u_i's first, last and least similar sentence against the mean of u_{i-2}, u_{i-1}
 *   sent.firstPrevLast, sent.lastPrevLast   u_i's first and last sentence against u_{i-1}'s last one
 *   sent.lastNext, sent.count    u_i's last sentence against u_{i+1}; its number of sentences (/5, capped)
 *   vector                       u_i's own normalised vector (what kind of utterance opens a topic)
 *   bow                          u_i's cue words from a fitted vocabulary (the lexical model's stand-in for `vector`)
 */
import { cosine, type SentenceEmbedder } from '@trajectory/embeddings';
import { gapSimilarities, lexicalTokenizer } from './texttiling.js';
import { splitIntoUnits } from './units.js';

/** One unit as the topic scorer sees it: an utterance (TIAGE) or a message (a chat). */
export interface TopicUnit {
  /** Who wrote it ('user', 'assistant', or a speaker label). */
  role?: string;
  /** Its text, for cues (questions, identifiers, cue words). */
  text: string;
  /** Its content words (lexicalTokenizer). */
  tokens: readonly string[];
  /** With a sentence embedder: the mean of its sentences' vectors. */
  vector?: Float32Array;
  /** With a sentence embedder: its prose sentences' vectors, in order (for the `sent.*` features). */
  sentences?: readonly Float32Array[];
}

/** A fitted logistic model over named features. */
export interface LogisticScorer {
  /** Scalar features, by name (see the module comment). */
  features: string[];
  /** Whether the unit's normalised vector is appended after the scalar features. */
  vector: boolean;
  /** Cue-word vocabulary whose indicators follow (unstandardised 0/1). */
  vocabulary: string[];
  /** Standardisation of the scalar and vector columns: (x − mean) / scale. */
  mean: number[];
  scale: number[];
  /** One weight per column: scalar features, then vector, then vocabulary. */
  weights: number[];
  bias: number;
}

/** How candidates become boundaries in a domain. */
export interface TopicDecoder {
  /** A candidate is a boundary when its probability is at least this. */
  threshold: number;
  /** And, with peak, when it is at least as likely as the candidates next to it (the later one strictly less). */
  peak: boolean;
  /**
   * A second logistic model for the domain, over the signal scorer's logit (`scorer.logit`) and
   * other features; its probability is then the one thresholded. The chat domain has one.
   */
  rescorer?: LogisticScorer;
}

export interface TopicSignalModel {
  scorer: LogisticScorer;
  /** `dialogue`: every utterance a candidate (TIAGE); `chat`: user turns of a chat (the service). */
  decoders: Record<string, TopicDecoder>;
  /** What the fitting script recorded: data, settings, cross-validated figures. */
  fit?: Record<string, unknown>;
}

export interface TopicModelFile {
  format: 'trajectory-topic-model/1';
  about?: string;
  /** Keyed by the sentence embedder's id (`SentenceEmbedder.id`), and `lexical` for no embedder. */
  signals: Record<string, TopicSignalModel>;
}

export const LEXICAL_SIGNAL = 'lexical';

const isNumberArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Checks a parsed topic-model file; throws naming the first thing wrong. */
export function parseTopicModel(json: unknown, dimensionsOf: (signal: string) => number | undefined = () => undefined): TopicModelFile {
  const root = json as Partial<TopicModelFile> | null;
  if (!root || typeof root !== 'object' || root.format !== 'trajectory-topic-model/1') throw new TypeError('topic model: unknown format');
  if (!root.signals || typeof root.signals !== 'object') throw new TypeError('topic model: no signals');
  for (const [signal, model] of Object.entries(root.signals)) {
    const s = model?.scorer;
    const where = `topic model ${signal}`;
    if (!s || !isStringArray(s.features) || !isStringArray(s.vocabulary) || typeof s.vector !== 'boolean') {
      throw new TypeError(`${where}: malformed scorer`);
    }
    for (const name of s.features) if (!FEATURE_NAMES.includes(name)) throw new TypeError(`${where}: unknown feature ${name}`);
    if (!isNumberArray(s.mean) || !isNumberArray(s.scale) || !isNumberArray(s.weights) || typeof s.bias !== 'number') {
      throw new TypeError(`${where}: malformed parameters`);
    }
    const dense = s.mean.length;
    if (s.scale.length !== dense || dense < s.features.length) throw new TypeError(`${where}: mean/scale lengths`);
    if (!s.vector && dense !== s.features.length)
      throw new TypeError(`${where}: standardisation covers ${dense} columns, not ${s.features.length}`);
    const dimensions = dimensionsOf(signal);
    if (s.vector && dimensions !== undefined && dense - s.features.length !== dimensions) {
      throw new TypeError(`${where}: fitted for ${dense - s.features.length}-dimensional vectors, the embedder has ${dimensions}`);
    }
    if (s.weights.length !== dense + s.vocabulary.length)
      throw new TypeError(`${where}: ${s.weights.length} weights for ${dense + s.vocabulary.length} columns`);
    for (const [domain, d] of Object.entries(model.decoders ?? {})) {
      if (typeof d?.threshold !== 'number' || typeof d.peak !== 'boolean') throw new TypeError(`${where}: malformed decoder ${domain}`);
      const r = d.rescorer;
      if (r === undefined) continue;
      if (!isStringArray(r.features) || r.vector !== false || !isStringArray(r.vocabulary) || r.vocabulary.length > 0) {
        throw new TypeError(`${where}: malformed ${domain} rescorer`);
      }
      for (const name of r.features)
        if (!RESCORER_FEATURES.includes(name)) throw new TypeError(`${where}: unknown ${domain} rescorer feature ${name}`);
      if (!isNumberArray(r.mean) || !isNumberArray(r.scale) || !isNumberArray(r.weights) || typeof r.bias !== 'number') {
        throw new TypeError(`${where}: malformed ${domain} rescorer parameters`);
      }
      if (r.mean.length !== r.features.length || r.scale.length !== r.features.length || r.weights.length !== r.features.length) {
        throw new TypeError(`${where}: ${domain} rescorer lengths`);
      }
    }
  }
  return root as TopicModelFile;
}

export const FEATURE_NAMES: readonly string[] = [
  'cos.prev',
  'cos.prev2',
  'cos.nextPrev',
  'cos.nextSelf',
  'block2',
  'block3',
  'block4',
  'history.mean',
  'history.max',
  'history.maxSameRole',
  'lex.jaccardPrev',
  'lex.jaccardPrev3',
  'lex.tiling2',
  'lex.novelty',
  'lex.identifiersShared',
  'pos.relative',
  'pos.fromStart',
  'pos.toEnd',
  'pos.first',
  'pos.last',
  'cue.question',
  'cue.questionPrev',
  'cue.length',
  'sent.firstContext',
  'sent.lastContext',
  'sent.firstPrevLast',
  'sent.lastPrevLast',
  'sent.minContext',
  'sent.lastNext',
  'sent.count',
];

/** The signal scorer's logit, which only a domain's rescorer can use. */
export const SCORER_LOGIT = 'scorer.logit';
export const RESCORER_FEATURES: readonly string[] = [SCORER_LOGIT, ...FEATURE_NAMES];

/** Features that need vectors; the lexical model uses none of them. */
export const EMBEDDING_FEATURES: readonly string[] = FEATURE_NAMES.filter(
  (f) => f.startsWith('cos.') || f.startsWith('block') || f.startsWith('history.') || f.startsWith('sent.'),
);

// Names that look like code: dotted or slashed paths (django.core.signing, links:magic_view),
// snake_case, camelCase/PascalCase with an inner capital, and `backquoted` spans.
const IDENTIFIER =
  /`[^`\n]{2,60}`|[\p{L}_][\p{L}\p{N}_]*(?:[./:][\p{L}_][\p{L}\p{N}_]*)+|[\p{L}\p{N}]*_[\p{L}\p{N}_]+|\p{Ll}+\p{Lu}[\p{L}\p{N}]*|\p{Lu}\p{Ll}+\p{Lu}[\p{L}\p{N}]*/gu;

/** Identifier-like names in a text, lowercased, backquotes stripped. */
export function identifiersOf(text: string): Set<string> {
  const found = new Set<string>();
  for (const m of text.matchAll(IDENTIFIER)) {
    const name = m[0].replace(/`/g, '').trim().toLowerCase();
    if (name.length >= 3 && !/^[\d.]+$/.test(name)) found.add(name);
  }
  return found;
}

const CUE_WORD = /[\p{L}']+|\?/gu;

/** The cue words of a text for the bag-of-words columns: lowercase words with apostrophes, and '?'. */
export function cueWords(text: string): Set<string> {
  return new Set(text.toLowerCase().match(CUE_WORD) ?? []);
}

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

function normalised(v: Float32Array): Float32Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm === 0) return v;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = (v[i] ?? 0) / norm;
  return out;
}

/** The sum of the vectors that are there in [from, to) (a mean up to scale, enough for cosines); undefined when none is. */
function meanOf(vectors: readonly (Float32Array | undefined)[], from: number, to: number): Float32Array | undefined {
  let mean: Float32Array | undefined;
  for (let u = from; u < to; u++) {
    const v = vectors[u];
    if (!v) continue;
    mean ??= new Float32Array(v.length);
    for (let d = 0; d < mean.length; d++) mean[d] = (mean[d] ?? 0) + (v[d] ?? 0);
  }
  return mean;
}

const jaccard = (a: ReadonlySet<string>, b: ReadonlySet<string>) => {
  if (a.size === 0 && b.size === 0) return 0;
  let shared = 0;
  for (const x of a) if (b.has(x)) shared++;
  return shared / (a.size + b.size - shared);
};

/**
 * Feature rows for the candidates of one conversation: one row per candidate, the scalar features
 * named by `features` in that order (the vector and cue-word columns are added by the scorer).
 * A cosine with a unit that has no vector (no embedder, or a message of code only) is 0.
 */
export function candidateFeatures(
  units: readonly TopicUnit[],
  candidates: readonly number[],
  features: readonly string[] = FEATURE_NAMES,
  scorerLogits: readonly number[] = [],
): number[][] {
  const n = units.length;
  const vec = units.map((u) => (u.vector ? normalised(u.vector) : undefined));
  const cos = (a: Float32Array | undefined, b: Float32Array | undefined) => (a && b ? cosine(a, b) : 0);
  const tokenSets = units.map((u) => new Set(u.tokens));
  const identifierSets = units.map((u) => identifiersOf(u.text));
  const tiling = gapSimilarities(
    units.map((u) => u.tokens),
    2,
  );
  return candidates.map((i, c) => {
    if (!Number.isInteger(i) || i < 1 || i >= n) throw new RangeError(`candidate ${i} outside 1..${n - 1}`);
    const unit = units[i] as TopicUnit;
    const previous = units[i - 1] as TopicUnit;
    const seen = new Set<string>();
    const seenIdentifiers = new Set<string>();
    for (let j = 0; j < i; j++) {
      for (const t of tokenSets[j] ?? []) seen.add(t);
      for (const t of identifierSets[j] ?? []) seenIdentifiers.add(t);
    }
    const own = tokenSets[i] as Set<string>;
    const sentences = unit.sentences ?? [];
    const firstSentence = sentences[0];
    const lastSentence = sentences.at(-1);
    const previousLast = previous.sentences?.at(-1);
    const context = meanOf(vec, Math.max(0, i - 2), i);
    const recent = new Set<string>();
    for (let j = Math.max(0, i - 3); j < i; j++) for (const t of tokenSets[j] ?? []) recent.add(t);
    const value = (name: string): number => {
      switch (name) {
        case SCORER_LOGIT: {
          const z = scorerLogits[c];
          if (z === undefined) throw new RangeError(`${SCORER_LOGIT}: no logit for candidate ${i}`);
          return z;
        }
        case 'cos.prev':
          return cos(vec[i], vec[i - 1]);
        case 'cos.prev2':
          return cos(vec[i], vec[Math.max(0, i - 2)]);
        case 'cos.nextPrev':
          return i + 1 < n ? cos(vec[i + 1], vec[i - 1]) : 0;
        case 'cos.nextSelf':
          return i + 1 < n ? cos(vec[i + 1], vec[i]) : 0;
        case 'block2':
        case 'block3':
        case 'block4': {
          const w = Number(name.slice(5));
          return cos(meanOf(vec, Math.max(0, i - w), i), meanOf(vec, i, Math.min(n, i + w)));
        }
        case 'history.mean':
          return cos(vec[i], meanOf(vec, 0, i));
        case 'history.max': {
          let best = 0;
          for (let j = 0; j < i; j++) best = Math.max(best, cos(vec[i], vec[j]));
          return best;
        }
        case 'history.maxSameRole': {
          let best = 0;
          for (let j = 0; j < i; j++) if (units[j]?.role === unit.role) best = Math.max(best, cos(vec[i], vec[j]));
          return best;
        }
        case 'lex.jaccardPrev':
          return jaccard(own, tokenSets[i - 1] as Set<string>);
        case 'lex.jaccardPrev3':
          return jaccard(own, recent);
        case 'lex.tiling2':
          return tiling[i - 1] ?? 0;
        case 'lex.novelty': {
          if (own.size === 0) return 0;
          let fresh = 0;
          for (const t of own) if (!seen.has(t)) fresh++;
          return fresh / own.size;
        }
        case 'lex.identifiersShared': {
          const ids = identifierSets[i] as Set<string>;
          if (ids.size === 0) return 0;
          let shared = 0;
          for (const t of ids) if (seenIdentifiers.has(t)) shared++;
          return shared / ids.size;
        }
        case 'pos.relative':
          return i / n;
        case 'pos.fromStart':
          return Math.min(i, 6) / 6;
        case 'pos.toEnd':
          return Math.min(n - i, 6) / 6;
        case 'pos.first':
          return i === 1 ? 1 : 0;
        case 'pos.last':
          return i === n - 1 ? 1 : 0;
        case 'cue.question':
          return unit.text.includes('?') ? 1 : 0;
        case 'cue.questionPrev':
          return previous.text.includes('?') ? 1 : 0;
        case 'cue.length':
          return Math.min(words(unit.text), 30) / 30;
        case 'sent.firstContext':
          return cos(firstSentence, context);
        case 'sent.lastContext':
          return cos(lastSentence, context);
        case 'sent.firstPrevLast':
          return cos(firstSentence, previousLast);
        case 'sent.lastPrevLast':
          return cos(lastSentence, previousLast);
        case 'sent.minContext':
          return sentences.length > 0 ? Math.min(...sentences.map((v) => cos(v, context))) : 0;
        case 'sent.lastNext':
          return i + 1 < n ? cos(lastSentence, vec[i + 1]) : 0;
        case 'sent.count':
          return Math.min(sentences.length, 5) / 5;
        default:
          throw new RangeError(`unknown topic feature ${name}`);
      }
    };
    return features.map(value);
  });
}

/**
 * The full design rows (scalar features, the normalised vector, cue-word indicators) of a scorer's
 * candidates, before standardisation. The fitting script uses this very function.
 */
export function designRows(
  units: readonly TopicUnit[],
  candidates: readonly number[],
  spec: Pick<LogisticScorer, 'features' | 'vector' | 'vocabulary'>,
  scorerLogits: readonly number[] = [],
): number[][] {
  const scalar = candidateFeatures(units, candidates, spec.features, scorerLogits);
  const dimensions = units.find((u) => u.vector)?.vector?.length;
  const vocabulary = new Map(spec.vocabulary.map((w, k) => [w, k]));
  return candidates.map((i, r) => {
    const row = [...(scalar[r] ?? [])];
    if (spec.vector) {
      const v = units[i]?.vector;
      if (!v && dimensions === undefined) throw new RangeError('the scorer needs vectors, and no unit has one');
      row.push(...(v ? normalised(v) : new Array<number>(dimensions ?? 0).fill(0)));
    }
    if (vocabulary.size > 0) {
      const bow = new Array<number>(vocabulary.size).fill(0);
      for (const w of cueWords(units[i]?.text ?? '')) {
        const k = vocabulary.get(w);
        if (k !== undefined) bow[k] = 1;
      }
      row.push(...bow);
    }
    return row;
  });
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** The scorer's logit for one design row. */
export function logitOf(scorer: LogisticScorer, row: readonly number[]): number {
  let z = scorer.bias;
  const dense = scorer.mean.length;
  for (let c = 0; c < row.length; c++) {
    const x = c < dense ? ((row[c] ?? 0) - (scorer.mean[c] ?? 0)) / (scorer.scale[c] || 1) : (row[c] ?? 0);
    z += (scorer.weights[c] ?? 0) * x;
  }
  return z;
}

/**
 * The probability that a topic starts at each candidate (same order as `candidates`). With a scorer
 * that uses vectors, a unit without one counts as the zero vector.
 */
export function scoreTopicBoundaries(units: readonly TopicUnit[], candidates: readonly number[], scorer: LogisticScorer): number[] {
  return topicLogits(units, candidates, scorer).map(sigmoid);
}

/** The scorer's logits (log-odds) at the candidates. */
export function topicLogits(units: readonly TopicUnit[], candidates: readonly number[], scorer: LogisticScorer): number[] {
  return designRows(units, candidates, scorer).map((row) => logitOf(scorer, row));
}

/**
 * The probabilities a domain's decoder thresholds: the signal scorer's, or its rescorer's over the
 * scorer's logit and the rescorer's other features.
 */
export function domainProbabilities(
  units: readonly TopicUnit[],
  candidates: readonly number[],
  scorer: LogisticScorer,
  decoder: TopicDecoder,
): number[] {
  const logits = topicLogits(units, candidates, scorer);
  const rescorer = decoder.rescorer;
  if (!rescorer) return logits.map(sigmoid);
  return candidateFeatures(units, candidates, rescorer.features, logits).map((row) => sigmoid(logitOf(rescorer, row)));
}

/**
 * Boundaries from candidate probabilities: at least the threshold and, with `peak`, a local maximum
 * among neighbouring candidates (of two equal neighbours, the later one). Sorted unit indexes.
 */
export function decodeBoundaries(candidates: readonly number[], probabilities: readonly number[], decoder: TopicDecoder): number[] {
  const chosen: number[] = [];
  candidates.forEach((index, c) => {
    const p = probabilities[c] ?? 0;
    if (p < decoder.threshold) return;
    if (decoder.peak && ((probabilities[c - 1] ?? -1) > p || (probabilities[c + 1] ?? -1) >= p)) return;
    chosen.push(index);
  });
  return chosen.sort((a, b) => a - b);
}

/**
 * Topic units for plain texts, built as the segmentation service builds a message's: the text is
 * split into sentences (code blocks apart), content words come from the prose sentences, and the
 * vector is the mean of the prose sentences' vectors (code has none). Used by the benchmark and the
 * fitting script on TIAGE, so that both see what the service sees.
 */
export async function topicUnitsOf(
  texts: readonly string[],
  options: { embedder?: SentenceEmbedder | null; languages?: readonly string[]; roles?: readonly string[] } = {},
): Promise<TopicUnit[]> {
  const tokenize = lexicalTokenizer(options.languages ?? ['en']);
  const prose = texts.map((text) => splitIntoUnits(text).filter((u) => !u.code));
  const flat = prose.flat().map((u) => u.text);
  const vectors = options.embedder && flat.length > 0 ? await options.embedder.embed(flat) : [];
  let next = 0;
  return texts.map((text, i) => {
    const sentences = prose[i] ?? [];
    const own = vectors.slice(next, next + sentences.length);
    next += sentences.length;
    const unit: TopicUnit = { text, tokens: sentences.flatMap((s) => tokenize(s.text)) };
    const role = options.roles?.[i];
    if (role !== undefined) unit.role = role;
    const mean = own.length > 0 ? meanOf(own, 0, own.length) : undefined;
    if (mean) {
      unit.vector = mean.map((x) => x / own.length);
      unit.sentences = own;
    }
    return unit;
  });
}

// ---------------------------------------------------------------------------------------------
// Fitting a small logistic model (a domain's rescorer): few features, so Newton's method.

/** Solves A x = b for a symmetric positive definite A (Cholesky); A is d×d, row-major arrays. */
function solveSpd(a: number[][], b: number[]): number[] {
  const d = b.length;
  const l = a.map(() => new Array<number>(d).fill(0));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i]?.[j] ?? 0;
      for (let k = 0; k < j; k++) sum -= (l[i]?.[k] ?? 0) * (l[j]?.[k] ?? 0);
      const row = l[i] as number[];
      row[j] = i === j ? Math.sqrt(Math.max(sum, 1e-12)) : sum / (l[j]?.[j] ?? 1);
    }
  }
  const y = new Array<number>(d).fill(0);
  for (let i = 0; i < d; i++) {
    let sum = b[i] ?? 0;
    for (let k = 0; k < i; k++) sum -= (l[i]?.[k] ?? 0) * (y[k] ?? 0);
    y[i] = sum / (l[i]?.[i] ?? 1);
  }
  const x = new Array<number>(d).fill(0);
  for (let i = d - 1; i >= 0; i--) {
    let sum = y[i] ?? 0;
    for (let k = i + 1; k < d; k++) sum -= (l[k]?.[i] ?? 0) * (x[k] ?? 0);
    x[i] = sum / (l[i]?.[i] ?? 1);
  }
  return x;
}

/**
 * L2-regularised logistic regression over standardised columns (objective C · Σ log-loss + ½‖w‖²,
 * bias unpenalised, as scikit-learn's), by Newton's method. Deterministic. For a handful of features.
 */
export function fitSmallLogistic(
  rows: readonly (readonly number[])[],
  labels: readonly number[],
  features: readonly string[],
  C: number,
): LogisticScorer {
  const d = features.length;
  const n = rows.length;
  if (n === 0) throw new RangeError('fitSmallLogistic: no rows');
  const mean = new Array<number>(d).fill(0);
  const scale = new Array<number>(d).fill(0);
  for (const r of rows) for (let c = 0; c < d; c++) mean[c] = (mean[c] ?? 0) + (r[c] ?? 0) / n;
  for (const r of rows) for (let c = 0; c < d; c++) scale[c] = (scale[c] ?? 0) + ((r[c] ?? 0) - (mean[c] ?? 0)) ** 2 / n;
  for (let c = 0; c < d; c++) scale[c] = (scale[c] ?? 0) > 1e-12 ? Math.sqrt(scale[c] ?? 0) : 1;
  const X = rows.map((r) => [...r.slice(0, d).map((x, c) => (x - (mean[c] ?? 0)) / (scale[c] ?? 1)), 1]);
  let theta = new Array<number>(d + 1).fill(0);
  for (let iteration = 0; iteration < 100; iteration++) {
    const grad = new Array<number>(d + 1).fill(0);
    const hessian = Array.from({ length: d + 1 }, () => new Array<number>(d + 1).fill(0));
    X.forEach((x, i) => {
      const z = x.reduce((s, v, c) => s + v * (theta[c] ?? 0), 0);
      const p = 1 / (1 + Math.exp(-z));
      const w = C * p * (1 - p);
      for (let a = 0; a <= d; a++) {
        grad[a] = (grad[a] ?? 0) + C * (p - (labels[i] ?? 0)) * (x[a] ?? 0);
        const row = hessian[a] as number[];
        for (let b = 0; b <= d; b++) row[b] = (row[b] ?? 0) + w * (x[a] ?? 0) * (x[b] ?? 0);
      }
    });
    for (let a = 0; a < d; a++) {
      grad[a] = (grad[a] ?? 0) + (theta[a] ?? 0);
      const row = hessian[a] as number[];
      row[a] = (row[a] ?? 0) + 1;
    }
    const step = solveSpd(hessian, grad);
    theta = theta.map((t, a) => t - (step[a] ?? 0));
    if (Math.max(...step.map(Math.abs)) < 1e-10) break;
  }
  const round = (x: number) => Number(x.toPrecision(8));
  return {
    features: [...features],
    vector: false,
    vocabulary: [],
    mean: mean.map(round),
    scale: scale.map(round),
    weights: theta.slice(0, d).map(round),
    bias: round(theta[d] ?? 0),
  };
}

/** One conversation's candidates for fitting a domain decoder, with their gold labels (1: a topic starts there). */
export interface DecoderExample {
  units: readonly TopicUnit[];
  candidates: readonly number[];
  labels: readonly number[];
}

/**
 * The threshold that maximises F1 over the pooled candidates (ties: the higher threshold, so fewer
 * boundaries); 1 when no candidate is positive.
 */
export function f1Threshold(probabilities: readonly number[], labels: readonly number[], beta = 1): number {
  const gold = labels.filter((y) => y === 1).length;
  const b2 = beta * beta;
  let best = { f: -1, threshold: 1 };
  for (const t of [...new Set(probabilities)].sort((a, b) => b - a)) {
    let predicted = 0;
    let correct = 0;
    probabilities.forEach((p, i) => {
      if (p >= t) {
        predicted++;
        if (labels[i] === 1) correct++;
      }
    });
    // F-beta: beta < 1 weighs precision more (a wrong topic start costs more than a missed one).
    const f = predicted + gold > 0 ? ((1 + b2) * correct) / (predicted + b2 * gold) : 0;
    if (f > best.f) best = { f, threshold: t };
  }
  return gold === 0 ? 1 : best.threshold;
}

/**
 * Fits a domain's decoder on annotated conversations: a rescorer (logistic, `features` may include
 * `scorer.logit`, the signal scorer's logit) and the threshold that maximises F1 on them. The
 * fitting script uses it for the chat domain on fixtures/refinement, and the benchmark refits it
 * for every held-out conversation (leave-one-conversation-out).
 */
export function fitDomainDecoder(
  examples: readonly DecoderExample[],
  scorer: LogisticScorer,
  settings: { features: readonly string[]; C: number; beta?: number },
): TopicDecoder {
  const rows: number[][] = [];
  const labels: number[] = [];
  for (const e of examples) {
    if (e.candidates.length === 0) continue;
    const logits = topicLogits(e.units, e.candidates, scorer);
    rows.push(...candidateFeatures(e.units, e.candidates, settings.features, logits));
    labels.push(...e.labels);
  }
  const rescorer = fitSmallLogistic(rows, labels, settings.features, settings.C);
  const probabilities = rows.map((row) => sigmoid(logitOf(rescorer, row)));
  return { threshold: Number(f1Threshold(probabilities, labels, settings.beta).toPrecision(8)), peak: false, rescorer };
}
