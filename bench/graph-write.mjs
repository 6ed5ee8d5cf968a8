#!/usr/bin/env node
// Write throughput of the graph service into a real local Neo4j 5.26 (tooling/local-servers/servers.mjs),
// at seed scale: about 5,200 synthetic segmented conversations, 260,000 nodes and 274,000
// node-node edges (deterministic, seeded generator).
//
//   A  baseline: plain `UNWIND $rows MERGE` of nodes, then of edges per type, in batches
//   B  service:  writeConversationGraphs(driver, group) with G conversations per transaction and
//                P transactions in flight; a small grid of (G, P) runs at a reduced scale first
//                and the best setting then writes the full scale.
// One fresh Neo4j with the service's migrations applied (same constraints and indexes for both
// phases), emptied between phases. Rates count only :Node nodes and node-node edges in both phases;
// the service also writes Conversation, Message, Source, RefinementChain nodes and
// IN_CONVERSATION, REPLY_TO, FROM_MESSAGE, IN_CHAIN, FROM_SOURCE relationships (printed).
//
// Build first:  npx turbo run build --filter=@trajectory/graph...
//   node bench/graph-write.mjs                  # scale 1.0
//   node bench/graph-write.mjs 0.1              # 10% quick run
//   options: --grid-scale 0.03  --groups 1,8,32  --parallel 1,2,4  --batch 10000  --no-grid
//            --best G,P (skip the grid, use this setting)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '@trajectory/config/util';
import { ExportSource, Message } from '@trajectory/contracts';
import { writeConversationGraphs } from '@trajectory/graph';
import { args, flag, option } from './lib/cli-args.mjs';
import { baselineSameGraph, clearGraph, countGraph, edgeRowsByType, freshNeo4j } from './lib/graph-baseline.mjs';
import { plainTableOf } from './lib/plain-table.mjs';

// ---------- arguments ----------
const VALUE_OPTIONS = ['--grid-scale', '--groups', '--parallel', '--batch', '--best'];
const positional = args.filter((a, i) => !a.startsWith('--') && !VALUE_OPTIONS.includes(args[i - 1]));
const scale = Number(positional[0] ?? 1);
const gridScale = Math.min(scale, Number(option('grid-scale', 0.03)));
const groups = option('groups', '1,8,32').split(',').map(Number);
const parallels = option('parallel', '1,2,4').split(',').map(Number);
const batchSize = Number(option('batch', 10_000));
const noGrid = flag('no-grid');
const forcedBest = option('best', undefined)?.split(',').map(Number);
if (!(scale > 0)) throw new Error(`scale must be a positive number, got ${positional[0]}`);

// ---------- deterministic generator ----------

const WORDS = (
  'hydration sourdough crumb fermentation model adapter quantize gradient memory cache index query ' +
  'latency throughput schema migration graph node edge chain refine idea hypothesis evidence result ' +
  'because however therefore instead actually maybe probably consider test measure compare rewrite ' +
  'the a of to and in that it is for on with as this we you not but be have from or by at can will'
).split(' ');
const TOPICS = [['baking', 'bread'], ['ml', 'training'], ['infra', 'databases'], ['writing'], ['health'], ['travel']];
const FULL_CONVERSATIONS = 5200;
const START = Date.parse('2023-01-01T00:00:00Z');
const SPAN_MS = 3 * 365 * 24 * 3600 * 1000;

function text(rand, length) {
  let s = '';
  while (s.length < length) s += `${WORDS[Math.floor(rand() * WORDS.length)]} `;
  return `${s.slice(0, length - 1).trimEnd()}.`;
}

/** Conversation `i` of the synthetic seed set, as the segmentation service would emit it. */
function syntheticEvent(i) {
  const rand = mulberry32(0x5eed + i * 7919);
  const cid = `conv-${String(i).padStart(5, '0')}`;
  const count = 40 + Math.floor(rand() * 21); // 40..60, mean 50
  const start = START + Math.floor(rand() * (SPAN_MS - 86_400_000));
  const topic = TOPICS[i % TOPICS.length];
  const ids = Array.from({ length: count }, (_, k) => `${cid}/n${k}`);
  const roles = ids.map((_, k) => (k % 2 ? 'assistant' : 'user'));
  const times = ids.map((_, k) => new Date(start + k * 90_000 + Math.floor(rand() * 60_000)));
  const messages = ids.map((_, k) =>
    Message.fromPartial({
      id: `m${k}`,
      parentId: k === 0 ? '' : `m${k - 1}`,
      role: roles[k],
      text: text(rand, 250 + Math.floor(rand() * 100)),
      createdAt: times[k],
      createdAtFromSource: true,
      contentType: 'text',
      onCurrentBranch: true,
    }),
  );
  const edges = [];
  const seen = new Set();
  const edge = (from, to, relation, confidence, tags) => {
    const key = `${from}|${relation}|${to}`;
    if (from === to || seen.has(key)) return;
    seen.add(key);
    edges.push({ fromId: ids[from], toId: ids[to], relation, confidence, tags });
  };
  for (let k = 1; k < count; k++) edge(k, k - 1, 'follows', 1, []);
  const pick = () => 1 + Math.floor(rand() * (count - 1));
  for (let r = Math.floor(rand() * 4); r > 0; r--) {
    const k = pick() | 1; // an assistant turn responds to an earlier user turn
    if (k < count) edge(k, Math.max(0, k - 1 - 2 * Math.floor(rand() * 3)), 'responds', 0.8, []);
  }
  for (let r = Math.floor(rand() * 4); r > 0; r--) {
    const k = pick();
    edge(k, Math.floor(rand() * k), 'refines', 0.7, ['correction']);
  }
  const chains = [];
  if (rand() < 0.6) {
    const first = Math.floor(rand() * (count - 10));
    const steps = [first, first + 2, first + 4 + Math.floor(rand() * 4)];
    chains.push({ id: `${cid}/chain0`, conversationId: cid, nodeIds: steps.map((k) => ids[k]), tags: topic.slice(0, 1) });
    edge(first, steps[2], 'iteration_final', 0.9, []);
  }
  const inChain = new Set(chains.flatMap((c) => c.nodeIds));
  return {
    ingestId: 'bench',
    contentHash: `hash-${cid}`,
    segmenter: 'bench',
    conversation: {
      id: cid,
      source: ExportSource.EXPORT_SOURCE_CHATGPT,
      title: `${topic[0]} notes ${i}`,
      createdAt: times[0],
      updatedAt: times.at(-1),
      currentLeafId: messages.at(-1).id,
      messages,
      // One export file per half year, as a user re-exporting now and then would have.
      sourceFile: `export-${new Date(start).getUTCFullYear()}-${new Date(start).getUTCMonth() < 6 ? 1 : 2}.zip:conversations.json`,
    },
    nodes: ids.map((id, k) => ({
      id,
      conversationId: cid,
      messageIds: [`m${k}`],
      role: roles[k],
      text: messages[k].text,
      createdAt: times[k],
      tags: inChain.has(id) ? topic.slice(0, 1) : [],
      onCurrentBranch: true,
    })),
    edges,
    chains,
  };
}

const eventsAt = (s, offset = 0) =>
  Array.from({ length: Math.max(1, Math.round(FULL_CONVERSATIONS * s)) }, (_, i) => syntheticEvent(offset + i));
const totals = (events) => ({
  nodes: events.reduce((n, e) => n + e.nodes.length, 0),
  edges: events.reduce((n, e) => n + e.edges.length, 0),
});

// ---------- Neo4j helpers ----------

const now = () => performance.now();
const seconds = (t0) => (performance.now() - t0) / 1000;

// ---------- Phase A: plain UNWIND baseline ----------
async function baseline(driver, events) {
  const iso = (d) => (d ? d.toISOString() : null);
  const nodeRows = events.flatMap((e) =>
    e.nodes.map((n, position) => ({
      id: n.id,
      createdAt: iso(n.createdAt),
      props: {
        conversationId: e.conversation.id,
        role: n.role,
        text: n.text,
        tags: n.tags,
        onCurrentBranch: n.onCurrentBranch,
        position,
        segmenter: e.segmenter,
      },
    })),
  );
  const edgeRows = edgeRowsByType(events);
  const write = async (text, rows) => {
    for (let i = 0; i < rows.length; i += batchSize) {
      await driver.executeQuery(text, { rows: rows.slice(i, i + batchSize) });
    }
  };
  const t0 = now();
  await write('UNWIND $rows AS r MERGE (n:Node {id: r.id}) SET n += r.props, n.createdAt = datetime(r.createdAt)', nodeRows);
  const nodeSeconds = seconds(t0);
  const t1 = now();
  for (const [type, rows] of edgeRows) {
    await write(
      `UNWIND $rows AS r MATCH (a:Node {id: r.from}), (b:Node {id: r.to}) MERGE (a)-[e:${type}]->(b) SET e.confidence = r.confidence, e.tags = r.tags`,
      rows,
    );
  }
  const edgeSeconds = seconds(t1);
  return { seconds: seconds(t0), nodeSeconds, edgeSeconds };
}

// ---------- Phase B: the service's write path ----------
async function service(driver, events, group, parallel) {
  const batches = [];
  for (let i = 0; i < events.length; i += group) batches.push(events.slice(i, i + group));
  let next = 0;
  const t0 = now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < batches.length) {
        const batch = batches[next++];
        await writeConversationGraphs(driver, batch);
      }
    }),
  );
  return { seconds: seconds(t0) };
}

// ---------- run ----------
const rows = [];
const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
function row(method, setting, counts, secs, base) {
  const nps = counts.nodes / secs;
  const eps = counts.edges / secs;
  rows.push({
    method,
    setting,
    nodes: fmt(counts.nodes),
    edges: fmt(counts.edges),
    seconds: fmt(secs, 1),
    'nodes/s': fmt(nps),
    'edges/s': fmt(eps),
    'vs baseline': base ? `${fmt(nps / base.nps, 2)}x / ${fmt(eps / base.eps, 2)}x` : '1.00x',
  });
  return { nps, eps };
}

const started = now();
const events = eventsAt(scale);
const want = totals(events);
console.log(
  `scale ${scale}: ${fmt(events.length)} conversations, ${fmt(want.nodes)} nodes, ${fmt(want.edges)} node-node edges` +
    ` (generated in ${fmt(seconds(started), 1)} s); baseline batch ${fmt(batchSize)} rows`,
);

// One Neo4j for the whole run (migrations applied once, same constraints and indexes for every
// phase); each phase starts from an empty graph (batched deletes in between), after a warm-up of
// both write paths so neither pays the JVM's and the planner's first-run costs.
const t0 = now();
const db = await freshNeo4j(mkdtempSync(join(tmpdir(), 'graph-write-bench-')), { poolSize: 32 });
console.log(`Neo4j started and migrated in ${fmt(seconds(t0), 1)} s`);
const warm = eventsAt(0.01, 200_000);
await baseline(db.driver, warm);
await clearGraph(db.driver);
await service(db.driver, warm, 8, 2);
await clearGraph(db.driver);

// Phase A
const a = await baseline(db.driver, events);
const aCounts = await countGraph(db.driver);
if (aCounts.nodes !== want.nodes || aCounts.edges !== want.edges)
  throw new Error(`baseline wrote ${JSON.stringify(aCounts)}, expected ${JSON.stringify(want)}`);
console.log(
  `A baseline: nodes ${fmt(a.nodeSeconds, 1)} s (${fmt(want.nodes / a.nodeSeconds)}/s), edges ${fmt(a.edgeSeconds, 1)} s (${fmt(want.edges / a.edgeSeconds)}/s), phase ${fmt(a.seconds, 1)} s`,
);
const base = row('A plain UNWIND, nodes+edges', `batch ${batchSize}`, want, a.seconds, undefined);
await clearGraph(db.driver);

// Phase A2
await baselineSameGraph(db.driver, warm, { batchSize });
await clearGraph(db.driver);
const a2 = await baselineSameGraph(db.driver, events, { batchSize });
const a2Counts = await countGraph(db.driver);
if (a2Counts.nodes !== want.nodes || a2Counts.edges !== want.edges)
  throw new Error(`same-graph baseline wrote ${JSON.stringify(a2Counts)}, expected ${JSON.stringify(want)}`);
console.log(
  `A2 same-graph baseline: ${fmt(a2Counts.allNodes)} nodes and ${fmt(a2Counts.allRels)} relationships in all, phase ${fmt(a2.seconds, 1)} s`,
);
const sameGraph = row('A2 plain UNWIND, same graph', `batch ${batchSize}`, want, a2.seconds, base);
await clearGraph(db.driver);

// Grid at reduced scale
let best = forcedBest ? { group: forcedBest[0], parallel: forcedBest[1] } : undefined;
if (!best && !noGrid) {
  const gridEvents = eventsAt(gridScale, 100_000); // other conversation ids than the full run
  const gridWant = totals(gridEvents);
  console.log(
    `grid at scale ${gridScale}: ${fmt(gridEvents.length)} conversations, ${fmt(gridWant.nodes)} nodes, ${fmt(gridWant.edges)} edges`,
  );
  const grid = [];
  for (const group of groups) {
    for (const parallel of parallels) {
      const r = await service(db.driver, gridEvents, group, parallel);
      const c = await countGraph(db.driver);
      if (c.nodes !== gridWant.nodes || c.edges !== gridWant.edges)
        throw new Error(`grid G=${group} P=${parallel} wrote ${JSON.stringify(c)}`);
      await clearGraph(db.driver);
      const nps = gridWant.nodes / r.seconds;
      grid.push({ group, parallel, seconds: r.seconds, nps });
      console.log(
        `  G=${String(group).padStart(3)} P=${parallel}: ${fmt(r.seconds, 2)} s, ${fmt(nps)} nodes/s, ${fmt(gridWant.edges / r.seconds)} edges/s`,
      );
    }
  }
  best = grid.reduce((x, y) => (y.nps > x.nps ? y : x));
}
best ??= { group: 8, parallel: 2 };

// Phase B at the chosen scale with the best setting
const b = await service(db.driver, events, best.group, best.parallel);
const bCounts = await countGraph(db.driver);
await db.close();
if (bCounts.nodes !== want.nodes || bCounts.edges !== want.edges)
  throw new Error(`service wrote ${JSON.stringify(bCounts)}, expected ${JSON.stringify(want)}`);
const svc = row('B writeConversationGraphs', `G=${best.group} conv/tx, P=${best.parallel}`, want, b.seconds, base);
const vsSame = (svc.nps / sameGraph.nps + svc.eps / sameGraph.eps) / 2;

console.log('');
console.log(plainTableOf(rows, { left: 2 }));
console.log('');
console.log(
  `B also wrote ${fmt(bCounts.allNodes - bCounts.nodes)} other nodes (Conversation, Message, Source, RefinementChain) and ` +
    `${fmt(bCounts.allRels - bCounts.edges)} other relationships (IN_CONVERSATION, REPLY_TO, FROM_MESSAGE, IN_CHAIN, FROM_SOURCE): ` +
    `${fmt(bCounts.allNodes)} nodes and ${fmt(bCounts.allRels)} relationships in all, ` +
    `${fmt(bCounts.allNodes / b.seconds)} nodes/s and ${fmt(bCounts.allRels / b.seconds)} relationships/s of all kinds.`,
);
const ratio = Math.min(svc.nps / base.nps, svc.eps / base.eps);
console.log(
  `The service reaches ${fmt(ratio, 2)}x of the nodes+edges baseline (A) and ${fmt(vsSame, 2)}x of the same-graph baseline (A2), ` +
    `with ${best.group} conversations per transaction and ${best.parallel} in parallel (target: 0.50x).`,
);
console.log(`total run ${fmt(seconds(started), 1)} s`);
