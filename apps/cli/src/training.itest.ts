import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Objm } from '@nats-io/obj';
import { BUCKETS, type Bus, openDatasetRegistry, publishEvent, STREAMS, SUBJECTS, WORK_QUEUES } from '@trajectory/bus';
import { Adapter, DatasetManifest, SpotCheckVerdict, type TrainingJob, TrainingJobChanged, TrainingJobState } from '@trajectory/contracts';
import { freePort } from '@trajectory/local-servers';
import { type ServiceProcess, startServiceProcess, startTestBus, type TestServers, until } from '@trajectory/testkit';
import { runCli } from './cli.test-helper.js';

const S = TrainingJobState;

let servers: TestServers;
let bus: Bus;
let training: ServiceProcess;
let workDir: string;
let env: Record<string, string>;

before(async () => {
  ({ servers, bus } = await startTestBus('admin', 'cli-itest'));
  workDir = mkdtempSync(join(tmpdir(), 'trajectory-cli-itest-'));
  const datasets = await openDatasetRegistry(bus);
  // Spot-checked: its one drawn record accepted.
  const accepted = { recordId: 'r1', recordType: 'chat', verdict: SpotCheckVerdict.SPOT_CHECK_VERDICT_ACCEPTED, reason: '' };
  const spotCheck = { seed: 1, size: 1, threshold: 0.9, items: [accepted] };
  await datasets.put(
    DatasetManifest.fromPartial({ datasetId: 'cli-ds', version: 1, gatesPassed: true, path: '/d/cli-ds/records.jsonl', spotCheck }),
  );
  await datasets.put(
    DatasetManifest.fromPartial({ datasetId: 'cli-unchecked', version: 3, gatesPassed: true, path: '/d/u/records.jsonl' }),
  );
  await datasets.put(
    DatasetManifest.fromPartial({
      datasetId: 'cli-gated',
      version: 2,
      gatesPassed: false,
      gates: [{ name: 'uniqueness', passed: false, reason: 'too many duplicates' }],
    }),
  );
  training = await startServiceProcess('training', {
    env: { ...servers.nats.serviceEnv(), TRAINING_BASE_MODEL: 'tiny-random-qwen2' },
    logDir: join(workDir, 'logs'),
    port: await freePort(),
  });
  // The other services are not running: status reports them DOWN and goes on.
  const down = `127.0.0.1:${await freePort()}`;
  env = {
    ...servers.nats.userEnv('cli'),
    GRPC_TOKEN: training.auth.GRPC_TOKEN,
    TRAINING_GRPC_TARGET: training.target,
    INGESTION_GRPC_TARGET: down,
    SEGMENTATION_GRPC_TARGET: down,
    GRAPH_GRPC_TARGET: down,
    SAMPLES_GRPC_TARGET: down,
  };
});

after(async () => {
  await training?.stop();
  await bus?.close();
  await servers?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** Runs the CLI; `onLine` sees stdout as it comes. */
const cli = (args: string[], onLine?: (line: string) => void) => runCli(args, { ...process.env, ...env }, onLine);

/** What a GPU trainer does, reduced to its messages: take the job, report, upload, succeed. */
async function trainOnce(jobId: string, weights: Uint8Array): Promise<string> {
  const consumer = await bus.js.consumers.get(STREAMS.events.name, WORK_QUEUES.trainer.durable);
  let job: TrainingJob | undefined;
  while (!job) {
    for await (const m of await consumer.fetch({ max_messages: 8, expires: 1_000 })) {
      const event = TrainingJobChanged.fromJSON(m.json());
      if (event.job?.jobId === jobId) job = event.job;
      m.ack();
    }
  }
  const report = (subject: string, patch: Partial<TrainingJob>, adapter?: Adapter) =>
    publishEvent(
      bus,
      SUBJECTS.training(subject),
      TrainingJobChanged,
      { job: { ...(job as TrainingJob), trainer: 'cli-itest', attempt: 1, message: '', ...patch }, ...(adapter ? { adapter } : {}) },
      `training:${jobId}:${subject}:1:${patch.progress?.step ?? 0}`,
    );
  const progress = (step: number) => ({
    step,
    totalSteps: 2,
    epoch: step,
    loss: 1 / step,
    learningRate: 3e-4,
    tokensPerSecond: 500,
    etaSeconds: 2 - step,
    resumedFromStep: 0,
  });
  await report('running', { state: S.TRAINING_JOB_STATE_RUNNING });
  await report('progress', { state: S.TRAINING_JOB_STATE_RUNNING, progress: progress(1) });
  await report('progress', { state: S.TRAINING_JOB_STATE_RUNNING, progress: progress(2) });
  const adapterId = `${jobId}-cli`;
  const objects = await new Objm(bus.nc).create(BUCKETS.adapterObjects);
  const files = { 'adapter_config.json': new TextEncoder().encode('{"r":64}'), 'adapter_model.safetensors': weights };
  for (const [name, data] of Object.entries(files)) await objects.putBlob({ name: `${adapterId}/${name}` }, data);
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const adapter = Adapter.fromPartial({
    adapterId,
    files: Object.entries(files).map(([name, data]) => ({ name, sha256: sha(data), size: data.byteLength })),
    metrics: { train_loss: 0.5 },
  });
  await report('succeeded', { state: S.TRAINING_JOB_STATE_SUCCEEDED, progress: progress(2), adapterId }, adapter);
  return adapterId;
}

test('train --watch prints progress until the job ends; adapters, fetch-adapter, job, cancel and status', async () => {
  const lines: string[] = [];
  const watching = cli(['train', 'cli-ds', '--watch'], (l) => lines.push(l));
  const first = await until('the queued line', () => lines[0], 20_000, 50);
  assert.match(first, /^job ([0-9a-f]{24}) {2}queued {5}dataset cli-ds v1 {2}on tiny-random-qwen2/);
  const jobId = /^job ([0-9a-f]{24})/.exec(first)?.[1] as string;
  const weights = new Uint8Array(randomBytes(300 * 1024));
  const adapterId = await trainOnce(jobId, weights);
  const watched = await watching;
  assert.equal(watched.code, 0, watched.stderr);
  assert.ok(
    lines.some((l) => /running .*step 2\/2 \(100%\)/.test(l)),
    lines.join('\n'),
  );
  assert.match(lines.at(-1) ?? '', new RegExp(`succeeded .*adapter ${adapterId}`));

  const adapters = await cli(['adapters']);
  assert.match(adapters.stdout, new RegExp(`^adapter ${adapterId} {2}job ${jobId} {2}dataset cli-ds v1 {2}base tiny-random-qwen2`, 'm'));
  const out = join(workDir, 'adapter');
  const fetched = await cli(['fetch-adapter', adapterId, '--out', out]);
  assert.equal(fetched.code, 0, fetched.stderr);
  assert.ok(Buffer.from(weights).equals(readFileSync(join(out, 'adapter_model.safetensors'))));
  assert.equal(readFileSync(join(out, 'adapter_config.json'), 'utf8'), '{"r":64}');
  assert.equal(JSON.parse(readFileSync(join(out, 'trajectory_adapter.json'), 'utf8')).adapterId, adapterId);
  assert.ok(existsSync(join(out, 'adapter_config.json')));

  const job = await cli(['job', jobId]);
  assert.equal(job.code, 0);
  assert.match(job.stdout, /succeeded/);

  const other = await cli(['train', 'cli-ds', '--base-model', 'other/model']);
  const otherId = /^job ([0-9a-f]{24})/.exec(other.stdout)?.[1] as string;
  assert.ok(otherId && otherId !== jobId, other.stdout);
  assert.match(other.stdout, /queued .*on other\/model/);
  const cancelled = await cli(['cancel', otherId]);
  assert.match(cancelled.stdout, /cancelled/);
  const again = await cli(['cancel', otherId]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already cancelled/);
  assert.equal((await cli(['job', otherId, '--watch'])).code, 1, 'a cancelled job ends with exit code 1');

  const status = await cli(['status']);
  assert.match(status.stdout, /^training {6}127\.0\.0\.1:\d+ +SERVING$/m);
  assert.match(status.stdout, /^training jobs \(2\):$/m);
  assert.match(status.stdout, new RegExp(`^ {2}job ${jobId} {2}succeeded .*step 2/2 \\(100%\\)`, 'm'));

  const refused = await cli(['train', 'cli-gated']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /failed its quality gates: uniqueness: too many duplicates/);
  const unchecked = await cli(['train', 'cli-unchecked']);
  assert.equal(unchecked.code, 1);
  assert.match(unchecked.stderr, /waits for its spot-check: spot-check not drawn yet .*--override-spot-check/);
  const overridden = await cli(['train', 'cli-unchecked', '--override-spot-check']);
  assert.equal(overridden.code, 0, overridden.stderr);
  assert.match(overridden.stdout, /queued .*dataset cli-unchecked v3 .*spot-check overridden \(spot-check not drawn yet \(0 judged\)\)/);
  const missing = await cli(['fetch-adapter', 'nope', '--out', join(workDir, 'nope')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no adapter nope/);
});
