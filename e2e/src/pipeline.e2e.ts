import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { connectBus, openDatasetRegistry, SUBJECTS } from '@trajectory/bus';
import {
  buildDataset,
  cancelJob,
  drawSpotCheck,
  getSpotCheck,
  ingestedConversations,
  ingestStatus,
  listAdapters,
  listTrainingJobs,
  loadTargets,
  recordVerdict,
  submitJob,
  submitOrAwaitSpotCheck,
  uploadExport,
  waitForStored,
  watchJob,
} from '@trajectory/cli';
import {
  AdapterPublished,
  ConversationSegmented,
  DatasetManifest,
  IngestState,
  SpotCheckVerdict,
  TrainingHyperparameters,
  TrainingJobChanged,
  TrainingJobState,
  type UploadExportResult,
} from '@trajectory/contracts';
import {
  freeServicePorts,
  OtlpCollector,
  query,
  REPO_ROOT,
  SERVICE_NAMES,
  startEmptyServers,
  startPipelineIn,
  startServiceProcess,
  type TestServers,
  until,
} from '@trajectory/testkit';
import type { Driver } from 'neo4j-driver';

const SAMPLE = join(REPO_ROOT, 'e2e', 'fixtures', 'chatgpt', 'conversations.json');
const FACTS = join(REPO_ROOT, 'examples', 'facts.yaml');

let servers: TestServers;
let driver: Driver;
let collector: OtlpCollector;
let nc: NatsConnection;
let workDir: string;
let pipeline: Awaited<ReturnType<typeof startPipelineIn>>;
const seen: { subject: string; data: string }[] = [];

before(async () => {
  ({ servers, driver } = await startEmptyServers());
  collector = new OtlpCollector();
  const otlpEndpoint = await collector.start();
  // What any NATS client sees on the subjects the README documents: the read-only observer's view.
  nc = await connect(servers.nats.connectOptions('observer'));
  const sub = nc.subscribe('trajectory.>');
  void (async () => {
    for await (const m of sub) seen.push({ subject: m.subject, data: m.string() });
  })();
  workDir = mkdtempSync(join(tmpdir(), 'trajectory-e2e-'));
  const ports = await freeServicePorts();
  // Segmentation starts later: the test kills and restarts it while the ingest flows.
  pipeline = await startPipelineIn(servers, workDir, { otlpEndpoint, ports, only: ['ingestion', 'graph', 'samples', 'training'] });
});

after(async () => {
  await pipeline?.stop();
  await nc?.drain();
  await driver?.close();
  await collector?.stop();
  await servers?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('a ChatGPT export flows through all five services into Neo4j, a dataset and a training job', async (t) => {
  const targets = loadTargets(pipeline.env);
  const upload: UploadExportResult = await uploadExport(targets, SAMPLE);
  const report = upload.report;
  assert.deepEqual(report?.skipped, []);
  assert.equal(report?.conversationsNew, 3);
  assert.equal(report?.messages, 11);
  assert.equal(report?.branchPoints, 1);
  assert.deepEqual(report?.redactionsByKind, { openai_key: 1 });

  await t.test('segmentation killed with SIGKILL mid-ingest and restarted loses and duplicates nothing', async () => {
    const env = { ...pipeline.env, SEGMENTATION_CONCURRENCY: '1' };
    const logDir = join(workDir, 'logs');
    const port = Number(pipeline.env.SEGMENTATION_GRPC_TARGET?.split(':')[1]);
    const first = await startServiceProcess('segmentation', { env, logDir, port });
    await until('a first segmented conversation', () => seen.find((s) => s.subject === SUBJECTS.conversationSegmented), 30_000);
    await first.kill();
    const second = await startServiceProcess('segmentation', { env, logDir, port });
    pipeline.services.set('segmentation', second);
    assert.equal(await waitForStored(targets, upload, { timeoutMs: 60_000 }), 3);
    const segmented = seen
      .filter((s) => s.subject === SUBJECTS.conversationSegmented)
      .map((s) => ConversationSegmented.fromJSON(JSON.parse(s.data)).conversation?.id);
    // A redelivered conversation may be segmented twice; its publish is deduplicated by msg id.
    const ingested = [];
    for await (const c of ingestedConversations(targets, upload.ingestId)) ingested.push(c);
    assert.deepEqual([...new Set(segmented)].sort(), ingested.map((c) => c.id).sort());
  });

  await t.test('Neo4j holds exactly the conversations, messages, nodes and edges', async () => {
    const [counts] = await query<{ conversations: number; messages: number; nodes: number; distinctNodes: number }>(
      driver,
      `CALL { MATCH (c:Conversation) RETURN count(c) AS conversations }
       CALL { MATCH (m:Message) RETURN count(m) AS messages }
       CALL { MATCH (n:Node) RETURN count(n) AS nodes, count(DISTINCT n.id) AS distinctNodes }
       RETURN conversations, messages, nodes, distinctNodes`,
    );
    assert.deepEqual(counts, { conversations: 3, messages: 11, nodes: 11, distinctNodes: 11 });
    const edges = await query<{ type: string; n: number }>(
      driver,
      'MATCH (:Node)-[r]->(:Node) RETURN type(r) AS type, count(r) AS n ORDER BY type',
    );
    assert.deepEqual(edges, [
      { type: 'FOLLOWS', n: 8 },
      { type: 'RESPONDS', n: 6 },
    ]);
    // The regenerated answer is kept as a branch; only the newer one is on the current path.
    const branch = await query<{ text: string; current: boolean }>(
      driver,
      `MATCH (:Conversation {title: 'Planning a sourdough schedule'})<-[:IN_CONVERSATION]-(m:Message {role: 'assistant'})-[:REPLY_TO]->(:Message {role: 'user', id: 'a-u1'})
       RETURN m.text AS text, m.onCurrentBranch AS current ORDER BY m.createdAt`,
    );
    assert.deepEqual(
      branch.map((b) => b.current),
      [false, true],
    );
    const leaked = await query(driver, "MATCH (n) WHERE any(k IN keys(n) WHERE n[k] IS :: STRING AND n[k] CONTAINS 'sk-proj-') RETURN n");
    assert.equal(leaked.length, 0, 'the API key in the export reached the graph');
  });

  await t.test('the dataset: every record type, a preference pair from the regenerated answer, gates, report, stored version', async () => {
    const dataset = await buildDataset(targets, { asOf: new Date('2026-01-01T00:00:00Z'), factsPath: FACTS });
    const manifest = dataset.manifest;
    assert.ok(manifest);
    assert.equal(manifest.referenceDate?.toISOString(), '2026-01-01T00:00:00.000Z', 'the reference date is recorded');
    assert.equal(manifest.decayDays, 730);
    assert.equal(manifest.version, 1);
    const lines = readFileSync(dataset.path, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, dataset.recordCount);
    const records = lines.map((l) => JSON.parse(l));
    const types = new Set(records.map((r) => r.type));
    for (const type of ['chat', 'qa', 'preference', 'trajectory', 'memory']) assert.ok(types.has(type), `a ${type} record`);
    // Personal facts: 30+ phrasings each, some held out for the recall eval, never in an export;
    // beside a history this small, training keeps as many memory records as real ones (50 % real).
    assert.equal(manifest.report?.facts, 3);
    assert.ok((manifest.report?.memoryRecordsGenerated ?? 0) >= 90);
    assert.equal(manifest.report?.memoryRecordsKept, manifest.report?.realRecords);
    assert.equal(manifest.report?.realSharePercent, 50);
    assert.ok(manifest.gates.some((g) => g.name === 'real-share' && g.passed && g.reason === ''));
    const heldout = records.filter((r) => r.split === 'heldout');
    assert.ok(heldout.length >= 15 && heldout.every((r) => r.type === 'memory'));
    for (const r of records) {
      assert.ok(r.weight > 0, `weight ${r.weight}`);
      assert.ok(r.source.factId || (r.source.conversationId && r.source.nodeIds.length > 0), 'lineage: a fact, or conversation and nodes');
    }
    // The regenerated answer: chosen is the one the user continued from.
    const [preference, ...morePreferences] = records.filter((r) => r.type === 'preference');
    assert.equal(morePreferences.length, 0);
    assert.match(preference.chosen, /^Wait for the starter to peak/);
    assert.match(preference.rejected, /^Mix around 2pm/);
    assert.equal(manifest.report?.preferencePairs, 1);
    // The follow-up asked after the regenerated answer sees that answer, not the discarded one.
    const followUp = records.find((r) => r.type === 'trajectory' && r.next.text.startsWith('My kitchen is cold'));
    assert.deepEqual(
      followUp.context.map((c: { role: string }) => c.role),
      ['user', 'assistant'],
    );
    assert.match(followUp.context[1].text, /^Wait for the starter to peak/);
    assert.ok(manifest.gatesPassed, `gates: ${JSON.stringify(manifest.gates)}`);
    assert.deepEqual(
      manifest.report?.shapes.map((r) => r.method),
      ['turn pairs (user -> assistant)', 'cognitive trajectories'],
    );
    // Exports for the trainers, beside the records, and the version in the object store.
    const files = readdirSync(dirname(dataset.path));
    for (const file of ['records.jsonl', 'report.json', 'exports.json', 'sft.jsonl', 'sharegpt.jsonl', 'dataset_info.json']) {
      assert.ok(files.includes(file), file);
    }
    const sft = readFileSync(join(dirname(dataset.path), 'sft.jsonl'), 'utf8');
    for (const r of heldout) assert.ok(!sft.includes(JSON.stringify(r.question)), `held-out "${r.question}" reached sft.jsonl`);
    // The one preference pair lands in the train or the eval split, by its id.
    assert.ok(files.includes('dpo.jsonl') || files.includes('dpo.eval.jsonl'), `a DPO file in ${files}`);
    assert.ok(manifest.objects.includes(`${dataset.datasetId}/records.jsonl`));
    const bus = await connectBus(servers.nats.busOptions('samples', 'e2e-datasets'));
    try {
      const registry = await openDatasetRegistry(bus);
      const stored = await registry.objects.getBlob(`${dataset.datasetId}/records.jsonl`);
      assert.equal(new TextDecoder().decode(stored ?? new Uint8Array()), readFileSync(dataset.path, 'utf8'));
      // A version whose gates failed is refused by training, with the reasons.
      await registry.put(
        DatasetManifest.fromPartial({
          datasetId: 'failed-gates',
          version: 99,
          gatesPassed: false,
          path: dataset.path,
          gates: [{ name: 'uniqueness', passed: false, reason: 'uniqueness 0.10 < 0.25 for type chat' }],
        }),
      );
      await assert.rejects(submitJob(targets, 'failed-gates'), (err: Error & { code?: number }) => {
        assert.equal(err.code, 9, 'FAILED_PRECONDITION');
        assert.match(err.message, /failed its quality gates: uniqueness: uniqueness 0\.10 < 0\.25 for type chat/);
        return true;
      });
    } finally {
      await bus.close();
    }

    // A person spot-checks a draw of the records before training: until then the training service
    // refuses the version and the CLI says where to look. Here every drawn record is accepted
    // through the samples service, as the web page does.
    const refused = await submitOrAwaitSpotCheck(targets, dataset.datasetId);
    assert.ok('waiting' in refused && refused.waiting.drawn > 0, 'training waits for the spot-check');
    const draw = await drawSpotCheck(targets, { datasetId: dataset.datasetId });
    assert.equal(draw.records.length, Math.min(100, dataset.recordCount), 'a small version is drawn whole');
    assert.deepEqual(new Set(draw.records.map((r) => r.recordType)), types, 'every record type in the draw');
    for (const r of draw.records) {
      await recordVerdict(targets, {
        datasetId: dataset.datasetId,
        recordId: r.recordId,
        verdict: SpotCheckVerdict.SPOT_CHECK_VERDICT_ACCEPTED,
        reason: '',
      });
    }
    assert.ok((await getSpotCheck(targets, dataset.datasetId)).passed, 'spot-check passed');

    const job = await submitJob(targets, dataset.datasetId);
    assert.equal(job.state, TrainingJobState.TRAINING_JOB_STATE_QUEUED);
    assert.equal(job.datasetPath, dataset.path);
    assert.equal(job.spotCheckOverridden, false);
    const again = await submitJob(targets, dataset.datasetId);
    assert.equal(again.jobId, job.jobId, 'resubmitting the same dataset queues no second job');
    const queued = await until('trajectory.training.queued', () => seen.find((s) => s.subject === 'trajectory.training.queued'), 30_000);
    assert.equal(TrainingJobChanged.fromJSON(JSON.parse(queued.data)).job?.jobId, job.jobId);
    assert.ok(seen.some((s) => s.subject === SUBJECTS.datasetBuilt));
  });

  await t.test('a Python trainer turns the dataset into a published adapter (tiny model, CPU)', async () => {
    const python = join(process.env.TRAJECTORY_DATA_DIR ?? join(REPO_ROOT, '.trajectory'), 'venv', 'bin', 'python');
    assert.ok(existsSync(python), `the trainer venv is missing (${python}): devstack's setup creates it`);
    // The 7B job queued above has no GPU here: cancel it, so the trainer skips it.
    const [queuedJob] = (await listTrainingJobs(targets)).filter((j) => j.state === TrainingJobState.TRAINING_JOB_STATE_QUEUED);
    assert.ok(queuedJob);
    assert.equal((await cancelJob(targets, queuedJob.jobId)).state, TrainingJobState.TRAINING_JOB_STATE_CANCELLED);
    const datasetId = (await listTrainingJobs(targets))[0]?.datasetId ?? '';
    const job = await submitJob(targets, datasetId, {
      hyperparameters: TrainingHyperparameters.fromPartial({
        baseModel: 'tiny-random-qwen2',
        loraR: 8,
        loraAlpha: 16,
        learningRate: 0.01,
        maxSteps: 6,
        saveSteps: 3,
        gradientAccumulationSteps: 1,
      }),
    });
    const trainerDir = join(workDir, 'trainer');
    const trainer = spawn(
      python,
      [
        '-m',
        'trajectory_trainer',
        'worker',
        '--nats',
        servers.natsUrl,
        '--checkpoint-dir',
        join(trainerDir, 'checkpoints'),
        '--work-dir',
        join(trainerDir, 'work'),
      ],
      {
        // The trainer's own NATS user, as a deployment gives it (trainer-gpu reads NATS_USER/NATS_PASSWORD).
        env: { ...process.env, ...servers.nats.userEnv('trainer') },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let trainerLog = '';
    trainer.stderr.on('data', (chunk) => {
      trainerLog += chunk;
    });
    try {
      const ended = await watchJob(targets, job.jobId, () => {});
      assert.equal(ended.state, TrainingJobState.TRAINING_JOB_STATE_SUCCEEDED, `${ended.message}\n${trainerLog.slice(-2000)}`);
      assert.ok(ended.adapterId);
      assert.equal(ended.progress?.step, 6);
      assert.ok((ended.recall?.asked ?? 0) > 0, 'recall is measured on the held-out phrasings');
      const published = await until(
        'trajectory.adapter.published',
        () => seen.find((s) => s.subject === SUBJECTS.adapterPublished),
        30_000,
      );
      assert.equal(AdapterPublished.fromJSON(JSON.parse(published.data)).adapterId, ended.adapterId);
      const [adapter] = await listAdapters(targets, datasetId);
      assert.equal(adapter?.adapterId, ended.adapterId);
      // PEFT's files (the tiny model's tokenizer, built in code, travels with them).
      const names = adapter?.files.map((f) => f.name) ?? [];
      for (const name of ['adapter_config.json', 'adapter_model.safetensors']) assert.ok(names.includes(name), `${name} in ${names}`);
      assert.equal(adapter?.sha256, adapter?.files.find((f) => f.name === 'adapter_model.safetensors')?.sha256);
      // The job's events, in order, through real NATS.
      const states = seen
        .filter(
          (e) => e.subject.startsWith('trajectory.training.') && TrainingJobChanged.fromJSON(JSON.parse(e.data)).job?.jobId === job.jobId,
        )
        .map((e) => e.subject.replace('trajectory.training.', ''));
      assert.deepEqual([...new Set(states)], ['queued', 'running', 'progress', 'succeeded']);
    } finally {
      trainer.kill('SIGTERM');
      await once(trainer, 'exit');
    }
  });

  await t.test('one trace follows a conversation from ingestion over NATS to the graph', async () => {
    const traceId = await until(
      'ingestion and graph spans in one trace',
      () => {
        const ingestion = new Set(collector.spans.filter((s) => s.service === 'trajectory-ingestion').map((s) => s.traceId));
        const graph = collector.spans.find((s) => s.service === 'trajectory-graph' && ingestion.has(s.traceId));
        return graph?.traceId;
      },
      30_000,
    );
    const inTrace = collector.spans.filter((s) => s.traceId === traceId);
    assert.ok(inTrace.some((s) => s.service === 'trajectory-ingestion' && s.name === 'ingestion/uploadExport'));
    assert.ok(inTrace.some((s) => s.service === 'trajectory-graph' && s.name === 'graph-writer process'));
    // The graph span's parent came through the segmented event's headers (segmentation's span,
    // which a SIGKILLed segmentation may never have exported).
    const graphSpan = inTrace.find((s) => s.service === 'trajectory-graph' && s.name === 'graph-writer process');
    assert.notEqual(graphSpan?.parentSpanId, '');
  });

  await t.test('ingesting the same export again is a no-op', async () => {
    const again = await uploadExport(targets, SAMPLE);
    assert.equal(again.report?.conversationsUnchanged, 3);
    assert.equal(again.report?.conversationsNew, 0);
    const listed = [];
    for await (const c of ingestedConversations(targets, again.ingestId)) listed.push(c);
    assert.equal(listed.length, 3);
    assert.ok(listed.every((c) => c.duplicate));
    const status = await ingestStatus(targets, again.ingestId);
    assert.equal(status.state, IngestState.INGEST_STATE_DONE);
    assert.equal(status.conversationsPublished, 0);
  });

  await t.test('events on the documented subjects are readable proto3 JSON', () => {
    const ingested = seen.filter((s) => s.subject === SUBJECTS.conversationIngested);
    assert.equal(ingested.length, 3);
    const first = JSON.parse(ingested[0]?.data ?? '{}');
    assert.equal(first.conversation.source, 'EXPORT_SOURCE_CHATGPT');
    assert.match(first.conversation.createdAt, /^\d{4}-\d\d-\d\dT/);
  });

  await t.test('every service drains and exits 0 on SIGTERM', async () => {
    const exits = await Promise.all([...pipeline.services.values()].map(async (s) => [s.name, await s.stop()] as const));
    assert.deepEqual(exits.sort(), SERVICE_NAMES.map((n) => [n, 0] as const).sort());
    for (const service of pipeline.services.values()) {
      const lines = readFileSync(service.logFile, 'utf8').trim().split('\n');
      const last = JSON.parse(lines.at(-1) ?? '{}');
      assert.equal(last.msg, `${service.name} stopped`, `${service.name}'s last log line`);
    }
  });
});
