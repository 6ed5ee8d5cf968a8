import { createHash } from 'node:crypto';
import { type DatasetManifest, enumSuffix, type SubmitJobRequest, type TrainingJob, TrainingJobState } from '@trajectory/contracts';

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

/** The same dataset trained on the same base model is the same job: resubmitting is idempotent. */
export function jobId(datasetId: string, baseModel: string): string {
  return createHash('sha256').update(`${datasetId}\u0000${baseModel}`).digest('hex').slice(0, 24);
}

export function newQueuedJob(request: SubmitJobRequest, defaultBaseModel: string, now: Date): TrainingJob {
  if (!request.datasetId) throw new InvalidJobRequest('dataset_id is required');
  if (!request.datasetPath) throw new InvalidJobRequest('dataset_path is required (the manifest gives it)');
  const baseModel = request.baseModel || defaultBaseModel;
  return {
    jobId: jobId(request.datasetId, baseModel),
    datasetId: request.datasetId,
    datasetPath: request.datasetPath,
    baseModel,
    state: TrainingJobState.TRAINING_JOB_STATE_QUEUED,
    createdAt: now,
    updatedAt: now,
    message: 'waiting for a GPU trainer',
  };
}

/** The subject suffix for a state: TRAINING_JOB_STATE_QUEUED -> queued. */
export function stateSubject(state: TrainingJobState): string {
  return enumSuffix(TrainingJobState, state, 'TRAINING_JOB_STATE_');
}
