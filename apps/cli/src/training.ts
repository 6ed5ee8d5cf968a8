import { createHash } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { spotCheckUrl } from '@trajectory/config';
import {
  Adapter,
  type AdapterChunk,
  type SpotCheckStatus,
  type TrainingHyperparameters,
  type TrainingJob,
  TrainingJobState,
  TrainingServiceClient,
} from '@trajectory/contracts';
import { createClient, unary, withClient } from '@trajectory/runtime';
import { drawSpotCheck } from './pipeline.js';
import type { Targets } from './targets.js';

const S = TrainingJobState;

export const isJobEnded = (state: TrainingJobState) =>
  state === S.TRAINING_JOB_STATE_SUCCEEDED || state === S.TRAINING_JOB_STATE_FAILED || state === S.TRAINING_JOB_STATE_CANCELLED;

const stateName = (state: TrainingJobState) => (TrainingJobState[state] ?? String(state)).replace('TRAINING_JOB_STATE_', '').toLowerCase();

/** 125 → "2m05s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** One line: the job, its state and, while it trains, its progress. */
export function formatJob(job: TrainingJob): string {
  const parts = [
    `job ${job.jobId}`,
    stateName(job.state).padEnd(9),
    `dataset ${job.datasetId}${job.datasetVersion ? ` v${job.datasetVersion}` : ''}`,
    `on ${job.baseModel}`,
  ];
  const p = job.progress;
  if (p && p.step > 0) {
    const pct = p.totalSteps > 0 ? ` (${Math.round((100 * p.step) / p.totalSteps)}%)` : '';
    parts.push(
      `step ${p.step}${p.totalSteps ? `/${p.totalSteps}` : ''}${pct}`,
      `epoch ${p.epoch.toFixed(2)}`,
      `loss ${p.loss.toFixed(4)}`,
      `lr ${p.learningRate.toExponential(2)}`,
    );
    if (p.tokensPerSecond > 0) parts.push(`${Math.round(p.tokensPerSecond)} tok/s`);
    if (job.state === S.TRAINING_JOB_STATE_RUNNING && p.etaSeconds > 0) parts.push(`eta ${formatDuration(p.etaSeconds)}`);
    if (p.resumedFromStep > 0) parts.push(`resumed at ${p.resumedFromStep}`);
  }
  if (job.spotCheckOverridden) parts.push(`spot-check overridden (${job.spotCheckStatus})`);
  if (job.attempt > 1) parts.push(`attempt ${job.attempt}`);
  if (job.adapterId) parts.push(`adapter ${job.adapterId}`);
  if (job.recall) parts.push(`recall ${(job.recall.accuracy * 100).toFixed(1)}%`);
  const line = parts.join('  ');
  return job.message ? `${line}  — ${job.message}` : line;
}

export function formatAdapter(adapter: Adapter): string {
  const parts = [
    `adapter ${adapter.adapterId}`,
    `job ${adapter.jobId}`,
    `dataset ${adapter.datasetId}${adapter.datasetVersion ? ` v${adapter.datasetVersion}` : ''}`,
    `base ${adapter.baseModel}`,
  ];
  const loss = adapter.metrics.train_loss;
  if (loss !== undefined) parts.push(`train_loss ${loss.toFixed(4)}`);
  if (adapter.recall) parts.push(`recall ${(adapter.recall.accuracy * 100).toFixed(1)}%`);
  const bytes = adapter.files.reduce((n, f) => n + Number(f.size), 0);
  parts.push(`${adapter.files.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MB`);
  if (adapter.createdAt) parts.push(adapter.createdAt.toISOString());
  return parts.join('  ');
}

export interface SubmitOptions {
  baseModel?: string;
  hyperparameters?: TrainingHyperparameters;
  /** Queue it although the dataset's spot-check has not passed (the job records it). */
  overrideSpotCheck?: boolean;
}

/** SubmitJob: the dataset's path and version come from its manifest unless given. */
export const submitJob = (
  targets: Targets,
  datasetId: string,
  options: SubmitOptions & { datasetPath?: string } = {},
): Promise<TrainingJob> =>
  withClient(TrainingServiceClient, targets.TRAINING_GRPC_TARGET, targets, (client) =>
    unary(client.submitJob, client, {
      datasetId,
      datasetPath: options.datasetPath ?? '',
      baseModel: options.baseModel ?? '',
      hyperparameters: options.hyperparameters,
      overrideSpotCheck: options.overrideSpotCheck ?? false,
    }),
  );

/** What `trajectory run` and `npm start` say when training waits for a person's spot-check. */
export function spotCheckWaiting(datasetId: string, status: SpotCheckStatus, env: NodeJS.ProcessEnv = process.env): string {
  return (
    `training waits for the spot-check: ${status.summary}: open ${spotCheckUrl(datasetId, env)}\n` +
    `  (npm run up serves the page; or queue it unchecked: trajectory train ${datasetId} --override-spot-check)`
  );
}

/**
 * SubmitJob, or, where the training service refuses the version because its spot-check has not
 * passed, the spot-check's draw (made now if there is none, so the page opens on it) and status.
 * Any other refusal is thrown.
 */
export async function submitOrAwaitSpotCheck(
  targets: Targets,
  datasetId: string,
  options: SubmitOptions = {},
): Promise<{ job: TrainingJob } | { waiting: SpotCheckStatus }> {
  try {
    return { job: await submitJob(targets, datasetId, options) };
  } catch (err) {
    if ((err as grpc.ServiceError).code !== grpc.status.FAILED_PRECONDITION) throw err;
    const status = (await drawSpotCheck(targets, { datasetId })).status;
    if (!status || status.passed) throw err;
    return { waiting: status };
  }
}

export const getJob = (targets: Targets, jobId: string): Promise<TrainingJob> =>
  withClient(TrainingServiceClient, targets.TRAINING_GRPC_TARGET, targets, (client) => unary(client.getJob, client, { jobId }));

export const cancelJob = (targets: Targets, jobId: string): Promise<TrainingJob> =>
  withClient(TrainingServiceClient, targets.TRAINING_GRPC_TARGET, targets, (client) => unary(client.cancelJob, client, { jobId }));

export const listAdapters = async (targets: Targets, datasetId = ''): Promise<Adapter[]> =>
  (
    await withClient(TrainingServiceClient, targets.TRAINING_GRPC_TARGET, targets, (client) =>
      unary(client.listAdapters, client, { datasetId }),
    )
  ).adapters;

/** WatchJob: calls `onJob` with the job now and at every change; resolves with the job as it ended. */
export async function watchJob(targets: Targets, jobId: string, onJob: (job: TrainingJob) => void): Promise<TrainingJob> {
  const client = createClient(TrainingServiceClient, targets.TRAINING_GRPC_TARGET, targets);
  try {
    let last: TrainingJob | undefined;
    for await (const job of client.watchJob({ jobId }) as AsyncIterable<TrainingJob>) {
      last = job;
      onJob(job);
    }
    if (!last) throw new Error(`the watch of job ${jobId} ended without the job`);
    return last;
  } finally {
    client.close();
  }
}

/** `root/name`, refusing names that would land outside `root`. */
function inside(root: string, name: string): string {
  const path = resolve(root, name);
  const rel = relative(root, path);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`refusing adapter file name ${JSON.stringify(name)}`);
  return path;
}

/**
 * FetchAdapter into a folder: every file of the adapter as it is named in the registry
 * (adapter_config.json, adapter_model.safetensors, ...), each checked against its sha256 and size,
 * and the metadata as trajectory_adapter.json.
 */
export async function fetchAdapter(targets: Targets, adapterId: string, outDir: string): Promise<{ adapter: Adapter; files: string[] }> {
  const root = resolve(outDir);
  await mkdir(root, { recursive: true });
  const client = createClient(TrainingServiceClient, targets.TRAINING_GRPC_TARGET, targets);
  let adapter: Adapter | undefined;
  const written: string[] = [];
  let current: { name: string; handle: Awaited<ReturnType<typeof open>>; hash: ReturnType<typeof createHash>; size: number } | undefined;
  const finish = async () => {
    if (!current) return;
    await current.handle.close();
    const listed = adapter?.files.find((f) => f.name === current?.name);
    const digest = current.hash.digest('hex');
    if (!listed) throw new Error(`the service sent ${current.name}, which the adapter does not list`);
    if (listed.sha256 !== digest || Number(listed.size) !== current.size) {
      throw new Error(
        `${current.name}: received ${current.size} bytes with sha256 ${digest}, expected ${listed.size} bytes with ${listed.sha256}`,
      );
    }
    written.push(current.name);
    current = undefined;
  };
  try {
    for await (const chunk of client.fetchAdapter({ adapterId }) as AsyncIterable<AdapterChunk>) {
      if (chunk.adapter) {
        adapter = chunk.adapter;
        continue;
      }
      if (!adapter) throw new Error('the service sent data before the adapter metadata');
      if (current?.name !== chunk.fileName) {
        await finish();
        const path = inside(root, chunk.fileName);
        await mkdir(dirname(path), { recursive: true });
        current = { name: chunk.fileName, handle: await open(path, 'w'), hash: createHash('sha256'), size: 0 };
      }
      await current.handle.write(chunk.data);
      current.hash.update(chunk.data);
      current.size += chunk.data.byteLength;
    }
    await finish();
  } finally {
    await current?.handle.close().catch(() => undefined);
    client.close();
  }
  if (!adapter) throw new Error(`no adapter ${adapterId}`);
  const missing = adapter.files.filter((f) => !written.includes(f.name)).map((f) => f.name);
  if (missing.length > 0) throw new Error(`the service did not send ${missing.join(', ')}`);
  await writeFile(join(root, 'trajectory_adapter.json'), `${JSON.stringify(Adapter.toJSON(adapter), null, 2)}\n`);
  return { adapter, files: written };
}
