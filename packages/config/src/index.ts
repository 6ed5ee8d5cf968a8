import { z } from 'zod';

export { z };

/** Thrown when the environment does not satisfy a service's configuration schema. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`Invalid configuration for ${service}:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Settings every process shares: where the servers are and how it reports itself. */
export const commonConfigShape = {
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
  NATS_TOKEN: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_SERVICE_NAME: z.string().optional(),
  /** Milliseconds between metric exports (the OpenTelemetry variable; the SDK's 60 s without it). */
  OTEL_METRIC_EXPORT_INTERVAL: z.coerce.number().int().positive().optional(),
};

export const neo4jConfigShape = {
  NEO4J_URI: z.string().min(1).default('bolt://127.0.0.1:7687'),
  NEO4J_USER: z.string().optional(),
  NEO4J_PASSWORD: z.string().optional(),
  NEO4J_DATABASE: z.string().optional(),
};

const GRPC_TOKEN_HINT =
  'set GRPC_TOKEN to a shared secret of at least 16 characters, e.g. `openssl rand -base64 32` (npm start and npm run up generate one into .trajectory/servers/grpc-token)';
const grpcTokenValue = z.string().min(16, `too short: ${GRPC_TOKEN_HINT}`);

/**
 * gRPC credentials as a client sees them (the CLI, a service calling another): the bearer token
 * every call carries, and the CA file to trust, which turns TLS on.
 */
export const grpcClientConfigShape = {
  GRPC_TOKEN: grpcTokenValue.optional(),
  GRPC_TLS_CA: z.string().optional(),
};

/**
 * gRPC credentials of a service: the token every call must carry (no default, so a service
 * started without one refuses to start), the certificate and key files it serves TLS with when
 * set, and the client side for the services it calls.
 */
export const grpcServerConfigShape = {
  ...grpcClientConfigShape,
  GRPC_TOKEN: z
    .string({
      error: (issue) =>
        issue.input === undefined ? `not set: every gRPC call must carry it as a bearer token; ${GRPC_TOKEN_HINT}` : undefined,
    })
    .pipe(grpcTokenValue),
  GRPC_TLS_CERT: z.string().optional(),
  GRPC_TLS_KEY: z.string().optional(),
};

/** A TCP port or host:port a gRPC server listens on. */
export const listenAddress = (defaultPort: number) =>
  z
    .string()
    .default(`127.0.0.1:${defaultPort}`)
    .refine((v) => /^(\[[^\]]+\]|[^:]+):\d{1,5}$/.test(v), 'expected HOST:PORT, e.g. 0.0.0.0:50051');

/** The items of a comma-separated list, trimmed, empty ones left out. */
export const commaList = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** A comma-separated list setting (`user,assistant`), `defaults` where it is unset. */
export const listSetting = (defaults: readonly string[]) => z.string().default(defaults.join(',')).transform(commaList);

/** A gRPC target another service is reached at. */
export const grpcTarget = (defaultPort: number) => z.string().min(1).default(`127.0.0.1:${defaultPort}`);

/** Default gRPC ports, one per service, so a local run needs no settings at all. */
export const DEFAULT_PORTS = {
  ingestion: 50051,
  segmentation: 50052,
  graph: 50053,
  samples: 50054,
  training: 50055,
} as const;

/** The web app's port when TRAJECTORY_WEB_PORT is not set (Vite's default). */
export const DEFAULT_WEB_PORT = 5173;

/**
 * The web app's address on this machine (`npm run up` serves it on TRAJECTORY_WEB_PORT), with
 * `path` appended: the one place the CLI, npm start and the web app take it from.
 */
export function webPageUrl(path = '/', env: NodeJS.ProcessEnv = process.env): string {
  const port = Number(env.TRAJECTORY_WEB_PORT) || DEFAULT_WEB_PORT;
  return `http://127.0.0.1:${port}${path.startsWith('/') ? path : `/${path}`}`;
}

/** The spot-check page of a dataset version. */
export const spotCheckUrl = (datasetId: string, env: NodeJS.ProcessEnv = process.env) =>
  webPageUrl(`/spot-check?dataset=${encodeURIComponent(datasetId)}`, env);

/**
 * Parses `env` against a zod object shape. Every problem is reported at once, naming the
 * variable, so a misconfigured deployment fails on start with one readable message.
 */
export function loadConfig<S extends z.ZodRawShape>(
  service: string,
  shape: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<S>> {
  const cleaned: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    // An empty variable means "not set", as in docker compose's `VAR=` lines.
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  const result = z.object(shape).safeParse(cleaned);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(environment)';
      const given = typeof issue.path[0] === 'string' ? cleaned[issue.path[0]] : undefined;
      return given === undefined ? `${name}: ${issue.message}` : `${name}=${JSON.stringify(redactIfSecret(name, given))}: ${issue.message}`;
    });
    throw new ConfigError(service, problems);
  }
  return result.data;
}

function redactIfSecret(name: string, value: string): string {
  return /PASSWORD|TOKEN|SECRET|KEY/i.test(name) ? '***' : value;
}
