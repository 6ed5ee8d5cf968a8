// The web page's process: serves the built page (dist/page) and its JSON API on
// TRAJECTORY_WEB_HOST:TRAJECTORY_WEB_PORT (loopback, 5173 by default), calling graph and samples
// over gRPC with GRPC_TOKEN. `npm run up` starts it beside the services.
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphServiceClient, SamplesServiceClient } from '@trajectory/contracts';
import { createClient, main } from '@trajectory/runtime';
import { initTelemetry } from '@trajectory/telemetry';
import { grpcBackends } from './backends.js';
import { isLoopback, loadWebConfig, loopbackHosts } from './config.js';
import { gatewayHandler } from './gateway.js';

const PAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'page');

main(async () => {
  const config = loadWebConfig();
  const { logger, shutdown } = initTelemetry({
    serviceName: 'web',
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    logLevel: config.LOG_LEVEL,
  });
  const graph = createClient(GraphServiceClient, config.GRAPH_GRPC_TARGET, config);
  const samples = createClient(SamplesServiceClient, config.SAMPLES_GRPC_TARGET, config);
  const host = config.TRAJECTORY_WEB_HOST;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.TRAJECTORY_WEB_PORT, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.TRAJECTORY_WEB_PORT;
  server.on(
    'request',
    gatewayHandler({
      backends: grpcBackends(graph, samples),
      pageDir: PAGE_DIR,
      token: config.TRAJECTORY_WEB_TOKEN,
      // On loopback only this machine's names for it (against DNS rebinding); elsewhere the token guards.
      allowedHosts: isLoopback(host) ? loopbackHosts(host, port) : undefined,
      logger,
    }),
  );
  logger.info(
    {
      url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
      graph: config.GRAPH_GRPC_TARGET,
      samples: config.SAMPLES_GRPC_TARGET,
    },
    'web page served',
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      server.close();
      server.closeAllConnections();
      graph.close();
      samples.close();
      void shutdown().then(() => process.exit(0));
    });
  }
});
