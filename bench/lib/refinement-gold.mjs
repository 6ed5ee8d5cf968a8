// Refinement episodes in real conversations (fixtures/refinement: 20 real ChatGPT conversations,
// English and Dutch, with 22 hand-annotated episodes). Loads the gold, runs the conversations
// through ingestion and the segmenter the service runs, and scores what the segmenter marks as
// refinement against the annotations, as the gold's SOURCES.md suggests:
//   an episode is found when its trigger or its revision message holds a node that the segmenter
//   marks as a refinement (the source of a `refines` edge, or a chain's challenge/revision step);
//   precision is the share of the segmenter's refinement messages (messages holding such a node)
//   that are the trigger or the revision of an annotated episode.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConversations as readExportConversations } from '@trajectory/ingestion';

const here = dirname(fileURLToPath(import.meta.url));
export const REFINEMENT_GOLD_DIR = join(here, '..', '..', 'fixtures', 'refinement');

/** Conversations of an export file as the ingestion service publishes them. */
export async function readConversations(path) {
  return (await readExportConversations(path, { ingestId: 'bench' })).conversations;
}

/**
 * The gold sets: `dev` (refine_dev: 20 conversations annotated by the gold's author, on which the
 * detector was developed) and `heldout` (the 8 real conversations of fixtures/chatgpt's subset,
 * annotated with the same guidelines after the detector was written, before it ran on them).
 */
export const REFINEMENT_GOLD_SETS = {
  dev: {
    gold: join(REFINEMENT_GOLD_DIR, 'refine_dev.gold.json'),
    conversations: join(REFINEMENT_GOLD_DIR, 'refine_dev.conversations.json'),
  },
  heldout: {
    gold: join(REFINEMENT_GOLD_DIR, 'refine_heldout.gold.json'),
    conversations: join(REFINEMENT_GOLD_DIR, 'refine_heldout.conversations.json'),
  },
  subset: {
    gold: join(REFINEMENT_GOLD_DIR, 'heldout_subset.gold.json'),
    conversations: join(REFINEMENT_GOLD_DIR, '..', 'chatgpt', 'pkuppens_2023-06_export_subset.conversations.json'),
  },
};

/** The gold annotations and the conversations they annotate, in file order. */
export async function loadRefinementGold(set = 'dev') {
  const files = REFINEMENT_GOLD_SETS[set];
  if (!files) throw new Error(`unknown refinement gold set ${set} (${Object.keys(REFINEMENT_GOLD_SETS).join(', ')})`);
  const gold = JSON.parse(readFileSync(files.gold, 'utf8'));
  const conversations = await readConversations(files.conversations);
  return { gold, conversations };
}

/** Message ids the segmentation marks as refinement: sources of `refines` edges and chain challenge/revision steps. */
export function refinementMessages(segmentation) {
  const messageOf = new Map(segmentation.nodes.map((n) => [n.id, n.messageIds[0]]));
  const marked = new Set();
  for (const e of segmentation.edges) if (e.relation === 'refines') marked.add(messageOf.get(e.fromId));
  for (const chain of segmentation.chains) {
    chain.steps.forEach((role, i) => {
      if (role === 'challenge' || role === 'revision') marked.add(messageOf.get(chain.nodeIds[i]));
    });
  }
  marked.delete(undefined);
  return marked;
}

/**
 * Scores segmentations (conversation id -> segmentation) against the gold: recall per kind,
 * precision of refinement messages, and the misses and false alarms by message id.
 */
export function scoreRefinements(gold, segmentations) {
  const kinds = {};
  let predicted = 0;
  let correct = 0;
  const misses = [];
  const falseAlarms = [];
  for (const [conversationId, annotation] of Object.entries(gold.conversations)) {
    const segmentation = segmentations.get(conversationId);
    if (!segmentation) continue;
    const marked = refinementMessages(segmentation);
    const episodeMessages = new Set();
    for (const episode of annotation.refinements) {
      for (const id of [episode.trigger, episode.revision]) if (id) episodeMessages.add(id);
      kinds[episode.kind] ??= { episodes: 0, found: 0 };
      const kind = kinds[episode.kind];
      kind.episodes++;
      if (marked.has(episode.trigger) || (episode.revision && marked.has(episode.revision))) kind.found++;
      else misses.push({ conversationId, kind: episode.kind, trigger: episode.trigger, evidence: episode.evidence });
    }
    for (const id of marked) {
      predicted++;
      if (episodeMessages.has(id)) correct++;
      else falseAlarms.push({ conversationId, messageId: id });
    }
  }
  for (const kind of Object.values(kinds)) kind.recall = kind.episodes > 0 ? kind.found / kind.episodes : 0;
  const episodes = Object.values(kinds).reduce((s, k) => s + k.episodes, 0);
  const found = Object.values(kinds).reduce((s, k) => s + k.found, 0);
  return {
    episodes,
    found,
    recall: episodes > 0 ? found / episodes : 0,
    kinds,
    predicted,
    correct,
    precision: predicted > 0 ? correct / predicted : 0,
    misses,
    falseAlarms,
  };
}
