// NATS with credentials on every door: each service, the trainer, the CLI and the observer log in
// as their own user, and the server holds each to the subjects packages/bus derives for it. A real
// nats-server (the harness's, auth on), no fake.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type Bus, connectBus, publishEvent, STREAMS, SUBJECTS, startWorker, WORK_QUEUES } from '@trajectory/bus';
import { ConversationSegmented } from '@trajectory/contracts';
import { startTestBus, startTestNats, type TestNatsUser, type TestServers } from '@trajectory/testkit';

let servers: TestServers;
let admin: Bus;

before(async () => {
  // The streams exist before any user without the right to create them publishes.
  ({ servers, bus: admin } = await startTestBus('admin', 'auth-itest-admin'));
});

after(async () => {
  await admin?.close();
  await servers?.stop();
});

/** Who may publish which event, as the README's table of events says; nobody else may. */
const PUBLISHERS: Record<string, TestNatsUser[]> = {
  [SUBJECTS.conversationIngested]: ['ingestion'],
  [SUBJECTS.conversationSegmented]: ['segmentation'],
  [SUBJECTS.graphStored]: ['graph'],
  [SUBJECTS.datasetBuilt]: ['samples'],
  [SUBJECTS.training('queued')]: ['training'],
  [SUBJECTS.training('cancelled')]: ['training'],
  [SUBJECTS.training('running')]: ['trainer'],
  [SUBJECTS.training('progress')]: ['trainer'],
  [SUBJECTS.training('succeeded')]: ['trainer'],
  [SUBJECTS.training('failed')]: ['trainer', 'training'],
  [SUBJECTS.adapterPublished]: ['training'],
};
const USERS: TestNatsUser[] = ['ingestion', 'segmentation', 'graph', 'samples', 'training', 'trainer', 'cli', 'observer'];

const isPermissionViolation = (err: unknown) => /Permissions Violation/.test(`${(err as Error).message} ${(err as Error).cause ?? ''}`);

/** A JetStream publish as `user` (a plain connection: the trainer has no right to declare streams). */
async function publishAs(nc: NatsConnection, subject: string): Promise<'stored' | 'refused'> {
  try {
    await jetstream(nc).publish(subject, JSON.stringify({ probe: subject }), { msgID: randomUUID() });
    return 'stored';
  } catch (err) {
    if (isPermissionViolation(err)) return 'refused';
    throw err;
  }
}

async function eventsOn(subject: string): Promise<number> {
  const info = await admin.jsm.streams.info(STREAMS.events.name, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

test('a client without credentials is refused', async () => {
  await assert.rejects(connect({ servers: servers.natsUrl, maxReconnectAttempts: 0 }), /Authorization Violation/);
});

test('a wrong password is refused', async () => {
  const login = servers.nats.connectOptions('segmentation');
  await assert.rejects(connect({ ...login, pass: `${login.pass}x`, maxReconnectAttempts: 0 }), /Authorization Violation/);
});

test('the segmentation user may not publish on the ingestion subject; the ingestion user may', async () => {
  const before = await eventsOn(SUBJECTS.conversationIngested);
  const segmentation = await connect(servers.nats.connectOptions('segmentation'));
  const ingestion = await connect(servers.nats.connectOptions('ingestion'));
  try {
    await assert.rejects(jetstream(segmentation).publish(SUBJECTS.conversationIngested, '{}', { msgID: randomUUID() }), (err) => {
      assert.ok(isPermissionViolation(err), `${err}`);
      return true;
    });
    const ack = await jetstream(ingestion).publish(SUBJECTS.conversationIngested, '{}', { msgID: randomUUID() });
    assert.equal(ack.stream, STREAMS.events.name);
    assert.equal(await eventsOn(SUBJECTS.conversationIngested), before + 1, 'only the ingestion user’s event is in the stream');
  } finally {
    await Promise.all([segmentation.close(), ingestion.close()]);
  }
});

test('every user publishes exactly the events it owns: each other event subject is refused', async () => {
  for (const user of USERS) {
    const nc = await connect(servers.nats.connectOptions(user));
    try {
      for (const [subject, publishers] of Object.entries(PUBLISHERS)) {
        const expected = publishers.includes(user) ? 'stored' : 'refused';
        assert.equal(await publishAs(nc, subject), expected, `${user} on ${subject}`);
      }
      // Dead letters only on its own consumer's subject (the workers and the trainer have one).
      assert.equal(await publishAs(nc, SUBJECTS.deadLetter('some-other-consumer')), 'refused', `${user} on another's dead letters`);
    } finally {
      await nc.close();
    }
  }
});

test('a service may not read another service’s work queue, nor subscribe to its events', async () => {
  const graph = await connect(servers.nats.connectOptions('graph'));
  try {
    // The segmentation queue's next-message request is segmentation's alone.
    const q = WORK_QUEUES.segmentation;
    await assert.rejects(graph.request(`$JS.API.CONSUMER.MSG.NEXT.${q.stream}.${q.durable}`, '{"batch":1}'), (err) => {
      assert.ok(isPermissionViolation(err), `${err}`);
      return true;
    });
    const sub = graph.subscribe(SUBJECTS.conversationIngested);
    await assert.rejects(
      (async () => {
        for await (const _ of sub) break;
      })(),
      /Permissions Violation for Subscription/,
    );
  } finally {
    await graph.close();
  }
});

test('the observer sees the pipeline’s events and can publish nothing, not even to JetStream’s API', async () => {
  const observer = await connect(servers.nats.connectOptions('observer'));
  const ingestion = await connect(servers.nats.connectOptions('ingestion'));
  try {
    const seen: string[] = [];
    const sub = observer.subscribe('trajectory.>', {
      callback: (_err, msg) => {
        seen.push(msg.subject);
      },
    });
    await observer.flush();
    await jetstream(ingestion).publish(SUBJECTS.conversationIngested, '{"for":"the observer"}', { msgID: randomUUID() });
    const deadline = Date.now() + 5_000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(seen, [SUBJECTS.conversationIngested]);
    sub.unsubscribe();
    assert.equal(await publishAs(observer, SUBJECTS.conversationIngested), 'refused');
    await assert.rejects(observer.request('$JS.API.INFO', ''), (err) => {
      assert.ok(isPermissionViolation(err), `${err}`);
      return true;
    });
  } finally {
    await Promise.all([observer.close(), ingestion.close()]);
  }
});

test('an event past max_payload goes by claim check with the publisher’s and the consumer’s own rights', async () => {
  // A NATS of this test's own, with a small max_payload: segmentation writes the claim, graph
  // reads it through its work queue, each as its own user.
  const dir = mkdtempSync(join(tmpdir(), 'auth-claims-'));
  const nats = await startTestNats({ dataDir: dir, maxPayload: 64 * 1024 });
  const segmentation = await connectBus(nats.nats.busOptions('segmentation', 'auth-itest-segmentation'));
  const graph = await connectBus(nats.nats.busOptions('graph', 'auth-itest-graph'));
  try {
    const event = ConversationSegmented.fromPartial({ ingestId: 'big', contentHash: 'x'.repeat(200 * 1024), segmenter: 'itest' });
    const result = await publishEvent(segmentation, SUBJECTS.conversationSegmented, ConversationSegmented, event, randomUUID());
    assert.equal(result.claimChecked, true);
    let deliver: (e: ConversationSegmented) => void = () => {};
    const received = new Promise<ConversationSegmented>((resolve) => {
      deliver = resolve;
    });
    const worker = await startWorker({
      bus: graph,
      queue: WORK_QUEUES.graph,
      codec: ConversationSegmented,
      handle: async (e) => deliver(e),
    });
    try {
      assert.equal((await received).contentHash.length, 200 * 1024);
    } finally {
      await worker.stop();
    }
  } finally {
    await Promise.all([segmentation.close(), graph.close()]);
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
