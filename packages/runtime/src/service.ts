import type * as grpc from '@grpc/grpc-js';
import { type Bus, connectBus } from '@trajectory/bus';
import { commonConfigShape, grpcServerConfigShape, listenAddress, loadConfig, type z } from '@trajectory/config';
import { initTelemetry, type Logger } from '@trajectory/telemetry';
import { HealthImplementation } from 'grpc-health-check';
import { Dependencies, type Dependency, type DependencyOptions } from './dependencies.js';
import { createGrpcServer, tracedImplementation } from './grpc.js';

export interface ServiceContext<C> {
  config: C;
  bus: Bus;
  logger: Logger;
  /** Registers a gRPC service on this process's server (with tracing). */
  addGrpcService(definition: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation): void;
  /** Registers cleanup run on shutdown, in reverse order, before the bus drains. */
  onShutdown(fn: () => Promise<void> | void): void;
  /**
   * Watches something the service cannot work without (NATS is watched for every service): while
   * `probe` fails, gRPC health says NOT_SERVING, for the server ('') and under `name`, and work
   * can wait for it to come back (Dependency.whenAvailable) instead of failing its deliveries.
   */
  dependency(name: string, probe: () => Promise<unknown>, options?: DependencyOptions): Dependency;
}

export interface ServiceDefinitionOptions<S extends z.ZodRawShape> {
  name: string;
  defaultPort: number;
  configShape: S;
  start(ctx: ServiceContext<CommonConfig & z.infer<z.ZodObject<S>>>): Promise<void>;
}

const commonShape = { ...commonConfigShape, ...grpcServerConfigShape, GRPC_LISTEN: listenAddress(0) };
type CommonConfig = z.infer<z.ZodObject<typeof commonShape>>;

export interface RunningService {
  address: string;
  stop(reason?: string): Promise<void>;
}

/**
 * The one way a Trajectory service process starts: typed config, telemetry, the bus, a gRPC
 * server that requires GRPC_TOKEN on every call (TLS when GRPC_TLS_CERT/KEY are set) with
 * grpc.health.v1 open to probes (SERVING while every dependency is available), and a graceful stop
 * on SIGTERM/SIGINT (health goes NOT_SERVING, gRPC stops taking calls, workers finish or hand
 * back in-flight messages, the NATS connection drains).
 */
export async function runService<S extends z.ZodRawShape>(options: ServiceDefinitionOptions<S>): Promise<RunningService> {
  const shape = { ...commonShape, GRPC_LISTEN: listenAddress(options.defaultPort), ...options.configShape };
  // One parse of everything, so all problems are reported together.
  const config = loadConfig(options.name, shape) as unknown as CommonConfig & z.infer<z.ZodObject<S>>;
  // Before anything connects: a bad TLS setting stops the start like a bad variable does.
  const grpcServer = createGrpcServer(config);
  const telemetry = initTelemetry({
    serviceName: config.OTEL_SERVICE_NAME ?? `trajectory-${options.name}`,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    metricExportIntervalMs: config.OTEL_METRIC_EXPORT_INTERVAL,
    logLevel: config.LOG_LEVEL,
  });
  const logger = telemetry.logger;
  const bus = await connectBus({
    url: config.NATS_URL,
    name: `trajectory-${options.name}`,
    user: config.NATS_USER,
    password: config.NATS_PASSWORD,
    token: config.NATS_TOKEN,
  });

  const { server } = grpcServer;
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  health.addToServer(server);
  const shutdownHooks: (() => Promise<void> | void)[] = [];
  let serving = false;
  const dependencies = new Dependencies(logger, (dependency) => {
    health.setStatus(dependency.name, dependency.available ? 'SERVING' : 'NOT_SERVING');
    showHealth();
  });
  const showHealth = () => health.setStatus('', serving && dependencies.allAvailable ? 'SERVING' : 'NOT_SERVING');
  // The NATS client tells when it loses the server and when it has reconnected.
  const nats = dependencies.watch('nats');
  health.setStatus('nats', 'SERVING');
  void (async () => {
    for await (const status of bus.nc.status()) {
      if (status.type === 'disconnect') nats.lost(new Error(`disconnected from ${status.server}`));
      else if (status.type === 'reconnect') nats.restored();
    }
  })();

  await options.start({
    config,
    bus,
    logger,
    addGrpcService(definition, impl) {
      server.addService(definition, tracedImplementation(options.name, impl));
    },
    onShutdown(fn) {
      shutdownHooks.push(fn);
    },
    dependency(name, probe, dependencyOptions) {
      health.setStatus(name, 'SERVING');
      return dependencies.watch(name, probe, dependencyOptions);
    },
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(config.GRPC_LISTEN, grpcServer.credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  const host = config.GRPC_LISTEN.slice(0, config.GRPC_LISTEN.lastIndexOf(':'));
  const address = `${host}:${port}`;
  serving = true;
  showHealth();
  logger.info({ grpc: address, tls: grpcServer.tls, nats: config.NATS_URL }, `${options.name} serving`);

  let stopping: Promise<void> | undefined;
  const stop = (reason = 'stop') => {
    stopping ??= (async () => {
      logger.info({ reason }, `${options.name} shutting down`);
      serving = false;
      showHealth();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 10_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      for (const hook of shutdownHooks.reverse()) {
        try {
          await hook();
        } catch (err) {
          logger.error({ err }, 'shutdown hook failed');
        }
      }
      dependencies.stop();
      await bus.close();
      logger.info(`${options.name} stopped`);
      await telemetry.shutdown();
    })();
    return stopping;
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void stop(signal).then(() => process.exit(0));
    });
  }
  return { address, stop };
}

/** Entry point helper: runs a service and turns start-up failures into one clear line and exit 1. */
export function main(run: () => Promise<unknown>): void {
  run().catch((err: Error) => {
    console.error(`fatal: ${err.message}`);
    process.exit(1);
  });
}
