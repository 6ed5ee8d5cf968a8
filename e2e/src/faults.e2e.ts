import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { STREAMS, SUBJECTS, WORK_QUEUES } from '@trajectory/bus';
import { uploadExport } from '@trajectory/cli';
import { DeadLetter, type UploadExportResult } from '@trajectory/contracts';
import { SERVICE_NAMES, until } from '@trajectory/testkit';
import { type Counts, FaultStack, shortCounts } from './fault-stack.js';

// The fault suite: each fault hits the five services while they work on the same small real
// export (the first 40 conversations of fixtures/chatgpt-export), and each ends with exactly the
// graph and the dataset of a fault-free run. It runs its own NATS and Neo4j, which it stops.

const CONVERSATIONS = 40;
/** Work left once the fault is over: well under an old 30-60 s ack window, with room for 2 busy cores. */
const RECOVERY_LIMIT_MS = 20_000;
const SETTLE_TIMEOUT_MS = 90_000;
/** A fault strikes once this many conversations have passed the stage it hits. */
const STRIKE_AFTER = 5;

let stack: FaultStack;
let expected: Counts;
const rows: { fault: string; expected: string; seen: string; recovery: string; note: string }[] = [];

function record(fault: string, counts: Counts, ms: number | undefined, note: string) {
  rows.push({
    fault,
    expected: expected ? shortCounts(expected) : shortCounts(counts),
    seen: shortCounts(counts),
    recovery: ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`,
    note,
  });
}

function printTable() {
  const header = { fault: 'fault', expected: 'expected', seen: 'seen', recovery: 'recovery', note: 'note' };
  const all = [header, ...rows];
  const width = (k: keyof typeof header) => Math.max(...all.map((r) => r[k].length));
  const line = (r: typeof header) =>
    `| ${(['fault', 'expected', 'seen', 'recovery', 'note'] as const).map((k) => r[k].padEnd(width(k))).join(' | ')} |`;
  console.log(
    [
      '',
      'fault suite (c conversations, m messages, n nodes, e node edges, r relationships, rec dataset records, dataset id):',
      line(header),
      `|${(['fault', 'expected', 'seen', 'recovery', 'note'] as const).map((k) => '-'.repeat(width(k) + 2)).join('|')}|`,
      ...rows.map(line),
    ].join('\n'),
  );
}

/** Counts the events on a subject from now on (core NATS sees every JetStream publish). */
function countEvents(subject: string) {
  let count = 0;
  const sub = stack.nc.subscribe(subject);
  void (async () => {
    for await (const _ of sub) count++;
  })();
  return {
    get count() {
      return count;
    },
    reached: (n: number, timeoutMs = 60_000) => until(`${n} events on ${subject}`, () => (count >= n ? count : undefined), timeoutMs, 20),
    stop: () => sub.unsubscribe(),
  };
}

const upload = (): Promise<UploadExportResult> => uploadExport(stack.targets, stack.exportFile);

async function assertExact(fault: string, settled: { counts: Counts; ms: number; settled: boolean }, note: string) {
  record(fault, settled.counts, settled.ms, note);
  assert.deepEqual(settled.counts, expected, `${fault}: the graph and dataset differ from a fault-free run`);
  assert.ok(settled.settled, `${fault}: the queues did not drain`);
  assert.equal(await stack.deadLetters(), 0, `${fault}: messages were dead-lettered`);
}

before(async () => {
  stack = await FaultStack.start(CONVERSATIONS);
  await stack.fresh();
  const result = await upload();
  assert.equal(result.report?.conversationsNew, CONVERSATIONS);
  const baseline = await stack.settle(undefined, SETTLE_TIMEOUT_MS);
  assert.ok(baseline.settled, 'the fault-free run did not drain');
  expected = baseline.counts;
  assert.equal(expected.conversations, CONVERSATIONS);
  assert.ok(expected.records > 0 && expected.edges > 0);
  record('none (fault-free run)', expected, undefined, `ingest to stored ${(baseline.ms / 1000).toFixed(1)} s`);
});

let failed = false;
/** A test of the suite; a failure keeps the logs for a look. */
function faultTest(name: string, fn: () => Promise<void>) {
  test(name, async () => {
    try {
      await fn();
    } catch (err) {
      failed = true;
      throw err;
    }
  });
}

after(async () => {
  printTable();
  await stack?.close(failed);
});

/**
 * SIGKILLs `name` once STRIKE_AFTER conversations came out of it (`subject`) while an upload is
 * still going, restarts it after the upload, and checks that the graph settles exactly and soon.
 */
async function killMidBatchAndRestart(name: 'segmentation' | 'graph', subject: string, durable: string, done: string) {
  await stack.fresh();
  const events = countEvents(subject);
  const uploading = upload();
  await events.reached(STRIKE_AFTER);
  const inFlight = await stack.backlog(durable);
  await stack.service(name).kill();
  const atKill = events.count;
  assert.ok(atKill < CONVERSATIONS, `the kill came after all ${CONVERSATIONS} were ${done}`);
  await uploading;
  await stack.startService(name);
  const settled = await stack.settle(expected, SETTLE_TIMEOUT_MS);
  events.stop();
  await assertExact(`${name} SIGKILL`, settled, `killed at ${atKill}/${CONVERSATIONS} ${done}, backlog ${inFlight}`);
  assert.ok(settled.ms < RECOVERY_LIMIT_MS, `recovery took ${settled.ms} ms`);
}

faultTest('segmentation SIGKILLed mid-batch and restarted: its unacknowledged conversations come back in seconds', () =>
  killMidBatchAndRestart('segmentation', SUBJECTS.conversationSegmented, WORK_QUEUES.segmentation.durable, 'segmented'),
);

faultTest('graph SIGKILLed mid-batch and restarted: its uncommitted and unacknowledged writes come back in seconds', () =>
  killMidBatchAndRestart('graph', SUBJECTS.graphStored, WORK_QUEUES.graph.durable, 'stored'),
);

faultTest('the same export uploaded twice at once is stored once', async () => {
  await stack.fresh();
  const [first, second] = await Promise.all([upload(), upload()]);
  const settled = await stack.settle(expected, SETTLE_TIMEOUT_MS);
  const published = (first.report?.conversationsNew ?? 0) + (second.report?.conversationsNew ?? 0);
  await assertExact('same export twice at once', settled, `reports: ${published} new in all`);
});

faultTest('poison messages go to the dead letters with their reason while the queue behind them flows', async () => {
  await stack.fresh();
  const js = jetstream(stack.nc);
  const poison = [
    { subject: SUBJECTS.conversationIngested, data: new Uint8Array([0xff, 0xfe, 0x00]), consumer: 'segmentation', reason: /not UTF-8/ },
    {
      subject: SUBJECTS.conversationIngested,
      data: new TextEncoder().encode('{"ingestId":"poison","contentHash":"0"}'),
      consumer: 'segmentation',
      reason: /without a conversation/,
    },
    {
      subject: SUBJECTS.conversationSegmented,
      data: new TextEncoder().encode('{"nodes": ['),
      consumer: 'graph-writer',
      reason: /not JSON/,
    },
  ];
  const sequences: number[] = [];
  for (const p of poison) sequences.push((await js.publish(p.subject, p.data)).seq);
  const started = Date.now();
  await upload();
  const settled = await stack.settle(expected, SETTLE_TIMEOUT_MS);
  const letters = await until('3 dead letters', async () => ((await stack.deadLetters()) >= poison.length ? true : undefined), 15_000).then(
    async () => {
      const found: DeadLetter[] = [];
      for (let seq = 1; seq <= poison.length; seq++) {
        const msg = await stack.jsm.streams.getMessage(STREAMS.deadLetters.name, { seq });
        if (msg) found.push(DeadLetter.fromJSON(msg.json()));
      }
      return found;
    },
    () => [] as DeadLetter[],
  );
  record(
    'poison messages',
    settled.counts,
    settled.ms,
    `${letters.length}/3 dead-lettered, ${((Date.now() - started) / 1000).toFixed(1)} s to letters and graph`,
  );
  assert.deepEqual(settled.counts, expected, 'the good conversations behind the poison');
  assert.ok(settled.ms < RECOVERY_LIMIT_MS, `the export behind the poison took ${settled.ms} ms`);
  assert.equal(letters.length, poison.length, 'every poison message is dead-lettered, at once');
  for (const [i, p] of poison.entries()) {
    const letter = letters.find((l) => l.streamSequence === sequences[i]);
    assert.ok(letter, `a dead letter for stream sequence ${sequences[i]}`);
    assert.equal(letter.consumer, p.consumer);
    assert.equal(letter.originalSubject, p.subject);
    assert.match(letter.error, p.reason);
    assert.equal(letter.deliveries, 1, 'a poison message is not retried');
  }
});

faultTest('SIGTERM on every service during work: each exits 0 promptly, and after a restart nothing is lost', async () => {
  await stack.fresh();
  const stored = countEvents(SUBJECTS.graphStored);
  const uploading = upload();
  await stored.reached(STRIKE_AFTER);
  const atSigterm = stored.count;
  const started = Date.now();
  const logs = [...stack.services.values()].map((s) => ({ name: s.name, logFile: s.logFile }));
  const exits = await stack.stopServices();
  const stopMs = Date.now() - started;
  const atStop = stored.count;
  await uploading;
  assert.deepEqual(exits, Object.fromEntries(SERVICE_NAMES.map((n) => [n, 0])));
  for (const { name, logFile } of logs) {
    const lastLine = readFileSync(logFile, 'utf8').trim().split('\n').at(-1) ?? '{}';
    assert.equal(JSON.parse(lastLine).msg, `${name} stopped`, `${name}'s last log line: ${lastLine.slice(0, 600)}`);
  }
  assert.ok(atSigterm < CONVERSATIONS, `SIGTERM came after all ${CONVERSATIONS} were stored`);
  await Promise.all(SERVICE_NAMES.map((name) => stack.startService(name)));
  const settled = await stack.settle(expected, SETTLE_TIMEOUT_MS);
  stored.stop();
  await assertExact(
    'SIGTERM on all five',
    settled,
    `SIGTERM at ${atSigterm}/${CONVERSATIONS} stored, ${atStop} by the exits, all exit 0 in ${(stopMs / 1000).toFixed(1)} s`,
  );
  // Well inside testkit's 20 s before SIGKILL: in-flight work finished or was handed back.
  assert.ok(stopMs < 10_000, `stopping took ${stopMs} ms`);
  assert.ok(settled.ms < RECOVERY_LIMIT_MS, `recovery took ${settled.ms} ms`);
});

const NATS_DOWN_MS = 5_000;

faultTest(
  'nats-server restarted while segmentation and graph work: they say NOT_SERVING, reconnect, and nothing is lost or doubled',
  async () => {
    await stack.fresh();
    await upload();
    const stored = countEvents(SUBJECTS.graphStored);
    await stored.reached(STRIKE_AFTER);
    const atStop = stored.count;
    await stack.stopNats();
    await new Promise((r) => setTimeout(r, NATS_DOWN_MS / 2));
    const healthWhileDown = `segmentation ${await stack.health('segmentation')}, graph ${await stack.health('graph')}`;
    await new Promise((r) => setTimeout(r, NATS_DOWN_MS / 2));
    await stack.startNats();
    const settled = await stack.settle(expected, SETTLE_TIMEOUT_MS);
    stored.stop();
    await assertExact(
      `nats-server restart (${NATS_DOWN_MS / 1000} s down)`,
      settled,
      `stopped at ${atStop}/${CONVERSATIONS} stored; ${healthWhileDown} while down`,
    );
    assert.equal(healthWhileDown, 'segmentation NOT_SERVING, graph NOT_SERVING');
    assert.ok(settled.ms < RECOVERY_LIMIT_MS, `recovery took ${settled.ms} ms`);
  },
);

faultTest(
  'nats-server restarted while ingestion publishes an upload: the upload completes or fails, and nothing it accepted is lost',
  async () => {
    await stack.fresh();
    const ingested = countEvents(SUBJECTS.conversationIngested);
    let outcome = 'pending';
    const uploading = upload().then(
      (r) => {
        const skipped = r.report?.skipped.map((s) => `${s.fileName} ${s.place}: ${s.message}`).join('; ');
        outcome = `ok, ${r.report?.conversationsNew} new${skipped ? `, skipped ${skipped}` : ''}`;
        return r;
      },
      (err: Error) => {
        outcome = `failed: ${err.message}`;
        return undefined;
      },
    );
    await ingested.reached(1);
    const atStop = ingested.count;
    const outcomeAtStop = outcome;
    await stack.stopNats();
    await new Promise((r) => setTimeout(r, NATS_DOWN_MS));
    await stack.startNats();
    const restarted = Date.now();
    const result = await uploading;
    // An upload that failed is one its client knows to send again; one that succeeded must be whole.
    if (!result) await upload();
    // Short: when conversations were lost the queues drain without them, and this only waits.
    const settleFrom = Date.now();
    const settled = await stack.settle(expected, 30_000);
    ingested.stop();
    await assertExact(
      `nats-server restart during the upload`,
      { ...settled, ms: settleFrom - restarted + settled.ms },
      `stopped at ${atStop}/${CONVERSATIONS} ingested, upload ${outcomeAtStop}, then ${outcome.slice(0, 160)}`,
    );
  },
);

faultTest('Neo4j stopped for 20 s during writes: graph says NOT_SERVING meanwhile, then SERVING, and catches up', async () => {
  await stack.fresh();
  const stored = countEvents(SUBJECTS.graphStored);
  const uploading = upload();
  await stored.reached(STRIKE_AFTER);
  const atStop = stored.count;
  const health: { at: number; status: string }[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      health.push({ at: Date.now(), status: await stack.health('graph') });
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const stopping = Date.now();
  await stack.stopNeo4j();
  // From here Neo4j's process is gone (a clean stop first drains its own transactions).
  const stopped = Date.now();
  await uploading;
  await new Promise((r) => setTimeout(r, Math.max(0, 20_000 - (Date.now() - stopped))));
  // One probe interval and one health poll after the process went.
  const duringOutage = health.filter((h) => h.at > stopped + 1_500).map((h) => h.status);
  await stack.startNeo4j();
  const back = Date.now();
  await until(
    'graph SERVING again',
    () => {
      const last = health.at(-1);
      return last && last.status === 'SERVING' && last.at > back ? true : undefined;
    },
    30_000,
  ).catch(() => undefined);
  const settleFrom = Date.now();
  const settled = await stack.settle(expected, SETTLE_TIMEOUT_MS);
  watching = false;
  await watcher;
  stored.stop();
  const notServing = duringOutage.filter((s) => s === 'NOT_SERVING').length;
  await assertExact(
    'Neo4j down 20 s',
    { ...settled, ms: settleFrom - back + settled.ms },
    `stopped at ${atStop}/${CONVERSATIONS} stored (stop took ${((stopped - stopping) / 1000).toFixed(1)} s); health while down: ${notServing}/${duringOutage.length} NOT_SERVING`,
  );
  assert.ok(duringOutage.length > 0 && duringOutage.every((s) => s === 'NOT_SERVING'), `health during the outage: ${duringOutage}`);
  assert.equal(health.at(-1)?.status, 'SERVING');
});
