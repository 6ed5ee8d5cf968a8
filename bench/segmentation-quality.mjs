#!/usr/bin/env node
// Topic-boundary quality, measured on what the segmentation service runs.
//
// 1. TIAGE test split (Xie et al., Findings of EMNLP 2021): 100 PersonaChat dialogues, 1,564
//    utterances, 315 annotated topic shifts (fixtures/dialseg; fitting used train + dev only). For
//    each method: mean Pk and mean WindowDiff over the dialogues (lower is better) in two
//    conventions side by side, the boundaries it predicts against the gold count, and its runtime
//    (wall time summed over the dialogues, after an untimed warm-up over the first 10):
//      published  segeval's, as the TIAGE/CSM evaluation code calls it (published-metrics.ts):
//                 k = round-half-even(mean gold segment length / 2), at least 2; the n − k unit
//                 pairs (i, i + k). The convention of the published figures (TextTiling 0.469 /
//                 0.488, CSM 0.400 / 0.420, supervised RoBERTa 0.265 / 0.287, Def-DTS with GPT-4o
//                 0.232 / 0.256).
//      nltk       this bench's earlier one (metrics.ts): k = round-half-up(n / (2 · segments)), at
//                 least 1; NLTK's n − k + 1 windows over boundary labels.
//    Methods:
//      no boundaries / every utterance / even spacing   trivial baselines; even spacing puts a
//          boundary every round(mean gold segment length) utterances, a length taken from this
//          gold set (an oracle statistic, for reference only).
//      TextTiling (lexical)   the Hearst/NLTK pipeline over utterances, parameters fixed a priori.
//      old method   what the service ran before: TextTiling depth scores over 0.75 × embedding
//          cosine + 0.25 × lexical cohesion (legacyDetectTopicShifts), with and without the model.
//      topic model  the service's scorer (topicShifts in topics.ts, fitted on TIAGE train + dev by
//          packages/segmentation/scripts/fit-topic-model.mjs), every utterance a candidate, the
//          dialogue decision rule; units built as the service builds a message's (topicUnitsOf):
//          with the sentence embedder, and lexical only (the fallback without the model).
// 2. Topic starts in real ChatGPT conversations (bench/lib/real-gold.mjs): fixtures/refinement's
//    refine_dev (20 conversations, 8 annotated topic starts) and refine_heldout (43, 4), through
//    ingestion and segmentConversation itself (the refinement detector's veto included). Rows:
//      TIAGE rule   the TIAGE-fitted scorer with its TIAGE decision rule (does it transfer?)
//      chat rule    the chat domain's rescorer and threshold, fitted on refine_dev: scored there
//                   leave-one-conversation-out (refitted without the conversation it predicts);
//                   on refine_heldout the committed rule (fitted on refine_dev only)
//      old method   TextTiling over exchanges as the service ran it before (no refinement veto)
//
// Build first:  npx turbo run build --filter=@trajectory/segmentation...
//   node bench/segmentation-quality.mjs               # tables
//   node bench/segmentation-quality.mjs --json        # the same figures as JSON
//   node bench/segmentation-quality.mjs --smoke       # a tiny run (5 dialogues, 3 + 3 conversations, one export)
//   options: --gold <path to a TIAGE annotation file>  --sensitivity (adds TextTiling variants,
//            printed for information only: choosing among them on this split would be tuning on test)
//            --lexical (no embedder)  --encoder NAME (where @trajectory/embeddings offers a choice)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as embeddings from '@trajectory/embeddings';
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
  chatTopicUnits,
  DEFAULT_LANGUAGES,
  defaultTopicModel,
  defaultWindow,
  detectTopicShifts,
  legacyDetectTopicShifts,
  legacyTopicShifts,
  parseTiage,
  pk,
  pkPublished,
  segmentConversation,
  textTilingBoundaries,
  windowDiff,
  windowDiffPublished,
} from '@trajectory/segmentation';
import { flag, option } from './lib/cli-args.mjs';
import { loadTopicGold, memoEmbedder, scoreTopicStarts, topicStartsOnGold } from './lib/real-gold.mjs';
import { loadRefinementGold, readConversations, scoreRefinements } from './lib/refinement-gold.mjs';
import { JUDGED_EDGES, REAL_EXPORT, replayJudged } from './lib/relation-sample.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, '..', 'fixtures'); // the repository's committed fixtures (fixtures/README.md)
const asJson = flag('json');
const smoke = flag('smoke');
const sensitivity = flag('sensitivity');
const goldPath = option('gold', join(FIXTURES, 'dialseg', 'tiage_anno_test.json'));
const notes = [];
const note = (line) => {
  notes.push(line);
  if (!asJson) console.log(line);
};
const printTable = (header, rows) => console.log(formatTable(header, rows));
const f3 = (x) => x.toFixed(3);

// The sentence embedder where its model is installed (packages/embeddings/scripts/fetch-model.mjs).
// It is the embedder the service loads: loadEmbedder where the package offers a choice of encoders
// (--encoder NAME), else the MiniLM loader. TIAGE times it as it is; the real-conversation section
// remembers vectors, since it embeds each conversation for fitting and again for segmenting.
const encoder = option('encoder');
const loadEmbedder = () =>
  typeof embeddings.loadEmbedder === 'function' ? embeddings.loadEmbedder(encoder ? { encoder } : {}) : embeddings.loadSentenceEmbedder();
const rawEmbedder = flag('lexical') ? null : await loadEmbedder();
const embedder = memoEmbedder(rawEmbedder);
if (rawEmbedder && !defaultTopicModel().signals[rawEmbedder.id]) {
  note(
    `no fitted topic scorer for ${rawEmbedder.id}: the topic model decides with its lexical scorer (fit one: node packages/segmentation/scripts/fit-topic-model.mjs)`,
  );
}
if (!embedder)
  note('no embedding model (installed, or wanted): the embedder rows are missing (node packages/embeddings/scripts/fetch-model.mjs)');

// ---------- 1. TIAGE ----------
const dialogues = parseTiage(readFileSync(goldPath, 'utf8')).slice(0, smoke ? 5 : undefined);
const utteranceCount = dialogues.reduce((sum, d) => sum + d.utterances.length, 0);
const goldBoundaries = dialogues.reduce((sum, d) => sum + d.boundaries.length, 0);
const meanSegment = utteranceCount / (goldBoundaries + dialogues.length);
const evenStep = Math.max(1, Math.round(meanSegment));

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
if (rawEmbedder)
  methods.push({
    name: `old method (${rawEmbedder.id})`,
    run: (u) => legacyDetectTopicShifts(u, { embedder: rawEmbedder, languages: ['en'] }),
  });
methods.push({ name: 'old method (lexical)', run: (u) => legacyDetectTopicShifts(u, { embedder: null, languages: ['en'] }) });
if (rawEmbedder)
  methods.push({ name: `topic model (${rawEmbedder.id})`, run: (u) => detectTopicShifts(u, { embedder: rawEmbedder, languages: ['en'] }) });
methods.push({ name: 'topic model (lexical only)', run: (u) => detectTopicShifts(u, { embedder: null, languages: ['en'] }) });

const results = [];
for (const method of methods) {
  const sums = { pk: 0, windowDiff: 0, pkNltk: 0, windowDiffNltk: 0 };
  let predicted = 0;
  let ms = 0;
  try {
    for (const d of dialogues.slice(0, 10)) await method.run(d.utterances); // warm-up, untimed (JIT, model setup)
    for (const d of dialogues) {
      const started = process.hrtime.bigint();
      const hypothesis = await method.run(d.utterances);
      ms += Number(process.hrtime.bigint() - started) / 1e6;
      const n = d.utterances.length;
      sums.pk += pkPublished(d.boundaries, hypothesis, n);
      sums.windowDiff += windowDiffPublished(d.boundaries, hypothesis, n);
      const k = defaultWindow(d.boundaries, n);
      sums.pkNltk += pk(d.boundaries, hypothesis, n, k);
      sums.windowDiffNltk += windowDiff(d.boundaries, hypothesis, n, k);
      predicted += hypothesis.length;
    }
  } catch (error) {
    note(`skipped ${method.name.trim()}: it failed (${error.message.split('\n')[0]})`);
    continue;
  }
  const mean = (x) => x / dialogues.length;
  results.push({
    method: method.name,
    pk: mean(sums.pk),
    windowDiff: mean(sums.windowDiff),
    pkNltk: mean(sums.pkNltk),
    windowDiffNltk: mean(sums.windowDiffNltk),
    boundaries: predicted,
    gold: goldBoundaries,
    ms,
  });
}
const gold = { file: goldPath, dialogues: dialogues.length, utterances: utteranceCount, boundaries: goldBoundaries, meanSegment };
if (!asJson) {
  console.log(
    `\nTIAGE ${smoke ? 'test (smoke: first 5 dialogues)' : 'test'}: ${gold.dialogues} dialogues, ${gold.utterances} utterances, ` +
      `${gold.boundaries} gold boundaries, mean segment ${meanSegment.toFixed(2)} utterances\n` +
      'published: segeval (k = round-half-even(mean gold segment / 2), at least 2; n - k unit pairs); ' +
      'nltk: k = round(n / (2 · segments)), at least 1; n - k + 1 label windows\n',
  );
  printTable(
    ['method', 'Pk', 'WindowDiff', 'Pk (nltk)', 'WD (nltk)', 'boundaries', 'gold', 'ms'],
    results.map((r) => [
      r.method,
      f3(r.pk),
      f3(r.windowDiff),
      f3(r.pkNltk),
      f3(r.windowDiffNltk),
      String(r.boundaries),
      String(r.gold),
      r.ms.toFixed(0),
    ]),
  );
}

// ---------- 2. topic starts in real conversations ----------
/** The old method as the service ran it: TextTiling over exchanges (a user turn with its answers) of the chat units. */
async function oldMethodOnGold({ gold: annotations, conversations }, withEmbedder) {
  const predicted = new Map();
  for (const conversation of conversations) {
    const { units, messageIndexes } = await chatTopicUnits(conversation, { embedder: withEmbedder, languages: DEFAULT_LANGUAGES });
    const starts = units.flatMap((u, i) => (i === 0 || u.role === 'user' ? [i] : []));
    const exchanges = starts.map((start, e) => units.slice(start, starts[e + 1] ?? units.length));
    const merged = exchanges.map((own) => {
      const vectors = own.map((u) => u.vector).filter(Boolean);
      const vector = vectors.length ? vectors[0].map((_, d) => vectors.reduce((s, v) => s + v[d], 0) / vectors.length) : undefined;
      return vector ? { tokens: own.flatMap((u) => u.tokens), vector } : { tokens: own.flatMap((u) => u.tokens) };
    });
    const ids = legacyTopicShifts(merged).map((e) => conversation.messages[messageIndexes[starts[e]]]?.id);
    predicted.set(conversation.id, new Set(ids.filter(Boolean)));
  }
  return { mode: 'old', method: 'TextTiling over exchanges', ...scoreTopicStarts(annotations, predicted) };
}

const realGold = [];
for (const set of ['dev', 'heldout']) {
  const loaded = await loadTopicGold(set, smoke ? { limit: 3 } : {});
  const signals = embedder ? [embedder, null] : [null];
  for (const signal of signals) {
    const label = signal ? signal.id : 'lexical only';
    const rows = [
      ['TIAGE rule (transfer)', () => topicStartsOnGold(loaded, { embedder: signal, mode: 'tiage' })],
      set === 'dev'
        ? ['chat rule, leave-one-conversation-out', () => topicStartsOnGold(loaded, { embedder: signal, mode: 'loco' })]
        : ['chat rule (fitted on refine_dev)', () => topicStartsOnGold(loaded, { embedder: signal, mode: 'committed' })],
      ['old method (TextTiling over exchanges)', () => oldMethodOnGold(loaded, signal)],
    ];
    if (set === 'dev')
      rows.push(['chat rule as committed (in-sample)', () => topicStartsOnGold(loaded, { embedder: signal, mode: 'committed' })]);
    for (const [name, run] of rows) {
      const r = await run();
      realGold.push({ set, signal: label, name, ...r });
    }
  }
}
if (!asJson) {
  console.log(
    `\nTopic starts in real ChatGPT conversations (fixtures/refinement; a start is correct when the gold has that message)${smoke ? ' (smoke: 3 conversations per set)' : ''}\n`,
  );
  printTable(
    ['set', 'signal', 'rule', 'conversations', 'gold', 'predicted', 'correct', 'precision', 'recall'],
    realGold.map((r) => [
      r.set,
      r.signal,
      r.name,
      String(r.conversations),
      String(r.gold),
      String(r.predicted),
      String(r.correct),
      f3(r.precision),
      f3(r.recall),
    ]),
  );
}

// ---------- 3. refinement episodes in real conversations ----------
// bench/lib/refinement-gold.mjs: an episode is found when its trigger or its revision message holds
// a node the segmenter marks as refinement (the source of a `refines` edge, or a chain's challenge or
// revision step); precision is the share of those messages that are an episode's trigger or revision.
// dev: refine_dev (the cue lists were written looking at it); heldout: refine_heldout, annotated by
// a second annotator who never saw the detector; subset: the chatgpt subset, annotated by the
// detector's author after writing it and before running it there.
const refinementRows = [];
for (const set of ['dev', 'heldout', 'subset']) {
  const { gold: annotations, conversations: annotated } = await loadRefinementGold(set);
  const chosen = smoke ? annotated.slice(0, 3) : annotated;
  for (const signal of embedder ? [embedder, null] : [null]) {
    const segmentations = new Map();
    for (const conversation of chosen) segmentations.set(conversation.id, await segmentConversation(conversation, { embedder: signal }));
    const r = scoreRefinements(annotations, segmentations);
    refinementRows.push({
      set,
      signal: signal ? signal.id : 'lexical only',
      ...r,
      misses: r.misses.length,
      falseAlarms: r.falseAlarms.length,
    });
  }
}
if (!asJson) {
  console.log(
    `\nRefinement episodes in real ChatGPT conversations (fixtures/refinement)${smoke ? ' (smoke: 3 conversations per set)' : ''}\n`,
  );
  const recallOf = (r, kind) => (r.kinds[kind] ? `${r.kinds[kind].found}/${r.kinds[kind].episodes} ${f3(r.kinds[kind].recall)}` : '-');
  printTable(
    ['set', 'signal', 'episodes', 'found', 'pushback recall', 'self-refine recall', 'refinement messages', 'precision'],
    refinementRows.map((r) => [
      r.set,
      r.signal,
      String(r.episodes),
      String(r.found),
      recallOf(r, 'pushback'),
      recallOf(r, 'self_refine'),
      `${r.correct}/${r.predicted}`,
      f3(r.precision),
    ]),
  );
}

// ---------- 4. the whole real export: relations beside the seed pipeline's distribution, judged precision, sample shapes ----------
// fixtures/chatgpt-export: a real ChatGPT export of 192 conversations (June 2023). The seed pipeline
// reported, over 1,122 conversations, the distribution below with 15,506 chains (its detector was a
// keyword list: a comparison, not the truth). fixtures/relations/judged-edges.json holds edges of
// this export judged by hand: replayed here, per relation, how many of them today's segmenter still
// makes and how many of those were judged correct.
const SEED_RELATIONS = {
  follows: 54.4,
  derives: 9.4,
  responds: 7.5,
  hypothesizes: 6.9,
  refines: 6.4,
  iteration_final: 5.7,
  restarts: 5.5,
  speculates: 3.9,
  clarifies: 0.2,
  contrasts: 0.03,
};
const realExport = await readConversations(REAL_EXPORT);
const exportConversations = smoke ? realExport.slice(0, 5) : realExport;
const segmented = new Map();
const pairSpans = [];
const trajectorySpans = [];
const edges = [];
let chains = 0;
let chainNodes = 0;
let nodes = 0;
const asOf = new Date('2026-01-01T00:00:00Z');
for (const conversation of exportConversations) {
  const s = await segmentConversation(conversation, { embedder });
  segmented.set(conversation.id, { conversation, segmentation: s });
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
const messages = exportConversations.reduce((sum, c) => sum + c.messages.length, 0);
const shapes = [
  sampleShapeRow('turn pairs (user -> assistant)', pairSpans),
  sampleShapeRow('cognitive (3 nodes -> next)', trajectorySpans),
];
const relations = relationDistribution(edges);
const judged = existsSync(JUDGED_EDGES) && !smoke ? replayJudged(segmented) : [];
const judgedOf = new Map(judged.map((j) => [j.relation, j]));
const comparison = {
  export: basename(REAL_EXPORT),
  conversations: exportConversations.length,
  messages,
  nodes,
  segmenter: embedder ? embedder.id : 'lexical',
  shapes,
  relations: relations.map((r) => ({ ...r, seedPercent: SEED_RELATIONS[r.relation] ?? null, judged: judgedOf.get(r.relation) ?? null })),
  chains,
  averageChainLength: chains > 0 ? chainNodes / chains : 0,
  seed: { conversations: 1122, chains: 15506, relationsPercent: SEED_RELATIONS },
};
if (!asJson) {
  console.log(
    `\nThe whole real export (${comparison.export}${smoke ? ', smoke: 5 conversations' : ''}): ${comparison.conversations} conversations, ${messages} messages, ` +
      `${nodes} cognitive nodes, ${chains} refinement chains (average ${comparison.averageChainLength.toFixed(2)} nodes) (${comparison.segmenter}); ` +
      `the seed: 1,122 conversations, 15,506 chains\n`,
  );
  printTable(
    ['relation', 'edges', '%', 'seed %', 'judged (correct)', 'still made (correct)', 'precision of those still made'],
    comparison.relations.map((r) => [
      r.relation,
      String(r.count),
      r.percent.toFixed(1),
      r.seedPercent === null ? '-' : r.seedPercent.toFixed(2),
      r.judged ? `${r.judged.judged} (${r.judged.correct})` : '-',
      r.judged ? `${r.judged.kept} (${r.judged.keptCorrect})` : '-',
      r.judged && r.judged.kept > 0 ? f3(r.judged.keptPrecision) : '-',
    ]),
  );
  console.log('');
  printTable(
    ['segmentation', 'samples', 'single-turn', 'multi-turn', 'avg turns/sample'],
    shapes.map((r) => [r.method, String(r.samples), String(r.singleTurn), String(r.multiTurn), r.averageTurns.toFixed(2)]),
  );
}

// ---------- 5. speed per core ----------
// bench/segmentation-speed.mjs in this run (its own process, so that its CPU accounting is its
// own): conversations/s and sentences/s per core of today's default beside the MiniLM baseline.
const speedRun = spawnSync(process.execPath, [join(here, 'segmentation-speed.mjs'), '--json', ...(smoke ? ['--smoke'] : [])], {
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
let speed = null;
if (speedRun.status === 0) {
  speed = JSON.parse(speedRun.stdout);
} else {
  note(`speed: bench/segmentation-speed.mjs failed (${(speedRun.stderr || '').trim().split('\n').at(-1)})`);
}
if (speed && !asJson) {
  console.log(`\nSpeed per core (bench/segmentation-speed.mjs${smoke ? ' --smoke' : ''}; CPU time of one process)\n`);
  printTable(
    ['configuration', 'conversations/s per core', 'sentences/s per core', 'CPU ms per conversation'],
    speed.results.map((c) => [
      c.configuration,
      c.conversationsPerCoreSecond.toFixed(2),
      c.sentencesPerCoreSecond.toFixed(0),
      c.cpuMsPerConversation.toFixed(1),
    ]),
  );
  console.log(
    `\n${speed.workload.conversations} conversations, ${speed.workload.sentences} prose sentences; new default / today: ${speed.ratio.toFixed(1)}x conversations per core-second`,
  );
}

if (asJson)
  console.log(JSON.stringify({ tiage: { gold, results }, realGold, refinements: refinementRows, comparison, speed, notes }, null, 2));
