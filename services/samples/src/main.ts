import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { publishEvent, SUBJECTS } from '@trajectory/bus';
import { DEFAULT_PORTS, grpcTarget, z } from '@trajectory/config';
import {
  type BuildDatasetRequest,
  type BuildDatasetResponse,
  type ConversationGraph,
  DatasetBuilt,
  GraphServiceClient,
  SamplesServiceService,
} from '@trajectory/contracts';
import { createClient, main, runService } from '@trajectory/runtime';
import { writeDataset } from './core/dataset.js';

main(() =>
  runService({
    name: 'samples',
    defaultPort: DEFAULT_PORTS.samples,
    configShape: {
      GRAPH_GRPC_TARGET: grpcTarget(DEFAULT_PORTS.graph),
      SAMPLES_DATASET_DIR: z.string().default('.trajectory/datasets'),
      SAMPLES_CONTEXT_SIZE: z.coerce.number().int().min(1).max(32).default(3),
    },
    async start({ config, bus, logger, addGrpcService, onShutdown }) {
      const graph = createClient(GraphServiceClient, config.GRAPH_GRPC_TARGET);
      onShutdown(() => graph.close());

      async function* conversationGraphs(): AsyncGenerator<ConversationGraph> {
        const stream = graph.streamConversationGraphs({ conversationIds: [] });
        for await (const item of stream as AsyncIterable<ConversationGraph>) yield item;
      }

      addGrpcService(SamplesServiceService, {
        buildDataset(
          call: grpc.ServerUnaryCall<BuildDatasetRequest, BuildDatasetResponse>,
          callback: grpc.sendUnaryData<BuildDatasetResponse>,
        ) {
          const request = call.request;
          const dir = resolve(request.outputDir || config.SAMPLES_DATASET_DIR);
          const asOf = request.asOf ?? new Date();
          writeDataset(conversationGraphs(), dir, { asOf, contextSize: request.contextSize || config.SAMPLES_CONTEXT_SIZE })
            .then(async (dataset) => {
              await publishEvent(
                bus,
                SUBJECTS.datasetBuilt,
                DatasetBuilt,
                { datasetId: dataset.datasetId, path: dataset.path, recordCount: dataset.recordCount, builtAt: new Date() },
                `dataset:${dataset.datasetId}`,
              );
              logger.info(dataset, 'dataset built');
              callback(null, dataset);
            })
            .catch((err: Error) => {
              logger.error({ err }, 'dataset build failed');
              callback({ code: grpc.status.UNAVAILABLE, details: `dataset build failed: ${err.message}` });
            });
        },
      });
    },
  }),
);
