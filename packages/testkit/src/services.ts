import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PORTS } from '@trajectory/config';
import { waitUntilServing } from '@trajectory/runtime';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SERVICE_NAMES = ['ingestion', 'segmentation', 'graph', 'samples', 'training'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ServiceProcess {
  name: ServiceName;
  target: string;
  child: ChildProcess;
  logFile: string;
  /** SIGTERM and wait for a clean exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: the crash a supervisor must survive. */
  kill(): Promise<void>;
}

/** The environment variable a service's gRPC target is given to the others under. */
export const targetVariable = (name: ServiceName) => `${name.toUpperCase()}_GRPC_TARGET`;

/**
 * How a built service runs as its own process: its script (services/NAME/dist/main.js), its
 * environment, the gRPC target it listens on and its log file. For startServiceProcess, and for
 * `npm run up`, whose supervisor starts (and restarts) the same processes itself.
 */
export function serviceLaunch(
  name: ServiceName,
  options: { env: Record<string, string>; logDir: string; port?: number },
): { script: string; env: NodeJS.ProcessEnv; target: string; logFile: string } {
  const target = `127.0.0.1:${options.port ?? DEFAULT_PORTS[name]}`;
  return {
    script: join(REPO_ROOT, 'services', name, 'dist', 'main.js'),
    env: { ...process.env, ...options.env, GRPC_LISTEN: target },
    target,
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
  const { script, env, target, logFile } = serviceLaunch(name, options);
  mkdirSync(options.logDir, { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  try {
    await Promise.race([
      waitUntilServing(target, 60_000),
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
  neo4jUri: string;
  neo4jAuth?: { user: string; password: string } | undefined;
  logDir: string;
  datasetDir: string;
  otlpEndpoint?: string;
  ports?: Partial<Record<ServiceName, number>>;
  only?: ServiceName[];
}

/** The environment every service of a pipeline gets: the servers, and every service's gRPC target. */
export function pipelineEnv(options: PipelineOptions): Record<string, string> {
  const env: Record<string, string> = {
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
