import { commonConfigShape, DEFAULT_PORTS, grpcTarget, loadConfig, neo4jConfigShape } from '@trajectory/config';

/** Where the CLI finds the services and servers: same variables as the services, same defaults. */
export function loadTargets(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(
    'trajectory CLI',
    {
      ...commonConfigShape,
      ...neo4jConfigShape,
      INGESTION_GRPC_TARGET: grpcTarget(DEFAULT_PORTS.ingestion),
      SEGMENTATION_GRPC_TARGET: grpcTarget(DEFAULT_PORTS.segmentation),
      GRAPH_GRPC_TARGET: grpcTarget(DEFAULT_PORTS.graph),
      SAMPLES_GRPC_TARGET: grpcTarget(DEFAULT_PORTS.samples),
      TRAINING_GRPC_TARGET: grpcTarget(DEFAULT_PORTS.training),
    },
    env,
  );
}

export type Targets = ReturnType<typeof loadTargets>;
