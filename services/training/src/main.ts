import { existsSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { Kvm } from '@nats-io/kv';
import { openDatasetRegistry, publishEvent, SUBJECTS } from '@trajectory/bus';
import { DEFAULT_PORTS, z } from '@trajectory/config';
import {
  type GetJobRequest,
  type ListJobsRequest,
  type ListJobsResponse,
  type SubmitJobRequest,
  TrainingJob,
  TrainingJobChanged,
  TrainingServiceService,
} from '@trajectory/contracts';
import { main, runService } from '@trajectory/runtime';
import { admitDataset, DatasetRefused, InvalidJobRequest, newQueuedJob, stateSubject } from './core/jobs.js';

const JOBS_BUCKET = 'trajectory_training_jobs';

main(() =>
  runService({
    name: 'training',
    defaultPort: DEFAULT_PORTS.training,
    configShape: {
      TRAINING_BASE_MODEL: z.string().default('Qwen/Qwen2.5-7B-Instruct'),
    },
    async start({ config, bus, logger, addGrpcService }) {
      // The job registry is a JetStream KV bucket: durable, replicated with the stream, and
      // watchable by any NATS client.
      const jobs = await new Kvm(bus.nc).create(JOBS_BUCKET, { history: 5 });
      const datasets = await openDatasetRegistry(bus);
      const encode = (job: TrainingJob) => JSON.stringify(TrainingJob.toJSON(job));
      const read = async (id: string) => {
        const entry = await jobs.get(id);
        return entry && entry.operation === 'PUT' ? TrainingJob.fromJSON(entry.json()) : undefined;
      };

      addGrpcService(TrainingServiceService, {
        submitJob(call: grpc.ServerUnaryCall<SubmitJobRequest, TrainingJob>, callback: grpc.sendUnaryData<TrainingJob>) {
          (async () => {
            const manifest = admitDataset(call.request.datasetId, await datasets.get(call.request.datasetId));
            const job = newQueuedJob(
              { ...call.request, datasetPath: call.request.datasetPath || manifest.path },
              config.TRAINING_BASE_MODEL,
              new Date(),
            );
            if (!existsSync(job.datasetPath)) throw new InvalidJobRequest(`dataset file not found: ${job.datasetPath}`);
            const existing = await read(job.jobId);
            if (existing) return existing;
            try {
              // create() fails if another replica queued the same job first.
              await jobs.create(job.jobId, encode(job));
            } catch {
              return (await read(job.jobId)) ?? job;
            }
            await publishEvent(
              bus,
              SUBJECTS.training(stateSubject(job.state)),
              TrainingJobChanged,
              { job },
              `training:${job.jobId}:${stateSubject(job.state)}`,
            );
            logger.info({ jobId: job.jobId, datasetId: job.datasetId, baseModel: job.baseModel }, 'training job queued');
            return job;
          })()
            .then((job) => callback(null, job))
            .catch((err: Error) =>
              callback({
                code:
                  err instanceof InvalidJobRequest
                    ? grpc.status.INVALID_ARGUMENT
                    : err instanceof DatasetRefused
                      ? grpc.status.FAILED_PRECONDITION
                      : grpc.status.INTERNAL,
                details: err.message,
              }),
            );
        },
        getJob(call: grpc.ServerUnaryCall<GetJobRequest, TrainingJob>, callback: grpc.sendUnaryData<TrainingJob>) {
          read(call.request.jobId)
            .then((job) => (job ? callback(null, job) : callback({ code: grpc.status.NOT_FOUND, details: `no job ${call.request.jobId}` })))
            .catch((err: Error) => callback(err));
        },
        listJobs(_call: grpc.ServerUnaryCall<ListJobsRequest, ListJobsResponse>, callback: grpc.sendUnaryData<ListJobsResponse>) {
          (async () => {
            const list: TrainingJob[] = [];
            for await (const key of await jobs.keys()) {
              const job = await read(key);
              if (job) list.push(job);
            }
            list.sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
            return { jobs: list };
          })()
            .then((res) => callback(null, res))
            .catch((err: Error) => callback(err));
        },
      });
    },
  }),
);
