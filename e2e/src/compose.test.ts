// Static checks of deploy/docker-compose.yml (no Docker engine needed), plus
// `docker compose config -q` where a docker compose CLI is installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'yaml';

// e2e/dist/compose.test.js -> repository root.
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const COMPOSE_FILE = join(REPO_ROOT, 'deploy', 'docker-compose.yml');
const DOCKERFILE = 'deploy/docker/service.Dockerfile';
const SERVICES = ['ingestion', 'segmentation', 'graph', 'samples', 'training'] as const;
const DATASETS_VOLUME = 'datasets';

type Json = Record<string, unknown>;

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; args?: Record<string, string> | string[] };
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: unknown[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  container_name?: string;
  depends_on?: string[] | Record<string, { condition?: string }>;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const composeText = readFileSync(COMPOSE_FILE, 'utf8');
// Compose resolves YAML merge keys (<<: *anchor), so the parser must as well.
const compose = parse(composeText, { merge: true }) as ComposeFile;

function service(name: string): ComposeService {
  const s = compose.services[name];
  assert.ok(s, `service ${name} is missing`);
  return s;
}

/** environment as a map, whichever of compose's two spellings (map or KEY=VALUE list) is used. */
function env(s: ComposeService): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(s.environment)) {
    for (const entry of s.environment) {
      const eq = entry.indexOf('=');
      if (eq < 0) out[entry] = '';
      else out[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
  } else {
    for (const [key, value] of Object.entries(s.environment ?? {})) out[key] = value == null ? '' : String(value);
  }
  return out;
}

function buildArgs(args: Record<string, string> | string[] | undefined): Record<string, string> {
  if (!Array.isArray(args)) return args ?? {};
  return Object.fromEntries(args.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
}

/** Named volumes mounted by a service, as source -> target. */
function namedVolumes(s: ComposeService): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of s.volumes ?? []) {
    if (typeof v === 'string') {
      const [source, target] = v.split(':');
      if (source && target && !source.startsWith('.') && !source.startsWith('/')) out.set(source, target);
    } else if ((v.type ?? 'volume') === 'volume' && v.source && v.target) {
      out.set(v.source, v.target);
    }
  }
  return out;
}

/** A whole-value compose interpolation: ${NAME}, ${NAME:-default}, ${NAME:?message}, ... */
const VARIABLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?\}$/s;

test('compose file has nats, neo4j and the five services', () => {
  assert.ok(compose && typeof compose.services === 'object', 'no services: section');
  for (const name of ['nats', 'neo4j', ...SERVICES]) service(name);
  assert.match(service('nats').image ?? '', /^nats:/);
  assert.match(service('neo4j').image ?? '', /^neo4j:5/);
});

test('each service is built from the shared Dockerfile with its SERVICE arg', () => {
  const dockerfile = join(REPO_ROOT, DOCKERFILE);
  assert.ok(existsSync(dockerfile), `${DOCKERFILE} exists`);
  assert.match(readFileSync(dockerfile, 'utf8'), /^ARG SERVICE$/m);
  for (const name of SERVICES) {
    const build = service(name).build;
    assert.ok(build && typeof build === 'object', `${name}: build must be a map with context, dockerfile and args`);
    // The context is the repository root, relative to deploy/ where the compose file lives.
    assert.equal(resolve(dirname(COMPOSE_FILE), build.context ?? '.'), REPO_ROOT, `${name}: build context`);
    assert.equal(build.dockerfile, DOCKERFILE, `${name}: dockerfile`);
    assert.equal(buildArgs(build.args).SERVICE, name, `${name}: SERVICE build arg`);
  }
});

test('each service gets NATS_URL and listens on all interfaces', () => {
  for (const name of SERVICES) {
    const e = env(service(name));
    assert.ok(e.NATS_URL, `${name}: NATS_URL`);
    assert.match(e.GRPC_LISTEN ?? '', /^0\.0\.0\.0:\d+$/, `${name}: GRPC_LISTEN`);
    const dependsOn = service(name).depends_on;
    const deps = Array.isArray(dependsOn) ? dependsOn : Object.keys(dependsOn ?? {});
    assert.ok(deps.includes('nats'), `${name} depends on nats`);
  }
});

test('graph takes its Neo4j connection from variables, and waits for a healthy Neo4j', () => {
  const graph = service('graph');
  const e = env(graph);
  for (const key of ['NEO4J_URI', 'NEO4J_USER', 'NEO4J_PASSWORD']) {
    assert.match(e[key] ?? '', VARIABLE, `graph: ${key} must be a \${VARIABLE}, not a literal (got ${JSON.stringify(e[key])})`);
  }
  // The password has no default: compose refuses to start without one.
  const password = VARIABLE.exec(e.NEO4J_PASSWORD ?? '');
  assert.equal(password?.[1], 'NEO4J_PASSWORD');
  assert.ok(password?.[2] === undefined || password[2].includes('?'), 'NEO4J_PASSWORD must not fall back to a default');
  assert.match(env(service('neo4j')).NEO4J_AUTH ?? '', /^neo4j\/\$\{NEO4J_PASSWORD(:\?[^}]*)?\}$/, 'neo4j: NEO4J_AUTH from NEO4J_PASSWORD');
  const dependsOn = graph.depends_on as Record<string, { condition?: string }>;
  assert.equal(dependsOn?.neo4j?.condition, 'service_healthy');
});

test('every service requires GRPC_TOKEN, without a default; the trainer, which speaks no gRPC, gets none', () => {
  for (const name of SERVICES) {
    const token = VARIABLE.exec(env(service(name)).GRPC_TOKEN ?? '');
    assert.equal(token?.[1], 'GRPC_TOKEN', `${name}: GRPC_TOKEN from the variable`);
    assert.equal(token?.[2], ':?', `${name}: GRPC_TOKEN is required (\${GRPC_TOKEN:?message})`);
  }
  assert.equal(env(service('trainer')).GRPC_TOKEN, undefined);
});

test('neo4j refuses file URLs in LOAD CSV, as the local launcher does', () => {
  assert.equal(String(env(service('neo4j')).NEO4J_dbms_security_allow__csv__import__from__file__urls), 'false');
});

test('no secret is written into the compose file', () => {
  for (const [name, s] of Object.entries(compose.services)) {
    for (const [key, value] of Object.entries(env(s))) {
      if (!/(PASSWORD|TOKEN|SECRET|API_KEY)$/.test(key)) continue;
      // Allowed: ${VAR}, ${VAR:?message}, ${VAR:-} (empty), also in double quotes (the nats
      // container's passwords: nats-server parses them as config). Not allowed: a literal or a
      // non-empty default.
      const v = VARIABLE.exec(/^"(.*)"$/s.exec(value)?.[1] ?? value);
      const fromVariable = v !== null && (v[2] === undefined || v[2].includes('?') || v[3] === '');
      assert.ok(fromVariable, `${name}: ${key} must come from a variable without a default (got ${JSON.stringify(value)})`);
    }
  }
});

test('samples and training share the datasets volume at the same path', () => {
  const samples = namedVolumes(service('samples'));
  const training = namedVolumes(service('training'));
  const target = samples.get(DATASETS_VOLUME);
  assert.ok(target, `samples mounts the ${DATASETS_VOLUME} volume`);
  assert.equal(training.get(DATASETS_VOLUME), target, 'training mounts it at the same path');
  assert.equal(env(service('samples')).SAMPLES_DATASET_DIR, target, 'SAMPLES_DATASET_DIR is on the shared volume');
  assert.ok(compose.volumes && DATASETS_VOLUME in compose.volumes, `top-level volumes declares ${DATASETS_VOLUME}`);
});

test('segmentation can be scaled: no container_name, no published ports', () => {
  const segmentation = service('segmentation');
  assert.equal(segmentation.container_name, undefined);
  assert.equal(segmentation.ports, undefined);
});

test('published ports are bound to 127.0.0.1', () => {
  assert.ok(
    (service('ingestion').ports ?? []).some((p) => String(p).startsWith('127.0.0.1:') && String(p).endsWith(':50051')),
    'ingestion publishes 127.0.0.1:50051',
  );
  for (const [name, s] of Object.entries(compose.services)) {
    for (const p of s.ports ?? []) {
      const hostIp = typeof p === 'object' && p !== null ? (p as Json).host_ip : String(p).split(':')[0];
      assert.equal(hostIp, '127.0.0.1', `${name}: port ${JSON.stringify(p)} must be bound to 127.0.0.1`);
    }
  }
});

test('docker compose config accepts the file', async (t) => {
  const version = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    t.skip('docker compose is not installed here');
    return;
  }
  // Every secret deploy/.env.example asks for, as init-env reads them: the file requires each.
  const { requiredSecrets } = (await import(pathToFileURL(join(REPO_ROOT, 'deploy', 'docker', 'init-env.mjs')).href)) as {
    requiredSecrets(): string[];
  };
  const secrets = Object.fromEntries(requiredSecrets().map((key) => [key, `compose-test-${key.toLowerCase()}`]));
  const result = spawnSync('docker', ['compose', '-f', COMPOSE_FILE, 'config', '-q'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...secrets },
  });
  assert.equal(result.status, 0, `docker compose config failed:\n${result.stderr}`);
});
