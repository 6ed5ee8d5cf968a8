import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DatasetManifest, SpotCheckVerdict, type TrainingJob, TrainingJobChanged, TrainingJobState } from '@trajectory/contracts';
import {
  admitDataset,
  admitSpotCheck,
  applyEvent,
  cancelEvent,
  DatasetRefused,
  DEFAULT_HYPERPARAMETERS,
  eventFromSubject,
  failedEvent,
  fillHyperparameters,
  InvalidJobRequest,
  isTerminal,
  jobId,
  newQueuedJob,
  SpotCheckPending,
  stateSubject,
  trainingMsgId,
} from './jobs.js';

const S = TrainingJobState;
const T0 = new Date('2026-01-01T00:00:00Z');
const T1 = new Date('2026-01-01T00:01:00Z');
const BASE = 'Qwen/Qwen2.5-7B-Instruct';

const queued = (over: Partial<Parameters<typeof newQueuedJob>[0]> = {}) =>
  newQueuedJob({ datasetId: 'd1', datasetPath: '/data/d1.jsonl', baseModel: '', ...over }, { baseModel: BASE, datasetVersion: 3 }, T0);

/** An event as a trainer sends it: the job with a new state and whatever else changed. */
const ev = (job: TrainingJob, state: TrainingJobState, over: Partial<TrainingJob> = {}, adapterId = '') =>
  TrainingJobChanged.fromPartial({
    job: { ...job, message: '', state, ...over },
    ...(adapterId ? { adapter: { adapterId, files: [{ name: 'adapter_model.safetensors', sha256: 'a'.repeat(64), size: 3 }] } } : {}),
  });

const progress = (step: number) => ({
  step,
  totalSteps: 40,
  epoch: step / 8,
  loss: 2 - step / 40,
  learningRate: 3e-4,
  tokensPerSecond: 900,
  etaSeconds: 40 - step,
  resumedFromStep: 0,
});

/** Folds events one after another, as the registry does. */
function fold(job: TrainingJob | undefined, ...events: TrainingJobChanged[]) {
  let current = job;
  const changes: boolean[] = [];
  for (const e of events) {
    const r = applyEvent(current, e, T1);
    changes.push(r.changed);
    current = r.job;
  }
  return { job: current as TrainingJob, changes };
}

describe('newQueuedJob', () => {
  test('queues with the configured base model, every hyperparameter default filled, and the dataset version', () => {
    const job = queued();
    assert.equal(job.state, S.TRAINING_JOB_STATE_QUEUED);
    assert.equal(job.baseModel, BASE);
    assert.equal(job.datasetVersion, 3);
    assert.equal(job.createdAt?.toISOString(), T0.toISOString());
    assert.deepEqual(job.hyperparameters, {
      baseModel: BASE,
      loraR: 64,
      loraAlpha: 128,
      loraDropout: 0.05,
      targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
      learningRate: 3e-4,
      lrScheduler: 'cosine',
      warmupRatio: 0.03,
      epochs: 5,
      batchSize: 2,
      gradientAccumulationSteps: 4,
      disableGradientCheckpointing: false,
      disable4bit: false,
      maxSeqLength: 2048,
      maxSteps: 0,
      saveSteps: 50,
      merge: false,
      ollama: false,
      seed: 42,
    });
    assert.equal(stateSubject(job.state), 'queued');
  });

  test('the base model comes from the request, else its hyperparameters, else the configuration', () => {
    assert.equal(queued({ baseModel: 'a/b', hyperparameters: { baseModel: 'c/d' } as never }).baseModel, 'a/b');
    const fromHp = queued({ hyperparameters: fillHyperparameters(undefined, 'c/d') });
    assert.equal(fromHp.baseModel, 'c/d');
    assert.equal(fromHp.hyperparameters?.baseModel, 'c/d');
    assert.equal(queued().hyperparameters?.baseModel, BASE);
  });

  test('resubmitting is idempotent: same dataset, model and filled hyperparameters give the same job id', () => {
    const a = queued();
    const b = queued({ hyperparameters: fillHyperparameters({ loraR: 64, learningRate: 3e-4 } as never, '') });
    const c = queued({ hyperparameters: fillHyperparameters(undefined, BASE) });
    assert.equal(a.jobId, b.jobId, 'spelling out a default is the same job');
    assert.equal(a.jobId, c.jobId);
    assert.equal(a.jobId, jobId('d1', fillHyperparameters(undefined, BASE)));
    assert.match(a.jobId, /^[0-9a-f]{24}$/);
  });

  test('a different learning rate, base model, dataset or seed is another job', () => {
    const a = queued();
    const ids = new Set([
      a.jobId,
      queued({ hyperparameters: { ...fillHyperparameters(undefined, BASE), learningRate: 1e-4 } }).jobId,
      queued({ baseModel: 'other/model' }).jobId,
      queued({ datasetId: 'd2' }).jobId,
      queued({ hyperparameters: { ...fillHyperparameters(undefined, BASE), seed: 7 } }).jobId,
      queued({ hyperparameters: { ...fillHyperparameters(undefined, BASE), merge: true } }).jobId,
    ]);
    assert.equal(ids.size, 6);
    assert.equal(queued({ datasetPath: '/elsewhere.jsonl' }).jobId, a.jobId, 'the path is where, not what');
  });

  test('a request without a dataset, or with impossible hyperparameters, is refused', () => {
    assert.throws(() => queued({ datasetId: '' }), InvalidJobRequest);
    assert.throws(() => queued({ datasetPath: '' }), /dataset_path/);
    assert.throws(() => queued({ hyperparameters: { ...fillHyperparameters(undefined, BASE), loraDropout: 1.5 } }), /loraDropout/);
    assert.throws(() => queued({ hyperparameters: { ...fillHyperparameters(undefined, BASE), batchSize: -1 } }), /batchSize must be > 0/);
    assert.equal(DEFAULT_HYPERPARAMETERS.epochs, 5);
  });
});

describe('admitDataset', () => {
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
});

describe('admitSpotCheck', () => {
  const item = (recordId: string, verdict: SpotCheckVerdict) => ({
    recordId,
    recordType: 'chat',
    verdict,
    reason: verdict === 2 ? 'off' : '',
  });
  const manifest = (verdicts: SpotCheckVerdict[]) =>
    DatasetManifest.fromPartial({
      datasetId: 'd3',
      version: 4,
      gatesPassed: true,
      spotCheck:
        verdicts.length > 0
          ? { seed: 1, size: verdicts.length, threshold: 0.9, items: verdicts.map((v, i) => item(`r${i}`, v)) }
          : undefined,
    });
  const { SPOT_CHECK_VERDICT_ACCEPTED: A, SPOT_CHECK_VERDICT_REJECTED: R, SPOT_CHECK_VERDICT_UNSPECIFIED: U } = SpotCheckVerdict;

  test('a version not spot-checked, partly judged or below the threshold is refused, saying what it waits for', () => {
    for (const [verdicts, said] of [
      [[], 'spot-check not drawn yet'],
      [[...new Array(9).fill(A), U], 'spot-check 9/10 judged'],
      [[...new Array(8).fill(A), R, R], 'spot-check FAILED: 8 of 10 accepted'],
    ] as const) {
      assert.throws(
        () => admitSpotCheck(manifest([...verdicts]), false),
        (err: Error) =>
          err instanceof SpotCheckPending &&
          err instanceof DatasetRefused &&
          err.message.includes(said) &&
          /override_spot_check/.test(err.message),
      );
    }
  });

  test('a passed spot-check admits; an override admits what did not pass and says so', () => {
    assert.deepEqual(admitSpotCheck(manifest([...new Array(9).fill(A), R]), false), {
      overridden: false,
      status: 'spot-check passed: 9 of 10 accepted (90.0% >= 90.0%)',
    });
    assert.deepEqual(admitSpotCheck(manifest([]), true), { overridden: true, status: 'spot-check not drawn yet (0 judged)' });
    const job = newQueuedJob(
      { datasetId: 'd3', datasetPath: '/p', baseModel: '' },
      { baseModel: BASE, spotCheck: admitSpotCheck(manifest([]), true) },
      T0,
    );
    assert.equal(job.spotCheckOverridden, true);
    assert.equal(job.spotCheckStatus, 'spot-check not drawn yet (0 judged)');
  });
});

describe('applyEvent: the job state machine', () => {
  test('queued → running → progress → succeeded, in order, each a change', () => {
    const job = queued();
    const { job: done, changes } = fold(
      job,
      ev(job, S.TRAINING_JOB_STATE_RUNNING, { trainer: 'gpu-1', attempt: 1 }),
      ev(job, S.TRAINING_JOB_STATE_RUNNING, { trainer: 'gpu-1', attempt: 1, progress: progress(8) }),
      ev(job, S.TRAINING_JOB_STATE_RUNNING, { trainer: 'gpu-1', attempt: 1, progress: progress(16) }),
      ev(job, S.TRAINING_JOB_STATE_SUCCEEDED, { attempt: 1, metrics: { train_loss: 0.4 } }, 'ad-1'),
    );
    assert.deepEqual(changes, [true, true, true, true]);
    assert.equal(done.state, S.TRAINING_JOB_STATE_SUCCEEDED);
    assert.equal(done.progress?.step, 16);
    assert.equal(done.adapterId, 'ad-1');
    assert.equal(done.trainer, 'gpu-1');
    assert.equal(done.attempt, 1);
    assert.deepEqual(done.metrics, { train_loss: 0.4 });
    assert.equal(done.updatedAt?.toISOString(), T1.toISOString());
    assert.equal(done.createdAt?.toISOString(), T0.toISOString(), 'created stays');
    assert.equal(done.hyperparameters?.loraR, 64, 'what the registry knows stays');
  });

  test('running records trainer and attempt; progress on a queued job starts it', () => {
    const job = queued();
    const r = applyEvent(job, ev(job, S.TRAINING_JOB_STATE_RUNNING, { trainer: 't', attempt: 1, progress: progress(3) }), T1);
    assert.equal(r.changed, true);
    assert.equal(r.job?.state, S.TRAINING_JOB_STATE_RUNNING);
    assert.equal(r.job?.progress?.step, 3);
    assert.equal(r.job?.trainer, 't');
  });

  test('a repeated running of the same attempt is ignored; a higher attempt (redelivery) is accepted and recorded', () => {
    const job = queued();
    const running = fold(job, ev(job, S.TRAINING_JOB_STATE_RUNNING, { trainer: 'a', attempt: 1, progress: progress(20) })).job;
    const again = applyEvent(running, ev(job, S.TRAINING_JOB_STATE_RUNNING, { trainer: 'a', attempt: 1 }), T1);
    assert.equal(again.changed, false);
    const resumed = applyEvent(
      running,
      ev(job, S.TRAINING_JOB_STATE_RUNNING, { trainer: 'b', attempt: 2, progress: { ...progress(16), resumedFromStep: 16 } }),
      T1,
    );
    assert.equal(resumed.changed, true);
    assert.equal(resumed.job?.attempt, 2);
    assert.equal(resumed.job?.trainer, 'b');
    assert.equal(resumed.job?.progress?.step, 16, 'the resumed attempt reports from its checkpoint');
    assert.equal(resumed.job?.progress?.resumedFromStep, 16);
    assert.match(resumed.job?.message ?? '', /attempt 2/);
    // The old trainer's late reports no longer count.
    const stale = applyEvent(resumed.job, ev(job, S.TRAINING_JOB_STATE_RUNNING, { attempt: 1, progress: progress(24) }), T1);
    assert.equal(stale.changed, false);
    assert.match(stale.ignored ?? '', /stale attempt/);
  });

  test('progress only moves forwards: a reordered older step is ignored', () => {
    const job = queued();
    const { job: j, changes } = fold(
      job,
      ev(job, S.TRAINING_JOB_STATE_RUNNING, { attempt: 1, progress: progress(10) }),
      ev(job, S.TRAINING_JOB_STATE_RUNNING, { attempt: 1, progress: progress(5) }),
      ev(job, S.TRAINING_JOB_STATE_RUNNING, { attempt: 1, progress: progress(10) }),
    );
    assert.deepEqual(changes, [true, false, false]);
    assert.equal(j.progress?.step, 10);
  });

  test('running → failed keeps the last progress and records the reason', () => {
    const job = queued();
    const { job: j } = fold(
      job,
      ev(job, S.TRAINING_JOB_STATE_RUNNING, { attempt: 1, progress: progress(4) }),
      ev(job, S.TRAINING_JOB_STATE_FAILED, { attempt: 1, message: 'CUDA out of memory' }),
    );
    assert.equal(j.state, S.TRAINING_JOB_STATE_FAILED);
    assert.equal(j.message, 'CUDA out of memory');
    assert.equal(j.progress?.step, 4);
  });

  test('a failure from an older attempt than the running one is stale', () => {
    const job = queued();
    const running2 = fold(job, ev(job, S.TRAINING_JOB_STATE_RUNNING, { attempt: 2 })).job;
    const r = applyEvent(running2, ev(job, S.TRAINING_JOB_STATE_FAILED, { attempt: 1, message: 'old trainer died' }), T1);
    assert.equal(r.changed, false);
    assert.equal(r.job?.state, S.TRAINING_JOB_STATE_RUNNING);
  });

  test('succeeded or failed straight from queued (their running was processed later) end the job; the late running is ignored', () => {
    const job = queued();
    const s = fold(
      job,
      ev(job, S.TRAINING_JOB_STATE_SUCCEEDED, { attempt: 1 }, 'ad-2'),
      ev(job, S.TRAINING_JOB_STATE_RUNNING, { attempt: 1, progress: progress(1) }),
    );
    assert.deepEqual(s.changes, [true, false]);
    assert.equal(s.job.state, S.TRAINING_JOB_STATE_SUCCEEDED);
    const f = fold(job, ev(job, S.TRAINING_JOB_STATE_FAILED, { attempt: 1, message: 'dataset missing' }));
    assert.equal(f.job.state, S.TRAINING_JOB_STATE_FAILED);
  });

  test('cancelled comes from queued or running and sets cancel_requested', () => {
    const job = queued();
    const fromQueued = applyEvent(job, cancelEvent(job), T1);
    assert.equal(fromQueued.changed, true);
    assert.equal(fromQueued.job?.state, S.TRAINING_JOB_STATE_CANCELLED);
    assert.equal(fromQueued.job?.cancelRequested, true);
    const running = fold(job, ev(job, S.TRAINING_JOB_STATE_RUNNING, { attempt: 1, progress: progress(7) })).job;
    const fromRunning = applyEvent(running, cancelEvent(running, 'no longer needed'), T1);
    assert.equal(fromRunning.job?.state, S.TRAINING_JOB_STATE_CANCELLED);
    assert.equal(fromRunning.job?.message, 'no longer needed');
    assert.equal(fromRunning.job?.progress?.step, 7);
  });

  test('terminal states never change: late progress, succeeded, failed, running or cancel are ignored', () => {
    const job = queued();
    const late = [
      ev(job, S.TRAINING_JOB_STATE_RUNNING, { attempt: 1, progress: progress(30) }),
      ev(job, S.TRAINING_JOB_STATE_RUNNING, { attempt: 9 }),
      ev(job, S.TRAINING_JOB_STATE_SUCCEEDED, { attempt: 1 }, 'ad-late'),
      ev(job, S.TRAINING_JOB_STATE_FAILED, { attempt: 1 }),
      cancelEvent(job),
      ev(job, S.TRAINING_JOB_STATE_QUEUED),
    ];
    const ends = [
      applyEvent(job, cancelEvent(job), T1).job,
      fold(job, ev(job, S.TRAINING_JOB_STATE_SUCCEEDED, { attempt: 1 }, 'ad-3')).job,
      fold(job, ev(job, S.TRAINING_JOB_STATE_FAILED, { attempt: 1, message: 'x' })).job,
    ] as TrainingJob[];
    for (const end of ends) {
      assert.ok(isTerminal(end.state));
      for (const e of late) {
        const r = applyEvent(end, e, new Date('2030-01-01T00:00:00Z'));
        assert.equal(r.changed, false, `${stateSubject(end.state)} + ${stateSubject(e.job?.state ?? 0)}`);
        assert.equal(r.job, end, 'the very same job comes back');
        assert.match(r.ignored ?? '', /already/);
      }
    }
  });

  test('queued creates an unknown job; other events for an unknown job are ignored; a repeated queued changes nothing', () => {
    const job = queued();
    const created = applyEvent(undefined, { job }, T1);
    assert.equal(created.changed, true);
    assert.equal(created.job?.jobId, job.jobId);
    assert.equal(applyEvent(job, { job }, T1).changed, false);
    const stray = applyEvent(undefined, ev(job, S.TRAINING_JOB_STATE_RUNNING, { attempt: 1 }), T1);
    assert.equal(stray.changed, false);
    assert.equal(stray.job, undefined);
    assert.equal(applyEvent(job, { job: undefined }, T1).changed, false);
    assert.equal(applyEvent(job, ev(job, S.TRAINING_JOB_STATE_UNSPECIFIED), T1).changed, false);
  });

  test('an event for another job is a programming error', () => {
    const a = queued();
    const b = queued({ datasetId: 'other' });
    assert.throws(() => applyEvent(a, { job: b }, T1), /applied to job/);
  });

  test('a state missing from the event is taken from its subject', () => {
    const job = queued();
    const bare = TrainingJobChanged.fromPartial({ job: { jobId: job.jobId, attempt: 1, progress: progress(2) } });
    const e = eventFromSubject(bare, 'trajectory.training.progress');
    assert.equal(e.job?.state, S.TRAINING_JOB_STATE_RUNNING);
    assert.equal(applyEvent(job, e, T1).job?.progress?.step, 2);
    const explicit = ev(job, S.TRAINING_JOB_STATE_FAILED);
    assert.equal(eventFromSubject(explicit, 'trajectory.training.progress'), explicit, 'an explicit state wins');
  });

  test('a rejected adapter turns succeeded into failed, with the reason', () => {
    const job = queued();
    const running = fold(job, ev(job, S.TRAINING_JOB_STATE_RUNNING, { attempt: 1 })).job;
    const r = applyEvent(running, failedEvent(ev(job, S.TRAINING_JOB_STATE_SUCCEEDED, { attempt: 1 }, 'ad'), 'adapter rejected: x'), T1);
    assert.equal(r.job?.state, S.TRAINING_JOB_STATE_FAILED);
    assert.equal(r.job?.adapterId, '');
    assert.equal(r.job?.message, 'adapter rejected: x');
  });
});

test('message ids follow training:<job_id>:<state>[:<attempt>][:<step>]', () => {
  const job = queued();
  assert.equal(trainingMsgId(job, 'queued'), `training:${job.jobId}:queued`);
  assert.equal(trainingMsgId({ ...job, attempt: 2, progress: progress(12) }, 'progress'), `training:${job.jobId}:progress:2:12`);
  assert.equal(trainingMsgId({ ...job, attempt: 2 }, 'cancelled'), `training:${job.jobId}:cancelled:2`);
});
