// A dataset from an export with no server: ingestion's reader, the segmenter the service runs
// (with the service's default encoder), conversation graphs as the graph service returns them
// (nodes, edges, chains of one conversation), and the samples service's buildDataset. What the
// dataset benches and the record property tests run on real exports; the service path (Neo4j in
// between) is what e2e covers.
import { readFile } from 'node:fs/promises';
import { loadEmbedder } from '@trajectory/embeddings';
import { buildDataset, defaultDatasetSettings, factRecords, parseFacts } from '@trajectory/samples';
import { segmentConversation } from '@trajectory/segmentation';
import { readConversations } from './refinement-gold.mjs';

/** The conversation graphs of an export (in export order), segmented as the service does. */
export async function exportGraphs(path, { embedder } = {}) {
  const encoder = embedder === undefined ? await loadEmbedder() : embedder;
  try {
    const graphs = [];
    for (const conversation of await readConversations(path)) {
      const s = await segmentConversation(conversation, { embedder: encoder });
      graphs.push({ conversationId: conversation.id, title: conversation.title, nodes: s.nodes, edges: s.edges, chains: s.chains });
    }
    return graphs;
  } finally {
    if (embedder === undefined) await encoder?.close();
  }
}

/** Builds a dataset version from graphs into `rootDir`, with the samples service's default settings unless given. */
export async function offlineDataset(graphs, rootDir, { factsPath, referenceDate = new Date(), ...overrides } = {}) {
  const settings = defaultDatasetSettings(referenceDate, overrides);
  const memory = factsPath
    ? factRecords(parseFacts(await readFile(factsPath, 'utf8'), factsPath), { systemPrompt: settings.systemPrompt })
    : [];
  async function* each() {
    yield* graphs;
  }
  return buildDataset(each(), rootDir, settings, memory);
}
