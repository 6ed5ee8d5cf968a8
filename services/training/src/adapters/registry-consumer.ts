import {
  type Bus,
  type DatasetRegistry,
  PoisonMessageError,
  publishEvent,
  SUBJECTS,
  startWorker,
  WORK_QUEUES,
  type Worker,
} from '@trajectory/bus';
import { type Adapter, AdapterPublished, type TrainingJob, TrainingJobChanged, TrainingJobState } from '@trajectory/contracts';
import type { Logger } from '@trajectory/telemetry';
import { AdapterRejected, adapterUri, completeAdapter } from '../core/adapters.js';
import { type Applied, applyEvent, eventFromSubject, failedEvent, isTerminal, stateSubject, trainingMsgId } from '../core/jobs.js';
import { ADAPTER_OBJECTS_BUCKET, type AdapterRegistry } from './adapter-registry.js';
import type { JobRegistry } from './job-registry.js';

export interface RegistryDeps {
  bus: Bus;
  jobs: JobRegistry;
  adapters: AdapterRegistry;
  datasets: DatasetRegistry;
  logger: Logger;
  now?: () => Date;
}

/**
 * Folds one training event into the job registry. A `succeeded` event's adapter is checked first
 * (every listed file read back and hashed); one that does not check out fails the job instead,
 * with the reason naming the file. Once the job holds the adapter, its metadata is recorded and
 * `trajectory.adapter.published` announced; a redelivered event repeats only what is missing.
 */
export async function handleTrainingEvent(deps: RegistryDeps, received: TrainingJobChanged, subject: string): Promise<Applied> {
  const now = deps.now ?? (() => new Date());
  const event = eventFromSubject(received, subject);
  const jobId = event.job?.jobId;
  if (!jobId) throw new PoisonMessageError(`${subject}: training event without a job id`);

  let effective = event;
  if (event.job?.state === TrainingJobState.TRAINING_JOB_STATE_SUCCEEDED) {
    const current = await deps.jobs.read(jobId);
    // A job already ended needs no check: the event will be ignored (or was applied before).
    if (current && !isTerminal(current.job.state)) {
      try {
        await deps.adapters.verify(event.adapter);
      } catch (err) {
        if (!(err instanceof AdapterRejected)) throw err;
        effective = failedEvent(event, `adapter rejected: ${err.message}`);
      }
    }
  }

  const applied = await deps.jobs.mutate(jobId, (job) => applyEvent(job, effective, now()));
  const job = applied.job;
  const log = deps.logger.child({ jobId, subject });
  if (!applied.changed) log.debug({ reason: applied.ignored }, 'training event ignored');
  else if (subject.endsWith('.progress')) log.debug({ step: job?.progress?.step }, 'training progress');
  else log.info({ state: job ? stateSubject(job.state) : undefined, message: job?.message }, 'training job changed');

  if (applied.changed && effective !== event && job) {
    // Tell everyone (trainers, watchers of the event stream) why the job failed.
    await publishEvent(deps.bus, SUBJECTS.training('failed'), TrainingJobChanged, { job }, trainingMsgId(job, 'failed'));
  }
  if (
    job &&
    job.state === TrainingJobState.TRAINING_JOB_STATE_SUCCEEDED &&
    event.adapter &&
    effective === event &&
    job.adapterId === event.adapter.adapterId
  ) {
    await publishAdapter(deps, job, event.adapter, now());
  }
  return applied;
}

async function publishAdapter(deps: RegistryDeps, job: TrainingJob, listed: Adapter, now: Date): Promise<Adapter> {
  const existing = await deps.adapters.get(listed.adapterId);
  const adapter = existing ?? completeAdapter(listed, job, await deps.datasets.get(job.datasetId), now);
  if (!existing) await deps.adapters.put(adapter);
  const published: AdapterPublished = {
    adapterId: adapter.adapterId,
    jobId: job.jobId,
    baseModel: adapter.baseModel,
    uri: adapterUri(ADAPTER_OBJECTS_BUCKET, adapter.adapterId),
    publishedAt: adapter.createdAt ?? now,
    adapter,
  };
  // The message id makes a repeat (a redelivered succeeded event) a no-op in the stream.
  const result = await publishEvent(deps.bus, SUBJECTS.adapterPublished, AdapterPublished, published, `adapter:${adapter.adapterId}`);
  if (!result.duplicate) deps.logger.info({ jobId: job.jobId, adapterId: adapter.adapterId, uri: published.uri }, 'adapter published');
  return adapter;
}

/** The consumer that keeps the registry up to date; every replica binds to the same durable. */
export function startRegistryConsumer(deps: RegistryDeps): Promise<Worker> {
  return startWorker({
    bus: deps.bus,
    queue: WORK_QUEUES.trainingRegistry,
    codec: TrainingJobChanged,
    // One at a time per process: events apply in stream order, so watchers see running before
    // succeeded. Several replicas (or reordered deliveries) stay correct through the state machine.
    batch: 1,
    handle: async (event, meta) => {
      await handleTrainingEvent(deps, event, meta.subject);
    },
  });
}
