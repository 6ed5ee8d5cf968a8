import { JetStreamApiError } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { BUCKETS } from '@trajectory/bus';
import { TrainingJob } from '@trajectory/contracts';
import type { Applied } from '../core/jobs.js';

/** The jobs, as proto3 JSON of TrainingJob by job id (also read by the Python trainers). */
export const JOBS_BUCKET = BUCKETS.trainingJobs;

export interface StoredJob {
  job: TrainingJob;
  revision: number;
}

/** Another writer changed the entry between our read and our write. */
function isConflict(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === 10071 || err.code === 10164);
}

const encode = (job: TrainingJob) => JSON.stringify(TrainingJob.toJSON(job));

function decode(entry: { operation: string; json<T>(): T } | null): TrainingJob | undefined {
  return entry && entry.operation === 'PUT' ? TrainingJob.fromJSON(entry.json()) : undefined;
}

/**
 * The job registry in the KV bucket trajectory_training_jobs. Every change is a compare-and-set
 * on the entry's revision, retried on conflict, so replicas of the service (and the consumer
 * beside the API in one process) never overwrite each other's updates.
 */
export class JobRegistry {
  private constructor(readonly kv: KV) {}

  static async open(nc: NatsConnection): Promise<JobRegistry> {
    return new JobRegistry(await new Kvm(nc).create(JOBS_BUCKET, { history: 5 }));
  }

  async read(jobId: string): Promise<StoredJob | undefined> {
    const entry = await this.kv.get(jobId);
    const job = decode(entry);
    return job && entry ? { job, revision: entry.revision } : undefined;
  }

  /** Creates the job unless it exists; resolves with the stored one and whether it was created. */
  async create(job: TrainingJob): Promise<{ job: TrainingJob; created: boolean }> {
    try {
      await this.kv.create(job.jobId, encode(job));
      return { job, created: true };
    } catch (err) {
      if (!isConflict(err)) throw err;
      const existing = await this.read(job.jobId);
      if (!existing) throw err;
      return { job: existing.job, created: false };
    }
  }

  /**
   * Applies a change to the job as it is now: `fn` sees the current job (undefined when absent)
   * and returns the next one; nothing is written when it reports no change. On a conflicting
   * write the entry is read again and `fn` runs again on the newer job.
   */
  async mutate(jobId: string, fn: (job: TrainingJob | undefined) => Applied, maxAttempts = 50): Promise<Applied> {
    for (let attempt = 1; ; attempt++) {
      const entry = await this.kv.get(jobId);
      const current = decode(entry);
      const result = fn(current);
      if (!result.changed || !result.job) return result;
      try {
        if (entry) await this.kv.update(jobId, encode(result.job), entry.revision);
        else await this.kv.create(jobId, encode(result.job));
        return result;
      } catch (err) {
        if (!isConflict(err) || attempt >= maxAttempts) throw err;
        // Spread the retries of writers that collided.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 5 * attempt)));
      }
    }
  }

  async list(): Promise<TrainingJob[]> {
    const jobs: TrainingJob[] = [];
    for await (const key of await this.kv.keys()) {
      const stored = await this.read(key);
      if (stored) jobs.push(stored.job);
    }
    jobs.sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0) || a.jobId.localeCompare(b.jobId));
    return jobs;
  }

  /**
   * The job now and at every change: yields each stored version (a deletion as undefined) in
   * revision order, starting with the current one, until `stop()`.
   */
  async watch(jobId: string): Promise<AsyncIterable<StoredJob | undefined> & { stop(): void }> {
    const watcher = await this.kv.watch({ key: jobId });
    return {
      stop: () => watcher.stop(),
      async *[Symbol.asyncIterator]() {
        for await (const entry of watcher) {
          const job = decode(entry);
          yield job ? { job, revision: entry.revision } : undefined;
        }
      },
    };
  }
}
