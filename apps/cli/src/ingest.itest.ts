import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { STREAMS, SUBJECTS } from '@trajectory/bus';
import { freePort } from '@trajectory/local-servers';
import {
  clearGraph,
  freeServicePorts,
  query,
  REPO_ROOT,
  startPipelineIn,
  startTestNats,
  startTestServers,
  type TestServers,
  testDriver,
  until,
} from '@trajectory/testkit';
import type { Driver } from 'neo4j-driver';
import { runCli } from './cli.test-helper.js';
import { uploadExport, waitForStored } from './pipeline.js';
import { loadTargets, type Targets } from './targets.js';

// `trajectory ingest` against ingestion, segmentation and graph, over a NATS of this test's own
// that it stops and starts again (Neo4j may be shared: the graph is cleared first).

const SAMPLE = join(REPO_ROOT, 'e2e', 'fixtures', 'chatgpt', 'conversations.json');
const REAL_EXPORT = join(REPO_ROOT, 'fixtures', 'chatgpt-export', 'pkuppens_2023-06_export.conversations.json');

let servers: TestServers;
let nats: Awaited<ReturnType<typeof startTestNats>>;
let natsOptions: { dataDir: string; port: number };
let driver: Driver;
let pipeline: Awaited<ReturnType<typeof startPipelineIn>>;
let workDir: string;
let targets: Targets;

before(async () => {
  servers = await startTestServers();
  workDir = mkdtempSync(join(tmpdir(), 'trajectory-cli-ingest-itest-'));
  natsOptions = { dataDir: join(workDir, 'nats'), port: await freePort() };
  nats = await startTestNats(natsOptions);
  driver = testDriver(servers.neo4jUri, servers.neo4jAuth);
  await clearGraph(driver);
  const ports = await freeServicePorts();
  // This test's own NATS beside the harness's Neo4j.
  pipeline = await startPipelineIn({ ...servers, nats: nats.nats }, workDir, { ports, only: ['ingestion', 'segmentation', 'graph'] });
  targets = loadTargets(pipeline.env);
});

after(async () => {
  await pipeline?.stop();
  await driver?.close();
  await nats?.stop();
  await servers?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** Runs the CLI against the pipeline; `onLine` sees stdout as it comes. */
const cli = (args: string[], onLine?: (line: string) => void) => runCli(args, { ...process.env, ...pipeline.env }, onLine);

const storedLines = (stdout: string) => stdout.split('\n').filter((l) => /^ {2}stored /.test(l));

test('ingest --wait lists each conversation as the graph stores it and exits 0', async () => {
  const run = await cli(['ingest', SAMPLE, '--wait']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^conversations: 3 \(chatgpt 3\); new 3/m);
  const stored = storedLines(run.stdout);
  assert.equal(stored.length, 3, run.stdout);
  assert.ok(
    stored.every((l) => /: [1-9]\d* nodes, \d+ edges$/.test(l)),
    stored.join('\n'),
  );
});

test('ingest exits 2 and says why on stderr when not one conversation could be read; --wait then waits for nothing', async () => {
  const unreadable: [string, Buffer | string, RegExp][] = [
    ['empty.json', '', /empty\.json byte 0: the file is empty/],
    ['empty.zip', Buffer.alloc(0), /empty\.zip byte 0: /],
    ['image.json', Buffer.from('89504e470d0a1a0a0000000d4948445200000001', 'hex'), /image\.json byte 0: /],
    ['others.json', '[{"foo":1},{"bar":2}]', /others\.json \[0\]: unknown export format .* \(and 1 more skipped\)/],
  ];
  for (const [name, content, why] of unreadable) {
    const file = join(workDir, name);
    writeFileSync(file, content);
    const run = await cli(['ingest', file, '--wait']);
    assert.equal(run.code, 2, `${name}: exit ${run.code}, stderr ${run.stderr}`);
    assert.ok(run.stderr.startsWith(`trajectory: nothing could be read from ${file}: `), run.stderr);
    assert.match(run.stderr, why, name);
    assert.match(run.stdout, /^conversations: 0 /m, `${name}: the report is still printed`);
  }
});

test('waiting does not depend on stored events: with every one deleted, the wait still ends at once', async () => {
  const upload = await uploadExport(targets, SAMPLE);
  assert.equal(upload.report?.conversationsUnchanged, 3);
  assert.equal(await waitForStored(targets, upload, { timeoutMs: 5_000 }), 0, 'an unchanged export waits for nothing');

  const nc = await connect(nats.nats.connectOptions('admin'));
  const jsm = await jetstreamManager(nc);
  const edited = JSON.parse(readFileSync(SAMPLE, 'utf8')) as { title: string }[];
  for (const c of edited) c.title = `${c.title} (renamed)`;
  const file = join(workDir, 'renamed.json');
  writeFileSync(file, JSON.stringify(edited));
  const renamed = await uploadExport(targets, file);
  assert.equal(renamed.report?.conversationsEdited, 3);
  // Each conversation is in the graph at its new version before the events go.
  await until(
    'the renamed conversations stored',
    async () => (await query(driver, "MATCH (c:Conversation) WHERE c.title ENDS WITH '(renamed)' RETURN c.id")).length >= 3,
    60_000,
    250,
  );
  await jsm.streams.purge(STREAMS.events.name, { filter: SUBJECTS.graphStored });
  await nc.close();
  const started = Date.now();
  const seen: string[] = [];
  assert.equal(await waitForStored(targets, renamed, { timeoutMs: 10_000, onStored: (c) => seen.push(c.conversationId) }), 3);
  assert.equal(seen.length, 3);
  assert.ok(Date.now() - started < 5_000, `the wait took ${Date.now() - started} ms`);
});

test('ingest --wait rides out a nats-server restart (5 s down) mid-wait and names every conversation stored', async () => {
  const count = 40;
  const file = join(workDir, 'forty.json');
  writeFileSync(file, JSON.stringify((JSON.parse(readFileSync(REAL_EXPORT, 'utf8')) as unknown[]).slice(0, count)));
  let stoppedAt: number | undefined;
  let restart: Promise<void> | undefined;
  let storedSoFar = 0;
  const run = await cli(['ingest', file, '--wait'], (line) => {
    if (!/^ {2}stored /.test(line)) return;
    storedSoFar += 1;
    if (restart) return;
    stoppedAt = storedSoFar;
    restart = (async () => {
      await nats.stop();
      await new Promise((r) => setTimeout(r, 5_000));
      nats = await startTestNats(natsOptions);
    })();
  });
  await restart;
  assert.equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
  assert.ok(stoppedAt !== undefined && stoppedAt < count, `nats-server stopped after ${stoppedAt} of ${count} were stored`);
  const stored = new Set(storedLines(run.stdout).map((l) => /^ {2}stored (.+): \d+ nodes/.exec(l)?.[1]));
  assert.equal(stored.size, count, run.stdout);
  const [graph] = await query<{ n: number }>(driver, 'MATCH (c:Conversation) WHERE c.id IN $ids RETURN count(c) AS n', {
    ids: [...stored],
  });
  assert.equal(graph?.n, count);
});
