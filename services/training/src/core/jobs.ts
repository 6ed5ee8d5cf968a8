import { createHash } from 'node:crypto';
import {
  type DatasetManifest,
  enumSuffix,
  type SubmitJobRequest,
  TrainingHyperparameters,
  TrainingJob,
  type TrainingJobChanged,
  TrainingJobState,
} from '@trajectory/contracts';
import { spotCheckStatus } from '@trajectory/samples/spot-check';

export class InvalidJobRequest extends Error {
  override name = 'InvalidJobRequest';
}

/** A dataset training must not use: unknown, or failed a quality gate. */
export class DatasetRefused extends Error {
  override name = 'DatasetRefused';
}

/**
 * Only a dataset version whose quality gates all passed may be trained on; the refusal names
 * each failed gate and why.
 */
export function admitDataset(datasetId: string, manifest: DatasetManifest | undefined): DatasetManifest {
  if (!manifest) throw new DatasetRefused(`dataset ${datasetId} is not in the dataset registry: build it with the samples service first`);
  if (!manifest.gatesPassed) {
    const reasons = manifest.gates.filter((g) => !g.passed).map((g) => `${g.name}: ${g.reason}`);
    throw new DatasetRefused(`dataset ${datasetId} (version ${manifest.version}) failed its quality gates: ${reasons.join('; ')}`);
  }
  return manifest;
}

/** A dataset version no person has spot-checked yet (or whose spot-check failed). */
export class SpotCheckPending extends DatasetRefused {
  override name = 'SpotCheckPending';
}

/** What the spot-check gate saw for a job, and whether the request overrode it. */
export interface SpotCheckAdmission {
  overridden: boolean;
  /** The spot-check's status in one line ("spot-check 12/100 judged"). */
  status: string;
}

/**
 * A person looks at a draw of the version's records before it is trained on (docs/datasets.md,
 * Spot-check): the verdicts are stored in the manifest, and the rule is the samples package's
 * (spotCheckStatus), so both services read one state the same way. A request may override it,
 * explicitly; the job records that it did.
 */
export function admitSpotCheck(manifest: DatasetManifest, override: boolean): SpotCheckAdmission {
  const status = spotCheckStatus(manifest.datasetId, manifest.spotCheck);
  if (status.passed) return { overridden: false, status: status.summary };
  if (override) return { overridden: true, status: status.summary };
  throw new SpotCheckPending(
    `dataset ${manifest.datasetId} (version ${manifest.version}) waits for its spot-check: ${status.summary}. ` +
      'Judge the drawn records on the spot-check page, or submit with override_spot_check (trajectory train --override-spot-check)',
  );
}

/** The defaults of training.md / events.proto (QLoRA on Qwen2.5-7B-Instruct). */
export const DEFAULT_HYPERPARAMETERS = {
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
  maxSeqLength: 2048,
  saveSteps: 50,
  seed: 42,
} as const;

/**
 * Every zero value replaced by its default, so a job records exactly how it trains (and its id
 * depends on that, not on how the request was spelled). Booleans keep their meaning: checkpointing
 * and 4-bit stay on unless disabled; merge and ollama stay off unless asked for.
 */
export function fillHyperparameters(given: TrainingHyperparameters | undefined, baseModel: string): TrainingHyperparameters {
  const hp = TrainingHyperparameters.fromPartial(given ?? {});
  const d = DEFAULT_HYPERPARAMETERS;
  const filled: TrainingHyperparameters = {
    ...hp,
    baseModel,
    loraR: hp.loraR || d.loraR,
    loraAlpha: hp.loraAlpha || d.loraAlpha,
    loraDropout: hp.loraDropout || d.loraDropout,
    targetModules: hp.targetModules.length > 0 ? [...hp.targetModules] : [...d.targetModules],
    learningRate: hp.learningRate || d.learningRate,
    lrScheduler: hp.lrScheduler || d.lrScheduler,
    warmupRatio: hp.warmupRatio || d.warmupRatio,
    epochs: hp.epochs || d.epochs,
    batchSize: hp.batchSize || d.batchSize,
    gradientAccumulationSteps: hp.gradientAccumulationSteps || d.gradientAccumulationSteps,
    maxSeqLength: hp.maxSeqLength || d.maxSeqLength,
    saveSteps: hp.saveSteps || d.saveSteps,
    seed: hp.seed || d.seed,
  };
  const problems: string[] = [];
  const positive = [
    'loraR',
    'loraAlpha',
    'learningRate',
    'epochs',
    'batchSize',
    'gradientAccumulationSteps',
    'maxSeqLength',
    'saveSteps',
  ] as const;
  for (const key of positive) if (!(filled[key] > 0)) problems.push(`${key} must be > 0 (got ${filled[key]})`);
  if (!(filled.loraDropout >= 0 && filled.loraDropout < 1)) problems.push(`loraDropout must be in [0, 1) (got ${filled.loraDropout})`);
  if (!(filled.warmupRatio >= 0 && filled.warmupRatio <= 1)) problems.push(`warmupRatio must be in [0, 1] (got ${filled.warmupRatio})`);
  if (filled.maxSteps < 0) problems.push(`maxSteps must be >= 0 (got ${filled.maxSteps})`);
  if (problems.length > 0) throw new InvalidJobRequest(`invalid hyperparameters: ${problems.join('; ')}`);
  return filled;
}

/**
 * The same dataset trained on the same base model with the same (filled) hyperparameters is the
 * same job: resubmitting is idempotent, and changing any value (the learning rate, the seed) makes
 * another job.
 */
export function jobId(datasetId: string, hyperparameters: TrainingHyperparameters): string {
  const canonical = JSON.stringify({ datasetId, hyperparameters: TrainingHyperparameters.toJSON(hyperparameters) });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 24);
}

/** The base model of a request: the request's, else its hyperparameters', else the configured default. */
export function resolveBaseModel(request: Pick<SubmitJobRequest, 'baseModel' | 'hyperparameters'>, defaultBaseModel: string): string {
  return request.baseModel || request.hyperparameters?.baseModel || defaultBaseModel;
}

export function newQueuedJob(
  request: Omit<SubmitJobRequest, 'overrideSpotCheck'>,
  defaults: { baseModel: string; datasetVersion?: number; spotCheck?: SpotCheckAdmission },
  now: Date,
): TrainingJob {
  if (!request.datasetId) throw new InvalidJobRequest('dataset_id is required');
  if (!request.datasetPath) throw new InvalidJobRequest('dataset_path is required (the manifest gives it)');
  const baseModel = resolveBaseModel(request, defaults.baseModel);
  const hyperparameters = fillHyperparameters(request.hyperparameters, baseModel);
  return TrainingJob.fromPartial({
    jobId: jobId(request.datasetId, hyperparameters),
    datasetId: request.datasetId,
    datasetPath: request.datasetPath,
    datasetVersion: defaults.datasetVersion ?? 0,
    baseModel,
    hyperparameters,
    state: TrainingJobState.TRAINING_JOB_STATE_QUEUED,
    createdAt: now,
    updatedAt: now,
    message: 'waiting for a GPU trainer',
    spotCheckOverridden: defaults.spotCheck?.overridden ?? false,
    spotCheckStatus: defaults.spotCheck?.status ?? '',
  });
}

/** The subject suffix for a state: TRAINING_JOB_STATE_QUEUED -> queued. */
export function stateSubject(state: TrainingJobState): string {
  return enumSuffix(TrainingJobState, state, 'TRAINING_JOB_STATE_');
}

export function isTerminal(state: TrainingJobState): boolean {
  return (
    state === TrainingJobState.TRAINING_JOB_STATE_SUCCEEDED ||
    state === TrainingJobState.TRAINING_JOB_STATE_FAILED ||
    state === TrainingJobState.TRAINING_JOB_STATE_CANCELLED
  );
}

export interface Applied {
  job: TrainingJob | undefined;
  changed: boolean;
  /** Why an event left the job as it was (for logs and tests). */
  ignored?: string;
}

const unchanged = (job: TrainingJob | undefined, ignored: string): Applied => ({ job, changed: false, ignored });

/**
 * The job state machine: folds one event into the job as the registry holds it.
 *
 *   queued → running → succeeded | failed | cancelled      (cancelled also from queued)
 *
 * - A terminal job never changes: a late progress or succeeded after a cancel is ignored.
 * - `running` from queued starts the job; a repeated `running` is accepted only with a higher
 *   attempt (the job was redelivered to another trainer), and records attempt and trainer.
 * - Progress (a `running` event carrying progress) updates only a queued or running job, only
 *   from the current attempt and only forwards in steps, so reordered deliveries cannot move it back.
 * - succeeded and failed may come straight from queued (the `running` event can be processed
 *   later); a `failed` from an older attempt than the job's is stale and ignored.
 * - Events for a job the registry does not hold are ignored, except `queued`, which creates it.
 */
export function applyEvent(job: TrainingJob | undefined, event: TrainingJobChanged, now: Date): Applied {
  const e = event.job;
  if (!e) return unchanged(job, 'event without a job');
  if (job && e.jobId !== job.jobId) throw new Error(`event for job ${e.jobId} applied to job ${job.jobId}`);
  const S = TrainingJobState;
  if (!job) {
    if (e.state === S.TRAINING_JOB_STATE_QUEUED && e.jobId) {
      return { job: TrainingJob.fromPartial({ ...e, updatedAt: e.updatedAt ?? now, createdAt: e.createdAt ?? now }), changed: true };
    }
    return unchanged(undefined, `unknown job ${e.jobId}`);
  }
  if (isTerminal(job.state)) return unchanged(job, `job is already ${stateSubject(job.state)}`);

  const next = (patch: Partial<TrainingJob>): Applied => ({ job: { ...job, ...patch, updatedAt: now }, changed: true });
  const attempt = e.attempt ?? 0;
  const trainer = e.trainer || job.trainer;

  switch (e.state) {
    case S.TRAINING_JOB_STATE_QUEUED:
      return unchanged(job, 'already queued');
    case S.TRAINING_JOB_STATE_RUNNING: {
      if (attempt < job.attempt) return unchanged(job, `stale attempt ${attempt} < ${job.attempt}`);
      const starts = job.state === S.TRAINING_JOB_STATE_QUEUED || attempt > job.attempt;
      if (starts) {
        return next({
          state: S.TRAINING_JOB_STATE_RUNNING,
          attempt,
          trainer,
          progress: e.progress ?? (attempt > job.attempt ? undefined : job.progress),
          message: e.message || (attempt > 1 ? `running (attempt ${attempt})` : 'running'),
        });
      }
      // Same attempt, already running: a progress report, or a duplicate start.
      if (!e.progress) return unchanged(job, 'already running');
      if (job.progress && e.progress.step <= job.progress.step) {
        return unchanged(job, `progress step ${e.progress.step} is not after ${job.progress.step}`);
      }
      return next({ progress: e.progress, trainer, message: e.message || job.message });
    }
    case S.TRAINING_JOB_STATE_SUCCEEDED:
      return next({
        state: S.TRAINING_JOB_STATE_SUCCEEDED,
        attempt: Math.max(attempt, job.attempt),
        trainer,
        progress: e.progress ?? job.progress,
        message: e.message || 'succeeded',
        adapterId: e.adapterId || event.adapter?.adapterId || job.adapterId,
        metrics: Object.keys(e.metrics).length > 0 ? e.metrics : (event.adapter?.metrics ?? job.metrics),
        recall: e.recall ?? event.adapter?.recall ?? job.recall,
      });
    case S.TRAINING_JOB_STATE_FAILED:
      if (attempt < job.attempt) return unchanged(job, `stale failure of attempt ${attempt} < ${job.attempt}`);
      return next({
        state: S.TRAINING_JOB_STATE_FAILED,
        attempt,
        trainer,
        progress: e.progress ?? job.progress,
        message: e.message || 'failed',
        metrics: Object.keys(e.metrics).length > 0 ? e.metrics : job.metrics,
      });
    case S.TRAINING_JOB_STATE_CANCELLED:
      return next({ state: S.TRAINING_JOB_STATE_CANCELLED, cancelRequested: true, message: e.message || 'cancelled' });
    default:
      return unchanged(job, `event without a state (${e.state})`);
  }
}

/** The event the training service publishes when a job is cancelled. */
export function cancelEvent(job: TrainingJob, reason = 'cancelled by request'): TrainingJobChanged {
  return { job: { ...job, state: TrainingJobState.TRAINING_JOB_STATE_CANCELLED, cancelRequested: true, message: reason } };
}

/**
 * The message id of a training event (docs/training.md):
 * `training:<job_id>:<state>[:<attempt>][:<step>]`.
 */
export function trainingMsgId(job: TrainingJob, subject: string): string {
  let id = `training:${job.jobId}:${subject}`;
  if (job.attempt > 0) id += `:${job.attempt}`;
  if (subject === 'progress' && job.progress) id += `:${job.progress.step}`;
  return id;
}

const SUBJECT_STATES: Record<string, TrainingJobState> = {
  queued: TrainingJobState.TRAINING_JOB_STATE_QUEUED,
  running: TrainingJobState.TRAINING_JOB_STATE_RUNNING,
  progress: TrainingJobState.TRAINING_JOB_STATE_RUNNING,
  succeeded: TrainingJobState.TRAINING_JOB_STATE_SUCCEEDED,
  failed: TrainingJobState.TRAINING_JOB_STATE_FAILED,
  cancelled: TrainingJobState.TRAINING_JOB_STATE_CANCELLED,
};

/**
 * The event as the state machine reads it: a job that names no state takes it from the subject
 * (`trajectory.training.progress` is a running job with progress).
 */
export function eventFromSubject(event: TrainingJobChanged, subject: string): TrainingJobChanged {
  const job = event.job;
  if (!job || job.state !== TrainingJobState.TRAINING_JOB_STATE_UNSPECIFIED) return event;
  const state = SUBJECT_STATES[subject.slice(subject.lastIndexOf('.') + 1)];
  return state === undefined ? event : { ...event, job: { ...job, state } };
}

/** A trainer's `succeeded` turned into a failure (its adapter did not check out). */
export function failedEvent(event: TrainingJobChanged, message: string): TrainingJobChanged {
  const job = event.job ?? TrainingJob.fromPartial({});
  return { job: { ...job, state: TrainingJobState.TRAINING_JOB_STATE_FAILED, message, adapterId: '' } };
}
