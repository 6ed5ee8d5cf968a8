#!/usr/bin/env node
// A seeded, reproducible ChatGPT export of a whole history (bench/lib/synthetic-export.mjs,
// historyConversations): a zip of conversations-00N.json shards over 2023-2026, long
// conversations that iterate as real work does (pasted errors, challenges and acknowledged
// revisions, changed requirements, restarts, restated questions), branches from regenerations
// and edits, code blocks, images beside text, tool chains, five languages with marker words and
// a few messages in other scripts. The default is sized after the history the seed pipeline
// reported on: 1,122 conversations, in the order of 250,000 cognitive nodes. The same options give the same
// bytes.
//
//   node bench/generate-export.mjs --out history.zip                  # 1,122 conversations
//   node bench/generate-export.mjs --out small.zip --conversations 50
//   node bench/generate-export.mjs --out history.zip --measure        # and count what the segmenter makes of it
//   options: --seed 1  --mean-exchanges 55 (user turns per conversation, on average)  --per-shard 100
// --measure reads the zip back with ingestion's reader and segments every conversation with the
// service's segmenter and encoder, offline (about 0.1 s of CPU per conversation of default length).
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { loadEmbedder } from '@trajectory/embeddings';
import { createRedactor, DEFAULT_LIMITS, ingestExport } from '@trajectory/ingestion';
import { formatTable } from '@trajectory/samples';
import { segmentConversation } from '@trajectory/segmentation';
import { flag, option } from './lib/cli-args.mjs';
import { historyConversations, SEED_HISTORY, writeExportZip } from './lib/synthetic-export.mjs';

const out = option('out', undefined);
const conversations = Number(option('conversations', SEED_HISTORY.conversations));
const seed = Number(option('seed', 1));
const meanExchanges = Number(option('mean-exchanges', 55));
const perShard = Number(option('per-shard', 100));
if (!out) throw new Error('--out FILE.zip is required');
if (!(Number.isInteger(conversations) && conversations > 0)) throw new Error(`--conversations must be a positive integer`);

const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** What the segmenter makes of an export, read as the ingestion service reads it. */
async function measureExport(path) {
  const embedder = await loadEmbedder();
  const totals = { conversations: 0, messages: 0, nodes: 0, edges: 0, chains: 0, relations: {}, cpuSeconds: 0 };
  const cpu = process.cpuUsage();
  try {
    const result = await ingestExport({
      path,
      fileName: 'export.zip',
      ingestId: 'bench-generate',
      redactor: createRedactor('secrets'),
      limits: DEFAULT_LIMITS,
      publish: async (event) => {
        const s = await segmentConversation(event.conversation, { embedder });
        totals.conversations += 1;
        totals.messages += event.conversation.messages.length;
        totals.nodes += s.nodes.length;
        totals.edges += s.edges.length;
        totals.chains += s.chains.length;
        for (const e of s.edges) totals.relations[e.relation] = (totals.relations[e.relation] ?? 0) + 1;
        return { duplicate: false };
      },
    });
    totals.skipped = result.report?.skipped ?? [];
  } finally {
    await embedder?.close();
  }
  const used = process.cpuUsage(cpu);
  totals.cpuSeconds = (used.user + used.system) / 1e6;
  totals.segmenter = embedder ? embedder.id : 'lexical';
  return totals;
}

const path = resolve(out);
const t0 = performance.now();
const zip = await writeExportZip(path, historyConversations(conversations, { seed, meanExchanges }), { perShard });
console.log(
  `${path}: ${fmt(zip.conversations)} conversations in ${zip.shards.length} shards, ${fmt(zip.bytes / 1e6, 1)} MB zipped, ` +
    `written in ${fmt((performance.now() - t0) / 1000, 1)} s (seed ${seed}, mean exchanges ${meanExchanges})`,
);

if (flag('measure')) {
  const m = await measureExport(path);
  if (m.skipped.length > 0) console.log(`skipped: ${m.skipped.map((s) => `${s.place}: ${s.message}`).join('; ')}`);
  const perSeed = (x, seedValue) => `${fmt(x / m.conversations, 1)} (seed ${fmt(seedValue / SEED_HISTORY.conversations, 1)})`;
  console.log(
    formatTable(
      ['', 'conversations', 'messages', 'cognitive nodes', 'edges', 'refinement chains'],
      [
        ['this export', fmt(m.conversations), fmt(m.messages), fmt(m.nodes), fmt(m.edges), fmt(m.chains)],
        ['the seed', fmt(SEED_HISTORY.conversations), '-', fmt(SEED_HISTORY.nodes), fmt(SEED_HISTORY.edges), fmt(SEED_HISTORY.chains)],
        [
          'per conversation',
          '1',
          fmt(m.messages / m.conversations, 1),
          perSeed(m.nodes, SEED_HISTORY.nodes),
          perSeed(m.edges, SEED_HISTORY.edges),
          perSeed(m.chains, SEED_HISTORY.chains),
        ],
      ],
    ),
  );
  const relations = Object.entries(m.relations).sort((a, b) => b[1] - a[1]);
  console.log(`relations: ${relations.map(([name, n]) => `${name} ${fmt((100 * n) / m.edges, 1)}%`).join(', ')}`);
  console.log(
    `segmented offline with ${m.segmenter} in ${fmt(m.cpuSeconds, 1)} CPU s (${fmt(m.conversations / m.cpuSeconds, 1)} conversations/s per core; ${availableParallelism()} cores here)`,
  );
}
