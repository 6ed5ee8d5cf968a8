import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Adapter, SpotCheckStatus, TrainingJob, TrainingJobState } from '@trajectory/contracts';
import { formatAdapter, formatDuration, formatJob, isJobEnded, spotCheckWaiting } from './training.js';

test('durations read as seconds, minutes or hours', () => {
  assert.equal(formatDuration(42), '42s');
  assert.equal(formatDuration(125), '2m05s');
  assert.equal(formatDuration(3 * 3600 + 7 * 60), '3h07m');
  assert.equal(formatDuration(-3), '0s');
});

test('a job line shows the state and, while it trains, step, loss, learning rate, speed and ETA', () => {
  const queued = TrainingJob.fromPartial({
    jobId: 'j1',
    datasetId: 'd1',
    datasetVersion: 2,
    baseModel: 'Qwen/Qwen2.5-7B-Instruct',
    state: TrainingJobState.TRAINING_JOB_STATE_QUEUED,
    message: 'waiting for a GPU trainer',
  });
  assert.equal(formatJob(queued), 'job j1  queued     dataset d1 v2  on Qwen/Qwen2.5-7B-Instruct  — waiting for a GPU trainer');
  const running = TrainingJob.fromPartial({
    ...queued,
    state: TrainingJobState.TRAINING_JOB_STATE_RUNNING,
    message: '',
    attempt: 2,
    progress: {
      step: 12,
      totalSteps: 40,
      epoch: 1.5,
      loss: 1.23456,
      learningRate: 0.00021,
      tokensPerSecond: 3120.4,
      etaSeconds: 65,
      resumedFromStep: 10,
    },
  });
  assert.equal(
    formatJob(running),
    'job j1  running    dataset d1 v2  on Qwen/Qwen2.5-7B-Instruct  step 12/40 (30%)  epoch 1.50  loss 1.2346  lr 2.10e-4  3120 tok/s  eta 1m05s  resumed at 10  attempt 2',
  );
  const done = TrainingJob.fromPartial({
    ...running,
    state: TrainingJobState.TRAINING_JOB_STATE_SUCCEEDED,
    attempt: 1,
    adapterId: 'a1',
    recall: { accuracy: 0.925 },
  });
  assert.match(formatJob(done), /succeeded .* step 12\/40 .*adapter a1 {2}recall 92\.5%$/);
  assert.doesNotMatch(formatJob(done), /eta/, 'no ETA once it ended');
  assert.ok(isJobEnded(done.state));
  assert.ok(!isJobEnded(running.state));
});

test('an adapter line names its job, dataset, base, loss, recall and size', () => {
  const adapter = Adapter.fromPartial({
    adapterId: 'a1',
    jobId: 'j1',
    datasetId: 'd1',
    datasetVersion: 2,
    baseModel: 'tiny-random-qwen2',
    metrics: { train_loss: 0.5 },
    recall: { accuracy: 0.8 },
    files: [
      { name: 'adapter_config.json', sha256: 'x', size: 1024 * 1024 },
      { name: 'adapter_model.safetensors', sha256: 'y', size: 2 * 1024 * 1024 },
    ],
    createdAt: new Date('2026-03-01T12:00:00Z'),
  });
  assert.equal(
    formatAdapter(adapter),
    'adapter a1  job j1  dataset d1 v2  base tiny-random-qwen2  train_loss 0.5000  recall 80.0%  2 files, 3.0 MB  2026-03-01T12:00:00.000Z',
  );
});

test('a job queued over the spot-check says so; a run waiting for the spot-check says where to judge it', () => {
  const job = TrainingJob.fromPartial({
    jobId: 'j2',
    datasetId: 'd2',
    baseModel: 'm',
    state: TrainingJobState.TRAINING_JOB_STATE_QUEUED,
    spotCheckOverridden: true,
    spotCheckStatus: 'spot-check 3/100 judged',
  });
  assert.match(formatJob(job), /on m {2}spot-check overridden \(spot-check 3\/100 judged\)/);
  const waiting = spotCheckWaiting('d2', SpotCheckStatus.fromPartial({ summary: 'spot-check 0/100 judged' }), {
    TRAJECTORY_WEB_PORT: '6000',
  });
  assert.equal(
    waiting.split('\n')[0],
    'training waits for the spot-check: spot-check 0/100 judged: open http://127.0.0.1:6000/spot-check?dataset=d2',
  );
  assert.match(waiting, /trajectory train d2 --override-spot-check/);
});
