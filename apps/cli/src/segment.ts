import type { Conversation } from '@trajectory/contracts';
import { loadEmbedder } from '@trajectory/embeddings';
import { DEFAULT_LANGUAGES, type Segmentation, segmentConversation } from '@trajectory/segmentation';
import { readExportOffline } from './offline.js';

export interface SegmentedConversation {
  conversation: Conversation;
  segmentation: Segmentation;
}

/**
 * Reads an export with ingestion's parser and segments every conversation in this process: no
 * server, the same code the services run. Uses the embedding model where it is installed.
 */
export async function segmentExport(
  path: string,
  options: { languages?: readonly string[]; lexicalOnly?: boolean } = {},
): Promise<{ results: SegmentedConversation[]; warnings: string[] }> {
  const { conversations, report } = await readExportOffline(path, 'segment');
  // The services' default encoder (the static one where it was derived, else MiniLM).
  const embedder = options.lexicalOnly ? null : await loadEmbedder();
  try {
    const results: SegmentedConversation[] = [];
    for (const conversation of conversations) {
      const segmentation = await segmentConversation(conversation, { embedder, languages: options.languages ?? DEFAULT_LANGUAGES });
      results.push({ conversation, segmentation });
    }
    const warnings = [...report.skipped, ...report.warnings].map((w) => `${w.fileName}${w.place ? ` ${w.place}` : ''}: ${w.message}`);
    return { results, warnings };
  } finally {
    await embedder?.close();
  }
}

const short = (id: string) => id.slice(0, 12);
const oneLine = (text: string, max = 100) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

export function formatSegmentation({ conversation, segmentation: s }: SegmentedConversation): string {
  const lines = [
    `conversation ${conversation.id} "${conversation.title}": ${conversation.messages.length} messages, ${s.nodes.length} nodes, ${s.edges.length} edges, ${s.chains.length} chains (${s.segmenter})`,
    `  topic boundaries (message indexes): ${s.topicBoundaries.length > 0 ? s.topicBoundaries.join(', ') : 'none'}`,
    '  nodes:',
  ];
  for (const n of s.nodes) {
    const tags = n.tags.length > 0 ? ` [${n.tags.join(', ')}]` : '';
    lines.push(`    ${short(n.id)} ${n.role.padEnd(9)} msg ${n.messageIds.join(',')}${tags}: ${oneLine(n.text)}`);
  }
  lines.push('  edges:');
  for (const e of s.edges) {
    const tags = e.tags.length > 0 ? ` [${e.tags.join(', ')}]` : '';
    lines.push(`    ${short(e.fromId)} -${e.relation} ${e.confidence.toFixed(2)}-> ${short(e.toId)}${tags}`);
  }
  if (s.chains.length > 0) lines.push('  chains:');
  for (const c of s.chains) {
    const steps = c.nodeIds.map((id, i) => `${c.steps[i] ?? '?'} ${short(id)}`).join(' → ');
    lines.push(`    ${short(c.id)} length ${c.nodeIds.length} [${c.tags.join(', ')}]: ${steps}`);
  }
  return lines.join('\n');
}
