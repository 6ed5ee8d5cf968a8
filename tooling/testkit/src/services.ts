import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PORTS } from '@trajectory/config';
import { freePort } from '@trajectory/local-servers';
import { type GrpcClientAuth, waitUntilServing } from '@trajectory/runtime';
import { serviceNatsEnv, type TestNats } from './nats.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SERVICE_NAMES = ['ingestion', 'segmentation', 'graph', 'samples', 'training'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** A free loopback port for each service, so that a test's pipeline runs beside any other. */
export async function freeServicePorts(): Promise<Record<ServiceName, number>> {
  return Object.fromEntries(await Promise.all(SERVICE_NAMES.map(async (n) => [n, await freePort()]))) as Record<ServiceName, number>;
}

export interface ServiceProcess {
  name: ServiceName;
  target: string;
  child: ChildProcess;
  logFile: string;
  /** The gRPC credentials the service was started with, for the clients a test creates (createClient). */
  auth: ServiceAuth;
  /** SIGTERM and wait for a clean exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: the crash a supervisor must survive. */
  kill(): Promise<void>;
}

let generatedToken: string | undefined;

/**
 * The gRPC bearer token of the services the harness starts: GRPC_TOKEN when the environment has
 * one, else one generated for this process, as a deployment's would be.
 */
export function harnessGrpcToken(): string {
  generatedToken ??= process.env.GRPC_TOKEN || randomBytes(32).toString('base64url');
  return generatedToken;
}

/** What a client of a service the harness started authenticates with (its token is always set). */
export type ServiceAuth = GrpcClientAuth & { GRPC_TOKEN: string };

/** The environment variable a service's gRPC target is given to the others under. */
export const targetVariable = (name: ServiceName) => `${name.toUpperCase()}_GRPC_TARGET`;

/**
 * How a built service runs as its own process: its script (services/NAME/dist/main.js), its
 * environment (GRPC_TOKEN from `env`, else harnessGrpcToken()), the gRPC target it listens on,
 * what its clients authenticate with, and its log file. For startServiceProcess, and for
 * `npm run up`, whose supervisor starts (and restarts) the same processes itself.
 */
export function serviceLaunch(
  name: ServiceName,
  options: { env: Record<string, string>; logDir: string; port?: number },
): { script: string; env: NodeJS.ProcessEnv; target: string; auth: ServiceAuth; logFile: string } {
  const target = `127.0.0.1:${options.port ?? DEFAULT_PORTS[name]}`;
  const token = options.env.GRPC_TOKEN ?? harnessGrpcToken();
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, GRPC_TOKEN: token, GRPC_LISTEN: target };
  return {
    script: join(REPO_ROOT, 'services', name, 'dist', 'main.js'),
    // Its own NATS user, where the environment names the users' passwords (NATS_CREDENTIALS_FILE).
    env: serviceNatsEnv(name, env),
    target,
    auth: { GRPC_TOKEN: token, GRPC_TLS_CA: env.GRPC_TLS_CA },
    logFile: join(options.logDir, `${name}.log`),
  };
}

/**
 * Runs a built service (services/NAME/dist/main.js) as its own process, logs to a file, and
 * resolves once its gRPC health check answers SERVING.
 */
export async function startServiceProcess(
  name: ServiceName,
  options: { env: Record<string, string>; logDir: string; port?: number },
): Promise<ServiceProcess> {
  const { script, env, target, auth, logFile } = serviceLaunch(name, options);
  mkdirSync(options.logDir, { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  try {
    await Promise.race([
      waitUntilServing(target, 60_000, auth),
      exited.then((code) => {
        throw new Error(`${name} exited with code ${code} during start-up; see ${logFile}`);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    name,
    target,
    child,
    logFile,
    auth,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.kill('SIGTERM');
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface PipelineOptions {
  natsUrl: string;
  /** The NATS users' passwords (JSON: user -> password): each service connects as its own user. */
  natsCredentialsFile?: string | undefined;
  neo4jUri: string;
  neo4jAuth?: { user: string; password: string } | undefined;
  logDir: string;
  datasetDir: string;
  otlpEndpoint?: string;
  /** The services' bearer token (GRPC_TOKEN); default harnessGrpcToken(). */
  grpcToken?: string;
  ports?: Partial<Record<ServiceName, number>>;
  only?: ServiceName[];
}

/**
 * The environment every service of a pipeline gets: the servers, the gRPC token, and every
 * service's gRPC target. The CLI run with it reaches the services too.
 */
export function pipelineEnv(options: PipelineOptions): Record<string, string> {
  const env: Record<string, string> = {
    GRPC_TOKEN: options.grpcToken ?? harnessGrpcToken(),
    NATS_URL: options.natsUrl,
    NEO4J_URI: options.neo4jUri,
    SAMPLES_DATASET_DIR: options.datasetDir,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  };
  if (options.neo4jAuth) {
    env.NEO4J_USER = options.neo4jAuth.user;
    env.NEO4J_PASSWORD = options.neo4jAuth.password;
  }
  if (options.otlpEndpoint) env.OTEL_EXPORTER_OTLP_ENDPOINT = options.otlpEndpoint;
  if (options.natsCredentialsFile) env.NATS_CREDENTIALS_FILE = options.natsCredentialsFile;
  for (const name of SERVICE_NAMES) env[targetVariable(name)] = `127.0.0.1:${options.ports?.[name] ?? DEFAULT_PORTS[name]}`;
  return env;
}

/** Starts all five services against the given servers; every service learns every target. */
export async function startPipeline(
  options: PipelineOptions,
): Promise<{ services: Map<ServiceName, ServiceProcess>; env: Record<string, string>; stop(): Promise<void> }> {
  const env = pipelineEnv(options);
  const services = new Map<ServiceName, ServiceProcess>();
  const stop = async () => {
    await Promise.all([...services.values()].map((s) => s.stop()));
  };
  try {
    // graph before samples: samples calls graph; the rest have no start-up order.
    for (const name of options.only ?? SERVICE_NAMES) {
      const port = options.ports?.[name];
      services.set(name, await startServiceProcess(name, { env, logDir: options.logDir, ...(port ? { port } : {}) }));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { services, env, stop };
}

/** The servers a pipeline runs against: a TestServers, or a NATS of a test's own beside its Neo4j. */
export interface PipelineServers {
  nats: TestNats;
  neo4jUri: string;
  neo4jAuth?: { user: string; password: string } | undefined;
}

/**
 * startPipeline against `servers`, each service its own NATS user, with the logs in WORKDIR/logs
 * and the datasets in WORKDIR/datasets.
 */
export function startPipelineIn(
  servers: PipelineServers,
  workDir: string,
  options: Omit<PipelineOptions, 'natsUrl' | 'natsCredentialsFile' | 'neo4jUri' | 'neo4jAuth' | 'logDir' | 'datasetDir'> = {},
): ReturnType<typeof startPipeline> {
  return startPipeline({
    natsUrl: servers.nats.url,
    natsCredentialsFile: servers.nats.credentialsFile,
    neo4jUri: servers.neo4jUri,
    neo4jAuth: servers.neo4jAuth,
    logDir: join(workDir, 'logs'),
    datasetDir: join(workDir, 'datasets'),
    ...options,
  });
}
