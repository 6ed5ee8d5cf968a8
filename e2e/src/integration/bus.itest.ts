import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  type Bus,
  CLAIM_CHECK_HEADER,
  connectBus,
  decodeEvent,
  ensureStreams,
  publishEvent,
  STREAMS,
  startWorker,
  type WorkQueueSpec,
} from '@trajectory/bus';
import { DeadLetter, GraphStored } from '@trajectory/contracts';
import { startTestBus, startTestNats, startTestServers, type TestServers } from '@trajectory/testkit';

let servers: TestServers;
let bus: Bus;

before(async () => {
  ({ servers, bus } = await startTestBus('admin', 'bus-itest'));
});

after(async () => {
  await bus?.close();
  await servers?.stop();
});

function testQueue(overrides: Partial<WorkQueueSpec> = {}): WorkQueueSpec {
  const id = randomUUID().slice(0, 8);
  return {
    stream: STREAMS.events.name,
    durable: `itest-${id}`,
    filterSubject: `trajectory.graph.itest-${id}`,
    maxDeliver: 3,
    backoffMs: [50],
    ackWaitMs: 5_000,
    maxAckPending: 16,
    ...overrides,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What a fresh worker on `q` takes (conversation ids) by the time it has taken something, or
 * within 3 s; the worker is stopped before this returns.
 */
async function firstTaken(q: WorkQueueSpec): Promise<string[]> {
  const got: string[] = [];
  const worker = await startWorker({
    bus,
    queue: q,
    codec: GraphStored,
    async handle(event) {
      got.push(event.conversationId);
    },
  });
  try {
    const deadline = Date.now() + 3_000;
    while (got.length === 0 && Date.now() < deadline) await sleep(20);
    return [...got];
  } finally {
    await worker.stop();
  }
}

const stored = (conversationId: string): GraphStored => ({
  ingestId: 'i',
  conversationId,
  contentHash: 'h',
  messageCount: 1,
  nodeCount: 1,
  edgeCount: 0,
});

async function deadLetters(consumer: string, expected: number): Promise<DeadLetter[]> {
  const c = await bus.js.consumers.get(STREAMS.deadLetters.name, { filter_subjects: `trajectory.dlq.${consumer}` });
  const out: DeadLetter[] = [];
  const messages = await c.fetch({ max_messages: expected, expires: 5_000 });
  for await (const m of messages) out.push(DeadLetter.fromJSON(m.json()));
  return out;
}

test('declaring streams is idempotent, also from concurrent processes', async () => {
  const jsm = await jetstreamManager(bus.nc);
  await Promise.all([ensureStreams(jsm), ensureStreams(jsm), ensureStreams(jsm)]);
  const names: string[] = [];
  for await (const name of jsm.streams.names()) names.push(name);
  assert.ok(names.includes(STREAMS.events.name) && names.includes(STREAMS.deadLetters.name));
});

test('publishing twice with the same message id stores it once', async () => {
  const q = testQueue();
  const a = await publishEvent(bus, q.filterSubject, GraphStored, stored('x'), `dedupe-${q.durable}`);
  const b = await publishEvent(bus, q.filterSubject, GraphStored, stored('x'), `dedupe-${q.durable}`);
  assert.equal(a.duplicate, false);
  assert.equal(b.duplicate, true);
  assert.equal(a.seq, b.seq);
});

test('a failing handler is retried with backoff and the message is acked once it succeeds', async () => {
  const q = testQueue({ maxDeliver: 5 });
  const attempts: number[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const worker = await startWorker({
    bus,
    queue: q,
    codec: GraphStored,
    async handle(_event, meta) {
      attempts.push(meta.deliveries);
      if (meta.deliveries < 3) throw new Error('transient');
      done();
    },
  });
  await publishEvent(bus, q.filterSubject, GraphStored, stored('retry'), randomUUID());
  await finished;
  await worker.stop();
  assert.deepEqual(attempts, [1, 2, 3]);
  // An ack is a fire-and-forget publish: the server takes it a moment after the worker sent it.
  const deadline = Date.now() + 2_000;
  let info = await bus.jsm.consumers.info(q.stream, q.durable);
  while (info.num_ack_pending > 0 && Date.now() < deadline) {
    await sleep(20);
    info = await bus.jsm.consumers.info(q.stream, q.durable);
  }
  assert.equal(info.num_ack_pending, 0);
  assert.equal(info.num_pending, 0);
});

test('after max_deliver failures the message goes to the dead-letter stream and the queue moves on', async () => {
  const q = testQueue({ maxDeliver: 3 });
  const handled: string[] = [];
  const worker = await startWorker({
    bus,
    queue: q,
    codec: GraphStored,
    batch: 1,
    async handle(event) {
      if (event.conversationId === 'poison') throw new Error('cannot store this one');
      handled.push(event.conversationId);
    },
  });
  await publishEvent(bus, q.filterSubject, GraphStored, stored('poison'), randomUUID());
  await publishEvent(bus, q.filterSubject, GraphStored, stored('fine'), randomUUID());
  // Not JSON at all: dead-lettered on the first delivery.
  await bus.js.publish(q.filterSubject, new Uint8Array([0xff, 0xfe, 0x00]));
  const letters = await deadLetters(q.durable, 2);
  await worker.stop();
  assert.deepEqual(handled, ['fine']);
  const byError = new Map(letters.map((l) => [l.error, l]));
  const exhausted = byError.get('cannot store this one');
  assert.equal(exhausted?.deliveries, 3);
  assert.equal(exhausted?.originalSubject, q.filterSubject);
  assert.equal(JSON.parse(exhausted?.payload ?? '{}').conversationId, 'poison');
  const poison = letters.find((l) => l.error === 'payload is not UTF-8');
  assert.equal(poison?.deliveries, 1);
  assert.equal(poison?.payloadBase64, true);
});

test('an event larger than max_payload travels by claim check through the object store', async () => {
  const small = await startTestServers({ natsMaxPayload: 64 * 1024 });
  const smallBus = await connectBus(small.nats.busOptions('admin', 'claim-check'));
  try {
    const q = testQueue();
    const big = { ...stored('big'), contentHash: 'x'.repeat(300 * 1024) };
    const result = await publishEvent(smallBus, q.filterSubject, GraphStored, big, randomUUID());
    assert.equal(result.claimChecked, true);
    const raw = await smallBus.jsm.streams.getMessage(STREAMS.events.name, { seq: result.seq });
    assert.equal(raw?.header.get(CLAIM_CHECK_HEADER), '1');
    assert.ok((raw?.data.length ?? Infinity) < 1024);
    const decoded = await decodeEvent(smallBus, GraphStored, raw?.data ?? new Uint8Array(), raw?.header);
    assert.equal(decoded.contentHash.length, 300 * 1024);
  } finally {
    await smallBus.close();
    await small.stop();
  }
});

test('a dead-lettered message is terminated: it is not redelivered, whatever the server version', async () => {
  const q = testQueue({ ackWaitMs: 1_000 });
  let deliveries = 0;
  const worker = await startWorker({
    bus,
    queue: q,
    codec: GraphStored,
    async handle() {
      deliveries++;
    },
  });
  try {
    await bus.js.publish(q.filterSubject, new TextEncoder().encode('not json'));
    assert.equal((await deadLetters(q.durable, 1)).length, 1);
    // Several ack windows: a termination the server did not take would have come back by now.
    await sleep(3_000);
    const info = await bus.jsm.consumers.info(q.stream, q.durable);
    assert.equal(info.num_ack_pending, 0, 'the poison message is still pending');
    assert.equal(info.num_redelivered, 0);
    assert.equal(deliveries, 0);
  } finally {
    await worker.stop();
  }
});

test('a busy worker pulls nothing it cannot start: the next message goes to an idle worker at once', async () => {
  const q = testQueue({ ackWaitMs: 30_000 });
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  const busyStarted: string[] = [];
  const busy = await startWorker({
    bus,
    queue: q,
    codec: GraphStored,
    batch: 2,
    async handle(event) {
      busyStarted.push(event.conversationId);
      await released;
    },
  });
  try {
    for (const id of ['first', 'second']) await publishEvent(bus, q.filterSubject, GraphStored, stored(id), randomUUID());
    while (busyStarted.length < 2) await sleep(20);
    await publishEvent(bus, q.filterSubject, GraphStored, stored('third'), randomUUID());
    // Time for the busy worker to take the third message, had it asked for more than it can start.
    await sleep(500);
    assert.deepEqual(await firstTaken(q), ['third'], 'the third message waited inside the busy worker');
  } finally {
    release();
    await busy.stop();
  }
});

// A stop() that waits for the handler never returns: the timeout turns that into a failure.
test('stop() hands back a message whose handler does not finish within the grace, and another worker gets it at once', {
  timeout: 10_000,
}, async () => {
  const q = testQueue({ ackWaitMs: 30_000 });
  let started = false;
  const stuck = await startWorker({
    bus,
    queue: q,
    codec: GraphStored,
    stopGraceMs: 500,
    async handle() {
      started = true;
      await new Promise(() => {});
    },
  });
  await publishEvent(bus, q.filterSubject, GraphStored, stored('in flight'), randomUUID());
  while (!started) await sleep(20);
  const stopping = Date.now();
  await stuck.stop();
  const stopMs = Date.now() - stopping;
  assert.ok(stopMs < 2_000, `stop() took ${stopMs} ms`);
  // Well inside the 30 s ack window: it was handed back, not abandoned. (Its delivery count
  // says little: nats-server 2.9 rewinds a nak'd last delivery and counts it as a first one.)
  assert.deepEqual(await firstTaken(q), ['in flight']);
});

test('a publish made while nats-server restarts lands once it is back, once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bus-restart-'));
  let nats = await startTestNats({ dataDir: dir });
  const restartBus = await connectBus(nats.nats.busOptions('admin', 'bus-restart'));
  try {
    const subject = 'trajectory.graph.itest-restart';
    await nats.stop();
    const publishing = publishEvent(restartBus, subject, GraphStored, stored('during restart'), 'restart-1');
    // Longer than one publish request's 5 s timeout.
    await sleep(6_000);
    nats = await startTestNats({ dataDir: dir, port: nats.port });
    const result = await publishing;
    const again = await publishEvent(restartBus, subject, GraphStored, stored('during restart'), 'restart-1');
    assert.equal(again.duplicate, true);
    assert.equal(again.seq, result.seq);
  } finally {
    await restartBus.close();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
