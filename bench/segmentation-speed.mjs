#!/usr/bin/env node
// Segmentation speed per core: today's configuration (all-MiniLM-L6-v2, ONNX int8, onnxruntime on
// one thread, every prose sentence embedded) beside the new default (the static encoder derived
// from MiniLM, packages/embeddings/scripts/derive-static.mjs) and the lexical fallback (no
// embeddings: what everything but the embedding costs), in one process, passes interleaved so
// that both see the same machine load.
//
// Workload: the real ChatGPT exports, parsed by ingestion's own reader: fixtures/chatgpt/*.json
// and fixtures/refinement/refine_dev.conversations.json (30 conversations, 482 messages, ~7,200
// prose sentences); --full adds the whole export of fixtures/chatgpt-export (192 more).
//
// Per core = CPU time of this process (process.cpuUsage: user + system, all threads), so the
// figures do not depend on what else runs on the machine; wall time is printed beside it.
// For each configuration: conversations/s and sentences/s per core, CPU ms per conversation, and
// where the time goes: tokenisation, the encoder proper (MiniLM: tensors, ONNX run, pooling;
// static: row sums), and the rest of segmentConversation (units, lexical cohesion, markers,
// relations, topics, chains), from the embedders' own profile() counters.
// Then: the speed ratio (new / today), how far the two configurations' outputs agree (node
// starts, topic boundaries), what a text cache (withEmbeddingCache) saves when the same
// conversations are segmented again (a redelivery, a re-run on the next export), and with
// --units the embedding cost of other units (paragraphs, whole messages) for each encoder.
//
// Build first:  npx turbo run build --filter=@trajectory/segmentation...
//   node bench/segmentation-speed.mjs              # 2 interleaved rounds (~1-3 min on 2 cores)
//   node bench/segmentation-speed.mjs --json       # the same figures as JSON on stdout
//   node bench/segmentation-speed.mjs --smoke      # 3 conversations, 1 round (seconds)
//   options: --rounds N (default 2)  --full  --units
// Models: MiniLM and the static encoder from node packages/embeddings/scripts/fetch-model.mjs;
// a configuration whose model is absent is skipped with a line saying so.
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSentenceEmbedder, loadStaticEmbedder, withEmbeddingCache } from '@trajectory/embeddings';
import { readConversations } from '@trajectory/ingestion';
import { segmentConversation, splitIntoUnits } from '@trajectory/segmentation';
import { flag, option } from './lib/cli-args.mjs';
import { plainTable } from './lib/plain-table.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, '..', 'fixtures');
const asJson = flag('json');
const smoke = flag('smoke');
const full = flag('full');
const withUnits = flag('units') && !smoke;
const rounds = smoke ? 1 : Number(option('rounds', 2));
if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error(`--rounds must be a positive integer, got ${option('rounds')}`);
/** Short passes are repeated until they add up to this much CPU, so that they time well. */
const MIN_PASS_CPU_MS = smoke ? 0 : 2000;

const notes = [];
const say = (line) => {
  if (!asJson) console.log(line);
};
const note = (line) => {
  notes.push(line);
  say(line);
};
const progress = (line) => process.stderr.write(`${line}\n`);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// ---------- workload ----------
const files = [
  ...readdirSync(join(FIXTURES, 'chatgpt'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(FIXTURES, 'chatgpt', f)),
  join(FIXTURES, 'refinement', 'refine_dev.conversations.json'),
  ...(full ? [join(FIXTURES, 'chatgpt-export', 'pkuppens_2023-06_export.conversations.json')] : []),
];
let conversations = [];
for (const path of files) {
  const read = await readConversations(path, { ingestId: 'bench-speed' });
  conversations.push(...read.conversations.map((c) => ({ ...c, id: `${basename(path)}:${c.id}` })));
}
if (smoke) conversations = conversations.slice(0, 3); // the first three, for a run of seconds
const proseOf = (conversation) => conversation.messages.flatMap((m) => splitIntoUnits(m.text).filter((u) => !u.code));
const sentenceCount = conversations.reduce((n, c) => n + proseOf(c).length, 0);
const messageCount = conversations.reduce((n, c) => n + c.messages.length, 0);
const workload = {
  files: files.map((f) => f.slice(FIXTURES.length - 'fixtures'.length)),
  conversations: conversations.length,
  messages: messageCount,
  sentences: sentenceCount,
};

// ---------- configurations ----------
const minilm = await loadSentenceEmbedder();
const staticEncoder = await loadStaticEmbedder();
if (!minilm) note('no MiniLM model: the "today" row is missing (node packages/embeddings/scripts/fetch-model.mjs)');
if (!staticEncoder) note('no static encoder: the "new" row is missing (node packages/embeddings/scripts/fetch-model.mjs derives it)');
// Today's embedder, recording its vectors (a Map set per text, ~1 ms a pass) so that the cache
// section below can replay them instead of running MiniLM again.
const recorded = new Map();
const recordingMiniLM = minilm && {
  id: minilm.id,
  dimensions: minilm.dimensions,
  embed: async (texts) => {
    const vectors = await minilm.embed(texts);
    for (const [i, t] of texts.entries()) recorded.set(t, vectors[i]);
    return vectors;
  },
  close: () => minilm.close(),
  profile: () => minilm.profile(),
  resetProfile: () => minilm.resetProfile(),
};
const configs = [
  ...(minilm ? [{ key: 'today', name: `today: ${minilm.id}, sentences`, embedder: recordingMiniLM }] : []),
  ...(staticEncoder ? [{ key: 'new', name: `new: ${staticEncoder.id}, sentences`, embedder: staticEncoder }] : []),
  { key: 'lexical', name: 'no embeddings (lexical fallback)', embedder: null },
];

/** One pass over every conversation; returns CPU and wall ms, the embedder's profile and the segmentations. */
async function pass(embedder) {
  embedder?.resetProfile?.();
  const wall0 = performance.now();
  const cpu0 = cpuMs();
  const segmentations = [];
  for (const conversation of conversations) segmentations.push(await segmentConversation(conversation, { embedder }));
  return { cpuMs: cpuMs() - cpu0, wallMs: performance.now() - wall0, profile: embedder?.profile?.(), segmentations };
}

// Warm-up (JIT, first-call allocations), untimed: one conversation each.
for (const c of configs) await segmentConversation(conversations[0], { embedder: c.embedder });

const totals = new Map(
  configs.map((c) => [c.key, { passes: 0, cpuMs: 0, wallMs: 0, tokenizeCpuMs: 0, encodeCpuMs: 0, tokens: 0, paddedTokens: 0, texts: 0 }]),
);
const lastSegmentations = new Map();
for (let round = 0; round < rounds; round++) {
  for (const c of configs) {
    const t = totals.get(c.key);
    let spent = 0;
    do {
      const r = await pass(c.embedder);
      spent += r.cpuMs;
      t.passes++;
      t.cpuMs += r.cpuMs;
      t.wallMs += r.wallMs;
      if (r.profile) {
        t.tokenizeCpuMs += r.profile.tokenizeCpuMs;
        t.encodeCpuMs += r.profile.encodeCpuMs;
        t.tokens += r.profile.tokens;
        t.paddedTokens += r.profile.paddedTokens;
        t.texts += r.profile.texts;
      }
      lastSegmentations.set(c.key, r.segmentations);
    } while (spent < MIN_PASS_CPU_MS);
    progress(
      `round ${round + 1}/${rounds}: ${c.name}: ${t.passes} passes so far, ${(t.cpuMs / t.passes / 1000).toFixed(2)} s CPU per pass`,
    );
  }
}

const results = configs.map((c) => {
  const t = totals.get(c.key);
  const perPass = (x) => x / t.passes;
  const cpuSeconds = perPass(t.cpuMs) / 1000;
  const tokenize = perPass(t.tokenizeCpuMs);
  const encode = perPass(t.encodeCpuMs);
  return {
    key: c.key,
    configuration: c.name,
    passes: t.passes,
    cpuSecondsPerPass: cpuSeconds,
    wallSecondsPerPass: perPass(t.wallMs) / 1000,
    conversationsPerCoreSecond: conversations.length / cpuSeconds,
    sentencesPerCoreSecond: sentenceCount / cpuSeconds,
    cpuMsPerConversation: (cpuSeconds * 1000) / conversations.length,
    breakdownMsPerPass: { tokenize, encode, rest: perPass(t.cpuMs) - tokenize - encode },
    embeddedTexts: perPass(t.texts),
    tokens: perPass(t.tokens),
    paddedTokens: perPass(t.paddedTokens),
  };
});
const byKey = Object.fromEntries(results.map((r) => [r.key, r]));
const ratio = byKey.today && byKey.new ? byKey.new.conversationsPerCoreSecond / byKey.today.conversationsPerCoreSecond : null;

// ---------- agreement of the outputs ----------
function agreement(a, b) {
  let nodesA = 0;
  let nodesB = 0;
  let nodesBoth = 0;
  let topicsA = 0;
  let topicsB = 0;
  let topicsBoth = 0;
  a.forEach((sa, i) => {
    const sb = b[i];
    const key = (n) => `${n.messageIds[0]}:${n.sentenceStart}`;
    const ka = new Set(sa.nodes.map(key));
    const kb = new Set(sb.nodes.map(key));
    nodesA += ka.size;
    nodesB += kb.size;
    for (const k of ka) if (kb.has(k)) nodesBoth++;
    const ta = new Set(sa.topicBoundaries);
    const tb = new Set(sb.topicBoundaries);
    topicsA += ta.size;
    topicsB += tb.size;
    for (const t of ta) if (tb.has(t)) topicsBoth++;
  });
  const f1 = (both, x, y) => (x + y === 0 ? 1 : (2 * both) / (x + y));
  return {
    nodes: { reference: nodesA, other: nodesB, sameStart: nodesBoth, f1: f1(nodesBoth, nodesA, nodesB) },
    topicBoundaries: { reference: topicsA, other: topicsB, same: topicsBoth, f1: f1(topicsBoth, topicsA, topicsB) },
  };
}
const agreements = {};
if (lastSegmentations.has('today')) {
  for (const key of ['new', 'lexical']) {
    if (lastSegmentations.has(key)) agreements[key] = agreement(lastSegmentations.get('today'), lastSegmentations.get(key));
  }
}

// ---------- re-segmentation with a text cache ----------
// A second pass over the same conversations through withEmbeddingCache: every text is a hit. For
// MiniLM the cache is filled from the vectors its measured pass produced (replayed, not recomputed).
const cache = [];
async function cachedPasses(name, inner) {
  const cached = withEmbeddingCache(inner);
  const cold = await pass(cached);
  let warmCpu = 0;
  let warmPasses = 0;
  do {
    const warm = await pass(cached);
    warmCpu += warm.cpuMs;
    warmPasses++;
  } while (warmCpu < MIN_PASS_CPU_MS);
  const stats = cached.stats();
  cache.push({
    encoder: name,
    coldCpuMsPerConversation: cold.cpuMs / conversations.length,
    warmCpuMsPerConversation: warmCpu / warmPasses / conversations.length,
    entries: stats.entries,
    hitRate: stats.hits / (stats.hits + stats.misses),
  });
}
if (staticEncoder) await cachedPasses(staticEncoder.id, staticEncoder);
if (minilm) {
  const replay = {
    id: minilm.id,
    dimensions: minilm.dimensions,
    embed: async (texts) => texts.map((t) => recorded.get(t) ?? new Float32Array(minilm.dimensions)),
    close: async () => {},
  };
  await cachedPasses(`${minilm.id} (filled from the measured passes)`, replay);
}

// ---------- units (--units): what embedding other units would cost ----------
const units = [];
if (withUnits) {
  const groups = { sentences: [], paragraphs: [], messages: [] };
  for (const conversation of conversations) {
    for (const message of conversation.messages) {
      const prose = splitIntoUnits(message.text).filter((u) => !u.code);
      groups.sentences.push(...prose.map((u) => u.text));
      let paragraph = [];
      for (const u of prose) {
        if (u.paragraphStart && paragraph.length > 0) {
          groups.paragraphs.push(paragraph.join(' '));
          paragraph = [];
        }
        paragraph.push(u.text);
      }
      if (paragraph.length > 0) groups.paragraphs.push(paragraph.join(' '));
      if (prose.length > 0) groups.messages.push(prose.map((u) => u.text).join(' '));
    }
  }
  for (const embedder of [minilm, staticEncoder].filter(Boolean)) {
    for (const [unit, texts] of Object.entries(groups)) {
      embedder.resetProfile();
      const cpu0 = cpuMs();
      // Per conversation, as segmentation calls it, would pad per conversation; one call over all
      // texts gives each unit its best batching, so this is a lower bound for every unit alike.
      await embedder.embed(texts);
      const spent = cpuMs() - cpu0;
      const p = embedder.profile();
      units.push({
        encoder: embedder.id,
        unit,
        texts: texts.length,
        tokens: p.tokens,
        paddedTokens: p.paddedTokens,
        cpuSeconds: spent / 1000,
      });
      progress(`units: ${embedder.id} ${unit}: ${(spent / 1000).toFixed(2)} s`);
    }
  }
}
await minilm?.close();
await staticEncoder?.close();

// ---------- report ----------
const report = { workload, rounds, results, ratio, agreements, cache, units, notes, smoke };
if (asJson) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const table = (header, rows) => console.log(plainTable(header, rows));
  const f = (x, d = 2) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(d));
  console.log(
    `\nWorkload${smoke ? ' (--smoke: the first 3 conversations)' : ''}: ${workload.conversations} conversations, ${workload.messages} messages, ${workload.sentences} prose sentences ` +
      `(${workload.files.join(', ')}); ${rounds} interleaved round(s); per core = process CPU time\n`,
  );
  table(
    ['configuration', 'conv/s/core', 'sent/s/core', 'CPU ms/conv', 'wall s/pass', 'passes'],
    results.map((r) => [
      r.configuration,
      f(r.conversationsPerCoreSecond, 3),
      f(r.sentencesPerCoreSecond, 0),
      f(r.cpuMsPerConversation, 1),
      f(r.wallSecondsPerPass, 2),
      String(r.passes),
    ]),
  );
  if (ratio !== null) console.log(`\nspeed ratio (new / today, conversations per core-second): ${ratio.toFixed(1)}x`);
  console.log('\nWhere the CPU goes (ms per pass over the workload):\n');
  table(
    ['configuration', 'tokenise', 'encoder', 'rest of segmentation', 'total', 'tokens', 'padded tokens'],
    results.map((r) => {
      const b = r.breakdownMsPerPass;
      const total = b.tokenize + b.encode + b.rest;
      const pct = (x) => `${f(x, 0)} (${f((100 * x) / total, 1)}%)`;
      return [r.configuration, pct(b.tokenize), pct(b.encode), pct(b.rest), f(total, 0), f(r.tokens, 0), f(r.paddedTokens, 0)];
    }),
  );
  if (Object.keys(agreements).length > 0) {
    console.log("\nAgreement with today's output (same node starts; same topic boundaries), F1:\n");
    table(
      ['configuration', 'nodes (today / other / same)', 'node F1', 'topic boundaries (today / other / same)', 'topic F1'],
      Object.entries(agreements).map(([key, a]) => [
        byKey[key].configuration,
        `${a.nodes.reference} / ${a.nodes.other} / ${a.nodes.sameStart}`,
        f(a.nodes.f1, 3),
        `${a.topicBoundaries.reference} / ${a.topicBoundaries.other} / ${a.topicBoundaries.same}`,
        f(a.topicBoundaries.f1, 3),
      ]),
    );
  }
  if (cache.length > 0) {
    console.log('\nSegmenting the same conversations again through withEmbeddingCache (CPU ms per conversation):\n');
    table(
      ['encoder', 'first pass (misses)', 'again (hits)', 'entries', 'hit rate'],
      cache.map((c) => [c.encoder, f(c.coldCpuMsPerConversation, 1), f(c.warmCpuMsPerConversation, 1), String(c.entries), f(c.hitRate, 3)]),
    );
  }
  if (units.length > 0) {
    console.log('\nEmbedding cost by unit (one call over all texts of the workload):\n');
    table(
      ['encoder', 'unit', 'texts', 'tokens', 'padded tokens', 'CPU s'],
      units.map((u) => [u.encoder, u.unit, String(u.texts), String(u.tokens), String(u.paddedTokens), f(u.cpuSeconds, 2)]),
    );
  }
}
