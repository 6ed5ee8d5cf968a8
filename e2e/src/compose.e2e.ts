// The deployment as a user runs it: every image built from deploy/docker/service.Dockerfile, the
// stack brought up with `docker compose`, the sample export sent through it by the CLI on this
// host, segmentation scaled to 3 replicas that share the queue, and the counts read back from
// Neo4j. Skipped, with the reason printed, only where no Docker engine or Compose v2 can run
// (`npm test` sets both up where it may: deploy/docker/engine.mjs).
//
// Where the engine cannot pull the official images (no registry reachable), the test builds local
// stand-ins (deploy/docker/local-images.mjs) and passes them in through the NODE_IMAGE build arg
// and deploy/docker/compose.local-images.yml; it prints which.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { freePort } from '@trajectory/local-servers';
import { REPO_ROOT } from '@trajectory/testkit';
import neo4j from 'neo4j-driver';

const COMPOSE_FILE = join(REPO_ROOT, 'deploy', 'docker-compose.yml');
const LOCAL_IMAGES_OVERRIDE = join(REPO_ROOT, 'deploy', 'docker', 'compose.local-images.yml');
const SAMPLE_EXPORT = join(REPO_ROOT, 'examples', 'sample-export', 'conversations.json');
const SAMPLE_FACTS = join(REPO_ROOT, 'examples', 'facts.yaml');
const CLI = join(REPO_ROOT, 'apps', 'cli', 'bin', 'trajectory.mjs');
const OFFICIAL_IMAGES = [
  'node:20-bookworm-slim',
  'nats:2.10-alpine',
  'neo4j:5.26-community',
  'otel/opentelemetry-collector-contrib:0.161.0',
];
const REPLICAS = 3;

interface EngineModule {
  engineStatus(): { ok: boolean; reason?: string; version?: string };
  composeCommand(): string[] | undefined;
}
interface InitEnvModule {
  initEnv(file: string): Record<string, string>;
}
interface LocalImagesModule {
  buildLocalImages(options?: { log?: (line: string) => void }): { node: string; nats: string; neo4j: string; otelCollector: string };
}

const importDeploy = async <T>(file: string): Promise<T> =>
  (await import(pathToFileURL(join(REPO_ROOT, 'deploy', 'docker', file)).href)) as T;
const log = (line: string) => console.log(`[compose] ${line}`);

/** Official images when the engine has or can pull them; else why not. */
function officialImagesMissing(): string | undefined {
  for (const image of OFFICIAL_IMAGES) {
    if (spawnSync('docker', ['image', 'inspect', image], { stdio: 'ignore' }).status === 0) continue;
    const pull = spawnSync('docker', ['pull', '-q', image], { encoding: 'utf8', timeout: 60_000 });
    if (pull.status !== 0) return `docker pull ${image}: ${(pull.stderr || 'timed out').trim().split('\n').at(-1)}`;
  }
  return undefined;
}

test('docker compose: images built, the sample export through the stack, 3 segmentation replicas, counts in Neo4j', async (t) => {
  const engine = await importDeploy<EngineModule>('engine.mjs');
  const status = engine.engineStatus();
  const compose = engine.composeCommand();
  if (!status.ok || !compose) {
    const reason = !status.ok ? status.reason : 'no Docker Compose v2 (docker compose, or .trajectory/tools/docker-compose-*)';
    console.log(`[compose] skipped: ${reason}`);
    t.skip(reason);
    return;
  }
  log(`Docker engine ${status.version}, compose: ${compose.join(' ')}`);

  const project = `trajectory-test-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'trajectory-compose-'));
  // As the README's deploying steps: `node deploy/docker/init-env.mjs FILE` writes the secrets.
  const envFile = join(dir, '.env');
  const { initEnv } = await importDeploy<InitEnvModule>('init-env.mjs');
  const secrets = initEnv(envFile);
  const ports = {
    TRAJECTORY_NATS_PORT: await freePort(),
    TRAJECTORY_NEO4J_HTTP_PORT: await freePort(),
    TRAJECTORY_NEO4J_BOLT_PORT: await freePort(),
    TRAJECTORY_INGESTION_PORT: await freePort(),
    TRAJECTORY_GRAPH_PORT: await freePort(),
    TRAJECTORY_SAMPLES_PORT: await freePort(),
    TRAJECTORY_TRAINING_PORT: await freePort(),
  };
  const files = ['-f', COMPOSE_FILE];
  // One conversation at a time per replica, so that the 5 conversations of the sample spread
  // over the replicas instead of all going to the first one that pulls.
  // Only what docker needs from this process: compose lets the shell's variables win over
  // --env-file, and `npm test` exports its own NEO4J_PASSWORD, NATS_URL and more for the other tests.
  const composeEnv: NodeJS.ProcessEnv = {
    ...pick(process.env, ['PATH', 'HOME', 'TMPDIR', 'DOCKER_HOST', 'DOCKER_CONFIG', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY']),
    ...stringValues(ports),
    SEGMENTATION_CONCURRENCY: '1',
  };
  // The collector's bind-mounted folder of OTLP JSON files, and metrics every 2 s instead of 15.
  const tracesDir = join(dir, 'traces');
  Object.assign(composeEnv, { TRAJECTORY_TRACES_DIR: tracesDir, OTEL_METRIC_EXPORT_INTERVAL: '2000' });
  const missing = officialImagesMissing();
  if (missing) {
    log(
      `official base images unavailable (${missing}): using local ones, passed in by the NODE_IMAGE build arg and ${LOCAL_IMAGES_OVERRIDE.replace(`${REPO_ROOT}/`, '')}`,
    );
    const { buildLocalImages } = await importDeploy<LocalImagesModule>('local-images.mjs');
    const images = buildLocalImages({ log });
    Object.assign(composeEnv, {
      TRAJECTORY_LOCAL_NODE_IMAGE: images.node,
      TRAJECTORY_LOCAL_NATS_IMAGE: images.nats,
      TRAJECTORY_LOCAL_NEO4J_IMAGE: images.neo4j,
      TRAJECTORY_LOCAL_OTEL_COLLECTOR_IMAGE: images.otelCollector,
    });
    files.push('-f', LOCAL_IMAGES_OVERRIDE);
  } else {
    log(`official base images: ${OFFICIAL_IMAGES.join(', ')}`);
  }
  const dockerCompose = (args: string[], options: { quiet?: boolean } = {}) =>
    run(compose[0] as string, [...compose.slice(1), '-p', project, '--env-file', envFile, ...files, ...args], composeEnv, options);

  try {
    let started = Date.now();
    await dockerCompose(['build']);
    log(`images built in ${seconds(started)} s: ${images(project).join(', ')}`);

    started = Date.now();
    await dockerCompose(['up', '-d', '--wait', '--scale', `segmentation=${REPLICAS}`]);
    log(`stack up and healthy in ${seconds(started)} s`);
    const replicas = (await dockerCompose(['ps', '-q', 'segmentation'], { quiet: true })).split('\n').filter(Boolean);
    assert.equal(replicas.length, REPLICAS, `segmentation replicas running: ${replicas.length}`);

    // As the README's `set -a; . deploy/.env; set +a`: the CLI takes GRPC_TOKEN and NEO4J_PASSWORD
    // from the same file as the stack. The targets are the defaults moved to this test's ports.
    const cliEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ...secrets,
      INGESTION_GRPC_TARGET: `127.0.0.1:${ports.TRAJECTORY_INGESTION_PORT}`,
      GRAPH_GRPC_TARGET: `127.0.0.1:${ports.TRAJECTORY_GRAPH_PORT}`,
      SAMPLES_GRPC_TARGET: `127.0.0.1:${ports.TRAJECTORY_SAMPLES_PORT}`,
      TRAINING_GRPC_TARGET: `127.0.0.1:${ports.TRAJECTORY_TRAINING_PORT}`,
      NATS_URL: `nats://127.0.0.1:${ports.TRAJECTORY_NATS_PORT}`,
      NEO4J_URI: `bolt://127.0.0.1:${ports.TRAJECTORY_NEO4J_BOLT_PORT}`,
      // Not the local servers' generated credentials of this checkout.
      TRAJECTORY_DATA_DIR: dir,
    };
    started = Date.now();
    const report = await run(process.execPath, [CLI, 'run', SAMPLE_EXPORT, '--facts', SAMPLE_FACTS], cliEnv);
    log(`trajectory run on the sample export: ${seconds(started)} s`);

    const conversations = (JSON.parse(readFileSync(SAMPLE_EXPORT, 'utf8')) as unknown[]).length;
    const perReplica = await Promise.all(
      replicas.map(async (id) => {
        const out = await run('docker', ['logs', id], process.env, { quiet: true });
        // The image carries the static encoder that segmentation runs by default, not only MiniLM.
        assert.match(out, /"model":"all-MiniLM-L6-v2\/static-v1"/, `replica ${id.slice(0, 12)} segments with the static encoder`);
        return { id: id.slice(0, 12), segmented: out.split('\n').filter((l) => l.includes('conversation segmented')).length };
      }),
    );
    log(`segmentation replicas sharing the queue: ${perReplica.map((r) => `${r.id} took ${r.segmented}`).join(', ')}`);
    assert.equal(
      perReplica.reduce((n, r) => n + r.segmented, 0),
      conversations,
      'every conversation segmented once',
    );
    for (const r of perReplica) assert.ok(r.segmented > 0, `replica ${r.id} took no work`);

    let tracedConversation = '';
    const driver = neo4j.driver(cliEnv.NEO4J_URI as string, neo4j.auth.basic('neo4j', secrets.NEO4J_PASSWORD as string));
    try {
      const { records } = await driver.executeQuery(
        `MATCH (c:Conversation) WITH count(c) AS conversations
         MATCH (n:Node) WITH conversations, count(n) AS nodes
         OPTIONAL MATCH (:Node)-[r]->(:Node) RETURN conversations, nodes, count(r) AS edges`,
      );
      const counts = records[0]?.toObject() as { conversations: number; nodes: number; edges: number };
      log(`in Neo4j: ${counts.conversations} conversations, ${counts.nodes} cognitive nodes, ${counts.edges} edges between them`);
      assert.equal(Number(counts.conversations), conversations);
      assert.ok(Number(counts.nodes) >= conversations, 'cognitive nodes stored');
      assert.ok(Number(counts.edges) > 0, 'edges stored');
      assert.match(report, new RegExp(`\\b${Number(counts.nodes)}\\b`), 'the CLI report gives the node count that Neo4j holds');
      const { records: stored } = await driver.executeQuery('MATCH (c:Conversation) RETURN c.id AS id ORDER BY c.title LIMIT 1');
      tracedConversation = String(stored[0]?.get('id'));
    } finally {
      await driver.close();
    }

    // One conversation's trace from upload to graph write, as `trajectory trace` prints it from
    // the files the collector wrote (it flushes every second; the services export every 0.5 s).
    started = Date.now();
    let tree = '';
    for (let attempt = 0; attempt < 30 && !/trajectory-graph\s+neo4j write conversation/.test(tree); attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 1_000));
      tree = await run(process.execPath, [CLI, 'trace', tracedConversation, '--dir', tracesDir], cliEnv, { quiet: true }).catch(
        (e: Error) => e.message,
      );
    }
    log(`trajectory trace ${tracedConversation} (after ${seconds(started)} s):`);
    for (const line of tree.trimEnd().split('\n')) log(`  ${line}`);
    assert.match(tree, /^\s+\+0 ms .*trajectory-ingestion {2}ingestion\/uploadExport$/m, 'the upload, at the root');
    assert.match(tree, /trajectory-ingestion {2}trajectory\.conversation\.ingested publish$/m);
    assert.match(tree, /trajectory-segmentation {2}segmentation process$/m, 'a segmentation span');
    assert.match(tree, /trajectory-graph {2}graph-writer process$/m);
    assert.match(tree, /trajectory-graph {2}neo4j write conversation$/m, 'the graph write');

    // Metrics per service: each replica's processed count (cumulative), summed per service.
    let processed = new Map<string, number>();
    for (let attempt = 0; attempt < 30; attempt++) {
      processed = counterTotals(tracesDir, 'trajectory.worker.processed');
      if (processed.get('trajectory-segmentation') === conversations && processed.get('trajectory-graph') === conversations) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    log(`metrics: trajectory.worker.processed ${[...processed].map(([service, n]) => `${service} ${n}`).join(', ')}`);
    assert.equal(processed.get('trajectory-segmentation'), conversations, 'segmentation replicas processed every conversation');
    assert.equal(processed.get('trajectory-graph'), conversations);
    const metricNames = new Set(metricLines(tracesDir).flatMap((l) => l.metrics.map((m) => m.name)));
    // (trajectory.worker.failed has no data point until a handler fails, and none failed.)
    for (const name of ['trajectory.worker.queue_depth', 'messaging.process.duration', 'rpc.server.call.duration']) {
      assert.ok(metricNames.has(name), `${name} in the collector's metric files`);
    }
  } catch (err) {
    // What the services said, for whoever reads the CI log.
    const logs = await dockerCompose(['logs', '--no-color', '--tail', '40'], { quiet: true }).catch((e: Error) => e.message);
    console.log(`[compose] service logs (last 40 lines each):\n${logs}`);
    throw err;
  } finally {
    await dockerCompose(['down', '-v', '--remove-orphans', '--rmi', 'local'], { quiet: true }).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

interface MetricLine {
  service: string;
  instance: string;
  metrics: { name: string; sum?: { dataPoints?: { timeUnixNano: string; asDouble?: number; asInt?: string }[] } }[];
}

/** Each export in the collector's metric files (OTLP JSON lines), with the exporting service and instance. */
function metricLines(tracesDir: string): MetricLine[] {
  const out: MetricLine[] = [];
  const names = existsSync(tracesDir) ? readdirSync(tracesDir).filter((n) => /^metrics.*\.jsonl$/.test(n)) : [];
  for (const name of names) {
    for (const line of readFileSync(join(tracesDir, name), 'utf8').split('\n')) {
      let body: {
        resourceMetrics?: {
          resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
          scopeMetrics?: { metrics: MetricLine['metrics'] }[];
        }[];
      };
      try {
        body = JSON.parse(line);
      } catch {
        continue; // blank, or being written
      }
      for (const rm of body.resourceMetrics ?? []) {
        const attribute = (key: string) => rm.resource?.attributes?.find((a) => a.key === key)?.value.stringValue ?? '';
        out.push({
          service: attribute('service.name'),
          instance: attribute('service.instance.id'),
          metrics: (rm.scopeMetrics ?? []).flatMap((s) => s.metrics),
        });
      }
    }
  }
  return out;
}

/** A cumulative counter's latest value per service instance, summed per service. */
function counterTotals(tracesDir: string, metric: string): Map<string, number> {
  const latest = new Map<string, { service: string; time: bigint; value: number }>();
  for (const { service, instance, metrics } of metricLines(tracesDir)) {
    for (const point of metrics.filter((m) => m.name === metric).flatMap((m) => m.sum?.dataPoints ?? [])) {
      const time = BigInt(point.timeUnixNano);
      const seen = latest.get(instance);
      if (!seen || seen.time < time) latest.set(instance, { service, time, value: Number(point.asDouble ?? point.asInt ?? 0) });
    }
  }
  const totals = new Map<string, number>();
  for (const { service, value } of latest.values()) totals.set(service, (totals.get(service) ?? 0) + value);
  return totals;
}

function pick(env: NodeJS.ProcessEnv, keys: string[]): NodeJS.ProcessEnv {
  return Object.fromEntries(keys.filter((k) => env[k] !== undefined).map((k) => [k, env[k]]));
}

function stringValues(o: Record<string, number>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
}

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(0);

/** The images the project's services were built as, with their sizes. */
function images(project: string): string[] {
  const out = spawnSync('docker', ['images', '--format', '{{.Repository}}:{{.Tag}} {{.Size}}', '--filter', `reference=${project}-*`], {
    encoding: 'utf8',
  });
  return out.stdout.trim().split('\n').filter(Boolean);
}

/** Runs a command; resolves to its stdout, rejects with its output's tail. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, { quiet = false } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd: REPO_ROOT });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (!quiet) process.stdout.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d;
      if (!quiet) process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}\n${(err || out).trim().split('\n').slice(-30).join('\n')}`));
    });
  });
}
