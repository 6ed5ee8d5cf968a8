import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { JsMsg } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { Subscription } from '@nats-io/nats-core';
import { type ObjectStore, Objm } from '@nats-io/obj';
import {
  BUCKETS,
  type Bus,
  connectBus,
  type DatasetRegistry,
  openDatasetRegistry,
  publishEvent,
  STREAMS,
  SUBJECTS,
  WORK_QUEUES,
} from '@trajectory/bus';
import {
  Adapter,
  type AdapterChunk,
  AdapterPublished,
  DatasetManifest,
  SpotCheckVerdict,
  type TrainingHyperparameters,
  TrainingJob,
  TrainingJobChanged,
  TrainingJobState,
  type TrainingProgress,
  TrainingServiceClient,
} from '@trajectory/contracts';
import { freePort } from '@trajectory/local-servers';
import { createClient, unary } from '@trajectory/runtime';
import { type ServiceProcess, startServiceProcess, startTestBus, type TestServers, until as untilProbed } from '@trajectory/testkit';
import { JobRegistry } from './adapters/job-registry.js';
import { fillHyperparameters, stateSubject } from './core/jobs.js';

const S = TrainingJobState;
const BASE = 'tiny-random-qwen2';

let servers: TestServers;
let bus: Bus;
let service: ServiceProcess;
let client: TrainingServiceClient;
let datasets: DatasetRegistry;
let adapterObjects: ObjectStore;
let workDir: string;
const seen: { subject: string; data: unknown }[] = [];
let sub: Subscription;

async function startTraining(): Promise<ServiceProcess> {
  return startServiceProcess('training', {
    env: { ...servers.nats.serviceEnv(), LOG_LEVEL: 'debug', TRAINING_BASE_MODEL: BASE },
    logDir: join(workDir, 'logs'),
    port: await freePort(),
  });
}

before(async () => {
  ({ servers, bus } = await startTestBus('admin', 'training-itest'));
  workDir = mkdtempSync(join(tmpdir(), 'trajectory-training-itest-'));
  sub = bus.nc.subscribe('trajectory.>');
  void (async () => {
    for await (const m of sub) seen.push({ subject: m.subject, data: m.json() });
  })();
  datasets = await openDatasetRegistry(bus);
  await datasets.put(
    DatasetManifest.fromPartial({
      datasetId: 'ds-ok',
      version: 7,
      gatesPassed: true,
      path: '/datasets/ds-ok/records.jsonl',
      recordCount: 70,
      objects: ['ds-ok/records.jsonl', 'ds-ok/report.json'],
      gates: [{ name: 'schema', passed: true, reason: '' }],
      // Spot-checked: every drawn record accepted (spot-check.itest.ts drives the gate itself).
      spotCheck: {
        seed: 1,
        size: 2,
        threshold: 0.9,
        items: ['r1', 'r2'].map((recordId) => ({
          recordId,
          recordType: 'chat',
          verdict: SpotCheckVerdict.SPOT_CHECK_VERDICT_ACCEPTED,
          reason: '',
        })),
      },
    }),
  );
  await datasets.put(
    DatasetManifest.fromPartial({
      datasetId: 'ds-gated',
      version: 8,
      gatesPassed: false,
      path: '/datasets/ds-gated/records.jsonl',
      gates: [
        { name: 'schema', passed: true, reason: '' },
        { name: 'uniqueness', passed: false, reason: 'chat outputs 0.10 distinct < 0.25' },
        { name: 'eval-split', passed: false, reason: 'no held-out phrasing for 2 facts' },
      ],
    }),
  );
  adapterObjects = await new Objm(bus.nc).create(BUCKETS.adapterObjects);
  service = await startTraining();
  client = createClient(TrainingServiceClient, service.target, service.auth);
});

after(async () => {
  client?.close();
  await service?.stop();
  sub?.unsubscribe();
  await bus?.close();
  await servers?.stop();
  if (workDir && !process.env.KEEP) rmSync(workDir, { recursive: true, force: true });
});

/** testkit's until, every 50 ms; a time-out names the service's log. */
const until = <T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000) =>
  untilProbed(`${what}; service log: ${service?.logFile}`, probe, timeoutMs, 50);

const submit = (datasetId: string, hp: Partial<TrainingHyperparameters> = {}) =>
  unary(client.submitJob, client, {
    datasetId,
    datasetPath: '',
    baseModel: '',
    overrideSpotCheck: false,
    hyperparameters: { ...fillHyperparameters(undefined, ''), baseModel: '', ...hp },
  });
const getJob = (jobId: string) => unary(client.getJob, client, { jobId });

/** WatchJob, collected: every job the stream sends, and how it ended. */
function watch(jobId: string) {
  const jobs: TrainingJob[] = [];
  const call = client.watchJob({ jobId });
  const ended = new Promise<TrainingJob[]>((resolve, reject) => {
    call.on('data', (job: TrainingJob) => jobs.push(job));
    call.on('error', reject);
    call.on('end', () => resolve(jobs));
  });
  return { jobs, ended, call };
}

function fetchAdapter(adapterId: string): Promise<AdapterChunk[]> {
  return new Promise((resolve, reject) => {
    const chunks: AdapterChunk[] = [];
    const call = client.fetchAdapter({ adapterId });
    call.on('data', (c: AdapterChunk) => chunks.push(c));
    call.on('error', reject);
    call.on('end', () => resolve(chunks));
  });
}

/** A simulated GPU trainer: takes the job from the `trainer` work queue and reports on it. */
class FakeTrainer {
  private job!: TrainingJob;
  attempt = 0;
  msg?: JsMsg;

  async take(jobId: string): Promise<TrainingJob> {
    const consumer = await bus.js.consumers.get(STREAMS.events.name, WORK_QUEUES.trainer.durable);
    for (let round = 0; round < 20; round++) {
      const batch = await consumer.fetch({ max_messages: 16, expires: 1_000 });
      for await (const m of batch) {
        const event = TrainingJobChanged.fromJSON(m.json());
        if (event.job?.jobId === jobId) {
          this.job = event.job;
          this.attempt = m.info.deliveryCount;
          this.msg = m;
        } else {
          m.ack(); // another test's job: no trainer here
        }
      }
      if (this.msg) return this.job;
    }
    throw new Error(`job ${jobId} never reached the trainer queue`);
  }

  async report(subject: string, patch: Partial<TrainingJob>, adapter?: Adapter) {
    const job: TrainingJob = { ...this.job, message: '', trainer: 'itest-gpu', attempt: this.attempt, ...patch };
    const step = job.progress ? `:${job.progress.step}` : '';
    await publishEvent(
      bus,
      SUBJECTS.training(subject),
      TrainingJobChanged,
      { job, ...(adapter ? { adapter } : {}) },
      `training:${job.jobId}:${subject}:${this.attempt}${subject === 'progress' ? step : ''}`,
    );
  }

  running = () => this.report('running', { state: S.TRAINING_JOB_STATE_RUNNING, message: 'loading the base model' });
  progress = (step: number) =>
    this.report('progress', { state: S.TRAINING_JOB_STATE_RUNNING, message: `step ${step}`, progress: progress(step) });
  succeeded = (adapter: Adapter) =>
    this.report(
      'succeeded',
      { state: S.TRAINING_JOB_STATE_SUCCEEDED, progress: progress(3), adapterId: adapter.adapterId, metrics: { train_loss: 0.42 } },
      adapter,
    );
}

const progress = (step: number): TrainingProgress => ({
  step,
  totalSteps: 3,
  epoch: step / 3,
  loss: 2.5 - step / 2,
  learningRate: 3e-4,
  tokensPerSecond: 1234,
  etaSeconds: 3 - step,
  resumedFromStep: 0,
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Uploads an adapter's files as a trainer does and returns its listing. */
async function uploadAdapter(adapterId: string, jobId: string, weights = randomBytes(600 * 1024)) {
  const files = {
    'adapter_config.json': new TextEncoder().encode(JSON.stringify({ peft_type: 'LORA', r: 64, lora_alpha: 128 })),
    'adapter_model.safetensors': new Uint8Array(weights),
  };
  for (const [name, data] of Object.entries(files)) await adapterObjects.putBlob({ name: `${adapterId}/${name}` }, data);
  const adapter = Adapter.fromPartial({
    adapterId,
    jobId,
    baseModel: BASE,
    files: Object.entries(files).map(([name, data]) => ({ name, sha256: sha(data), size: data.byteLength })),
    sha256: sha(files['adapter_model.safetensors']),
    metrics: { train_loss: 0.42, tokens_per_second: 1234 },
  });
  return { adapter, files };
}

const eventsFor = (subject: string, jobId: string) =>
  seen
    .filter((s) => s.subject === subject && TrainingJobChanged.fromJSON(s.data).job?.jobId === jobId)
    .map((s) => TrainingJobChanged.fromJSON(s.data));

/** Waits until the registry consumer has nothing left to process. */
async function registryIdle() {
  await until('the registry consumer to drain', async () => {
    const info = await bus.jsm.consumers.info(STREAMS.events.name, WORK_QUEUES.trainingRegistry.durable);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  });
}

function distinctStates(jobs: TrainingJob[]): string[] {
  const states: string[] = [];
  for (const j of jobs) if (states.at(-1) !== stateSubject(j.state)) states.push(stateSubject(j.state));
  return states;
}

test('start-up declares the trainer work queue and the registry consumer', async () => {
  const trainer = await bus.jsm.consumers.info(STREAMS.events.name, WORK_QUEUES.trainer.durable);
  assert.equal(trainer.config.filter_subject, 'trajectory.training.queued');
  const registry = await bus.jsm.consumers.info(STREAMS.events.name, WORK_QUEUES.trainingRegistry.durable);
  assert.equal(registry.config.filter_subject, 'trajectory.training.>');
});

test('SubmitJob on a dataset whose gates passed queues the job: event, KV entry, trainer queue; resubmitting is idempotent', async () => {
  const job = await submit('ds-ok');
  assert.equal(job.state, S.TRAINING_JOB_STATE_QUEUED);
  assert.equal(job.datasetPath, '/datasets/ds-ok/records.jsonl', 'the manifest path by default');
  assert.equal(job.datasetVersion, 7);
  assert.equal(job.baseModel, BASE, 'the configured default');
  assert.equal(job.hyperparameters?.loraR, 64);
  assert.equal(job.hyperparameters?.learningRate, 3e-4);

  const queued = await until('the queued event', () => eventsFor('trajectory.training.queued', job.jobId)[0]);
  assert.equal(queued.job?.datasetVersion, 7);
  const kv = await new Kvm(bus.nc).open(BUCKETS.trainingJobs);
  const entry = await kv.get(job.jobId);
  assert.equal(TrainingJob.fromJSON(entry?.json()).state, S.TRAINING_JOB_STATE_QUEUED);

  const again = await submit('ds-ok', { learningRate: 3e-4 });
  assert.equal(again.jobId, job.jobId, 'spelling out a default is the same job');
  const other = await submit('ds-ok', { learningRate: 1e-4 });
  assert.notEqual(other.jobId, job.jobId, 'another learning rate is another job');
  await registryIdle();
  const info = await bus.jsm.streams.info(STREAMS.events.name, { subjects_filter: 'trajectory.training.queued' });
  assert.equal(info.state.subjects?.['trajectory.training.queued'], 2, 'two jobs, two queued events');
  const listed = await unary(client.listJobs, client, {});
  assert.deepEqual(listed.jobs.map((j) => j.jobId).sort(), [job.jobId, other.jobId].sort());
});

test('a dataset whose gates failed is refused with the reasons; unknown ids are NOT_FOUND', async () => {
  await assert.rejects(submit('ds-gated'), (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
    assert.match(
      err.details,
      /dataset ds-gated \(version 8\) failed its quality gates: uniqueness: chat outputs 0\.10 distinct < 0\.25; eval-split: no held-out phrasing for 2 facts/,
    );
    return true;
  });
  await assert.rejects(submit('ds-missing'), (err: grpc.ServiceError) => err.code === grpc.status.FAILED_PRECONDITION);
  await assert.rejects(submit('ds-ok', { loraDropout: 2 }), (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT);
  await assert.rejects(getJob('nope'), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);
  await assert.rejects(watch('nope').ended, (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);
  await assert.rejects(unary(client.cancelJob, client, { jobId: 'nope' }), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);
  await assert.rejects(fetchAdapter('nope'), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);
});

test('a trainer runs the job: WatchJob shows queued → running → progress → succeeded; the adapter is published and fetched byte for byte', async () => {
  const job = await submit('ds-ok', { seed: 1 });
  const w = watch(job.jobId);
  await until('the watch to send the queued job', () => w.jobs[0]);
  assert.equal(w.jobs[0]?.state, S.TRAINING_JOB_STATE_QUEUED);

  const trainer = new FakeTrainer();
  const taken = await trainer.take(job.jobId);
  assert.deepEqual(taken.hyperparameters, job.hyperparameters, 'the trainer gets the job with every hyperparameter');
  await trainer.running();
  for (const step of [1, 2, 3]) await trainer.progress(step);
  const adapterId = `${job.jobId}-a1`;
  const { adapter, files } = await uploadAdapter(adapterId, job.jobId);
  await trainer.succeeded(adapter);
  trainer.msg?.ack();

  const jobs = await w.ended;
  assert.deepEqual(distinctStates(jobs), ['queued', 'running', 'succeeded']);
  const steps = jobs.map((j) => j.progress?.step ?? 0);
  assert.deepEqual(
    steps.filter((s, i) => s !== steps[i - 1] && s > 0),
    [1, 2, 3],
    'every progress step, in order',
  );
  const last = jobs.at(-1) as TrainingJob;
  assert.equal(last.adapterId, adapterId);
  assert.equal(last.trainer, 'itest-gpu');
  assert.equal(last.attempt, 1);
  assert.deepEqual(last.metrics, { train_loss: 0.42 });

  const published = await until('trajectory.adapter.published', () =>
    seen
      .filter((s) => s.subject === SUBJECTS.adapterPublished)
      .map((s) => AdapterPublished.fromJSON(s.data))
      .find((p) => p.adapterId === adapterId),
  );
  assert.equal(published.uri, `nats://trajectory_adapters/${adapterId}/`);
  assert.equal(published.jobId, job.jobId);
  assert.equal(published.adapter?.datasetId, 'ds-ok');
  assert.equal(published.adapter?.datasetVersion, 7, 'lineage from the job and the manifest');
  assert.deepEqual(published.adapter?.datasetObjects, ['ds-ok/records.jsonl', 'ds-ok/report.json']);
  assert.equal(published.adapter?.hyperparameters?.seed, 1);

  const all = await unary(client.listAdapters, client, { datasetId: '' });
  assert.ok(all.adapters.some((a) => a.adapterId === adapterId));
  assert.deepEqual(
    (await unary(client.listAdapters, client, { datasetId: 'ds-ok' })).adapters.map((a) => a.adapterId),
    [adapterId],
  );
  assert.deepEqual((await unary(client.listAdapters, client, { datasetId: 'ds-other' })).adapters, []);

  const chunks = await fetchAdapter(adapterId);
  assert.equal(chunks[0]?.adapter?.adapterId, adapterId, 'the metadata first');
  assert.equal(chunks[0]?.adapter?.sha256, sha(files['adapter_model.safetensors']));
  const received = new Map<string, Buffer[]>();
  for (const c of chunks.slice(1)) {
    assert.equal(c.adapter, undefined, 'metadata only in the first chunk');
    assert.ok(c.data.byteLength <= 256 * 1024, `chunk of ${c.data.byteLength} bytes`);
    received.set(c.fileName, [...(received.get(c.fileName) ?? []), Buffer.from(c.data)]);
  }
  assert.deepEqual([...received.keys()], ['adapter_config.json', 'adapter_model.safetensors']);
  assert.equal(received.get('adapter_model.safetensors')?.length, 3, '600 KiB in three chunks');
  for (const [name, data] of Object.entries(files)) assert.ok(Buffer.concat(received.get(name) ?? []).equals(Buffer.from(data)), name);

  const done = await getJob(job.jobId);
  assert.equal(done.state, S.TRAINING_JOB_STATE_SUCCEEDED);
  // A watch on an ended job sends it once and ends.
  assert.deepEqual(
    (await watch(job.jobId).ended).map((j) => j.state),
    [S.TRAINING_JOB_STATE_SUCCEEDED],
  );
});

test('a succeeded event whose files do not check out fails the job, naming the file', async () => {
  // Wrong digest of a file that is there.
  const job = await submit('ds-ok', { seed: 2 });
  const w = watch(job.jobId);
  const trainer = new FakeTrainer();
  await trainer.take(job.jobId);
  await trainer.running();
  const { adapter } = await uploadAdapter(`${job.jobId}-bad`, job.jobId);
  const wrong = Adapter.fromPartial({
    ...adapter,
    sha256: '0'.repeat(64),
    files: adapter.files.map((f) => (f.name === 'adapter_model.safetensors' ? { ...f, sha256: '0'.repeat(64) } : f)),
  });
  await trainer.succeeded(wrong);
  trainer.msg?.ack();
  const last = (await w.ended).at(-1) as TrainingJob;
  assert.equal(last.state, S.TRAINING_JOB_STATE_FAILED);
  assert.match(
    last.message,
    /adapter rejected: adapter file adapter_model\.safetensors: sha256 [0-9a-f]{64} in trajectory_adapters, 0{64} listed/,
  );
  assert.equal(last.adapterId, '');
  await until('the failed event', () => eventsFor('trajectory.training.failed', job.jobId)[0]);

  // A file listed but never uploaded.
  const job2 = await submit('ds-ok', { seed: 3 });
  const trainer2 = new FakeTrainer();
  await trainer2.take(job2.jobId);
  await trainer2.running();
  const { adapter: a2 } = await uploadAdapter(`${job2.jobId}-missing`, job2.jobId);
  await trainer2.succeeded(Adapter.fromPartial({ ...a2, files: [...a2.files, { name: 'Modelfile', sha256: 'f'.repeat(64), size: 10 }] }));
  trainer2.msg?.ack();
  const failed = await until('job 2 failed', async () => {
    const j = await getJob(job2.jobId);
    return isEnded(j) ? j : undefined;
  });
  assert.equal(failed.state, S.TRAINING_JOB_STATE_FAILED);
  assert.match(failed.message, /adapter file Modelfile is missing/);

  await registryIdle();
  const adapters = (await unary(client.listAdapters, client, { datasetId: '' })).adapters.map((a) => a.adapterId);
  assert.ok(!adapters.includes(`${job.jobId}-bad`) && !adapters.includes(`${job2.jobId}-missing`), 'neither adapter is registered');
  assert.ok(
    !seen.some(
      (s) =>
        s.subject === SUBJECTS.adapterPublished &&
        [`${job.jobId}-bad`, `${job2.jobId}-missing`].includes(AdapterPublished.fromJSON(s.data).adapterId),
    ),
  );
});

const isEnded = (j: TrainingJob) =>
  j.state === S.TRAINING_JOB_STATE_SUCCEEDED || j.state === S.TRAINING_JOB_STATE_FAILED || j.state === S.TRAINING_JOB_STATE_CANCELLED;

test('CancelJob stops a running job; later progress and succeeded are ignored; cancelling again is FAILED_PRECONDITION', async () => {
  const job = await submit('ds-ok', { seed: 4 });
  const trainer = new FakeTrainer();
  await trainer.take(job.jobId);
  await trainer.running();
  await trainer.progress(1);
  await until('running', async () => ((await getJob(job.jobId)).progress?.step === 1 ? true : undefined));
  const w = watch(job.jobId);

  const cancelled = await unary(client.cancelJob, client, { jobId: job.jobId });
  assert.equal(cancelled.state, S.TRAINING_JOB_STATE_CANCELLED);
  assert.equal(cancelled.cancelRequested, true);
  const ended = await w.ended;
  assert.equal(ended.at(-1)?.state, S.TRAINING_JOB_STATE_CANCELLED, 'the watch ends with the cancel');
  const event = await until('the cancelled event', () => eventsFor('trajectory.training.cancelled', job.jobId)[0]);
  assert.equal(event.job?.cancelRequested, true);

  // The trainer reads cancel_requested from the registry, as the Python trainer does.
  const kv = await new Kvm(bus.nc).open(BUCKETS.trainingJobs);
  assert.equal(TrainingJob.fromJSON((await kv.get(job.jobId))?.json()).cancelRequested, true);

  // Reports already in flight arrive late: they change nothing.
  await trainer.progress(2);
  const { adapter } = await uploadAdapter(`${job.jobId}-late`, job.jobId);
  await trainer.succeeded(adapter);
  trainer.msg?.ack();
  await registryIdle();
  const after = await getJob(job.jobId);
  assert.equal(after.state, S.TRAINING_JOB_STATE_CANCELLED);
  assert.equal(after.progress?.step, 1);
  assert.equal(after.adapterId, '');
  assert.ok(!(await unary(client.listAdapters, client, { datasetId: '' })).adapters.some((a) => a.adapterId === `${job.jobId}-late`));

  await assert.rejects(unary(client.cancelJob, client, { jobId: job.jobId }), (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
    assert.match(err.details, /already cancelled/);
    return true;
  });
  // A queued job can be cancelled too.
  const queued = await submit('ds-ok', { seed: 5 });
  assert.equal((await unary(client.cancelJob, client, { jobId: queued.jobId })).state, S.TRAINING_JOB_STATE_CANCELLED);
});

test('two replicas share the registry: concurrent compare-and-set updates lose nothing', async () => {
  const job = await submit('ds-ok', { seed: 6 });
  // Two independent connections, as two service processes have, bump the step 25 times each.
  const other = await connectBus(servers.nats.busOptions('training', 'training-itest-2'));
  try {
    const registries = [await JobRegistry.open(bus.nc), await JobRegistry.open(other.nc)];
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (registries[i % 2] as JobRegistry).mutate(job.jobId, (j) => {
          const current = j as TrainingJob;
          const step = (current.progress?.step ?? 0) + 1;
          return { job: { ...current, progress: progress(step) }, changed: true };
        }),
      ),
    );
    assert.equal((await getJob(job.jobId)).progress?.step, 50, 'no increment lost');
  } finally {
    await other.close();
  }
});

test('a second replica takes its share of the events, and a killed replica loses no job', async () => {
  const second = await startTraining();
  try {
    const job = await submit('ds-ok', { seed: 7 });
    const trainer = new FakeTrainer();
    await trainer.take(job.jobId);
    await trainer.running();
    for (let step = 1; step <= 30; step++) await trainer.progress(step);
    await registryIdle();
    assert.equal((await getJob(job.jobId)).progress?.step, 30, 'the newest step, whichever replica applied which');
    const logs = readFileSync(second.logFile, 'utf8');
    assert.match(logs, /training serving/);

    // The first replica dies; events go on (the second applies them); a restarted one finds every job.
    await service.kill();
    client.close();
    const { adapter } = await uploadAdapter(`${job.jobId}-a`, job.jobId);
    await trainer.succeeded(adapter);
    trainer.msg?.ack();
    service = await startTraining();
    client = createClient(TrainingServiceClient, service.target, service.auth);
    const done = await until('succeeded after the restart', async () => {
      const j = await getJob(job.jobId);
      return j.state === S.TRAINING_JOB_STATE_SUCCEEDED ? j : undefined;
    });
    assert.equal(done.adapterId, `${job.jobId}-a`);
    const jobs = (await unary(client.listJobs, client, {})).jobs;
    assert.ok(jobs.length >= 8, `every job is still there (${jobs.length})`);
  } finally {
    await second.stop();
  }
});
