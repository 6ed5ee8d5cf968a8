import type * as grpc from '@grpc/grpc-js';
import { type Bus, type DatasetRegistry, publishEvent, SUBJECTS } from '@trajectory/bus';
import {
  type AdapterChunk,
  type FetchAdapterRequest,
  type GetJobRequest,
  type ListAdaptersRequest,
  type ListAdaptersResponse,
  type ListJobsRequest,
  type ListJobsResponse,
  type SubmitJobRequest,
  type TrainingJob,
  TrainingJobChanged,
  type TrainingServiceServer,
} from '@trajectory/contracts';
import { answerStream, answerUnary, ServiceError } from '@trajectory/runtime';
import type { Logger } from '@trajectory/telemetry';
import { rechunk } from '../core/adapters.js';
import {
  admitDataset,
  admitSpotCheck,
  applyEvent,
  cancelEvent,
  DatasetRefused,
  InvalidJobRequest,
  isTerminal,
  newQueuedJob,
  stateSubject,
  trainingMsgId,
} from '../core/jobs.js';
import { AdapterNotFound, type AdapterRegistry } from './adapter-registry.js';
import type { JobRegistry } from './job-registry.js';

export interface TrainingServiceDeps {
  bus: Bus;
  jobs: JobRegistry;
  adapters: AdapterRegistry;
  datasets: DatasetRegistry;
  logger: Logger;
  defaultBaseModel: string;
  now?: () => Date;
}

/** The core's refusals of a submission as clients see them: a request it cannot take, a dataset not fit to train on. */
function refusal(err: unknown): unknown {
  if (err instanceof InvalidJobRequest) return new ServiceError('INVALID_ARGUMENT', err.message, { cause: err });
  if (err instanceof DatasetRefused) return new ServiceError('FAILED_PRECONDITION', err.message, { cause: err });
  return err;
}

const noJob = (jobId: string) => new ServiceError('NOT_FOUND', `no training job ${jobId}`);

/** Writes one message, waiting for the client when its buffer is full. */
function write<T>(call: grpc.ServerWritableStream<unknown, T>, message: T): Promise<void> {
  return new Promise((resolve, reject) => {
    if (call.cancelled || call.destroyed) {
      reject(new Error('the client went away'));
      return;
    }
    if (call.write(message)) resolve();
    else call.once('drain', () => resolve());
  });
}

/** TrainingService (proto/trajectory/v1/training.proto) over the job and adapter registries. */
export function trainingService(deps: TrainingServiceDeps): TrainingServiceServer {
  const { bus, jobs, adapters, datasets, logger } = deps;
  const now = deps.now ?? (() => new Date());

  const getJob = async (jobId: string): Promise<TrainingJob> => {
    const stored = jobId ? await jobs.read(jobId).catch(() => undefined) : undefined;
    if (!stored) throw noJob(jobId);
    return stored.job;
  };

  return {
    submitJob(call: grpc.ServerUnaryCall<SubmitJobRequest, TrainingJob>, callback: grpc.sendUnaryData<TrainingJob>) {
      answerUnary(
        (async () => {
          const request = call.request;
          if (!request.datasetId) throw new ServiceError('INVALID_ARGUMENT', 'dataset_id is required');
          const manifest = admitDataset(request.datasetId, await datasets.get(request.datasetId).catch(() => undefined));
          const spotCheck = admitSpotCheck(manifest, request.overrideSpotCheck);
          const job = newQueuedJob(
            { ...request, datasetPath: request.datasetPath || manifest.path },
            { baseModel: deps.defaultBaseModel, datasetVersion: manifest.version, spotCheck },
            now(),
          );
          const existing = await jobs.read(job.jobId);
          if (existing) return existing.job;
          if (spotCheck.overridden) {
            logger.warn(
              { jobId: job.jobId, datasetId: job.datasetId, datasetVersion: job.datasetVersion, spotCheck: spotCheck.status },
              'training job queued over the spot-check gate (override_spot_check)',
            );
          }
          // The event first: should this process die before the registry entry is written, the
          // registry consumer creates the entry from the event. The message id makes concurrent
          // or repeated submissions one event.
          await publishEvent(bus, SUBJECTS.training('queued'), TrainingJobChanged, { job }, trainingMsgId(job, 'queued'));
          const { job: stored, created } = await jobs.create(job);
          if (created) {
            logger.info(
              { jobId: job.jobId, datasetId: job.datasetId, datasetVersion: job.datasetVersion, baseModel: job.baseModel },
              'training job queued',
            );
          }
          return stored;
        })().catch((err: unknown) => {
          throw refusal(err);
        }),
        callback,
      );
    },

    getJob(call: grpc.ServerUnaryCall<GetJobRequest, TrainingJob>, callback: grpc.sendUnaryData<TrainingJob>) {
      answerUnary(getJob(call.request.jobId), callback);
    },

    listJobs(_call: grpc.ServerUnaryCall<ListJobsRequest, ListJobsResponse>, callback: grpc.sendUnaryData<ListJobsResponse>) {
      answerUnary(
        jobs.list().then((list) => ({ jobs: list })),
        callback,
      );
    },

    watchJob(call: grpc.ServerWritableStream<GetJobRequest, TrainingJob>) {
      answerStream(
        call,
        (async () => {
          const jobId = call.request.jobId;
          const current = jobId ? await jobs.read(jobId).catch(() => undefined) : undefined;
          if (!current) throw noJob(jobId);
          await write(call, current.job);
          if (isTerminal(current.job.state)) return;
          const watch = await jobs.watch(jobId);
          call.once('cancelled', () => watch.stop());
          if (call.cancelled) watch.stop(); // the client left while the watch was being set up
          let revision = current.revision;
          try {
            for await (const stored of watch) {
              if (!stored) throw new ServiceError('NOT_FOUND', `training job ${jobId} was deleted`);
              // The watch starts with the entry as it is now: skip what was already sent.
              if (stored.revision <= revision) continue;
              revision = stored.revision;
              await write(call, stored.job);
              if (isTerminal(stored.job.state)) break;
            }
          } finally {
            watch.stop();
          }
        })(),
      );
    },

    cancelJob(call: grpc.ServerUnaryCall<GetJobRequest, TrainingJob>, callback: grpc.sendUnaryData<TrainingJob>) {
      answerUnary(
        (async () => {
          const jobId = call.request.jobId;
          await getJob(jobId);
          const applied = await jobs.mutate(jobId, (job) => {
            if (!job) throw noJob(jobId);
            if (isTerminal(job.state)) {
              throw new ServiceError('FAILED_PRECONDITION', `training job ${jobId} already ${stateSubject(job.state)}: nothing to cancel`);
            }
            return applyEvent(job, cancelEvent(job), now());
          });
          const job = applied.job as TrainingJob;
          // Trainers read cancel_requested from the registry at every progress report; the event
          // tells everyone else.
          await publishEvent(bus, SUBJECTS.training('cancelled'), TrainingJobChanged, { job }, trainingMsgId(job, 'cancelled'));
          logger.info({ jobId }, 'training job cancelled');
          return job;
        })(),
        callback,
      );
    },

    listAdapters(
      call: grpc.ServerUnaryCall<ListAdaptersRequest, ListAdaptersResponse>,
      callback: grpc.sendUnaryData<ListAdaptersResponse>,
    ) {
      answerUnary(
        adapters.list(call.request.datasetId).then((list) => ({ adapters: list })),
        callback,
      );
    },

    fetchAdapter(call: grpc.ServerWritableStream<FetchAdapterRequest, AdapterChunk>) {
      answerStream(
        call,
        (async () => {
          const adapterId = call.request.adapterId;
          const adapter = adapterId ? await adapters.get(adapterId) : undefined;
          if (!adapter) throw new AdapterNotFound(`no adapter ${adapterId}`);
          await write(call, { adapter, fileName: '', data: Buffer.alloc(0) });
          for (const file of adapter.files) {
            let sent = false;
            for await (const data of rechunk(adapters.file(adapter, file.name))) {
              await write(call, { fileName: file.name, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) });
              sent = true;
            }
            // An empty file still arrives, as one empty chunk.
            if (!sent) await write(call, { fileName: file.name, data: Buffer.alloc(0) });
          }
        })(),
      );
    },
  };
}
