import * as grpc from '@grpc/grpc-js';
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
import { answerUnary } from '@trajectory/runtime';
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

class NotFound extends Error {
  override name = 'NotFound';
}

/** CancelJob on a job that already ended. */
class JobEnded extends Error {
  override name = 'JobEnded';
}

export interface TrainingServiceDeps {
  bus: Bus;
  jobs: JobRegistry;
  adapters: AdapterRegistry;
  datasets: DatasetRegistry;
  logger: Logger;
  defaultBaseModel: string;
  now?: () => Date;
}

function statusOf(e: Error): grpc.status {
  return e instanceof InvalidJobRequest
    ? grpc.status.INVALID_ARGUMENT
    : e instanceof DatasetRefused || e instanceof JobEnded
      ? grpc.status.FAILED_PRECONDITION
      : e instanceof NotFound || e instanceof AdapterNotFound
        ? grpc.status.NOT_FOUND
        : grpc.status.INTERNAL;
}

const reply = <T>(work: Promise<T>, callback: grpc.sendUnaryData<T>) => answerUnary(work, callback, statusOf);

/** The status a failed server stream ends with. */
function toStatus(err: unknown): Partial<grpc.StatusObject> {
  const e = err instanceof Error ? err : new Error(String(err));
  return { code: statusOf(e), details: e.message };
}

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
    if (!stored) throw new NotFound(`no training job ${jobId}`);
    return stored.job;
  };

  return {
    submitJob(call: grpc.ServerUnaryCall<SubmitJobRequest, TrainingJob>, callback: grpc.sendUnaryData<TrainingJob>) {
      reply(
        (async () => {
          const request = call.request;
          if (!request.datasetId) throw new InvalidJobRequest('dataset_id is required');
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
        })(),
        callback,
      );
    },

    getJob(call: grpc.ServerUnaryCall<GetJobRequest, TrainingJob>, callback: grpc.sendUnaryData<TrainingJob>) {
      reply(getJob(call.request.jobId), callback);
    },

    listJobs(_call: grpc.ServerUnaryCall<ListJobsRequest, ListJobsResponse>, callback: grpc.sendUnaryData<ListJobsResponse>) {
      reply(
        jobs.list().then((list) => ({ jobs: list })),
        callback,
      );
    },

    watchJob(call: grpc.ServerWritableStream<GetJobRequest, TrainingJob>) {
      (async () => {
        const jobId = call.request.jobId;
        const current = jobId ? await jobs.read(jobId).catch(() => undefined) : undefined;
        if (!current) throw new NotFound(`no training job ${jobId}`);
        await write(call, current.job);
        if (isTerminal(current.job.state)) return;
        const watch = await jobs.watch(jobId);
        call.once('cancelled', () => watch.stop());
        if (call.cancelled) watch.stop(); // the client left while the watch was being set up
        let revision = current.revision;
        try {
          for await (const stored of watch) {
            if (!stored) throw new NotFound(`training job ${jobId} was deleted`);
            // The watch starts with the entry as it is now: skip what was already sent.
            if (stored.revision <= revision) continue;
            revision = stored.revision;
            await write(call, stored.job);
            if (isTerminal(stored.job.state)) break;
          }
        } finally {
          watch.stop();
        }
      })().then(
        () => {
          if (!call.cancelled) call.end();
        },
        (err) => {
          if (!call.cancelled) call.emit('error', toStatus(err));
        },
      );
    },

    cancelJob(call: grpc.ServerUnaryCall<GetJobRequest, TrainingJob>, callback: grpc.sendUnaryData<TrainingJob>) {
      reply(
        (async () => {
          const jobId = call.request.jobId;
          await getJob(jobId);
          const applied = await jobs.mutate(jobId, (job) => {
            if (!job) throw new NotFound(`no training job ${jobId}`);
            if (isTerminal(job.state)) throw new JobEnded(`training job ${jobId} already ${stateSubject(job.state)}: nothing to cancel`);
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
      reply(
        adapters.list(call.request.datasetId).then((list) => ({ adapters: list })),
        callback,
      );
    },

    fetchAdapter(call: grpc.ServerWritableStream<FetchAdapterRequest, AdapterChunk>) {
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
      })().then(
        () => {
          if (!call.cancelled) call.end();
        },
        (err) => {
          if (!call.cancelled) call.emit('error', toStatus(err));
        },
      );
    },
  };
}
