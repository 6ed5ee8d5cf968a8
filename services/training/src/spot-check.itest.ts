// The spot-check gate through the real samples and training services: a dataset version built by
// samples' own code, registered as samples registers it, drawn and judged over SamplesService,
// refused and then admitted by TrainingService, and an override recorded on the job.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type Bus, openDatasetRegistry } from '@trajectory/bus';
import {
  type ConversationGraph,
  DatasetManifest,
  type Edge,
  SamplesServiceClient,
  SpotCheckVerdict,
  TrainingServiceClient,
} from '@trajectory/contracts';
import { freePort } from '@trajectory/local-servers';
import { createClient, unary } from '@trajectory/runtime';
import { buildDataset, DEFAULT_SYSTEM_PROMPT, formatDatasetReport, RELATION_WEIGHTS } from '@trajectory/samples';
import { type ServiceProcess, startServiceProcess, startTestBus, type TestServers } from '@trajectory/testkit';

const { SPOT_CHECK_VERDICT_ACCEPTED: ACCEPTED, SPOT_CHECK_VERDICT_REJECTED: REJECTED } = SpotCheckVerdict;

let servers: TestServers;
let bus: Bus;
let samples: ServiceProcess;
let training: ServiceProcess;
let samplesClient: SamplesServiceClient;
let trainingClient: TrainingServiceClient;
let workDir: string;
let datasetId: string;

const TOPICS = [
  'sourdough bread',
  'a garden shed',
  'rust lifetimes',
  'tax returns',
  'a marathon plan',
  'jazz chords',
  'solar panels',
  'a job offer',
  'kitchen knives',
  'a road trip',
  'chess openings',
  'a wedding toast',
];

/** A conversation of eight nodes with a challenged and revised answer: trajectory, chat and preference records. */
function conversation(i: number): ConversationGraph {
  const t = TOPICS[i] as string;
  const turns: [string, string][] = [
    ['user', `How do I get started with ${t}? I have never tried it before.`],
    ['assistant', `For ${t}, start small: pick one simple goal, gather the basics, and practise it for a week (${i}).`],
    ['user', `Why ${t.split(' ').pop()}?`],
    ['assistant', `Because with ${t} the early mistakes teach the most when there are few variables (${i}).`],
    ['user', `But I only have one weekend for ${t}, and I also want it to last. Which matters more?`],
    ['assistant', `Then for ${t} put durability first and accept a slower start: one weekend is enough (${i}).`],
    ['user', `That is wrong for ${t}: the weekend plan you gave ignores the budget I mentioned.`],
    ['assistant', `You are right, for ${t} within budget: use the cheaper option; here is the revised plan (${i}).`],
  ];
  const nodes = turns.map(([role, text], k) => ({
    id: `c${i}n${k}`,
    conversationId: `c${i}`,
    messageIds: [`c${i}m${k}`],
    role,
    text,
    createdAt: new Date(Date.UTC(2024, i, 1 + k)),
    tags: [],
    onCurrentBranch: true,
    sentenceStart: 0,
    sentenceEnd: 1,
  }));
  const edges = nodes
    .slice(1)
    .map((n, k): Edge => ({ fromId: n.id, toId: nodes[k]?.id as string, relation: 'follows', confidence: 1, tags: [] }));
  edges.push({ fromId: `c${i}n7`, toId: `c${i}n5`, relation: 'refines', confidence: 0.9, tags: ['revision'] });
  return { conversationId: `c${i}`, title: t, nodes, edges, chains: [] };
}

before(async () => {
  ({ servers, bus } = await startTestBus('admin', 'spot-check-itest'));
  workDir = mkdtempSync(join(tmpdir(), 'trajectory-spot-check-itest-'));

  // A version as the samples service builds and registers it (services/samples/src/main.ts).
  const settings = {
    referenceDate: new Date('2025-01-01T00:00:00Z'),
    contextSize: 3,
    targetRoles: ['user', 'assistant'],
    relationWeights: { ...RELATION_WEIGHTS },
    evalShare: 0.2,
    systemPrompt: DEFAULT_SYSTEM_PROMPT,
  };
  const built = await buildDataset(
    (async function* () {
      for (let i = 0; i < TOPICS.length; i++) yield conversation(i);
    })(),
    join(workDir, 'datasets'),
    settings,
  );
  assert.ok(built.gates.passed, JSON.stringify(built.gates.gates.filter((g) => !g.passed)));
  datasetId = built.datasetId;
  const manifest = DatasetManifest.fromPartial({
    datasetId,
    version: 1,
    builtAt: new Date(),
    referenceDate: settings.referenceDate,
    path: built.recordsPath,
    recordCount: built.records.length,
    gatesPassed: built.gates.passed,
    gates: built.gates.gates.map((g) => ({ name: g.name, passed: g.passed, reason: g.reason ?? '' })),
    report: built.report,
    relationWeights: settings.relationWeights,
    decayDays: 730,
    ...built.manifestSettings,
  });
  const registry = await openDatasetRegistry(bus);
  await registry.put(manifest);
  // Another version nobody spot-checks: trained only with the override.
  await registry.put({ ...manifest, datasetId: 'unchecked', version: 2 });

  const env = { ...servers.nats.serviceEnv(), TRAINING_BASE_MODEL: 'tiny-random-qwen2', SAMPLES_DATASET_DIR: join(workDir, 'datasets') };
  const logDir = join(workDir, 'logs');
  [samples, training] = await Promise.all([
    startServiceProcess('samples', { env, logDir, port: await freePort() }),
    startServiceProcess('training', { env, logDir, port: await freePort() }),
  ]);
  samplesClient = createClient(SamplesServiceClient, samples.target, samples.auth);
  trainingClient = createClient(TrainingServiceClient, training.target, training.auth);
});

after(async () => {
  samplesClient?.close();
  trainingClient?.close();
  await Promise.all([samples?.stop(), training?.stop()]);
  await bus?.close();
  await servers?.stop();
  if (workDir && !process.env.KEEP) rmSync(workDir, { recursive: true, force: true });
});

const submit = (id: string, overrideSpotCheck = false) =>
  unary(trainingClient.submitJob, trainingClient, { datasetId: id, datasetPath: '', baseModel: '', overrideSpotCheck });
const judge = (recordId: string, verdict: SpotCheckVerdict, reason = '') =>
  unary(samplesClient.recordVerdict, samplesClient, { datasetId, recordId, verdict, reason });
const refusedFor = (pattern: RegExp) => (err: grpc.ServiceError) => {
  assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
  assert.match(err.details, pattern);
  return true;
};

test('a version not spot-checked is refused; judged with 90 % accepted it is trained; an override is recorded on the job', async () => {
  const listed = await unary(samplesClient.listDatasets, samplesClient, {});
  assert.deepEqual(
    listed.datasets.map((d) => [d.datasetId, d.version, d.spotCheck?.drawn, d.spotCheck?.passed]),
    [
      ['unchecked', 2, 0, false],
      [datasetId, 1, 0, false],
    ],
    'newest first, none drawn',
  );
  await assert.rejects(submit(datasetId), refusedFor(/waits for its spot-check: spot-check not drawn yet.*override_spot_check/));

  // The draw: 100 of 144 records, stratified by type, each with its context; the same draw again.
  const draw = await unary(samplesClient.drawSpotCheck, samplesClient, { datasetId, size: 0 });
  assert.equal(draw.records.length, 100);
  const types: Record<string, number> = {};
  for (const r of draw.records) types[r.recordType] = (types[r.recordType] ?? 0) + 1;
  assert.deepEqual(types, { chat: 33, preference: 8, trajectory: 59 }, 'proportional to 48 / 12 / 84');
  const trajectory = draw.records.find((r) => r.recordType === 'trajectory');
  assert.ok(trajectory?.context && trajectory.context.turns.length > 0);
  assert.equal(JSON.parse(trajectory.recordJson).id, trajectory.recordId);
  assert.ok(trajectory.context.turns.every((t) => t.createdAt instanceof Date && t.text && t.role));
  assert.ok(trajectory.context.relation && trajectory.context.relationWeight > 0 && trajectory.context.decay > 0);
  const again = await unary(samplesClient.drawSpotCheck, samplesClient, { datasetId, size: 0 });
  assert.deepEqual(
    again.records.map((r) => r.recordId),
    draw.records.map((r) => r.recordId),
  );
  assert.equal(again.status?.summary, 'spot-check 0/100 judged');

  await assert.rejects(judge(draw.records[0]?.recordId as string, REJECTED, ' '), (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /a rejection needs a reason/);
    return true;
  });
  // 89 accepted, 11 rejected: judged, but below 90 %.
  for (const [i, r] of draw.records.entries()) {
    if (i < 11) await judge(r.recordId, REJECTED, `not how I talk (${i})`);
    else await judge(r.recordId, ACCEPTED);
  }
  let status = await unary(samplesClient.getSpotCheck, samplesClient, { datasetId });
  assert.deepEqual([status.judged, status.accepted, status.rejected, status.passed], [100, 89, 11, false]);
  await assert.rejects(submit(datasetId), refusedFor(/spot-check FAILED: 89 of 100 accepted/));

  // Judging again replaces the verdict: 90 of 100 passes.
  status = await judge(draw.records[0]?.recordId as string, ACCEPTED);
  assert.deepEqual([status.accepted, status.rejected, status.passed], [90, 10, true]);
  assert.equal(status.summary, 'spot-check passed: 90 of 100 accepted (90.0% >= 90.0%)');
  assert.deepEqual(
    status.rejections.map((r) => r.reason),
    Array.from({ length: 10 }, (_, i) => `not how I talk (${i + 1})`),
  );
  // The verdicts live with the version: the report shows the gate and each rejected record's reason.
  const manifest = await unary(samplesClient.getDataset, samplesClient, { datasetId });
  const report = formatDatasetReport(manifest);
  assert.match(report, /ok {3}spot-check: spot-check passed: 90 of 100 accepted/);
  assert.match(report, new RegExp(`rejected \\w+ ${draw.records[1]?.recordId}: not how I talk \\(1\\)`));

  const job = await submit(datasetId);
  assert.equal(job.datasetId, datasetId);
  assert.equal(job.spotCheckOverridden, false);
  assert.equal(job.spotCheckStatus, 'spot-check passed: 90 of 100 accepted (90.0% >= 90.0%)');

  // The other version: refused, then queued with the override, which the job and the log record.
  await assert.rejects(submit('unchecked'), refusedFor(/dataset unchecked \(version 2\) waits for its spot-check/));
  const overridden = await submit('unchecked', true);
  assert.equal(overridden.spotCheckOverridden, true);
  assert.equal(overridden.spotCheckStatus, 'spot-check not drawn yet (0 judged)');
  const stored = await unary(trainingClient.getJob, trainingClient, { jobId: overridden.jobId });
  assert.equal(stored.spotCheckOverridden, true);
  assert.match(readFileSync(training.logFile, 'utf8'), new RegExp(`"jobId":"${overridden.jobId}".*override_spot_check`));
});
