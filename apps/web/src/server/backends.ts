import type * as grpc from '@grpc/grpc-js';
import type {
  ConversationGraph,
  DatasetManifest,
  DrawSpotCheckRequest,
  GraphServiceClient,
  ListDatasetsResponse,
  ListRefinementChainsRequest,
  RecordVerdictRequest,
  RefinementChainView,
  SamplesServiceClient,
  SpotCheckDraw,
  SpotCheckStatus,
} from '@trajectory/contracts';
import { unary } from '@trajectory/runtime';

/**
 * What the gateway asks of the services: one method per call it makes. The gRPC adapter
 * (grpcBackends) is the real one; the gateway's unit tests give it fakes.
 */
export interface Backends {
  listDatasets(): Promise<ListDatasetsResponse>;
  getDataset(datasetId: string): Promise<DatasetManifest>;
  drawSpotCheck(request: DrawSpotCheckRequest): Promise<SpotCheckDraw>;
  recordVerdict(request: RecordVerdictRequest): Promise<SpotCheckStatus>;
  getSpotCheck(datasetId: string): Promise<SpotCheckStatus>;
  listRefinementChains(request: ListRefinementChainsRequest): Promise<RefinementChainView[]>;
  getConversationGraph(conversationId: string): Promise<ConversationGraph>;
}

/** A server stream collected into an array (the chain list is bounded by the request's limit). */
function collect<T>(stream: grpc.ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const out: T[] = [];
    stream.on('data', (item: T) => out.push(item));
    stream.on('error', reject);
    stream.on('end', () => resolve(out));
  });
}

/** The services over gRPC, through clients made with createClient (trace context and bearer token). */
export function grpcBackends(graph: GraphServiceClient, samples: SamplesServiceClient): Backends {
  return {
    listDatasets: () => unary(samples.listDatasets, samples, {}),
    getDataset: (datasetId) => unary(samples.getDataset, samples, { datasetId }),
    drawSpotCheck: (request) => unary(samples.drawSpotCheck, samples, request),
    recordVerdict: (request) => unary(samples.recordVerdict, samples, request),
    getSpotCheck: (datasetId) => unary(samples.getSpotCheck, samples, { datasetId }),
    listRefinementChains: (request) => collect(graph.listRefinementChains(request, { deadline: Date.now() + 60_000 })),
    getConversationGraph: (conversationId) => unary(graph.getConversationGraph, graph, { conversationId }),
  };
}
