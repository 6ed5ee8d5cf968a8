import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commonConfigShape, DEFAULT_PORTS, grpcClientConfigShape, grpcTarget, loadConfig, neo4jConfigShape } from '@trajectory/config';

/**
 * Where the CLI finds the services and servers: same variables as the services, same defaults.
 * The gRPC token is GRPC_TOKEN, else that of the services `npm start` / `npm run up` run.
 */
export function loadTargets(env: NodeJS.ProcessEnv = process.env) {
  const targets = loadConfig(
    'trajectory CLI',
    {
      ...commonConfigShape,
      ...neo4jConfigShape,
      ...grpcClientConfigShape,
      INGESTION_GRPC_TARGET: grpcTarget(DEFAULT_PORTS.ingestion),
      SEGMENTATION_GRPC_TARGET: grpcTarget(DEFAULT_PORTS.segmentation),
      GRAPH_GRPC_TARGET: grpcTarget(DEFAULT_PORTS.graph),
      SAMPLES_GRPC_TARGET: grpcTarget(DEFAULT_PORTS.samples),
      TRAINING_GRPC_TARGET: grpcTarget(DEFAULT_PORTS.training),
    },
    env,
  );
  return { ...targets, GRPC_TOKEN: targets.GRPC_TOKEN ?? localGrpcToken(env) };
}

export type Targets = ReturnType<typeof loadTargets>;

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Where `npm start` keeps the local servers' state and generated credentials (tooling/local-servers/servers.mjs). */
const localServersDir = (env: NodeJS.ProcessEnv) => join(resolve(REPO_ROOT, env.TRAJECTORY_DATA_DIR || '.trajectory'), 'servers');

/**
 * The token of the local services (TRAJECTORY_DATA_DIR/servers/grpc-token, default .trajectory/
 * in the repository, which npm start and npm run up generate: ensureGrpcToken in
 * tooling/local-servers/servers.mjs), or undefined when there is none.
 */
function localGrpcToken(env: NodeJS.ProcessEnv): string | undefined {
  try {
    const [token] = readFileSync(join(localServersDir(env), 'grpc-token'), 'utf8').split('\n');
    return token?.trim() || undefined;
  } catch {
    return undefined;
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Host and port of a Bolt, Neo4j or NATS URI, loopback names as one. */
function endpoint(uri: string, defaultPort = '7687'): string | undefined {
  try {
    const url = new URL(uri);
    return `${LOOPBACK.has(url.hostname) ? 'loopback' : url.hostname}:${url.port || defaultPort}`;
  } catch {
    return undefined;
  }
}

/**
 * The Neo4j credentials: NEO4J_USER and NEO4J_PASSWORD, or else those of the local Neo4j that
 * `npm start` / `npm run servers:start` run (user and password file recorded in
 * TRAJECTORY_DATA_DIR/servers/servers.json, default .trajectory/ in the repository), when
 * NEO4J_URI points at it. Undefined when neither applies.
 */
export function neo4jAuth(targets: Targets, env: NodeJS.ProcessEnv = process.env): { user: string; password: string } | undefined {
  // NEO4J_PASSWORD alone is Neo4j's own user's, as in deploy/.env (compose's NEO4J_USER default).
  if (targets.NEO4J_PASSWORD) return { user: targets.NEO4J_USER ?? 'neo4j', password: targets.NEO4J_PASSWORD };
  const stateFile = join(localServersDir(env), 'servers.json');
  if (!existsSync(stateFile)) return undefined;
  try {
    const { neo4j } = JSON.parse(readFileSync(stateFile, 'utf8')) as {
      neo4j?: { uri?: string; user?: string; passwordFile?: string };
    };
    if (!neo4j?.uri || !neo4j.passwordFile || endpoint(neo4j.uri) !== endpoint(targets.NEO4J_URI)) return undefined;
    const password = readFileSync(neo4j.passwordFile, 'utf8').split('\n')[0]?.trim();
    return password ? { user: neo4j.user ?? 'neo4j', password } : undefined;
  } catch {
    return undefined;
  }
}

/** The NATS user the CLI logs in as: `trajectory events` only subscribes to the pipeline's events. */
export const CLI_NATS_USER = 'cli';

/**
 * The CLI's NATS login: NATS_USER and NATS_PASSWORD, or else the `cli` user of the local NATS that
 * `npm start` / `npm run servers:start` run (its password in the credentials file recorded in
 * TRAJECTORY_DATA_DIR/servers/servers.json), when NATS_URL points at it. Undefined when neither
 * applies (a NATS without auth, or NATS_TOKEN).
 */
export function natsLogin(targets: Targets, env: NodeJS.ProcessEnv = process.env): { user: string; password: string } | undefined {
  if (targets.NATS_USER && targets.NATS_PASSWORD) return { user: targets.NATS_USER, password: targets.NATS_PASSWORD };
  try {
    const { nats } = JSON.parse(readFileSync(join(localServersDir(env), 'servers.json'), 'utf8')) as {
      nats?: { url?: string; credentialsFile?: string };
    };
    const [first] = targets.NATS_URL.split(',');
    if (!nats?.url || !nats.credentialsFile || !first || endpoint(nats.url, '4222') !== endpoint(first, '4222')) return undefined;
    const password = (JSON.parse(readFileSync(nats.credentialsFile, 'utf8')) as Record<string, unknown>)[CLI_NATS_USER];
    return typeof password === 'string' && password ? { user: CLI_NATS_USER, password } : undefined;
  } catch {
    return undefined;
  }
}
