import { DEFAULT_PORTS, DEFAULT_WEB_PORT, grpcServerConfigShape, grpcTarget, loadConfig, z } from '@trajectory/config';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Whether `host` is reached only from this machine. */
export const isLoopback = (host: string) => LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

/** The Host headers a browser on this machine sends to a gateway on loopback `host`:`port`. */
export function loopbackHosts(host: string, port: number): Set<string> {
  return new Set([host.includes(':') ? `[${host}]` : host, '127.0.0.1', 'localhost', '[::1]'].map((h) => `${h}:${port}`.toLowerCase()));
}

/**
 * The gateway's settings. It holds the services' gRPC token (GRPC_TOKEN, required as for a
 * service) and never hands it to the browser. On loopback (the default) whoever can reach it is
 * this machine's user, who may read the token file anyway; bound to another address it requires
 * its own bearer token, TRAJECTORY_WEB_TOKEN, on every API call.
 */
export const webConfigShape = {
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  GRPC_TOKEN: grpcServerConfigShape.GRPC_TOKEN,
  GRPC_TLS_CA: grpcServerConfigShape.GRPC_TLS_CA,
  GRAPH_GRPC_TARGET: grpcTarget(DEFAULT_PORTS.graph),
  SAMPLES_GRPC_TARGET: grpcTarget(DEFAULT_PORTS.samples),
  TRAJECTORY_WEB_HOST: z.string().min(1).default('127.0.0.1'),
  TRAJECTORY_WEB_PORT: z.coerce.number().int().min(0).max(65_535).default(DEFAULT_WEB_PORT),
  TRAJECTORY_WEB_TOKEN: z.string().min(16, 'too short: at least 16 characters, e.g. `openssl rand -base64 32`').optional(),
};

export type WebConfig = z.infer<z.ZodObject<typeof webConfigShape>>;

export function loadWebConfig(env: NodeJS.ProcessEnv = process.env): WebConfig {
  const config = loadConfig('web', webConfigShape, env);
  if (!isLoopback(config.TRAJECTORY_WEB_HOST) && !config.TRAJECTORY_WEB_TOKEN) {
    throw new Error(
      `TRAJECTORY_WEB_HOST=${config.TRAJECTORY_WEB_HOST} is not loopback: the gateway holds the services' token, so set TRAJECTORY_WEB_TOKEN ` +
        '(at least 16 characters) for the page to send as a bearer token, or leave TRAJECTORY_WEB_HOST at 127.0.0.1',
    );
  }
  return config;
}
