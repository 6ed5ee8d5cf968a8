#!/usr/bin/env node
// Topic-shift quality on the TIAGE test split (Xie et al., Findings of EMNLP 2021): 100 PersonaChat
// dialogues, 1,564 utterances, 315 annotated topic shifts (the repository's fixtures/dialseg, see
// fixtures/README.md and fixtures/dialseg/SOURCES.md). For each method: mean Pk and mean WindowDiff
// over the dialogues (lower is better; k per dialogue = half its mean gold segment length, rounded,
// at least 1), the number of boundaries it predicts against the gold count, and its runtime (wall
// time summed over the dialogues, after one untimed warm-up over the first 10 dialogues).
//
// Methods:
//   no boundaries / every utterance / even spacing   trivial baselines that frame the numbers; even
//       spacing puts a boundary every round(mean gold segment length) utterances, a length taken
//       from this gold set (an oracle statistic, for reference only).
//   TextTiling (lexical)   the Hearst/NLTK pipeline over utterances with parameters fixed a priori,
//       not tuned: only the test split is available, so nothing here was chosen by its scores.
//       window 2 (one exchange of two turns each side, the dialogue analogue of Hearst's block of a
//       paragraph), HC cutoff (NLTK's default), smoothing width 2 and 1 round (NLTK's defaults),
//       minimum distance 2 between boundaries, English stopwords, light stemmer.
//   detectTopicShifts   the service's combined method (@trajectory/segmentation), with the sentence
//       embedder of @trajectory/embeddings when its model is present, and without one; rows are
//       skipped, with a line saying why, when either export is missing.
//
// Build first:  npx turbo run build --filter=@trajectory/segmentation...
//   node bench/segmentation-quality.mjs               # table
//   node bench/segmentation-quality.mjs --json        # the same figures as JSON
//   options: --gold <path to a TIAGE annotation file>  --sensitivity (adds TextTiling variants,
//            printed for information only: choosing among them on this split would be tuning on test)
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSentenceEmbedder } from '@trajectory/embeddings';
import { createRedactor, DEFAULT_LIMITS, ingestExport } from '@trajectory/ingestion';
import {
  conversationTurns,
  formatTable,
  relationDistribution,
  sampleShapeRow,
  trajectoryRecords,
  trajectorySpan,
  turnPairSpans,
} from '@trajectory/samples';
import {
  defaultWindow,
  detectTopicShifts,
  parseTiage,
  pk,
  segmentConversation,
  textTilingBoundaries,
  windowDiff,
} from '@trajectory/segmentation';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, '..', 'fixtures'); // the repository's committed fixtures (fixtures/README.md)
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const asJson = args.includes('--json');
const sensitivity = args.includes('--sensitivity');
const goldPath = option('gold', join(FIXTURES, 'dialseg', 'tiage_anno_test.json'));
const notes = [];
const note = (line) => {
  notes.push(line);
  if (!asJson) console.log(line);
};

// ---------- gold ----------
const dialogues = parseTiage(readFileSync(goldPath, 'utf8'));
const utteranceCount = dialogues.reduce((sum, d) => sum + d.utterances.length, 0);
const goldBoundaries = dialogues.reduce((sum, d) => sum + d.boundaries.length, 0);
const meanSegment = utteranceCount / (goldBoundaries + dialogues.length);
const evenStep = Math.max(1, Math.round(meanSegment));

// ---------- methods ----------
const range = (from, to, step = 1) => Array.from({ length: Math.max(0, Math.ceil((to - from) / step)) }, (_, i) => from + i * step);
const methods = [
  { name: 'no boundaries', run: () => [] },
  { name: 'every utterance', run: (u) => range(1, u.length) },
  { name: `even spacing (every ${evenStep})`, run: (u) => range(evenStep, u.length, evenStep) },
  { name: 'TextTiling lexical (w=2, hc)', run: (u) => textTilingBoundaries(u, { window: 2, cutoff: 'hc', languages: ['en'] }) },
];
if (sensitivity) {
  for (const [window, cutoff] of [
    [3, 'hc'],
    [2, 'lc'],
    [3, 'lc'],
  ]) {
    methods.push({
      name: `  (sensitivity) TextTiling w=${window}, ${cutoff}`,
      run: (u) => textTilingBoundaries(u, { window, cutoff, languages: ['en'] }),
    });
  }
}

// The service's combined method, with the sentence embedder where its model is installed
// (packages/embeddings/scripts/fetch-model.mjs), and its documented lexical fallback.
const embedder = await loadSentenceEmbedder();
if (embedder) {
  methods.push({ name: `detectTopicShifts (${embedder.id})`, run: (u) => detectTopicShifts(u, { embedder, languages: ['en'] }) });
} else {
  note('no embedding model installed: the embedding row is missing (run node packages/embeddings/scripts/fetch-model.mjs)');
}
methods.push({ name: 'detectTopicShifts (lexical fallback)', run: (u) => detectTopicShifts(u, { embedder: null, languages: ['en'] }) });

// ---------- evaluation ----------
const results = [];
for (const method of methods) {
  let pkSum = 0;
  let wdSum = 0;
  let predicted = 0;
  let ms = 0;
  try {
    for (const d of dialogues.slice(0, 10)) await method.run(d.utterances); // warm-up, untimed (JIT, model setup)
    for (const d of dialogues) {
      const started = process.hrtime.bigint();
      const hypothesis = await method.run(d.utterances);
      ms += Number(process.hrtime.bigint() - started) / 1e6;
      const n = d.utterances.length;
      const k = defaultWindow(d.boundaries, n);
      pkSum += pk(d.boundaries, hypothesis, n, k);
      wdSum += windowDiff(d.boundaries, hypothesis, n, k);
      predicted += hypothesis.length;
    }
  } catch (error) {
    note(`skipped ${method.name.trim()}: it failed (${error.message.split('\n')[0]})`);
    continue;
  }
  results.push({ method: method.name, pk: pkSum / dialogues.length, windowDiff: wdSum / dialogues.length, boundaries: predicted, ms });
}
const printTable = (header, rows) => console.log(formatTable(header, rows));

// ---------- report ----------
const gold = { file: goldPath, dialogues: dialogues.length, utterances: utteranceCount, boundaries: goldBoundaries, meanSegment };
if (!asJson) {
  console.log(
    `\nTIAGE test: ${gold.dialogues} dialogues, ${gold.utterances} utterances, ${gold.boundaries} gold boundaries, ` +
      `mean segment ${meanSegment.toFixed(2)} utterances; k per dialogue = max(1, round(n / (2 · segments)))\n`,
  );
  printTable(
    ['method', 'Pk', 'WindowDiff', 'boundaries', 'gold', 'ms'],
    results.map((r) => [r.method, r.pk.toFixed(4), r.windowDiff.toFixed(4), String(r.boundaries), String(goldBoundaries), r.ms.toFixed(1)]),
  );
}

// ---------- the seed's comparison on the bundled sample exports ----------
// Turn-pair segmentation (each answer with its question) against cognitive segmentation (trajectory
// samples [n(t-2), n(t-1), n(t)] -> n(t+1) over the segmenter's nodes), on the repository's sample
// export and the real exports in fixtures/chatgpt.
const exportsDir = join(FIXTURES, 'chatgpt');
const sampleExports = [
  join(here, '..', 'e2e', 'fixtures', 'chatgpt', 'conversations.json'),
  ...readdirSync(exportsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(exportsDir, f)),
];
const conversations = [];
for (const path of sampleExports) {
  await ingestExport({
    path,
    fileName: basename(path),
    ingestId: 'bench',
    redactor: createRedactor('secrets'),
    limits: DEFAULT_LIMITS,
    publish: async (event) => {
      if (event.conversation) conversations.push(event.conversation);
      return { duplicate: false };
    },
  });
}
const asOf = new Date('2026-01-01T00:00:00Z');
const pairSpans = [];
const trajectorySpans = [];
const edges = [];
let chains = 0;
let chainNodes = 0;
let nodes = 0;
for (const conversation of conversations) {
  const s = await segmentConversation(conversation, { embedder });
  nodes += s.nodes.length;
  edges.push(...s.edges);
  chains += s.chains.length;
  chainNodes += s.chains.reduce((sum, c) => sum + c.nodeIds.length, 0);
  const graph = { conversationId: conversation.id, title: conversation.title, nodes: s.nodes, edges: s.edges, chains: s.chains };
  const { links, turns } = conversationTurns(graph);
  pairSpans.push(...turnPairSpans(turns));
  const samples = trajectoryRecords(graph, { referenceDate: asOf, contextSize: 3, targetRoles: ['user', 'assistant'] }, links);
  trajectorySpans.push(...samples.map((sample) => trajectorySpan(sample, links.nodes)));
}
await embedder?.close();
const messages = conversations.reduce((sum, c) => sum + c.messages.length, 0);
const shapes = [
  sampleShapeRow('turn pairs (user -> assistant)', pairSpans),
  sampleShapeRow('cognitive (3 nodes -> next)', trajectorySpans),
];
const relations = relationDistribution(edges);
const comparison = {
  exports: sampleExports.map((p) => basename(p)),
  conversations: conversations.length,
  messages,
  nodes,
  segmenter: embedder ? embedder.id : 'lexical',
  shapes,
  relations,
  chains,
  averageChainLength: chains > 0 ? chainNodes / chains : 0,
};
if (asJson) {
  console.log(JSON.stringify({ gold, results, comparison, notes }, null, 2));
} else {
  console.log(
    `\nSample exports (${comparison.exports.join(', ')}): ${conversations.length} conversations, ${messages} messages, ` +
      `${nodes} cognitive nodes (${comparison.segmenter})\n`,
  );
  printTable(
    ['segmentation', 'samples', 'single-turn', 'multi-turn', 'avg turns/sample'],
    shapes.map((r) => [r.method, String(r.samples), String(r.singleTurn), String(r.multiTurn), r.averageTurns.toFixed(2)]),
  );
  console.log('');
  printTable(
    ['relation', 'edges', '%'],
    relations.map((r) => [r.relation, String(r.count), r.percent.toFixed(1)]),
  );
  console.log(`\nrefinement chains: ${chains}, average length ${comparison.averageChainLength.toFixed(2)} nodes`);
}
