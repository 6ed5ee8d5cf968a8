// Topic starts in real conversations (fixtures/refinement: refine_dev, 20 real ChatGPT conversations
// in English and Dutch with 8 hand-annotated topic starts; refine_heldout, 43 more with 4, annotated
// blind). Loads the gold through ./refinement-gold.mjs (ingestion as the service runs it), runs
// segmentConversation, maps its `topicBoundaries` (indexes into conversation.messages) to message
// ids and scores them against the gold's `topic_starts`: a predicted start is correct when the
// annotation has that message; precision = correct / predicted, recall = correct / gold.
//
// The chat domain's decision rule is fitted on refine_dev (scripts/fit-topic-model.mjs), so on that
// set it is scored leave-one-conversation-out: for each conversation the rule is refitted on the 19
// others with the committed settings (fitDomainDecoder) and segmentConversation runs with that
// refit. `tiage` runs the TIAGE-fitted scorer with its TIAGE decision rule (nothing fitted on chat),
// `committed` the committed parameters as they are (fitted on all of refine_dev: optimistic there).
import {
  chatTopicUnits,
  DEFAULT_LANGUAGES,
  defaultTopicModel,
  fitDomainDecoder,
  segmentConversation,
  topicSignal,
} from '@trajectory/segmentation';
import { loadRefinementGold } from './refinement-gold.mjs';

/** The gold of a set (`dev`, `heldout`) and its conversations that the gold annotates, in file order. */
export async function loadTopicGold(set = 'dev', { limit } = {}) {
  const { gold, conversations } = await loadRefinementGold(set);
  const annotated = conversations.filter((c) => gold.conversations[c.id]);
  return { set, gold, conversations: limit ? annotated.slice(0, limit) : annotated };
}

/** Message ids where a segmentation starts a topic. */
export function topicStartIds(conversation, segmentation) {
  return new Set(segmentation.topicBoundaries.map((i) => conversation.messages[i]?.id).filter(Boolean));
}

/** Scores predicted topic starts (conversation id -> Set of message ids) against the gold of those conversations. */
export function scoreTopicStarts(gold, predictedById) {
  let goldCount = 0;
  let predicted = 0;
  let correct = 0;
  const misses = [];
  const falseAlarms = [];
  for (const [conversationId, starts] of predictedById) {
    const annotated = new Set(gold.conversations[conversationId]?.topic_starts ?? []);
    goldCount += annotated.size;
    for (const id of starts) {
      predicted++;
      if (annotated.has(id)) correct++;
      else falseAlarms.push({ conversationId, messageId: id });
    }
    for (const id of annotated) if (!starts.has(id)) misses.push({ conversationId, messageId: id });
  }
  return {
    conversations: predictedById.size,
    gold: goldCount,
    predicted,
    correct,
    precision: predicted > 0 ? correct / predicted : 0,
    recall: goldCount > 0 ? correct / goldCount : 0,
    misses,
    falseAlarms,
  };
}

/** An embedder that remembers its vectors (the benchmark embeds each conversation for fitting and for segmenting). */
export function memoEmbedder(embedder) {
  if (!embedder) return null;
  const cache = new Map();
  return {
    id: embedder.id,
    dimensions: embedder.dimensions,
    async embed(texts) {
      const missing = [...new Set(texts.filter((t) => !cache.has(t)))];
      if (missing.length > 0) {
        const vectors = await embedder.embed(missing);
        missing.forEach((t, i) => {
          cache.set(t, vectors[i]);
        });
      }
      return texts.map((t) => cache.get(t));
    },
    close: () => embedder.close(),
  };
}

/** A copy of the topic model whose `signal` entry has `decoder` as its chat rule. */
function withChatDecoder(model, signal, decoder) {
  const entry = model.signals[signal];
  return { ...model, signals: { ...model.signals, [signal]: { ...entry, decoders: { ...entry.decoders, chat: decoder } } } };
}

/**
 * Topic starts of the gold's conversations under one mode (`loco`, `tiage`, `committed`, see the
 * header), scored. `embedder` null: the lexical fallback.
 */
export async function topicStartsOnGold({ gold, conversations }, { embedder = null, mode = 'loco', model = defaultTopicModel() } = {}) {
  const languages = DEFAULT_LANGUAGES;
  const predicted = new Map();
  let method = '';
  let examples = [];
  let signal;
  if (mode === 'loco') {
    examples = [];
    for (const conversation of conversations) {
      const { units, candidates, messageIndexes } = await chatTopicUnits(conversation, { embedder, languages });
      const starts = new Set(gold.conversations[conversation.id]?.topic_starts ?? []);
      const labels = candidates.map((i) => (starts.has(conversation.messages[messageIndexes[i]]?.id) ? 1 : 0));
      examples.push({ id: conversation.id, units, candidates, labels });
      signal ??= topicSignal(model, embedder?.id ?? null, units);
    }
  }
  for (const conversation of conversations) {
    let override = model;
    if (mode === 'tiage' || mode === 'loco') {
      const units =
        examples.find((e) => e.id === conversation.id)?.units ?? (await chatTopicUnits(conversation, { embedder, languages })).units;
      const { name, model: entry } = signal ?? topicSignal(model, embedder?.id ?? null, units);
      if (mode === 'tiage') {
        override = withChatDecoder(model, name, entry.decoders.dialogue);
      } else {
        const settings = entry.fit?.chat;
        if (!settings) throw new Error(`topic model ${name}: no chat fitting settings (fit.chat) to refit with`);
        const decoder = fitDomainDecoder(
          examples.filter((e) => e.id !== conversation.id),
          entry.scorer,
          settings,
        );
        override = withChatDecoder(model, name, decoder);
      }
    }
    const segmentation = await segmentConversation(conversation, { embedder, languages, topicModel: override });
    const restart = segmentation.edges.find((e) => e.relation === 'restarts' && e.tags.includes('topic-shift'));
    method ||= restart?.tags.find((t) => t.startsWith('topic-model:')) ?? '';
    predicted.set(conversation.id, topicStartIds(conversation, segmentation));
  }
  return { mode, method, ...scoreTopicStarts(gold, predicted) };
}
