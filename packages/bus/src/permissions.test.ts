import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NATS_USER_ACCESS, natsPasswordVariable, natsPermissions, natsUsers } from './permissions.js';
import { SUBJECTS, WORK_QUEUES, type WorkQueueSpec } from './topology.js';

const allowed = (user: string) => {
  const perms = natsUsers().find((u) => u.user === user)?.permissions;
  assert.ok(perms, user);
  return { publish: 'allow' in perms.publish ? perms.publish.allow : [], subscribe: perms.subscribe.allow };
};

test('every event subject has a publisher, and every work queue exactly one consumer', () => {
  const events = [
    SUBJECTS.conversationIngested,
    SUBJECTS.conversationSegmented,
    SUBJECTS.graphStored,
    SUBJECTS.datasetBuilt,
    ...['queued', 'running', 'progress', 'succeeded', 'failed', 'cancelled'].map(SUBJECTS.training),
    SUBJECTS.adapterPublished,
  ];
  const users = natsUsers();
  for (const subject of events) {
    assert.ok(
      users.some((u) => 'allow' in u.permissions.publish && u.permissions.publish.allow.includes(subject)),
      `nobody may publish ${subject}`,
    );
  }
  for (const queue of Object.values(WORK_QUEUES)) {
    const consumers = Object.entries(NATS_USER_ACCESS).filter(([, a]) => (a.consumes as WorkQueueSpec[]).includes(queue));
    assert.equal(consumers.length, 1, `${queue.durable}: ${consumers.map(([u]) => u)}`);
    const [user] = consumers[0] as [string, unknown];
    assert.ok(allowed(user).publish.includes(`$JS.ACK.${queue.stream}.${queue.durable}.>`), `${user} acks ${queue.durable}`);
  }
});

test('no user may publish with a wildcard that reaches past its own subjects', () => {
  for (const { user, permissions } of natsUsers()) {
    for (const subject of 'allow' in permissions.publish ? permissions.publish.allow : []) {
      assert.ok(!/^(>|\$JS\.API\.>|\$KV\.>|\$O\.>|trajectory\.>)$/.test(subject) && !subject.includes('*.>'), `${user}: ${subject}`);
      assert.ok(!subject.startsWith('$JS.API.*') && !subject.startsWith('$JS.API.STREAM.*'), `${user}: ${subject}`);
    }
  }
});

test('a user that publishes nothing is denied everything (an empty allow list would allow it all)', () => {
  for (const user of ['cli', 'observer']) {
    const perms = natsUsers().find((u) => u.user === user)?.permissions;
    assert.deepEqual(perms?.publish, { deny: ['>'] });
    assert.deepEqual(perms?.subscribe, { allow: ['trajectory.>'] });
  }
  assert.deepEqual(natsPermissions({ ...NATS_USER_ACCESS.observer, subscribes: [] }).subscribe, { allow: [] });
});

test('services open JetStream through nats.js, the trainer through nats-py: each gets its own client’s API subjects', () => {
  assert.ok(allowed('ingestion').publish.includes('$JS.API.INFO'));
  assert.ok(!allowed('trainer').publish.includes('$JS.API.INFO'));
  // The trainer binds to the queue the training service declares: it never creates it.
  assert.ok(allowed('training').publish.includes(`$JS.API.CONSUMER.CREATE.TRAJECTORY_EVENTS.${WORK_QUEUES.trainer.durable}.>`));
  assert.ok(!allowed('trainer').publish.some((s) => s.startsWith('$JS.API.CONSUMER.CREATE.TRAJECTORY_EVENTS')));
  assert.ok(!allowed('trainer').publish.some((s) => s.startsWith('$JS.API.STREAM.CREATE.TRAJECTORY')));
});

test('password variables are named after the user', () => {
  assert.equal(natsPasswordVariable('ingestion'), 'INGESTION_NATS_PASSWORD');
  assert.equal(natsPasswordVariable('graph-writer'), 'GRAPH_WRITER_NATS_PASSWORD');
});

test('a reader of an object store may answer its flow control (large objects stall without it)', () => {
  for (const [user, access] of Object.entries(NATS_USER_ACCESS)) {
    for (const bucket of Object.keys(access.objects)) {
      assert.ok(allowed(user).publish.includes(`$JS.FC.OBJ_${bucket}.>`), `${user} answers flow control of ${bucket}`);
    }
  }
});
