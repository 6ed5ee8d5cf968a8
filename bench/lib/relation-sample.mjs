// Relations judged by hand: a seeded random sample of edges of each relation type from the whole
// real export (fixtures/chatgpt-export), with what a judge needs to see (both ends, the message
// before, the tags), and the check that replays a judged sample against today's segmenter.
// fixtures/relations/judged-edges.json holds the judged sample (a regression fixture).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { segmentConversation } from '@trajectory/segmentation';
import { readConversations } from './refinement-gold.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const REAL_EXPORT = join(here, '..', '..', 'fixtures', 'chatgpt-export', 'pkuppens_2023-06_export.conversations.json');
export const JUDGED_EDGES = join(here, '..', '..', 'fixtures', 'relations', 'judged-edges.json');

/** The segmentations of every conversation of an export (conversation id -> {conversation, segmentation}). */
export async function segmentExportFile(path, options = {}) {
  const conversations = await readConversations(path);
  const out = new Map();
  for (const conversation of conversations)
    out.set(conversation.id, { conversation, segmentation: await segmentConversation(conversation, options) });
  return out;
}

/** One edge as a judge reads it: both ends with their message ids and texts, and the turn before the source. */
export function describeEdge({ conversation, segmentation }, edge) {
  const nodes = new Map(segmentation.nodes.map((n) => [n.id, n]));
  const from = nodes.get(edge.fromId);
  const to = nodes.get(edge.toId);
  const index = conversation.messages.findIndex((m) => m.id === from?.messageIds[0]);
  const before = index > 0 ? conversation.messages[index - 1] : undefined;
  const end = (n) => ({ messageId: n?.messageIds[0], role: n?.role, text: n?.text });
  return {
    conversationId: conversation.id,
    title: conversation.title,
    relation: edge.relation,
    confidence: edge.confidence,
    tags: edge.tags,
    from: end(from),
    to: end(to),
    messageBefore: before ? { role: before.role, text: before.text.slice(0, 600) } : null,
  };
}

/** Up to `perType` edges of every relation type but the structural ones, drawn by a seeded hash order. */
export function sampleEdges(segmented, { perType = 20, seed = 20261130, skip = ['follows', 'responds'] } = {}) {
  const byType = new Map();
  for (const entry of segmented.values()) {
    for (const edge of entry.segmentation.edges) {
      if (skip.includes(edge.relation)) continue;
      if (!byType.has(edge.relation)) byType.set(edge.relation, []);
      byType.get(edge.relation).push(describeEdge(entry, edge));
    }
  }
  // A seeded shuffle without a generator: order each type's edges by a hash of the seed and the edge.
  const rank = (e) =>
    createHash('sha256').update(`${seed}|${e.conversationId}|${e.from.messageId}|${e.to.messageId}|${e.from.text}`).digest('hex');
  const sample = [];
  for (const [relation, edges] of [...byType].sort(([a], [b]) => a.localeCompare(b))) {
    const pool = edges.map((e) => ({ e, key: rank(e) })).sort((x, y) => x.key.localeCompare(y.key));
    sample.push(...pool.slice(0, perType).map(({ e }) => ({ ...e, population: edges.length, relation })));
  }
  return sample;
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** A judged edge's end as the fixture keeps it: the message, the role, the node text's sha256 and its start. */
export const fixtureEnd = (end) => ({
  messageId: end.messageId,
  role: end.role,
  textSha256: sha256(end.text ?? ''),
  excerpt: (end.text ?? '').slice(0, 300),
});

/** Whether a segmentation still has a judged edge: same relation between nodes of the same messages and texts. */
export function stillThere(segmentation, judged) {
  const nodes = new Map(segmentation.nodes.map((n) => [n.id, n]));
  const same = (node, end) => node && node.messageIds[0] === end.messageId && sha256(node.text) === end.textSha256;
  return segmentation.edges.some(
    (e) => e.relation === judged.relation && same(nodes.get(e.fromId), judged.from) && same(nodes.get(e.toId), judged.to),
  );
}

/**
 * Replays the judged sample: per relation, how many judged edges today's segmenter still makes,
 * and the precision among them (correct / still there).
 */
export function replayJudged(segmented, judgedEdges = JSON.parse(readFileSync(JUDGED_EDGES, 'utf8')).edges) {
  const rows = new Map();
  for (const judged of judgedEdges) {
    const row = rows.get(judged.relation) ?? { relation: judged.relation, judged: 0, correct: 0, kept: 0, keptCorrect: 0 };
    row.judged++;
    if (judged.verdict === 'correct') row.correct++;
    const entry = segmented.get(judged.conversationId);
    if (entry && stillThere(entry.segmentation, judged)) {
      row.kept++;
      if (judged.verdict === 'correct') row.keptCorrect++;
    }
    rows.set(judged.relation, row);
  }
  return [...rows.values()].map((r) => ({
    ...r,
    precision: r.judged ? r.correct / r.judged : 0,
    keptPrecision: r.kept ? r.keptCorrect / r.kept : 0,
  }));
}
