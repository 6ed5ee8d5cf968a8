import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrainingJobState } from '@trajectory/contracts';
import { InvalidJobRequest, jobId, newQueuedJob, stateSubject } from './jobs.js';

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
