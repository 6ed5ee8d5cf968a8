#!/usr/bin/env node
// A whole history through every service: a seeded ChatGPT export the size of the seed pipeline's
// history (bench/generate-export.mjs's corpus: 1,122 conversations, in the order of 250,000 cognitive
// nodes) goes through `trajectory run` as a person runs it, against real NATS and Neo4j (fresh
// local servers of tooling/local-servers for each run) and every service as its own process, started as
// `npm start` starts them (testkit's startPipeline), with 1 and then 2 segmentation workers.
//
// Per stage, from the events' JetStream timestamps (the server's clock):
//   ingest       the CLI starting its upload -> the last conversation.ingested
//   segment      the first conversation.ingested -> the last conversation.segmented
//   graph write  the first conversation.segmented -> the last graph.stored
//   samples      the last graph.stored -> dataset.built (the BuildDataset call the CLI makes then)
// The stages overlap (a pipeline): each window is when that stage was at work, not its share of
// the total. Total: the CLI starting -> the CLI exiting (it also submits a training job, which waits for the spot-check).
// Peak RSS of every process (VmHWM in /proc/<pid>/status, read before it stops; the CLI's is
// sampled each second) and the CPU seconds each used during the run.
//
// Then, on the graph the first run made (its conversation.segmented events read back from
// JetStream, 128 conversations at a time, reading not timed), each into a fresh Neo4j:
//   plain UNWIND   bench/lib/graph-baseline.mjs: the same nodes and relationships in batches of 10,000 rows
//   service alone  the graph service's writeConversationGraphs, 32 conversations per transaction
//                  (GRAPH_WRITE_BATCH), one at a time, as the service writes, with no other work on the machine
// Targets (printed as met / not met, never asserted): total <= 60 s on 2 cores; no process above
// 1.5 GB peak RSS; graph writes >= 0.8x the plain UNWIND of the same graph; 2 workers >= 1.8x one.
//
// Build first:  npx turbo run build
//   node bench/end-to-end.mjs                                    # 1,122 conversations, 1 and 2 workers
//   node bench/end-to-end.mjs --conversations 100 --workers 2    # quicker
//   node bench/end-to-end.mjs --conversations 4 --mean-exchanges 4 --workers 1   # a smoke run (about a minute)
//   node bench/end-to-end.mjs --workers-conversations 200       # the whole history once with 2 workers,
//                                                                # 1 and 2 workers compared on 200 conversations
//   options: --seed 1  --mean-exchanges 55  --export FILE.zip (this export instead of a generated one)
//            --no-baseline (skip the two replays)  --timeout 1800 (seconds per run)  --keep (logs and data)
// Exits 1 when a run loses a conversation or ends without a dataset.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectBus, decodeEvent, STREAMS, SUBJECTS } from '@trajectory/bus';
import { ConversationSegmented, DatasetBuilt } from '@trajectory/contracts';
import { writeConversationGraphs } from '@trajectory/graph';
import { freePort, startNeo4j } from '@trajectory/local-servers';
import { formatTable } from '@trajectory/samples';
import { REPO_ROOT, SERVICE_NAMES, startPipeline, startServiceProcess, startTestNats } from '@trajectory/testkit';
import neo4j from 'neo4j-driver';
import { flag, option } from './lib/cli-args.mjs';
import { baselineSameGraph, countGraph, freshNeo4j } from './lib/graph-baseline.mjs';
import { machineCpuSeconds, peakRssBytes, processCpuSeconds } from './lib/proc-stats.mjs';
import { historyConversations, SEED_HISTORY, writeExportZip } from './lib/synthetic-export.mjs';

// ---------- arguments ----------
const N = Number(option('conversations', SEED_HISTORY.conversations));
const seed = Number(option('seed', 1));
const meanExchanges = Number(option('mean-exchanges', 55));
const givenExport = option('export', undefined);
const workerCounts = option('workers', '1,2').split(',').map(Number);
const workersN = Number(option('workers-conversations', N));
const timeoutSeconds = Number(option('timeout', 1800));
const replays = !flag('no-baseline');
const keep = flag('keep');
if (!(Number.isInteger(N) && N > 0)) throw new Error(`--conversations must be a positive integer, got ${option('conversations')}`);
if (!workerCounts.every((w) => Number.isInteger(w) && w > 0)) throw new Error('--workers must list positive integers');
if (!(Number.isInteger(workersN) && workersN > 0)) throw new Error('--workers-conversations must be a positive integer');

const TARGETS = { totalSeconds: 60, peakRssBytes: 1.5 * 1024 ** 3, graphVsBaseline: 0.8, workersRatio: 1.8 };
/** The graph service's defaults (services/graph/src/main.ts): conversations per transaction, one transaction at a time. */
const SERVICE_GROUP = 32;
const REPLAY_SLICE = 128;
const CLI = join(REPO_ROOT, 'apps', 'cli', 'bin', 'trajectory.mjs');

const say = (s) => process.stderr.write(`${s}\n`);
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '-');
const mb = (bytes) => `${fmt(bytes / 1024 ** 2)} MB`;
const metOrNot = (ok) => (ok === undefined ? 'not measured' : ok ? 'MET' : 'NOT MET');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------- the events of a run, read back from JetStream ----------
/**
 * Per subject: how many events, and the first and last server timestamps (ms). `onSegmented`
 * gets every conversation.segmented event decoded (claim checks followed).
 */
async function readTimeline(bus, { onSegmented } = {}) {
  const subjects = [SUBJECTS.conversationIngested, SUBJECTS.conversationSegmented, SUBJECTS.graphStored, SUBJECTS.datasetBuilt];
  const timeline = Object.fromEntries(subjects.map((s) => [s, { count: 0, first: Number.NaN, last: Number.NaN }]));
  let dataset;
  const counts = await Promise.all(subjects.map((s) => subjectCount(bus, s)));
  if (counts.every((n) => n === 0)) return { timeline, dataset };
  // Unfiltered: Debian's nats-server (2.9) takes no list of filter subjects, and the stream holds little else.
  const consumer = await bus.js.consumers.get(STREAMS.events.name);
  const messages = await consumer.consume();
  for await (const msg of messages) {
    const at = msg.time.getTime();
    const t = timeline[msg.subject];
    if (t) {
      t.count += 1;
      if (!(at >= t.first)) t.first = at;
      if (!(at <= t.last)) t.last = at;
    }
    if (msg.subject === SUBJECTS.conversationSegmented && onSegmented)
      await onSegmented(await decodeEvent(bus, ConversationSegmented, msg.data, msg.headers));
    if (msg.subject === SUBJECTS.datasetBuilt) dataset = await decodeEvent(bus, DatasetBuilt, msg.data, msg.headers);
    if (msg.info.pending === 0) break;
  }
  await messages.close();
  return { timeline, dataset };
}

/** Counts of one subject in the events stream, without reading the events. */
async function subjectCount(bus, subject) {
  const info = await bus.jsm.streams.info(STREAMS.events.name, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

// ---------- one run: the history through every service ----------
async function runHistory(zip, workers, root) {
  const dir = join(root, `w${workers}`);
  say(`\n== ${workers} segmentation worker(s): starting fresh NATS and Neo4j`);
  const [nats, db] = await Promise.all([startTestNats({ dataDir: join(dir, 'nats') }), startNeo4j({ dataDir: join(dir, 'neo4j') })]);
  const stops = [() => db.stop(), () => nats.stop()];
  try {
    const ports = {};
    for (const name of SERVICE_NAMES) ports[name] = await freePort();
    const logDir = join(dir, 'logs');
    const t0Start = performance.now();
    const pipeline = await startPipeline({
      natsUrl: nats.url,
      natsCredentialsFile: nats.nats.credentialsFile,
      neo4jUri: db.uri,
      neo4jAuth: db.auth,
      logDir,
      datasetDir: join(dir, 'datasets'),
      ports,
      only: SERVICE_NAMES.filter((s) => s !== 'segmentation'),
    });
    stops.unshift(() => pipeline.stop());
    const segmentation = [];
    stops.unshift(() => Promise.all(segmentation.map((p) => p.stop())));
    for (let i = 0; i < workers; i++) {
      const port = i === 0 ? ports.segmentation : await freePort();
      segmentation.push(
        await startServiceProcess('segmentation', { env: pipeline.env, logDir: join(logDir, `segmentation-${i + 1}`), port }),
      );
    }
    say(`   services up in ${fmt((performance.now() - t0Start) / 1000, 1)} s (not timed); running trajectory run`);

    const processes = [
      ...[...pipeline.services.values()].map((s) => ({ name: s.name, pid: s.child.pid, child: s.child })),
      ...segmentation.map((s, i) => ({ name: `segmentation ${i + 1}`, pid: s.child.pid, child: s.child })),
      { name: 'nats-server', pid: nats.pid, child: nats.child },
      { name: 'neo4j', pid: db.pid, child: db.child },
    ];
    for (const p of processes) p.cpuStart = processCpuSeconds(p.pid);
    const machineStart = machineCpuSeconds();
    const t0 = Date.now();
    const cli = spawn(process.execPath, [CLI, 'run', zip], { env: { ...process.env, ...pipeline.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    processes.push({ name: 'trajectory run (CLI)', pid: cli.pid, child: cli, cpuStart: 0 });
    let output = '';
    cli.stdout.on('data', (c) => {
      output += c;
    });
    cli.stderr.on('data', (c) => {
      output += c;
    });
    const exited = once(cli, 'exit');
    // Each second, so that a process that exits (the CLI, a service that crashes) keeps its last figures.
    const sample = () => {
      for (const p of processes) {
        const peak = peakRssBytes(p.pid);
        const cpu = processCpuSeconds(p.pid) - p.cpuStart;
        if (Number.isFinite(peak)) p.peak = Math.max(p.peak ?? 0, peak);
        if (Number.isFinite(cpu)) p.cpu = cpu;
      }
    };
    const sampler = setInterval(sample, 1000);
    const bus = await connectBus(nats.nats.busOptions('admin', 'bench-end-to-end'));
    stops.unshift(() => bus.close());
    const progress = setInterval(async () => {
      const [i, s, g] = await Promise.all(
        [SUBJECTS.conversationIngested, SUBJECTS.conversationSegmented, SUBJECTS.graphStored].map((x) => subjectCount(bus, x)),
      ).catch(() => []);
      say(`   ${fmt((Date.now() - t0) / 1000)} s: ingested ${i}, segmented ${s}, stored ${g}`);
    }, 30_000);
    const timer = setTimeout(() => cli.kill('SIGTERM'), timeoutSeconds * 1000);
    const [code] = await exited;
    clearTimeout(timer);
    let end = Date.now();
    writeFileSync(join(dir, 'trajectory-run.log'), output);

    // `trajectory run` waits 5 minutes at most for the graph: past that the run goes on here,
    // waiting as it would have and building the dataset with the CLI's own command.
    let note = '';
    if (code !== 0 && /timed out.*(waiting for the graph|nothing more stored)/.test(output)) {
      note = 'trajectory run gave up waiting for the graph after its 5 minutes; the bench waited on and ran `trajectory dataset`';
      say(`   ${note}`);
      const ingested = await subjectCount(bus, SUBJECTS.conversationIngested);
      const deadline = t0 + timeoutSeconds * 1000;
      while ((await subjectCount(bus, SUBJECTS.graphStored)) < ingested && Date.now() < deadline) await sleep(1000);
      const dataset = spawn(process.execPath, [CLI, 'dataset'], {
        env: { ...process.env, ...pipeline.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      dataset.stdout.on('data', (c) => {
        output += c;
      });
      dataset.stderr.on('data', (c) => {
        output += c;
      });
      await once(dataset, 'exit');
      end = Date.now();
      writeFileSync(join(dir, 'trajectory-run.log'), output);
    } else if (code !== 0) note = `trajectory run exited with ${code}: ${output.trim().split('\n').slice(-3).join(' / ')}`;
    clearInterval(sampler);
    clearInterval(progress);

    sample();
    for (const p of processes) {
      p.sampled = p.child.exitCode !== null || p.child.signalCode !== null;
      if (p.sampled && p.name !== 'trajectory run (CLI)') p.exited = p.child.signalCode ?? p.child.exitCode;
    }
    const machineEnd = machineCpuSeconds();
    const seconds = (end - t0) / 1000;
    const oursCpu = processes.reduce((s, p) => s + (Number.isFinite(p.cpu) ? p.cpu : 0), 0);
    const machine = {
      busyCores: (machineEnd.busy - machineStart.busy) / seconds,
      // Everything not ours: the OS, this bench, other people's processes on a shared machine.
      otherCores: (machineEnd.busy - machineStart.busy - oursCpu) / seconds,
    };

    const driver = neo4j.driver(db.uri, neo4j.auth.basic(db.auth.user, db.auth.password), { disableLosslessIntegers: true });
    let graph;
    try {
      const one = async (q) => (await driver.executeQuery(q)).records[0].get(0);
      graph = {
        ...(await countGraph(driver)),
        conversations: await one('MATCH (c:Conversation) RETURN count(c)'),
        messages: await one('MATCH (m:Message) RETURN count(m)'),
        chains: await one('MATCH (c:RefinementChain) RETURN count(c)'),
      };
    } finally {
      await driver.close();
    }
    await pipeline.stop();
    await Promise.all(segmentation.map((p) => p.stop()));

    const { timeline, dataset } = await readTimeline(bus);
    const ingested = timeline[SUBJECTS.conversationIngested];
    const segmented = timeline[SUBJECTS.conversationSegmented];
    const stored = timeline[SUBJECTS.graphStored];
    const built = timeline[SUBJECTS.datasetBuilt];
    const report = dataset?.manifest?.report;
    const run = {
      workers,
      code,
      note,
      seconds,
      gates: dataset?.manifest ? (dataset.manifest.gatesPassed ? 'passed' : 'FAILED') : 'no dataset',
      stages: {
        ingest: { from: t0, to: ingested.last, items: ingested.count, unit: 'conversations' },
        segment: {
          from: ingested.first,
          to: segmented.last,
          items: segmented.count,
          unit: 'conversations',
          extra: graph.nodes,
          extraUnit: 'nodes',
        },
        graph: { from: segmented.first, to: stored.last, items: graph.nodes, unit: 'nodes', extra: graph.edges, extraUnit: 'edges' },
        samples: { from: stored.last, to: built.last, items: report?.records ?? Number.NaN, unit: 'records' },
      },
      counts: {
        conversations: graph.conversations,
        messages: graph.messages,
        nodes: graph.nodes,
        edges: graph.edges,
        chains: graph.chains,
        samples: report?.records ?? Number.NaN,
        reportChains: report?.refinementChains ?? Number.NaN,
      },
      graph,
      events: { ingested: ingested.count, segmented: segmented.count, stored: stored.count, built: built.count },
      processes,
      machine,
      bus,
      stops,
    };
    for (const stage of Object.values(run.stages)) {
      stage.seconds = (stage.to - stage.from) / 1000;
      stage.rate = stage.items / stage.seconds;
    }
    return run;
  } catch (err) {
    for (const stop of stops) await Promise.resolve(stop()).catch(() => undefined);
    throw err;
  }
}

// ---------- the graph of a run, written again: plain UNWIND, and the service's write path alone ----------

/** Replays the run's segmented events in slices; `write` is timed, reading them back is not. */
async function replay(run, root, name, write) {
  const db = await freshNeo4j(join(root, name));
  try {
    let seconds = 0;
    let slice = [];
    const flush = async () => {
      const t0 = performance.now();
      await write(db.driver, slice);
      seconds += (performance.now() - t0) / 1000;
      slice = [];
    };
    await readTimeline(run.bus, {
      onSegmented: async (event) => {
        slice.push(event);
        if (slice.length === REPLAY_SLICE) await flush();
      },
    });
    if (slice.length > 0) await flush();
    const counts = await countGraph(db.driver);
    return { seconds, counts, nodesPerSecond: counts.nodes / seconds, edgesPerSecond: counts.edges / seconds };
  } finally {
    await db.close();
  }
}

// ---------- main ----------
const cores = availableParallelism();
say(
  `machine: ${cores} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const root = mkdtempSync(join(tmpdir(), 'end-to-end-'));

/** The export of `count` conversations: the given file, or a generated history. */
async function exportOf(count) {
  if (givenExport) {
    if (!existsSync(givenExport)) throw new Error(`no export at ${givenExport}`);
    return { path: givenExport, label: givenExport };
  }
  const path = join(root, `history-${count}.zip`);
  const t0 = performance.now();
  const written = await writeExportZip(path, historyConversations(count, { seed, meanExchanges }));
  say(
    `export: ${fmt(written.conversations)} conversations (seed ${seed}, mean exchanges ${meanExchanges}) in ${written.shards.length} shards, ` +
      `${fmt(written.bytes / 1e6, 1)} MB zipped, generated in ${fmt((performance.now() - t0) / 1000, 1)} s (not timed)`,
  );
  return { path, label: `the generated history of ${fmt(count)} conversations (seed ${seed}, mean exchanges ${meanExchanges})` };
}

// The whole history through every worker count; or, with --workers-conversations, the whole
// history once with the most workers and the comparison of worker counts on a smaller history.
const plan =
  workersN === N
    ? workerCounts.map((workers) => ({ count: N, workers }))
    : [{ count: N, workers: Math.max(...workerCounts) }, ...workerCounts.map((workers) => ({ count: workersN, workers }))];
const runs = [];
const exports = new Map();
let graphReplays;
let failed = false;
try {
  for (const [k, { count, workers }] of plan.entries()) {
    if (!exports.has(count)) exports.set(count, await exportOf(count));
    const run = await runHistory(exports.get(count).path, workers, join(root, `run${k + 1}`));
    run.history = exports.get(count).label;
    run.comparison = workersN === N || k > 0;
    runs.push(run);
    try {
      if (k === 0 && replays) {
        say('   replaying its graph: plain UNWIND into a fresh Neo4j');
        const unwind = await replay(run, root, 'neo4j-unwind', (driver, events) => baselineSameGraph(driver, events));
        say(`   ${fmt(unwind.nodesPerSecond)} nodes/s; the service's write path alone into a fresh Neo4j`);
        const alone = await replay(run, root, 'neo4j-service', async (driver, events) => {
          for (let i = 0; i < events.length; i += SERVICE_GROUP) await writeConversationGraphs(driver, events.slice(i, i + SERVICE_GROUP));
        });
        say(`   ${fmt(alone.nodesPerSecond)} nodes/s`);
        graphReplays = { unwind, alone, of: run };
      }
    } finally {
      for (const stop of run.stops) await Promise.resolve(stop()).catch(() => undefined);
    }
  }
} finally {
  if (!keep) rmSync(root, { recursive: true, force: true });
}

// ---------- report ----------
console.log('');
console.log(`end to end: ${cores} cores (${cpus()[0]?.model ?? 'unknown CPU'}); ${new Date().toISOString().slice(0, 10)}`);
for (const run of runs) {
  const lost = run.events.ingested !== run.events.stored || run.counts.conversations !== run.events.ingested;
  if (lost || run.gates === 'no dataset') failed = true;
  console.log(`\n${run.history}, ${run.workers} segmentation worker(s): total ${fmt(run.seconds, 1)} s${run.note ? ` (${run.note})` : ''}`);
  const rss = (names) =>
    run.processes
      .filter((p) => names.some((n) => p.name.startsWith(n)))
      .map((p) => mb(p.peak))
      .join(' + ');
  const cpu = (names) =>
    fmt(
      run.processes.filter((p) => names.some((n) => p.name.startsWith(n))).reduce((s, p) => s + p.cpu, 0),
      1,
    );
  const s = run.stages;
  const row = (name, stage, names) => [
    name,
    fmt(stage.seconds, 1),
    `${fmt(stage.items)} ${stage.unit}`,
    `${fmt(stage.rate, 1)} ${stage.unit}/s${stage.extra ? `, ${fmt(stage.extra / stage.seconds)} ${stage.extraUnit}/s` : ''}`,
    rss(names),
    cpu(names),
  ];
  console.log(
    formatTable(
      ['stage', 'wall s', 'items', 'items/s', 'peak RSS', 'CPU s'],
      [
        row('ingest', s.ingest, ['ingestion', 'trajectory run']),
        row('segment', s.segment, ['segmentation']),
        row('graph write', s.graph, ['graph', 'neo4j']),
        row('samples', s.samples, ['samples']),
        [
          'total',
          fmt(run.seconds, 1),
          `${fmt(run.counts.conversations)} conversations`,
          `${fmt(run.counts.conversations / run.seconds, 2)} conversations/s`,
          `max ${mb(Math.max(...run.processes.map((p) => p.peak || 0)))}`,
          fmt(
            run.processes.reduce((t, p) => t + (Number.isFinite(p.cpu) ? p.cpu : 0), 0),
            1,
          ),
        ],
      ],
    ),
  );
  console.log(
    formatTable(
      ['', 'conversations', 'messages', 'cognitive nodes', 'edges', 'samples', 'refinement chains'],
      [
        ['this run', ...['conversations', 'messages', 'nodes', 'edges', 'samples', 'chains'].map((k) => fmt(run.counts[k]))],
        [
          'the seed',
          fmt(SEED_HISTORY.conversations),
          '-',
          fmt(SEED_HISTORY.nodes),
          fmt(SEED_HISTORY.edges),
          fmt(SEED_HISTORY.samples),
          fmt(SEED_HISTORY.chains),
        ],
      ],
    ),
  );
  console.log(
    `processes: ${run.processes
      .map(
        (p) =>
          `${p.name} ${mb(p.peak)}${p.sampled ? ' (sampled)' : ''}, ${fmt(p.cpu, 1)} CPU s${p.exited !== undefined ? `, EXITED (${p.exited})` : ''}`,
      )
      .join('; ')}`,
  );
  console.log(
    `machine: ${fmt(run.machine.busyCores, 2)} cores busy on average, ${fmt(run.machine.otherCores, 2)} of them not the pipeline's (this bench, the OS, other people's work); ` +
      `events: ingested ${run.events.ingested}, segmented ${run.events.segmented}, stored ${run.events.stored}, datasets ${run.events.built}; gates ${run.gates}` +
      `${lost ? '; LOST CONVERSATIONS' : ''}`,
  );
}

if (graphReplays) {
  const { unwind, alone, of } = graphReplays;
  const pipelineNodes = of.stages.graph.rate;
  console.log(
    `\ngraph writes of the ${of.workers}-worker run's graph (${fmt(of.counts.nodes)} nodes, ${fmt(of.counts.edges)} node-node edges):`,
  );
  console.log(
    formatTable(
      ['write', 'seconds', 'nodes/s', 'edges/s', 'vs plain UNWIND'],
      [
        [
          'plain UNWIND, batches of 10,000 rows, fresh Neo4j',
          fmt(unwind.seconds, 1),
          fmt(unwind.nodesPerSecond),
          fmt(unwind.edgesPerSecond),
          '1.00x',
        ],
        [
          `service's write path alone (${SERVICE_GROUP} conversations/tx), fresh Neo4j`,
          fmt(alone.seconds, 1),
          fmt(alone.nodesPerSecond),
          fmt(alone.edgesPerSecond),
          `${fmt(alone.nodesPerSecond / unwind.nodesPerSecond, 2)}x`,
        ],
        [
          'graph service in the pipeline (graph write stage)',
          fmt(of.stages.graph.seconds, 1),
          fmt(pipelineNodes),
          fmt(of.counts.edges / of.stages.graph.seconds),
          `${fmt(pipelineNodes / unwind.nodesPerSecond, 2)}x`,
        ],
      ],
    ),
  );
  if (unwind.counts.nodes !== of.counts.nodes || alone.counts.nodes !== of.counts.nodes) {
    console.log(`WARNING: the replays wrote ${unwind.counts.nodes} and ${alone.counts.nodes} nodes, the run ${of.counts.nodes}`);
    failed = true;
  }
}

// ---------- targets ----------
console.log('\ntargets:');
for (const run of runs)
  console.log(
    `  total <= ${TARGETS.totalSeconds} s (${fmt(run.counts.conversations)} conversations, ${run.workers} worker(s), ${cores} cores): ${fmt(run.seconds, 1)} s: ${metOrNot(run.seconds <= TARGETS.totalSeconds)}`,
  );
const all = runs.flatMap((r) => r.processes.filter((p) => Number.isFinite(p.peak)));
const biggest = all.reduce((a, b) => (b.peak > (a?.peak ?? 0) ? b : a), undefined);
console.log(
  `  no process above ${fmt(TARGETS.peakRssBytes / 1024 ** 3, 1)} GB peak RSS: largest ${biggest ? `${biggest.name} ${mb(biggest.peak)}` : '-'}: ${metOrNot(biggest ? biggest.peak <= TARGETS.peakRssBytes : undefined)}`,
);
if (graphReplays) {
  const ratio = graphReplays.alone.nodesPerSecond / graphReplays.unwind.nodesPerSecond;
  const inPipeline = graphReplays.of.stages.graph.rate / graphReplays.unwind.nodesPerSecond;
  console.log(
    `  graph writes >= ${TARGETS.graphVsBaseline}x plain UNWIND of the same graph: service alone ${fmt(ratio, 2)}x: ${metOrNot(ratio >= TARGETS.graphVsBaseline)} ` +
      `(in the pipeline, sharing the cores: ${fmt(inPipeline, 2)}x)`,
  );
} else console.log(`  graph writes >= ${TARGETS.graphVsBaseline}x plain UNWIND of the same graph: not measured (--no-baseline)`);
const one = runs.find((r) => r.comparison && r.workers === 1);
const two = runs.find((r) => r.comparison && r.workers === 2);
if (one && two) {
  const ratio = two.stages.segment.rate / one.stages.segment.rate;
  const perCpu = (r) =>
    r.stages.segment.items / r.processes.filter((p) => p.name.startsWith('segmentation')).reduce((s, p) => s + p.cpu, 0);
  console.log(
    `  2 workers >= ${TARGETS.workersRatio}x one (segment stage, conversations/s): ${fmt(ratio, 2)}x: ${metOrNot(ratio >= TARGETS.workersRatio)} ` +
      `(conversations per worker CPU second: ${fmt(perCpu(one), 2)} with 1, ${fmt(perCpu(two), 2)} with 2)`,
  );
} else console.log(`  2 workers >= ${TARGETS.workersRatio}x one: not measured (needs --workers 1,2)`);
if (runs.some((r) => r.machine.otherCores > 0.25))
  console.log('  note: other work used the machine during a run (the "not the pipeline\'s" cores above): the times are not clean figures');
if (failed) {
  say('FAILED: a run lost a conversation or ended without a dataset (see above)');
  process.exit(1);
}
