import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { DeliverPolicy } from '@nats-io/jetstream';
import { type Bus, decodeEvent, STREAMS, SUBJECTS } from '@trajectory/bus';
import {
  BuildDatasetRequest,
  type BuildDatasetResponse,
  ConversationChange,
  GraphServiceClient,
  type GraphStats,
  GraphStored,
  IngestionServiceClient,
  type IngestStatus,
  SamplesServiceClient,
  type TrainingJob,
  TrainingServiceClient,
  type UploadExportResult,
} from '@trajectory/contracts';
import { createClient, unary, withClient } from '@trajectory/runtime';
import type { Targets } from './targets.js';

const CHUNK_BYTES = 256 * 1024;

export interface UploadProgress {
  bytesSent: number;
  bytesTotal: number;
  /** From the service's GetIngest, while it parses. */
  status?: IngestStatus;
}

/**
 * Streams an export file to the ingestion service in chunks (client streaming). The ingest id
 * is chosen here, so `onProgress` can follow the service's progress through GetIngest.
 */
export async function uploadExport(
  targets: Targets,
  file: string,
  onProgress?: (progress: UploadProgress) => void,
): Promise<UploadExportResult> {
  const client = createClient(IngestionServiceClient, targets.INGESTION_GRPC_TARGET);
  const ingestId = randomUUID();
  const progress: UploadProgress = { bytesSent: 0, bytesTotal: (await stat(file)).size };
  const poll = onProgress
    ? setInterval(() => {
        client.getIngest({ ingestId }, (err: grpc.ServiceError | null, status: IngestStatus) => {
          if (!err) progress.status = status;
          onProgress(progress);
        });
      }, 300)
    : undefined;
  try {
    return await new Promise<UploadExportResult>((resolve, reject) => {
      const call = client.uploadExport((err: grpc.ServiceError | null, res: UploadExportResult) => (err ? reject(err) : resolve(res)));
      call.write({ header: { fileName: basename(file), source: 0, ingestId, size: progress.bytesTotal } });
      const input = createReadStream(file, { highWaterMark: CHUNK_BYTES });
      input.on('data', (chunk) => {
        progress.bytesSent += chunk.length;
        if (!call.write({ data: chunk as Buffer })) {
          input.pause();
          call.once('drain', () => input.resume());
        }
      });
      input.on('end', () => call.end());
      input.on('error', (err) => {
        call.cancel();
        reject(new Error(`cannot read ${file}: ${err.message}`));
      });
    });
  } finally {
    if (poll) clearInterval(poll);
    client.close();
  }
}

/**
 * Waits until the graph service has stored every conversation of an upload, by replaying
 * trajectory.graph.stored from shortly before the upload (a re-upload's originals included).
 */
export async function waitForStored(
  bus: Bus,
  upload: UploadExportResult,
  options: { since: Date; timeoutMs: number; onStored?: (event: GraphStored) => void },
): Promise<GraphStored[]> {
  // Unchanged conversations publish nothing, so nothing is stored for them.
  const published = upload.conversations.filter((c) => c.change !== ConversationChange.CONVERSATION_CHANGE_UNSPECIFIED);
  const expected = new Map(published.map((c) => [`${c.id}:${c.contentHash}`, c.id]));
  const seen = new Map<string, GraphStored>();
  if (expected.size === 0) return [];
  const consumer = await bus.js.consumers.get(STREAMS.events.name, {
    filter_subjects: SUBJECTS.graphStored,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(options.since.getTime() - 15 * 60 * 1000).toISOString(),
  });
  const messages = await consumer.consume();
  const timer = setTimeout(() => void messages.close(), options.timeoutMs);
  try {
    for await (const msg of messages) {
      const event = await decodeEvent(bus, GraphStored, msg.data, msg.headers);
      const key = `${event.conversationId}:${event.contentHash}`;
      if (expected.has(key) && !seen.has(key)) {
        seen.set(key, event);
        options.onStored?.(event);
      }
      if (seen.size === expected.size) break;
    }
  } finally {
    clearTimeout(timer);
    await messages.close().catch(() => undefined);
  }
  if (seen.size < expected.size) {
    const missing = [...expected.keys()].filter((k) => !seen.has(k)).map((k) => expected.get(k));
    throw new Error(`timed out after ${options.timeoutMs} ms waiting for the graph to store: ${missing.join(', ')}`);
  }
  return [...seen.values()];
}

export const ingestStatus = (targets: Targets, ingestId: string): Promise<IngestStatus> =>
  withClient(IngestionServiceClient, targets.INGESTION_GRPC_TARGET, (client) => unary(client.getIngest, client, { ingestId }));

export const graphStats = (targets: Targets): Promise<GraphStats> =>
  withClient(GraphServiceClient, targets.GRAPH_GRPC_TARGET, (client) => unary(client.getStats, client, {}));

export const buildDataset = (targets: Targets, request: Partial<BuildDatasetRequest> = {}): Promise<BuildDatasetResponse> =>
  withClient(SamplesServiceClient, targets.SAMPLES_GRPC_TARGET, (client) =>
    unary(client.buildDataset, client, BuildDatasetRequest.fromPartial(request), 10 * 60_000),
  );

export const listTrainingJobs = async (targets: Targets): Promise<TrainingJob[]> =>
  (await withClient(TrainingServiceClient, targets.TRAINING_GRPC_TARGET, (client) => unary(client.listJobs, client, {}))).jobs;
