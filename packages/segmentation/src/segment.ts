import { createHash } from 'node:crypto';
import type { CognitiveNode, Conversation, Edge, Message, RefinementChain } from '@trajectory/contracts';
import { cosine, type SentenceEmbedder } from '@trajectory/embeddings';
import { compileMarkers, type MarkerMatch, type Markers } from './markers.js';
import { currentPath } from './path.js';
import { compileRefinementCues, detectRefinements, type RefinementCues, refinementTurns } from './refinements.js';
import { guessLanguage } from './stopwords.js';
import { gapSimilarities, lexicalTokenizer } from './texttiling.js';
import { chatCandidates, meanVector, type TopicModelFile, topicShifts } from './topics.js';
import { splitIntoUnits, type TextUnit } from './units.js';

export const SEGMENTER_VERSION = 'cognitive/v1';

/** The segmenter's name as recorded with its output: the algorithm and the signal it had. */
export function segmenterName(embedder: SentenceEmbedder | null | undefined): string {
  return `${SEGMENTER_VERSION}+${embedder ? embedder.id : 'lexical'}`;
}

/** Marker and cue languages: every language the relation table has phrases for. */
export const DEFAULT_LANGUAGES: readonly string[] = ['en', 'de', 'nl', 'fr', 'es'];

/**
 * Thresholds, fixed a priori (not fitted to the gold set). A paragraph whose embedding sits this
 * far from the thought so far starts a new node; a later question this close to the opening one
 * restates it. Lexical figures are the fallback without the model.
 */
export const THRESHOLDS = {
  shiftEmbedding: 0.25,
  shiftLexical: 0.02,
  shiftLexicalMinTokens: 6,
  restatedEmbedding: 0.5,
  restatedLexical: 0.2,
  /** A pasted error this close to one of the last answers comes from applying it (chosen on fixtures/refinement's dev set). */
  relatedEmbedding: 0.4,
  relatedLexical: 0.15,
  /** A node shorter than this many words is a preamble ("No.", "Sure!") and is not split off. */
  minNodeWords: 4,
} as const;

export interface SegmentOptions {
  /** Sentence embeddings; without them the segmenter uses lexical cohesion only. */
  embedder?: SentenceEmbedder | null;
  /** Marker languages (ISO 639-1), default English and German. */
  languages?: readonly string[];
  /** Topic-boundary parameters instead of the committed ones (the benchmark's leave-one-out refits). */
  topicModel?: TopicModelFile;
}

export interface Segmentation {
  segmenter: string;
  nodes: CognitiveNode[];
  edges: Edge[];
  chains: RefinementChain[];
  /** Indexes into `conversation.messages` where a `restarts` begins a new topic. */
  topicBoundaries: number[];
}

const hash = (parts: readonly (string | number)[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);

/** Node ids derive from content and position, so the same conversation always gives the same ids. */
export function nodeId(conversationId: string, messageId: string, sentenceStart: number, text: string): string {
  return hash([conversationId, messageId, sentenceStart, text]);
}

interface NodeInfo {
  node: CognitiveNode;
  message: Message;
  /** Index of the message in conversation.messages. */
  messageIndex: number;
  tokens: string[];
  vector?: Float32Array;
  /** The relation marker the node opens with, if any. */
  marker?: MarkerMatch;
}

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
/** A user turn longer than this is mostly pasted material (a document, a log): its openers are not the person's. */
const PASTED_WORDS = 150;
const lexicalSimilarity = (a: readonly string[], b: readonly string[]) => gapSimilarities([a, b], 1)[0] ?? 0;

/** How alike two stretches of text are: embedding cosine when both have vectors, else lexical cohesion. */
function similarity(
  a: { tokens: readonly string[]; vector?: Float32Array | undefined },
  b: typeof a,
): { value: number; embedding: boolean } {
  if (a.vector && b.vector) return { value: cosine(a.vector, b.vector), embedding: true };
  return { value: lexicalSimilarity(a.tokens, b.tokens), embedding: false };
}

/**
 * Where a message's thoughts begin: unit indexes that start a node. A new node starts at a
 * paragraph that opens with a relation marker or a step cue, or drifts from the thought so far;
 * inside a paragraph only a correction ("actually") or a topic restart starts one.
 */
function nodeStarts(
  units: readonly TextUnit[],
  role: string,
  markers: Markers,
  unitTokens: readonly string[][],
  unitVectors: readonly (Float32Array | undefined)[],
  language: string,
): number[] {
  const starts = [0];
  for (let j = 1; j < units.length; j++) {
    const unit = units[j];
    if (!unit || unit.code) continue;
    const current = units.slice(starts.at(-1), j);
    if (words(current.map((u) => u.text).join(' ')) < THRESHOLDS.minNodeWords) continue;
    const marker = markers.relationOf(unit.text, role, language);
    const opensWithMarker = marker?.at === 'start';
    if (!unit.paragraphStart) {
      if (opensWithMarker && (marker.relation === 'refines' || marker.relation === 'restarts')) starts.push(j);
      continue;
    }
    if (opensWithMarker || markers.isStep(unit.text, language)) {
      starts.push(j);
      continue;
    }
    let paragraphEnd = j + 1;
    while (paragraphEnd < units.length && !units[paragraphEnd]?.paragraphStart) paragraphEnd++;
    const range = (from: number, to: number) => ({
      tokens: unitTokens.slice(from, to).flat(),
      vector: meanVector(unitVectors.slice(from, to)),
    });
    const before = range(starts.at(-1) ?? 0, j);
    const after = range(j, paragraphEnd);
    const { value, embedding } = similarity(before, after);
    const drifted = embedding
      ? value < THRESHOLDS.shiftEmbedding
      : value < THRESHOLDS.shiftLexical &&
        before.tokens.length >= THRESHOLDS.shiftLexicalMinTokens &&
        after.tokens.length >= THRESHOLDS.shiftLexicalMinTokens;
    if (drifted) starts.push(j);
  }
  return starts;
}

class EdgeSet {
  private readonly byKey = new Map<string, Edge>();
  add(fromId: string, toId: string, relation: string, confidence: number, tags: string[] = []): void {
    if (fromId === toId) return;
    const key = `${fromId}|${relation}|${toId}`;
    const existing = this.byKey.get(key);
    if (existing) {
      existing.confidence = Math.max(existing.confidence, confidence);
      existing.tags = [...new Set([...existing.tags, ...tags])];
    } else {
      this.byKey.set(key, { fromId, toId, relation, confidence: Math.round(confidence * 1000) / 1000, tags });
    }
  }
  list(): Edge[] {
    return [...this.byKey.values()];
  }
}

/**
 * "No, json.loads does not read bytes" answers the question before it: an opening "No" or "However"
 * of a reply to a question sets nothing against a thought, so it carries no `contrasts`.
 */
const answersAQuestion = (info: NodeInfo, previous: NodeInfo, indexInMessage: number) =>
  info.marker?.relation === 'contrasts' &&
  indexInMessage === 0 &&
  previous.node.role !== info.node.role &&
  previous.node.tags.includes('question');

const markerTags = (m: MarkerMatch) => [`marker:${m.phrase}`, `lang:${m.language}`];
const markerConfidence = (m: MarkerMatch) => (m.at === 'start' ? 0.8 : 0.6);
const tagNode = (info: NodeInfo, tag: string) => {
  if (!info.node.tags.includes(tag)) info.node.tags.push(tag);
};

const toolsByLanguages = new Map<string, { markers: Markers; cues: RefinementCues; tokenize: (text: string) => string[] }>();

/** Marker regexes and the stopword tokenizer, compiled once per language set, not per conversation. */
function languageTools(languages: readonly string[]) {
  const key = languages.join(',');
  let tools = toolsByLanguages.get(key);
  if (!tools) {
    const markers = compileMarkers(languages);
    tools = { markers, cues: compileRefinementCues(languages), tokenize: lexicalTokenizer(markers.languages) };
    toolsByLanguages.set(key, tools);
  }
  return tools;
}

/**
 * Segments a conversation into cognitive nodes, the typed relations between them and its
 * refinement chains. Deterministic: the same conversation (and model) gives the same ids, edges
 * and chains, so redelivery and re-ingest never duplicate anything.
 */
export async function segmentConversation(conversation: Conversation, options: SegmentOptions = {}): Promise<Segmentation> {
  const languages = options.languages ?? DEFAULT_LANGUAGES;
  const { markers, cues, tokenize } = languageTools(languages);
  /** A message's language: its markers and cues are read in that language only. */
  const languageOf = (text: string) => guessLanguage(text, languages);
  const embedder = options.embedder ?? null;
  const cid = conversation.id;

  const messageUnits = conversation.messages.map((m) => splitIntoUnits(m.text));
  const proseTexts: string[] = [];
  for (const units of messageUnits) for (const u of units) if (!u.code) proseTexts.push(u.text);
  const proseVectors = embedder && proseTexts.length > 0 ? await embedder.embed(proseTexts) : [];
  let nextVector = 0;
  const unitVectors = messageUnits.map((units) => units.map((u) => (u.code ? undefined : proseVectors[nextVector++])));

  // Nodes, message by message.
  const infos: NodeInfo[] = [];
  const nodesOfMessage = new Map<string, NodeInfo[]>();
  conversation.messages.forEach((message, messageIndex) => {
    const units = messageUnits[messageIndex] ?? [];
    if (units.length === 0) return;
    const tokens = units.map((u) => (u.code ? [] : tokenize(u.text)));
    const vectors = unitVectors[messageIndex] ?? [];
    const language = languageOf(
      units
        .filter((u) => !u.code)
        .map((u) => u.text)
        .join(' '),
    );
    // Markers are what a person or the assistant says, not what a tool returned or a person pasted.
    const speaks = (message.role === 'user' && words(message.text) <= PASTED_WORDS) || message.role === 'assistant';
    const starts = nodeStarts(units, message.role, markers, tokens, vectors, language);
    const own: NodeInfo[] = [];
    starts.forEach((start, k) => {
      const end = starts[k + 1] ?? units.length;
      const first = units[start];
      const last = units[end - 1];
      if (!first || !last) return;
      const text = message.text.slice(first.start, last.end);
      const node: CognitiveNode = {
        id: nodeId(cid, message.id, start, text),
        conversationId: cid,
        messageIds: [message.id],
        role: message.role,
        text,
        createdAt: message.createdAt,
        tags: [],
        onCurrentBranch: message.onCurrentBranch,
        sentenceStart: start,
        sentenceEnd: end,
      };
      const marker = speaks ? markers.relationOf(first.text, message.role, language) : undefined;
      const vector = meanVector(vectors.slice(start, end));
      const info: NodeInfo = { node, message, messageIndex, tokens: tokens.slice(start, end).flat() };
      if (vector) info.vector = vector;
      if (marker) info.marker = marker;
      if (units.slice(start, end).some((u) => u.code)) tagNode(info, 'code');
      if (markers.isQuestion(text, language)) tagNode(info, 'question');
      own.push(info);
    });
    infos.push(...own);
    nodesOfMessage.set(message.id, own);
  });

  const byMessageId = new Map(conversation.messages.map((m) => [m.id, m]));
  /** The last node before a message: the last node of its nearest ancestor that has nodes. */
  const lastNodeBefore = (message: Message): NodeInfo | undefined => {
    const seen = new Set<string>();
    for (let parent = byMessageId.get(message.parentId); parent && !seen.has(parent.id); parent = byMessageId.get(parent.parentId)) {
      seen.add(parent.id);
      const own = nodesOfMessage.get(parent.id);
      if (own && own.length > 0) return own.at(-1);
    }
    return undefined;
  };

  // Sequence, turn and marker relations.
  const edges = new EdgeSet();
  const predecessor = new Map<string, NodeInfo>();
  for (const own of nodesOfMessage.values()) {
    own.forEach((info, k) => {
      const previous = k > 0 ? own[k - 1] : lastNodeBefore(info.message);
      if (!previous) return;
      predecessor.set(info.node.id, previous);
      edges.add(info.node.id, previous.node.id, 'follows', 1);
      if (info.node.role === 'assistant' && previous.node.role === 'user') edges.add(info.node.id, previous.node.id, 'responds', 1);
      // `refines` comes from the refinement detector, which reads its openers as cues, with the
      // rest of the conversation around them.
      if (info.marker?.relation === 'refines' && k > 0 && info.node.role === 'user') {
        // "I think it is the parser. Actually, it is the lexer.": the user corrects a thought of the same turn.
        edges.add(info.node.id, previous.node.id, 'refines', markerConfidence(info.marker), [
          ...markerTags(info.marker),
          'self-correction',
        ]);
      } else if (info.marker && info.marker.relation !== 'refines' && !answersAQuestion(info, previous, k)) {
        edges.add(info.node.id, previous.node.id, info.marker.relation, markerConfidence(info.marker), markerTags(info.marker));
      }
    });
  }

  // Topics along the current path. The unit is the message (the content words of its prose
  // sentences and the mean of their vectors, as chatTopicUnits builds it for the benchmark); a
  // topic can start only at a user turn, and never at the first one. topicShifts scores
  // every candidate with the fitted topic model (topics.ts: the embedder's scorer, or the lexical
  // one without a model) and applies the chat domain's decision rule; an explicit "new topic"
  // marker always starts one.
  const path = currentPath(conversation)
    .map((m) => nodesOfMessage.get(m.id) ?? [])
    .filter((own) => own.length > 0);
  const userTurns = path.flatMap((own, i) => (own[0]?.node.role === 'user' ? [i] : [])).slice(1);
  const forced = userTurns.filter((i) => path[i]?.[0]?.marker?.relation === 'restarts');
  const pathTurns = path.map((own) => ({ role: own[0]?.node.role ?? '', text: own[0]?.message.text ?? '' }));
  const candidates = [...new Set([...chatCandidates(pathTurns, markers, languages), ...forced])].sort((a, b) => a - b);
  const withVectors = infos.length > 0 && infos.every((i) => i.vector);
  const decision = topicShifts(
    path.map((own) => {
      const sentences = (unitVectors[own[0]?.messageIndex ?? -1] ?? []).filter((v): v is Float32Array => v !== undefined);
      const vector = meanVector(sentences);
      const unit = { role: own[0]?.node.role ?? '', text: own[0]?.message.text ?? '', tokens: own.flatMap((i) => i.tokens) };
      return vector ? { ...unit, vector, sentences } : unit;
    }),
    { candidates, forced, domain: 'chat', signal: embedder?.id ?? null, ...(options.topicModel ? { model: options.topicModel } : {}) },
  );
  // Where the topic model starts a topic; the edges follow once the refinement detector has had
  // its say (a turn that reports a failure of the answer before it starts no topic).
  const shiftAt = new Map(
    decision.shifts.filter((shift) => path[shift.index]?.[0] && path[shift.index - 1]).map((shift) => [shift.index, shift]),
  );

  // Refinement episodes and chains along the current path (topic starts bound them).
  const turns = refinementTurns(
    path.map((own) => own[0]?.message ?? { role: '', text: '' }),
    languages,
  ).map((turn, k) => ({
    ...turn,
    topicStart: shiftAt.has(k),
  }));
  const turnInfo = (k: number) => ({ tokens: (path[k] ?? []).flatMap((i) => i.tokens), ...vectorOf(path[k] ?? []) });
  const {
    episodes,
    chains: plans,
    vetoedTopicStarts,
  } = detectRefinements(turns, cues, {
    similarity: (a, b) => similarity(turnInfo(a), turnInfo(b)).value,
    restatedSimilarity: withVectors ? THRESHOLDS.restatedEmbedding : THRESHOLDS.restatedLexical,
    relatedSimilarity: withVectors ? THRESHOLDS.relatedEmbedding : THRESHOLDS.relatedLexical,
    isAcceptance: (text) => markers.isAcceptance(text, languageOf(text)),
    isQuestion: (text) => markers.isQuestion(text, languageOf(text)),
  });
  const vetoed = new Set(vetoedTopicStarts);
  const topicStarts = [...shiftAt.keys()].filter((k) => !vetoed.has(k)).sort((a, b) => a - b);
  for (const k of topicStarts) {
    const first = path[k]?.[0];
    const before = path[k - 1]?.at(-1);
    const shift = shiftAt.get(k);
    if (!first || !before || !shift) continue;
    const explicit = forced.includes(k);
    const tags = ['topic-shift', explicit ? 'marker' : decision.method];
    edges.add(first.node.id, before.node.id, 'restarts', explicit ? 0.9 : Math.min(1, 0.5 + shift.score / 2), tags);
    tagNode(first, 'topic-start');
  }
  // A turn's thought as a step or an edge end: a user turn by its first node (what it opens with),
  // an answer by its last (the thought the user reacted to), a revision by its first.
  const firstOf = (k: number) => path[k]?.[0];
  const lastOf = (k: number) => path[k]?.at(-1);
  const chains: RefinementChain[] = [];
  for (const plan of plans) {
    const steps = plan.steps.flatMap(({ turn, role }) => {
      const info = role === 'answer' ? lastOf(turn) : firstOf(turn);
      return info ? [{ info, role }] : [];
    });
    const nodeIds = steps.map((step) => step.info.node.id);
    const id = hash([cid, 'chain', ...nodeIds]);
    const start = steps[0];
    const end = plan.converged === 'restated' ? steps.at(-1) : (steps.findLast((step) => step.role === 'revision') ?? steps.at(-1));
    if (!start || !end) continue;
    const kinds = [...new Set(plan.episodes.map((e) => e.kind))].map((kind) => `kind:${kind}`);
    chains.push({
      id,
      conversationId: cid,
      nodeIds,
      steps: steps.map((step) => step.role),
      tags: [`converged:${plan.converged}`, ...kinds],
    });
    for (const step of steps) tagNode(step.info, step.role);
    edges.add(start.info.node.id, end.info.node.id, 'iteration_final', plan.converged === 'open' ? 0.6 : 0.9, [`chain:${id}`]);
    // The restated question refines the idea it started from.
    const restated = plan.convergence ? firstOf(plan.convergence.turn) : undefined;
    if (restated && start.role === 'idea') {
      edges.add(restated.node.id, start.info.node.id, 'refines', Math.min(1, 0.5 + (plan.convergence?.similarity ?? 0) / 2), ['restated']);
    }
  }
  for (const episode of episodes) {
    const trigger = firstOf(episode.trigger);
    const answered = lastOf(episode.answered);
    if (episode.restates) continue;
    const evidence = [
      ...new Set(episode.evidence.flatMap((m) => [`cue:${m.cue}`, ...(m.language && m.language !== '*' ? [`lang:${m.language}`] : [])])),
    ];
    // Pushback and its revision are about the answer challenged (episode.target), often the latest.
    const challenged = episode.kind === 'pushback' ? lastOf(episode.target) : answered;
    if (trigger && episode.kind === 'pushback' && challenged) {
      edges.add(trigger.node.id, challenged.node.id, 'contrasts', episode.confidence, ['pushback', ...evidence]);
    }
    if (trigger && episode.kind === 'self_refine') {
      const target = lastOf(episode.target);
      if (target) edges.add(trigger.node.id, target.node.id, 'refines', episode.confidence, ['self-refine', ...evidence]);
    }
    const revision = episode.revision === undefined ? undefined : firstOf(episode.revision);
    if (revision && challenged) {
      const tags = ['revision', episode.kind === 'pushback' ? 'after-pushback' : 'after-self-refine'];
      if (episode.acknowledged) tags.push('acknowledged');
      edges.add(revision.node.id, challenged.node.id, 'refines', episode.acknowledged ? 0.9 : 0.7, tags);
    }
  }

  const messageIndexOfPath = (i: number) => path[i]?.[0]?.messageIndex ?? -1;
  return {
    segmenter: segmenterName(embedder),
    nodes: infos.map((i) => i.node),
    edges: edges.list(),
    chains,
    topicBoundaries: topicStarts.map(messageIndexOfPath).filter((i) => i >= 0),
  };
}

function vectorOf(own: readonly NodeInfo[]): { vector?: Float32Array } {
  const vector = meanVector(own.map((i) => i.vector));
  return vector ? { vector } : {};
}
