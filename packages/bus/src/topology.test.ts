import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nanos } from '@nats-io/nats-core';
import { CLAIM_BUCKET, CLAIM_CHECK_HEADER } from './events.js';
import { BUCKETS, STREAMS, SUBJECTS, WORK_QUEUES } from './topology.js';
import topology from './topology.json' with { type: 'json' };

// Run from dist/: tsc copies topology.json there; the source and the trainer's link are in the checkout.
const SOURCE = fileURLToPath(new URL('../src/topology.json', import.meta.url));
const TRAINER_COPY = fileURLToPath(new URL('../../../trainer-gpu/src/trajectory_trainer/topology.json', import.meta.url));

/** Whether a NATS subject filter (`*` one token, `>` the rest) covers a subject or a narrower filter. */
function covers(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

test('the built module reads the file it was built from, and the trainer reads that same file', () => {
  // tsc writes the file out again (its own indentation): compare what it holds.
  const built = JSON.parse(readFileSync(new URL('./topology.json', import.meta.url), 'utf8'));
  assert.deepEqual(built, JSON.parse(readFileSync(SOURCE, 'utf8')), 'dist/topology.json is stale: build @trajectory/bus');
  // trainer-gpu/src/trajectory_trainer/topology.json is a link to this package's file, not a copy.
  assert.equal(realpathSync(TRAINER_COPY), realpathSync(SOURCE));
});

test('the exports are the file', () => {
  assert.equal(SUBJECTS.conversationIngested, topology.subjects.conversationIngested);
  assert.equal(SUBJECTS.training('queued'), 'trajectory.training.queued');
  assert.equal(SUBJECTS.deadLetter('graph-writer'), 'trajectory.dlq.graph-writer');
  assert.deepEqual(WORK_QUEUES, topology.workQueues);
  assert.deepEqual(BUCKETS, topology.buckets);
  assert.equal(CLAIM_BUCKET, topology.buckets.claims);
  assert.equal(CLAIM_CHECK_HEADER, topology.claimCheckHeader);
  assert.deepEqual(Object.keys(STREAMS), Object.keys(topology.streams));
  for (const [key, spec] of Object.entries(topology.streams)) {
    const stream = STREAMS[key as keyof typeof STREAMS];
    assert.equal(stream.name, spec.name);
    assert.deepEqual(stream.subjects, spec.subjects);
    assert.equal(stream.max_age, nanos(spec.maxAgeDays * 24 * 60 * 60 * 1000));
    assert.equal(stream.duplicate_window, nanos(spec.duplicateWindowMs));
  }
});

test('every subject and work queue falls in a stream: the file names them apart, so nothing else ties them', () => {
  const streamOf = (subject: string) => Object.values(STREAMS).filter((s) => s.subjects.some((f) => covers(f, subject)));
  for (const subject of [
    SUBJECTS.conversationIngested,
    SUBJECTS.conversationSegmented,
    SUBJECTS.graphStored,
    SUBJECTS.datasetBuilt,
    SUBJECTS.training('queued'),
    SUBJECTS.adapterPublished,
  ]) {
    assert.deepEqual(
      streamOf(subject).map((s) => s.name),
      [STREAMS.events.name],
      subject,
    );
  }
  assert.deepEqual(
    streamOf(SUBJECTS.deadLetter('trainer')).map((s) => s.name),
    [STREAMS.deadLetters.name],
  );
  for (const queue of Object.values(WORK_QUEUES)) {
    const stream = Object.values(STREAMS).find((s) => s.name === queue.stream);
    assert.ok(stream, `${queue.durable}: no stream ${queue.stream}`);
    assert.ok(
      stream.subjects.some((f) => covers(f, queue.filterSubject)),
      `${queue.durable}: ${queue.filterSubject} is outside ${queue.stream}`,
    );
  }
  assert.equal(WORK_QUEUES.segmentation.filterSubject, SUBJECTS.conversationIngested);
  assert.equal(WORK_QUEUES.graph.filterSubject, SUBJECTS.conversationSegmented);
  assert.equal(WORK_QUEUES.trainer.filterSubject, SUBJECTS.training('queued'));
  assert.equal(WORK_QUEUES.trainingRegistry.filterSubject, SUBJECTS.training('>'));
});
