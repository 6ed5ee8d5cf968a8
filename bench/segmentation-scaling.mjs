#!/usr/bin/env node
// Scaling of the segmentation service: W worker processes (1, then 2) bound to the one durable
// JetStream work queue (WORK_QUEUES.segmentation), each with SEGMENTATION_CONCURRENCY=1 and
// onnxruntime on 1 thread, so one process is one core. Target: 2 workers reach
// at least 1.7x the throughput of 1 on a 2-core machine.
//
// Workload: the real ChatGPT exports in the repository's fixtures/chatgpt (see fixtures/README.md
// and fixtures/chatgpt/SOURCES.md; read, never written), parsed by ingestion's own reader
// (ingestExport, as `trajectory inspect` does) and repeated round-robin under distinct conversation
// ids (`<id>#<k>`) up to N conversations, so that each run is long enough to time and every worker
// sees the same mix of short and long ones.
//
// For each W, on a fresh bus (every stream deleted, then recreated):
//   1. all N ConversationIngested events are published onto the work queue (not timed);
//   2. a core subscription on the segmented subject is opened (it sees every publish, also one the
//      stream later drops by msg id: so a conversation segmented twice counts as a duplicate);
//   3. W real service processes (services/segmentation/dist/main.js via @trajectory/testkit) start;
//   4. the run ends when N distinct conversations were seen segmented (or nothing new came for
//      --stall seconds); then the workers are stopped and their logs read.
//
// The timed window: from the moment the first of the W workers is ready to the moment the N-th
// distinct ConversationSegmented is observed. "Ready" is the service's log line announcing its
// segmentation signal ('segmenting with sentence embeddings …'), written right after the model
// has loaded and right before the worker binds to the queue: nothing can be pulled before it, and
// the model load (seconds) stays out of the window. The later 'segmentation serving' line (gRPC
// health SERVING) is not used: the worker already pulls and segments before it, and a CPU-bound
// first conversation can delay that line by seconds. Starting at the first segmented event
// instead would drop up to W whole conversations (the longest take ~13 s here) from the window.
// The same rule holds for every W; the spread between the workers' ready times is printed (the
// processes load the model in parallel, so it is small, and it counts against the larger W).
//
// Build first:  npx turbo run build
//   node bench/segmentation-scaling.mjs                       # 200 conversations, 1 and 2 workers
//   node bench/segmentation-scaling.mjs --conversations 40    # quicker
//   node bench/segmentation-scaling.mjs --json                # the figures as JSON on stdout
//   options: --workers 1,2  --stall 180 (seconds without progress before giving up)  --keep-logs
//            --quiet-wait 120 (seconds to wait, before each run, for other processes to leave the CPUs)
// Servers: NATS_URL + NEO4J_URI from the environment, else what testkit starts (containers or the
// local servers of tooling/local-servers); only NATS is used. Exits 1 when a conversation is missing or
// segmented more than once; a missed scaling target is printed, not an error.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectBus, ensureWorkQueue, publishEvent, STREAMS, SUBJECTS, WORK_QUEUES } from '@trajectory/bus';
import { ConversationIngested } from '@trajectory/contracts';
import { conversationContentHash, createRedactor, DEFAULT_LIMITS, ingestExport } from '@trajectory/ingestion';
import { freePort } from '@trajectory/local-servers';
import { REPO_ROOT, resetBus, startServiceProcess, startTestServers } from '@trajectory/testkit';
import { flag, option } from './lib/cli-args.mjs';
import { plainTableOf } from './lib/plain-table.mjs';
import { childrenCpuSeconds, machineCpuSeconds, processCpuSeconds } from './lib/proc-stats.mjs';

// ---------- arguments ----------
const N = Number(option('conversations', 200));
const workerCounts = option('workers', '1,2').split(',').map(Number);
const stallSeconds = Number(option('stall', 180));
const json = flag('json');
const keepLogs = flag('keep-logs');
const quietWaitSeconds = Number(option('quiet-wait', 120));
if (!(Number.isInteger(N) && N > 0)) throw new Error(`--conversations must be a positive integer, got ${option('conversations')}`);
if (!workerCounts.every((w) => Number.isInteger(w) && w > 0)) throw new Error(`--workers must list positive integers`);
const TARGET = { workers: 2, ratio: 1.7 };
const EXPORTS_DIR = join(REPO_ROOT, 'fixtures', 'chatgpt');

/** Progress goes to stderr, so that --json leaves stdout to the figures. */
const say = (s) => process.stderr.write(`${s}\n`);
const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

// ---------- workload ----------
async function readExports(dir) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const originals = [];
  for (const file of files) {
    const before = originals.length;
    const result = await ingestExport({
      path: join(dir, file),
      fileName: file,
      ingestId: 'bench-scaling',
      redactor: createRedactor('secrets'),
      limits: DEFAULT_LIMITS,
      // No ledger, no bus: every conversation counts as new and is handed to us here.
      publish: async (event) => {
        originals.push(event);
        return { duplicate: false };
      },
    });
    const skipped = result.report?.skipped ?? [];
    if (skipped.length > 0) say(`  ${file}: skipped ${skipped.map((s) => `${s.place}: ${s.message}`).join('; ')}`);
    say(`  ${file}: ${originals.length - before} conversations`);
  }
  if (originals.length === 0) throw new Error(`no conversations in ${dir}`);
  return originals;
}

/** N events: copy k of every original, then copy k+1, … (round-robin, so long ones are spread out). */
function workload(originals, n) {
  const events = [];
  for (let k = 0; events.length < n; k++) {
    for (const original of originals) {
      if (events.length >= n) break;
      const conversation = { ...original.conversation, id: `${original.conversation.id}#${k}` };
      const contentHash = conversationContentHash(conversation);
      events.push({ ...original, ingestId: 'bench-scaling', contentHash, conversation });
    }
  }
  return events;
}

// ---------- logs ----------
function readLog(file) {
  const lines = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line));
    } catch {
      // a line cut by the kill; ignore
    }
  }
  return lines;
}
const isReadyLine = (l) => /^segmenting with|^no embedding model/.test(l.msg ?? '');
const msOf = (l) => (typeof l.time === 'number' ? l.time : Date.parse(l.time));

/** `segmented:<conversationId>:<contentHash>:<segmenter>` -> conversationId */
function conversationOfMsgId(msgId) {
  if (!msgId?.startsWith('segmented:')) return undefined;
  return msgId.slice('segmented:'.length).split(':').slice(0, -2).join(':');
}

/**
 * Waits (up to --quiet-wait seconds) for a machine that is idle apart from us: busy below
 * QUIET_CORES over a 3 s sample. On a shared machine another process's load would steal the
 * cores being measured; the run goes ahead anyway after the wait, and the table says so.
 */
const QUIET_CORES = 0.25;
async function waitForQuiet(workers) {
  const deadline = Date.now() + quietWaitSeconds * 1000;
  for (;;) {
    const a = machineCpuSeconds();
    await new Promise((r) => setTimeout(r, 3000));
    const b = machineCpuSeconds();
    const busyCores = (b.busy - a.busy) / ((b.total - a.total) / availableParallelism());
    if (!(busyCores >= QUIET_CORES)) return { busyCores };
    if (Date.now() >= deadline) {
      say(`  W=${workers}: machine still busy (${fmt(busyCores, 2)} cores in use by others) after ${quietWaitSeconds} s; running anyway`);
      return { busyCores };
    }
    say(`  W=${workers}: machine busy (${fmt(busyCores, 2)} cores in use by others); waiting for it to calm down`);
  }
}

// ---------- one run ----------
async function run(nats, events, workers, logRoot) {
  const quiet = await waitForQuiet(workers);
  await resetBus(nats);
  const bus = await connectBus(nats.busOptions('admin', 'bench-segmentation-scaling')); // recreates the streams
  try {
    await ensureWorkQueue(bus.jsm, WORK_QUEUES.segmentation);
    const queue = WORK_QUEUES.segmentation;
    const t0Publish = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < events.length) {
          const event = events[next++];
          await publishEvent(
            bus,
            SUBJECTS.conversationIngested,
            ConversationIngested,
            event,
            `ingested:${event.conversation.id}:${event.contentHash}`,
          );
        }
      }),
    );
    const pending = (await bus.jsm.consumers.info(queue.stream, queue.durable)).num_pending;
    if (pending !== events.length) throw new Error(`work queue holds ${pending} messages, published ${events.length}`);
    say(
      `  W=${workers}: published ${events.length} ConversationIngested in ${fmt((performance.now() - t0Publish) / 1000, 1)} s (not timed)`,
    );

    // Every segmented publish, as any core subscriber sees it, with our clock at receipt.
    const seen = new Map(); // conversationId -> ms of first sighting
    let duplicates = 0;
    let unknown = 0;
    let lastProgress = Date.now();
    let onAll;
    const allSeen = new Promise((resolve) => {
      onAll = resolve;
    });
    const sub = bus.nc.subscribe(SUBJECTS.conversationSegmented, {
      callback: (err, msg) => {
        if (err) return;
        const at = Date.now();
        const id = conversationOfMsgId(msg.headers?.get('Nats-Msg-Id'));
        if (id === undefined) unknown += 1;
        else if (seen.has(id)) duplicates += 1;
        else {
          seen.set(id, at);
          lastProgress = at;
          if (seen.size === events.length) onAll();
        }
      },
    });
    await bus.nc.flush();

    const logDirs = Array.from({ length: workers }, (_, i) => join(logRoot, `w${workers}`, `worker${i + 1}`));
    const env = { ...nats.serviceEnv(), SEGMENTATION_CONCURRENCY: '1', LOG_LEVEL: 'info' };
    if (process.env.TRAJECTORY_EMBEDDING_MODEL_DIR) env.TRAJECTORY_EMBEDDING_MODEL_DIR = process.env.TRAJECTORY_EMBEDDING_MODEL_DIR;
    const ports = await Promise.all(logDirs.map(() => freePort()));
    const started = Date.now();
    const settled = await Promise.allSettled(
      logDirs.map((logDir, i) => startServiceProcess('segmentation', { env, logDir, port: ports[i] })),
    );
    const procs = settled.filter((s) => s.status === 'fulfilled').map((s) => s.value);
    if (procs.length < workers) {
      await Promise.all(procs.map((p) => p.kill()));
      throw settled.find((s) => s.status === 'rejected').reason;
    }
    say(`  W=${workers}: ${workers} worker process(es) SERVING after ${fmt((Date.now() - started) / 1000, 1)} s`);
    const workerPids = procs.map((p) => p.child.pid);
    const sample = () => ({
      at: Date.now(),
      workers: workerPids.map(processCpuSeconds),
      servers: childrenCpuSeconds(workerPids),
      machine: machineCpuSeconds(),
    });
    const cpuStart = { ...sample(), self: process.cpuUsage() };

    let stalled = false;
    const ticker = setInterval(() => {
      if (Date.now() - lastProgress > stallSeconds * 1000) {
        stalled = true;
        onAll();
      }
    }, 1000);
    const progress = setInterval(() => say(`  W=${workers}: ${seen.size}/${events.length} segmented`), 30_000);
    await allSeen;
    clearInterval(ticker);
    clearInterval(progress);
    const cpuEnd = { ...sample(), self: process.cpuUsage(cpuStart.self) };

    // Let the last acks land (and any late redelivery show up) before stopping the workers.
    for (let i = 0; i < 50; i++) {
      const c = await bus.jsm.consumers.info(queue.stream, queue.durable);
      if (c.num_ack_pending === 0 && c.num_pending === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const consumer = await bus.jsm.consumers.info(queue.stream, queue.durable);
    await Promise.all(procs.map((p) => p.stop()));
    sub.unsubscribe();
    const stream = await bus.jsm.streams.info(STREAMS.events.name, { subjects_filter: SUBJECTS.conversationSegmented });
    const stored = stream.state.subjects?.[SUBJECTS.conversationSegmented] ?? 0;

    // Per process: ready time, conversations handled, failures.
    const perWorker = procs.map((p, i) => {
      const lines = readLog(p.logFile);
      const ready = lines.find(isReadyLine);
      const serving = lines.find((l) => l.msg === 'segmentation serving');
      const done = lines.filter((l) => l.msg === 'conversation segmented');
      return {
        log: p.logFile,
        model: ready?.model ?? (ready ? 'lexical' : 'unknown'),
        readyAt: ready ? msOf(ready) : Number.NaN,
        servingAfterReadyMs: ready && serving ? msOf(serving) - msOf(ready) : Number.NaN,
        handled: done.length,
        distinctHandled: new Set(done.map((l) => l.conversationId)).size,
        lastDoneAt: done.length ? msOf(done.at(-1)) : Number.NaN,
        failures: lines.filter((l) => /will retry|dead-lettered/.test(l.msg ?? '')).length,
        cpuSeconds: cpuEnd.workers[i] - cpuStart.workers[i],
      };
    });
    const firstReady = Math.min(...perWorker.map((w) => w.readyAt));
    const lastReady = Math.max(...perWorker.map((w) => w.readyAt));
    const end = seen.size > 0 ? Math.max(...seen.values()) : Number.NaN;
    const seconds = (end - firstReady) / 1000;
    const sampledSeconds = (cpuEnd.at - cpuStart.at) / 1000;
    const machineBusy = cpuEnd.machine.busy - cpuStart.machine.busy;
    const workersBusy = perWorker.reduce((s, w) => s + w.cpuSeconds, 0);
    const selfBusy = (cpuEnd.self.user + cpuEnd.self.system) / 1e6;
    const serversBusy = cpuEnd.servers - cpuStart.servers;
    return {
      workers,
      conversations: events.length,
      segmented: seen.size,
      missing: events.length - seen.size,
      duplicates,
      unknownMessages: unknown,
      stalled,
      seconds,
      conversationsPerSecond: seen.size / seconds,
      // Conversations per CPU second the workers actually got: independent of how many cores
      // other processes took, so W=1 and W=2 compare even on a machine that is not quiet.
      conversationsPerWorkerCpuSecond: seen.size / workersBusy,
      readySpreadSeconds: (lastReady - firstReady) / 1000,
      // Idle tail: from each worker's last conversation to the end of the window.
      perWorker: perWorker.map((w) => ({
        handled: w.handled,
        distinctHandled: w.distinctHandled,
        failures: w.failures,
        model: w.model,
        idleTailSeconds: (end - w.lastDoneAt) / 1000,
        servingAfterReadySeconds: w.servingAfterReadyMs / 1000,
        cpuShare: w.cpuSeconds / sampledSeconds, // cores used while sampled (1.0 = one full core)
        log: keepLogs ? w.log : undefined,
      })),
      cpu: {
        sampledSeconds,
        machineCores: machineBusy / sampledSeconds,
        workersCores: workersBusy / sampledSeconds,
        benchCores: selfBusy / sampledSeconds,
        serverCores: serversBusy / sampledSeconds,
        // Everything else: the OS and processes that are not ours (a shared machine is not quiet).
        otherCores: (machineBusy - workersBusy - selfBusy - serversBusy) / sampledSeconds,
        busyBeforeCores: quiet.busyCores,
      },
      queue: {
        deliveries: consumer.delivered.consumer_seq,
        redelivered: consumer.num_redelivered,
        ackPending: consumer.num_ack_pending,
        pending: consumer.num_pending,
      },
      storedSegmented: stored,
    };
  } finally {
    await bus.close();
  }
}

// ---------- main ----------
const cores = availableParallelism();
say(
  `machine: ${cores} cores (os.availableParallelism), ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
say(`reading ${EXPORTS_DIR}`);
const originals = await readExports(EXPORTS_DIR);
const events = workload(originals, N);
const messages = events.reduce((s, e) => s + e.conversation.messages.length, 0);
const chars = events.reduce((s, e) => s + e.conversation.messages.reduce((t, m) => t + m.text.length, 0), 0);
say(
  `workload: ${fmt(N)} conversations (${originals.length} originals repeated under distinct ids), ${fmt(messages)} messages, ${fmt(chars / 1e6, 2)} M characters`,
);

const servers = await startTestServers();
say(`servers: ${servers.kind}, NATS at ${servers.natsUrl}`);
const logRoot = mkdtempSync(join(tmpdir(), 'segmentation-scaling-'));
const results = [];
try {
  for (const w of workerCounts) results.push(await run(servers.nats, events, w, logRoot));
} finally {
  await servers.stop();
  if (!keepLogs) rmSync(logRoot, { recursive: true, force: true });
}

const base = results.find((r) => r.workers === 1);
for (const r of results) {
  r.ratio = base ? r.conversationsPerSecond / base.conversationsPerSecond : Number.NaN;
  r.cpuEfficiencyRatio = base ? r.conversationsPerWorkerCpuSecond / base.conversationsPerWorkerCpuSecond : Number.NaN;
}
const target = results.find((r) => r.workers === TARGET.workers);
const targetMet = target && base ? target.ratio >= TARGET.ratio : undefined;
const failed = results.some((r) => r.missing > 0 || r.duplicates > 0 || r.unknownMessages > 0);
const model = [...new Set(results.flatMap((r) => r.perWorker.map((w) => w.model)))].join(', ');

if (json) {
  console.log(
    JSON.stringify(
      {
        cores,
        conversations: N,
        originals: originals.length,
        messages,
        model,
        target: { ...TARGET, met: targetMet },
        results,
        logs: keepLogs ? logRoot : undefined,
      },
      null,
      2,
    ),
  );
} else {
  const rows = results.map((r) => ({
    workers: r.workers,
    conversations: r.missing ? `${r.segmented}/${r.conversations}` : String(r.conversations),
    seconds: fmt(r.seconds, 1),
    'conv/s': fmt(r.conversationsPerSecond, 3),
    'vs 1 worker': Number.isNaN(r.ratio) ? '-' : `${fmt(r.ratio, 2)}x`,
    'conv/worker CPU-s': `${fmt(r.conversationsPerWorkerCpuSecond, 3)}${Number.isNaN(r.cpuEfficiencyRatio) ? '' : ` (${fmt(r.cpuEfficiencyRatio, 2)})`}`,
    duplicates: r.duplicates,
    'handled per worker': r.perWorker.map((w) => w.handled).join(' / '),
    'CPU per worker (cores)': r.perWorker.map((w) => fmt(w.cpuShare, 2)).join(' / '),
    'idle tail (s)': r.perWorker.map((w) => fmt(w.idleTailSeconds, 1)).join(' / '),
  }));
  console.log('');
  console.log(`cores: ${cores}; model: ${model}; ${N} conversations (${originals.length} originals, ${fmt(messages)} messages)`);
  console.log(plainTableOf(rows, { left: 0 }));
  console.log('');
  for (const r of results) {
    console.log(
      `W=${r.workers}: machine busy ${fmt(r.cpu.machineCores, 2)} cores = workers ${fmt(r.cpu.workersCores, 2)} + bench ${fmt(r.cpu.benchCores, 2)} + ` +
        `NATS/Neo4j ${fmt(r.cpu.serverCores, 2)} + others (OS, foreign processes) ${fmt(r.cpu.otherCores, 2)} (before the run: ${fmt(r.cpu.busyBeforeCores, 2)}); ` +
        `ready spread ${fmt(r.readySpreadSeconds, 2)} s; deliveries ${r.queue.deliveries}, redelivered ${r.queue.redelivered}; ` +
        `segmented events stored ${r.storedSegmented}${r.stalled ? `; STALLED (nothing new for ${stallSeconds} s)` : ''}`,
    );
  }
  console.log(
    'conv/worker CPU-s: conversations per CPU second the worker processes used, in brackets relative to 1 worker (1.00 = no loss per unit of CPU from running side by side)',
  );
  const noisy = results.filter((r) => r.cpu.otherCores > QUIET_CORES);
  if (noisy.length > 0)
    console.log(
      `WARNING: other processes used more than ${QUIET_CORES} cores during W=${noisy.map((r) => r.workers).join(', ')}: the machine was not quiet, and the ratio is not a clean figure`,
    );
  if (targetMet === undefined)
    console.log(`target (${TARGET.workers} workers >= ${TARGET.ratio}x of 1): not measured (needs --workers with 1 and ${TARGET.workers})`);
  else
    console.log(
      `target: ${TARGET.workers} workers >= ${TARGET.ratio}x of 1 on ${TARGET.workers} cores: ${fmt(target.ratio, 2)}x on ${cores} cores: ${targetMet ? 'MET' : 'NOT MET'}`,
    );
  if (keepLogs) console.log(`logs: ${logRoot}`);
}
if (failed) {
  say('FAILED: a conversation is missing or was segmented more than once (see the table)');
  process.exit(1);
}
