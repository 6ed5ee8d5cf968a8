import { createHash } from 'node:crypto';
import type { CognitiveNode, Conversation, Edge, Message, RefinementChain } from '@trajectory/contracts';
import { cosine, type SentenceEmbedder } from '@trajectory/embeddings';
import { compileMarkers, type MarkerMatch, type Markers } from './markers.js';
import { gapSimilarities, lexicalTokenizer } from './texttiling.js';
import { meanVector, topicShifts } from './topics.js';
import { splitIntoUnits, type TextUnit } from './units.js';

export const SEGMENTER_VERSION = 'cognitive/v1';

/** The segmenter's name as recorded with its output: the algorithm and the signal it had. */
export function segmenterName(embedder: SentenceEmbedder | null | undefined): string {
  return `${SEGMENTER_VERSION}+${embedder ? embedder.id : 'lexical'}`;
}

export const DEFAULT_LANGUAGES: readonly string[] = ['en', 'de'];

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
  /** A node shorter than this many words is a preamble ("No.", "Sure!") and is not split off. */
  minNodeWords: 4,
} as const;

export interface SegmentOptions {
  /** Sentence embeddings; without them the segmenter uses lexical cohesion only. */
  embedder?: SentenceEmbedder | null;
  /** Marker languages (ISO 639-1), default English and German. */
  languages?: readonly string[];
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
const lexicalSimilarity = (a: readonly string[], b: readonly string[]) => gapSimilarities([a, b], 1)[0] ?? 0;

/** How alike two stretches of text are: embedding cosine when both have vectors, else lexical cohesion. */
function similarity(
  a: { tokens: readonly string[]; vector?: Float32Array | undefined },
  b: typeof a,
): { value: number; embedding: boolean } {
  if (a.vector && b.vector) return { value: cosine(a.vector, b.vector), embedding: true };
  return { value: lexicalSimilarity(a.tokens, b.tokens), embedding: false };
}

/** The messages from the root to the current leaf: the conversation as the user left it. */
function currentPath(conversation: Conversation): Message[] {
  const byId = new Map(conversation.messages.map((m) => [m.id, m]));
  const path: Message[] = [];
  const seen = new Set<string>();
  for (let m = byId.get(conversation.currentLeafId); m && !seen.has(m.id); m = byId.get(m.parentId)) {
    seen.add(m.id);
    path.unshift(m);
  }
  return path.length > 0 ? path : conversation.messages.filter((m) => m.onCurrentBranch);
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
): number[] {
  const starts = [0];
  for (let j = 1; j < units.length; j++) {
    const unit = units[j];
    if (!unit || unit.code) continue;
    const current = units.slice(starts.at(-1), j);
    if (words(current.map((u) => u.text).join(' ')) < THRESHOLDS.minNodeWords) continue;
    const marker = markers.relationOf(unit.text, role);
    const opensWithMarker = marker?.at === 'start';
    if (!unit.paragraphStart) {
      if (opensWithMarker && (marker.relation === 'refines' || marker.relation === 'restarts')) starts.push(j);
      continue;
    }
    if (opensWithMarker || markers.isStep(unit.text)) {
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

const markerTags = (m: MarkerMatch) => [`marker:${m.phrase}`, `lang:${m.language}`];
const markerConfidence = (m: MarkerMatch) => (m.at === 'start' ? 0.8 : 0.6);
const tagNode = (info: NodeInfo, tag: string) => {
  if (!info.node.tags.includes(tag)) info.node.tags.push(tag);
};

const toolsByLanguages = new Map<string, { markers: Markers; tokenize: (text: string) => string[] }>();

/** Marker regexes and the stopword tokenizer, compiled once per language set, not per conversation. */
function languageTools(languages: readonly string[]) {
  const key = languages.join(',');
  let tools = toolsByLanguages.get(key);
  if (!tools) {
    const markers = compileMarkers(languages);
    tools = { markers, tokenize: lexicalTokenizer(markers.languages) };
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
  const { markers, tokenize } = languageTools(options.languages ?? DEFAULT_LANGUAGES);
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
    const starts = nodeStarts(units, message.role, markers, tokens, vectors);
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
      const marker = markers.relationOf(first.text, message.role);
      const vector = meanVector(vectors.slice(start, end));
      const info: NodeInfo = { node, message, messageIndex, tokens: tokens.slice(start, end).flat() };
      if (vector) info.vector = vector;
      if (marker) info.marker = marker;
      if (units.slice(start, end).some((u) => u.code)) tagNode(info, 'code');
      if (markers.isQuestion(text)) tagNode(info, 'question');
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
      if (info.marker) {
        // A refinement revises its author's own earlier thought ("You're right, ..." revises the
        // answer, not the pushback it follows).
        let target: NodeInfo | undefined = previous;
        if (info.marker.relation === 'refines') {
          while (target && target.node.role !== info.node.role) target = predecessor.get(target.node.id);
        }
        edges.add(info.node.id, (target ?? previous).node.id, info.marker.relation, markerConfidence(info.marker), markerTags(info.marker));
      }
    });
  }

  // Topics along the current path. The unit is the exchange (a user turn with the answers to it):
  // in chat a topic starts with the user's turn, and comparing single messages would see a valley
  // between every short question and its long answer.
  const path = currentPath(conversation)
    .map((m) => nodesOfMessage.get(m.id) ?? [])
    .filter((own) => own.length > 0);
  const exchangeStarts = path.flatMap((own, i) => (i === 0 || own[0]?.node.role === 'user' ? [i] : []));
  const exchanges = exchangeStarts.map((start, e) => path.slice(start, exchangeStarts[e + 1] ?? path.length).flat());
  const forced = exchanges.flatMap((own, e) => (own[0]?.marker?.relation === 'restarts' ? [e] : []));
  const withVectors = infos.length > 0 && infos.every((i) => i.vector);
  const topicStarts: number[] = [];
  for (const shift of topicShifts(
    exchanges.map((own) => ({ tokens: own.flatMap((i) => i.tokens), ...vectorOf(own) })),
    { forced },
  )) {
    const index = exchangeStarts[shift.index] ?? 0;
    const first = path[index]?.[0];
    const before = path[index - 1]?.at(-1);
    if (!first || !before) continue;
    topicStarts.push(index);
    const explicit = forced.includes(shift.index);
    const tags = ['topic-shift', explicit ? 'marker' : withVectors ? 'embedding+lexical' : 'lexical'];
    edges.add(first.node.id, before.node.id, 'restarts', explicit ? 0.9 : Math.min(1, 0.5 + shift.depth), tags);
    tagNode(first, 'topic-start');
  }

  // Refinement chains, one topic segment at a time.
  const chains: RefinementChain[] = [];
  const segmentBounds = [0, ...topicStarts, path.length];
  for (let s = 0; s + 1 < segmentBounds.length; s++) {
    const segment = path.slice(segmentBounds[s], segmentBounds[s + 1]).flat();
    const chain = refinementChain(segment, markers);
    if (!chain) continue;
    const { steps, converged } = chain;
    const nodeIds = steps.map((step) => step.info.node.id);
    const id = hash([cid, 'chain', ...nodeIds]);
    const start = steps[0];
    const end = steps.at(-1);
    if (!start || !end) continue;
    chains.push({ id, conversationId: cid, nodeIds, steps: steps.map((step) => step.role), tags: [`converged:${converged}`] });
    for (const step of steps) tagNode(step.info, step.role);
    edges.add(start.info.node.id, end.info.node.id, 'iteration_final', converged === 'open' ? 0.6 : 0.9, [`chain:${id}`]);
    for (const { revision, answered } of chain.revisions) {
      edges.add(revision.node.id, answered.node.id, 'refines', 0.7, ['revision']);
    }
    if (chain.restated) edges.add(end.info.node.id, start.info.node.id, 'refines', chain.restated.confidence, ['restated']);
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

interface ChainStep {
  info: NodeInfo;
  role: 'idea' | 'answer' | 'challenge' | 'revision' | 'convergence';
}

interface DetectedChain {
  steps: ChainStep[];
  converged: 'restated' | 'accepted' | 'open';
  revisions: { revision: NodeInfo; answered: NodeInfo }[];
  restated?: { confidence: number };
}

const CHALLENGES = new Set(['contrasts', 'refines']);

/**
 * initial idea -> challenge -> revision -> convergence within one topic: the idea is the topic's
 * first user thought; a challenge is user pushback on an answer (a contrasting or correcting
 * opener, "8 GB won't be enough"); its revision is the next assistant thought. The chain converges
 * where the user restates the idea in its refined form (a question close to the first one), or
 * else where the user accepts an answer; with neither it ends open at the last revision.
 */
function refinementChain(segment: readonly NodeInfo[], markers: Markers): DetectedChain | undefined {
  const ideaIndex = segment.findIndex((i) => i.node.role === 'user');
  const idea = segment[ideaIndex];
  if (!idea) return undefined;
  const isChallenge = (k: number) => {
    const info = segment[k];
    const marker = info?.marker;
    if (info?.node.role !== 'user' || !marker || !CHALLENGES.has(marker.relation)) return false;
    return segment.slice(ideaIndex + 1, k).some((i) => i.node.role === 'assistant');
  };
  const pairs: { challenge: number; revision: number; answered: number }[] = [];
  for (let k = ideaIndex + 1; k < segment.length; k++) {
    if (!isChallenge(k)) continue;
    const revision = segment.findIndex((i, r) => r > k && i.node.role === 'assistant');
    if (revision < 0) break;
    const answered = segment.findLastIndex((i, r) => r < k && i.node.role === 'assistant');
    pairs.push({ challenge: k, revision, answered });
    k = revision;
  }
  const firstPair = pairs[0];
  if (!firstPair) return undefined;

  // Convergence: the last user question after the first revision that restates the idea.
  let end = -1;
  let converged: DetectedChain['converged'] = 'open';
  let restatedConfidence = 0;
  for (let k = segment.length - 1; k > firstPair.revision; k--) {
    const info = segment[k];
    if (info?.node.role !== 'user') continue;
    if (!markers.isQuestion(info.node.text) && info.marker?.relation !== 'refines') continue;
    const { value, embedding } = similarity(idea, info);
    if (value >= (embedding ? THRESHOLDS.restatedEmbedding : THRESHOLDS.restatedLexical)) {
      end = k;
      converged = 'restated';
      restatedConfidence = Math.min(1, 0.5 + value / 2);
      break;
    }
  }
  if (end < 0) {
    const lastRevision = pairs.at(-1)?.revision ?? firstPair.revision;
    end = segment.findIndex((i, k) => k > lastRevision && i.node.role === 'user' && markers.isAcceptance(i.node.text));
    if (end >= 0) converged = 'accepted';
    else end = lastRevision;
  }

  const steps: ChainStep[] = [{ info: idea, role: 'idea' }];
  const kept = pairs.filter((p) => p.challenge < end);
  const firstAnswered = segment[kept[0]?.answered ?? -1];
  if (firstAnswered && kept[0] && kept[0].answered > ideaIndex) steps.push({ info: firstAnswered, role: 'answer' });
  const revisions: DetectedChain['revisions'] = [];
  for (const pair of kept) {
    const challenge = segment[pair.challenge];
    const revision = segment[pair.revision];
    const answered = segment[pair.answered];
    if (challenge) steps.push({ info: challenge, role: 'challenge' });
    if (revision && pair.revision <= end) steps.push({ info: revision, role: 'revision' });
    if (revision && answered && pair.answered > ideaIndex) revisions.push({ revision, answered });
  }
  const endInfo = segment[end];
  // An open chain ends on its last revision, which keeps its role.
  if (endInfo && steps.at(-1)?.info !== endInfo) steps.push({ info: endInfo, role: 'convergence' });
  if (steps.length < 3) return undefined;
  const chain: DetectedChain = { steps, converged, revisions };
  if (converged === 'restated') chain.restated = { confidence: restatedConfidence };
  return chain;
}
