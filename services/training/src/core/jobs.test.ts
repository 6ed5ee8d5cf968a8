import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatasetManifest, TrainingJobState } from '@trajectory/contracts';
import { admitDataset, DatasetRefused, InvalidJobRequest, jobId, newQueuedJob, stateSubject } from './jobs.js';

test('a job is queued with the default base model and an id derived from dataset and model', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const job = newQueuedJob({ datasetId: 'd1', datasetPath: '/data/d1.jsonl', baseModel: '' }, 'Qwen/Qwen2.5-7B-Instruct', now);
  assert.equal(job.state, TrainingJobState.TRAINING_JOB_STATE_QUEUED);
  assert.equal(job.baseModel, 'Qwen/Qwen2.5-7B-Instruct');
  assert.equal(job.jobId, jobId('d1', 'Qwen/Qwen2.5-7B-Instruct'));
  assert.notEqual(job.jobId, jobId('d1', 'other/model'));
  assert.equal(stateSubject(job.state), 'queued');
});

test('a request without a dataset is refused', () => {
  assert.throws(() => newQueuedJob({ datasetId: '', datasetPath: '/x', baseModel: '' }, 'm', new Date()), InvalidJobRequest);
  assert.throws(() => newQueuedJob({ datasetId: 'd', datasetPath: '', baseModel: '' }, 'm', new Date()), /dataset_path/);
});

test('a dataset is admitted only when every gate passed; a refusal names the failed gates and why', () => {
  assert.throws(
    () => admitDataset('d0', undefined),
    (err: Error) => err instanceof DatasetRefused && /not in the dataset registry/.test(err.message),
  );
  const failed = DatasetManifest.fromPartial({
    datasetId: 'd1',
    version: 3,
    gatesPassed: false,
    gates: [
      { name: 'schema', passed: true, reason: '' },
      { name: 'uniqueness', passed: false, reason: 'chat outputs 0.10 distinct < 0.25' },
      { name: 'eval-split', passed: false, reason: 'no follow-up case in the eval split' },
    ],
  });
  assert.throws(
    () => admitDataset('d1', failed),
    (err: Error) =>
      err instanceof DatasetRefused &&
      err.message ===
        'dataset d1 (version 3) failed its quality gates: uniqueness: chat outputs 0.10 distinct < 0.25; eval-split: no follow-up case in the eval split',
  );
  const passed = DatasetManifest.fromPartial({ datasetId: 'd2', gatesPassed: true, path: '/data/d2/records.jsonl' });
  assert.equal(admitDataset('d2', passed).path, '/data/d2/records.jsonl');
});
