import type { Conversation } from '@trajectory/contracts';
import type { SentenceEmbedder } from '@trajectory/embeddings';
import { cosine } from '@trajectory/embeddings';
import { compileMarkers, type Markers } from './markers.js';
import { currentPath } from './path.js';
import { guessLanguage } from './stopwords.js';
import { depthScores, gapSimilarities, lexicalTokenizer, selectBoundaries, smoothScores } from './texttiling.js';
import {
  decodeBoundaries,
  domainProbabilities,
  LEXICAL_SIGNAL,
  parseTopicModel,
  type TopicModelFile,
  type TopicSignalModel,
  type TopicUnit,
  topicUnitsOf,
} from './topic-model.js';
import fittedModel from './topic-model.json' with { type: 'json' };
import { splitIntoUnits } from './units.js';

export * from './published-metrics.js';
export * from './topic-model.js';

export interface TopicShift {
  /** The unit that starts the new topic. */
  index: number;
  /** The scorer's probability that a topic starts here (1 for a forced start). */
  score: number;
}

export interface TopicDecision {
  /** Where new topics start, sorted. */
  shifts: TopicShift[];
  /** What decided: `topic-model:<signal>/<domain>`, the signal being the embedder id or `lexical`. */
  method: string;
  /** The probability of every candidate, in the order of `candidates`. */
  scores: number[];
  candidates: number[];
}

export type TopicDomain = 'dialogue' | 'chat';

export interface TopicShiftOptions {
  /**
   * Unit indexes where a topic may start (default every unit but the first). The service passes
   * the user turns after the first exchange; TIAGE passes every utterance.
   */
  candidates?: readonly number[];
  /** Whose decision rule applies: `dialogue` (fitted on TIAGE) or `chat` (the service). Default `dialogue`. */
  domain?: TopicDomain;
  /**
   * The sentence embedder's id the vectors come from (null or absent: none). Its fitted scorer is
   * used when the model file has one and the units have vectors; otherwise the lexical scorer.
   */
  signal?: string | null;
  /** The fitted parameters (default the committed topic-model.json). */
  model?: TopicModelFile;
  /** Units that start a topic whatever they score (an explicit "new topic" marker). */
  forced?: readonly number[];
}

let committed: TopicModelFile | undefined;

/** The committed, fitted parameters (src/core/topic-model.json, written by scripts/fit-topic-model.mjs). */
export function defaultTopicModel(): TopicModelFile {
  committed ??= parseTopicModel(fittedModel);
  return committed;
}

/** The signal model that scores these units: the embedder's when fitted and the units have vectors, else the lexical one. */
export function topicSignal(
  model: TopicModelFile,
  signal: string | null | undefined,
  units: readonly TopicUnit[],
): { name: string; model: TopicSignalModel } {
  const hasVectors = units.some((u) => u.vector);
  const fitted = signal && hasVectors ? model.signals[signal] : undefined;
  if (signal && fitted) return { name: signal, model: fitted };
  const lexical = model.signals[LEXICAL_SIGNAL];
  if (!lexical) throw new Error('topic model: no lexical scorer');
  return { name: LEXICAL_SIGNAL, model: lexical };
}

/**
 * Where new topics start among `candidates`: the fitted scorer's probability at each candidate
 * (through the domain's rescorer where it has one), then the domain's decision rule (a threshold,
 * and for TIAGE a local maximum among neighbouring candidates). `forced` units always start a
 * topic. The service (segmentConversation) and the quality benchmark both call this.
 */
export function topicShifts(units: readonly TopicUnit[], options: TopicShiftOptions = {}): TopicDecision {
  const model = options.model ?? defaultTopicModel();
  const domain = options.domain ?? 'dialogue';
  const candidates = [...(options.candidates ?? units.map((_, i) => i).slice(1))]
    .filter((i) => i >= 1 && i < units.length)
    .sort((a, b) => a - b);
  const { name, model: signalModel } = topicSignal(model, options.signal, units);
  const decoder = signalModel.decoders[domain];
  if (!decoder) throw new Error(`topic model ${name}: no decision rule for the ${domain} domain`);
  const scores = candidates.length > 0 ? domainProbabilities(units, candidates, signalModel.scorer, decoder) : [];
  const byIndex = new Map<number, number>();
  for (const index of decodeBoundaries(candidates, scores, decoder)) byIndex.set(index, scores[candidates.indexOf(index)] ?? 0);
  for (const index of options.forced ?? []) if (index > 0 && index < units.length) byIndex.set(index, 1);
  const shifts = [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([index, score]) => ({ index, score }));
  return { shifts, method: `topic-model:${name}/${domain}`, scores, candidates };
}

/**
 * Topic boundaries of a dialogue given as plain utterances, every utterance a candidate (TIAGE):
 * unit indexes where a new topic starts. Units are built as the service builds a message's
 * (topicUnitsOf), speakers alternating.
 */
export async function detectTopicShifts(
  utterances: readonly string[],
  options: { embedder?: SentenceEmbedder | null; languages?: readonly string[]; model?: TopicModelFile } = {},
): Promise<number[]> {
  const units = await topicUnitsOf(utterances, {
    embedder: options.embedder ?? null,
    languages: options.languages ?? ['en'],
    roles: utterances.map((_, i) => (i % 2 === 0 ? 'a' : 'b')),
  });
  const decision = topicShifts(units, {
    domain: 'dialogue',
    signal: options.embedder?.id ?? null,
    ...(options.model ? { model: options.model } : {}),
  });
  return decision.shifts.map((s) => s.index);
}

/** The chat domain's units of a conversation (see {@link chatTopicUnits}). */
export interface ChatTopicUnits {
  units: TopicUnit[];
  /** The user turns but the first: where a topic may start. */
  candidates: number[];
  /** Index into conversation.messages of every unit. */
  messageIndexes: number[];
}

/**
 * A conversation's topic units as segmentConversation builds them: the messages from the root to
 * the current leaf that hold any text (a node), each one unit (its text, the content words of its
 * prose sentences, the mean of their vectors); candidates are the user turns but the first. For
 * fitting and measuring the chat domain outside the service; `languages` must be the service's.
 */
export async function chatTopicUnits(
  conversation: Conversation,
  options: { embedder?: SentenceEmbedder | null; languages: readonly string[] },
): Promise<ChatTopicUnits> {
  const path = currentPath(conversation).filter((m) => splitIntoUnits(m.text).length > 0);
  const indexOf = new Map(conversation.messages.map((m, i) => [m, i]));
  const units = await topicUnitsOf(
    path.map((m) => m.text),
    { embedder: options.embedder ?? null, languages: options.languages, roles: path.map((m) => m.role) },
  );
  const candidates = chatCandidates(path, compileMarkers(options.languages), options.languages);
  return { units, candidates, messageIndexes: path.map((m) => indexOf.get(m) ?? -1) };
}

/**
 * Where a topic may start in a chat: at a user turn but the first, unless the turn serves the one
 * before it: it answers what the assistant asked for ("Please provide the text"), or it opens by
 * pointing back ("Can I generalize this", "Kun je dit vertalen"). Markers are read in each turn's language.
 */
export function chatCandidates(turns: readonly { role: string; text: string }[], markers: Markers, languages: readonly string[]): number[] {
  const languageOf = (text: string) => guessLanguage(text, languages);
  return turns
    .flatMap((turn, i) => (turn.role === 'user' ? [i] : []))
    .slice(1)
    .filter((i) => {
      const text = turns[i]?.text ?? '';
      const previous = turns[i - 1]?.text ?? '';
      return !markers.asksFor(previous, languageOf(previous)) && !markers.pointsBack(text, languageOf(text));
    });
}

// ---------------------------------------------------------------------------------------------
// The method this scorer replaced, kept for the benchmark's comparison: TextTiling depth scores
// over 0.75 × embedding cosine + 0.25 × lexical cohesion of two units each side, HC cutoff.

/** The replaced method's parameters (fixed a priori). */
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

/** The replaced method: unit indexes where it starts a topic (TextTiling over the mixed curve). */
export function legacyTopicShifts(units: readonly Pick<TopicUnit, 'tokens' | 'vector'>[]): number[] {
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
  return selectBoundaries(depthScores(smoothScores(curve, smoothingWidth)), { cutoff: 'hc', minGap });
}

/** The replaced method on plain utterances (what the benchmark measured before). */
export async function legacyDetectTopicShifts(
  utterances: readonly string[],
  options: { embedder?: SentenceEmbedder | null; languages?: readonly string[] } = {},
): Promise<number[]> {
  const tokenize = lexicalTokenizer(options.languages ?? ['en']);
  const vectors = options.embedder ? await options.embedder.embed([...utterances]) : [];
  return legacyTopicShifts(
    utterances.map((text, i) => {
      const vector = vectors[i];
      return vector ? { tokens: tokenize(text), vector } : { tokens: tokenize(text) };
    }),
  );
}
