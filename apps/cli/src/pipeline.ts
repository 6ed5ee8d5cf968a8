import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import {
  BuildDatasetRequest,
  type BuildDatasetResponse,
  ConversationChange,
  type ConversationVersion,
  DrawSpotCheckRequest,
  GraphServiceClient,
  type GraphStats,
  type IngestedConversation,
  type IngestedConversationPage,
  IngestionServiceClient,
  type IngestStatus,
  type RecordVerdictRequest,
  SamplesServiceClient,
  type SpotCheckDraw,
  type SpotCheckStatus,
  type StoredConversation,
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
  const client = createClient(IngestionServiceClient, targets.INGESTION_GRPC_TARGET, targets);
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

/** Every conversation a finished upload read, in the order it read them (ListIngestedConversations). */
export async function* ingestedConversations(targets: Targets, ingestId: string): AsyncGenerator<IngestedConversation> {
  const client = createClient(IngestionServiceClient, targets.INGESTION_GRPC_TARGET, targets);
  try {
    for await (const page of client.listIngestedConversations({ ingestId }) as AsyncIterable<IngestedConversationPage>) {
      yield* page.conversations;
    }
  } finally {
    client.close();
  }
}

/** Versions one GetStoredConversations call asks about (the service's limit). */
const STORED_BATCH = 1_000;

export interface WaitOptions {
  /** Give up once nothing more was stored for this long. */
  timeoutMs: number;
  /** Pause between rounds of asking the graph; 1 s unless given. */
  pollMs?: number;
  onStored?: (conversation: StoredConversation) => void;
}

/**
 * Waits until the graph holds every conversation an upload published, at the version it
 * published, by asking the graph service in rounds; returns how many that is. Asking, not
 * listening for trajectory.graph.stored, so an event missed (a nats-server restart, events expired
 * or never replayed) cannot make it wait for what is already stored.
 */
export async function waitForStored(targets: Targets, upload: UploadExportResult, options: WaitOptions): Promise<number> {
  // Unchanged conversations publish nothing, so nothing is stored for them.
  const pending = new Map<string, ConversationVersion>();
  for await (const c of ingestedConversations(targets, upload.ingestId)) {
    if (c.change !== ConversationChange.CONVERSATION_CHANGE_UNSPECIFIED) {
      pending.set(`${c.id}\n${c.contentHash}`, { conversationId: c.id, contentHash: c.contentHash });
    }
  }
  const expected = pending.size;
  const client = createClient(GraphServiceClient, targets.GRAPH_GRPC_TARGET, targets);
  let lastProgress = Date.now();
  let lastError: Error | undefined;
  try {
    while (pending.size > 0) {
      const batch = [...pending.values()];
      for (let i = 0; i < batch.length; i += STORED_BATCH) {
        const conversations = batch.slice(i, i + STORED_BATCH);
        try {
          const stored = await unary(client.getStoredConversations, client, { conversations }, 30_000);
          lastError = undefined;
          for (const s of stored.conversations) {
            if (pending.delete(`${s.conversationId}\n${s.contentHash}`)) {
              lastProgress = Date.now();
              options.onStored?.(s);
            }
          }
        } catch (err) {
          // A graph service restarting is a pause, not the end: asked again next round.
          lastError = err as Error;
        }
      }
      if (pending.size === 0) break;
      if (Date.now() - lastProgress > options.timeoutMs) {
        const missing = [...pending.values()].map((v) => v.conversationId);
        const shown = missing.slice(0, 20).join(', ');
        throw new Error(
          `timed out: nothing more stored in ${Math.round(options.timeoutMs / 1000)} s; ${missing.length} of ${expected} conversations not in the graph: ${shown}` +
            (missing.length > 20 ? ` and ${missing.length - 20} more` : '') +
            (lastError ? ` (the graph service answered: ${lastError.message})` : ''),
        );
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 1_000));
    }
  } finally {
    client.close();
  }
  return expected;
}

export const ingestStatus = (targets: Targets, ingestId: string): Promise<IngestStatus> =>
  withClient(IngestionServiceClient, targets.INGESTION_GRPC_TARGET, targets, (client) => unary(client.getIngest, client, { ingestId }));

export const graphStats = (targets: Targets): Promise<GraphStats> =>
  withClient(GraphServiceClient, targets.GRAPH_GRPC_TARGET, targets, (client) => unary(client.getStats, client, {}));

export const buildDataset = (targets: Targets, request: Partial<BuildDatasetRequest> = {}): Promise<BuildDatasetResponse> =>
  withClient(SamplesServiceClient, targets.SAMPLES_GRPC_TARGET, targets, (client) =>
    unary(client.buildDataset, client, BuildDatasetRequest.fromPartial(request), 10 * 60_000),
  );

export const listTrainingJobs = async (targets: Targets): Promise<TrainingJob[]> =>
  (await withClient(TrainingServiceClient, targets.TRAINING_GRPC_TARGET, targets, (client) => unary(client.listJobs, client, {}))).jobs;

/** The spot-check's draw of a version (the stored one unless another seed or size is asked for). */
export const drawSpotCheck = (targets: Targets, request: Partial<DrawSpotCheckRequest> & { datasetId: string }): Promise<SpotCheckDraw> =>
  withClient(SamplesServiceClient, targets.SAMPLES_GRPC_TARGET, targets, (client) =>
    unary(client.drawSpotCheck, client, DrawSpotCheckRequest.fromPartial(request), 5 * 60_000),
  );

export const recordVerdict = (targets: Targets, request: RecordVerdictRequest): Promise<SpotCheckStatus> =>
  withClient(SamplesServiceClient, targets.SAMPLES_GRPC_TARGET, targets, (client) => unary(client.recordVerdict, client, request));

export const getSpotCheck = (targets: Targets, datasetId: string): Promise<SpotCheckStatus> =>
  withClient(SamplesServiceClient, targets.SAMPLES_GRPC_TARGET, targets, (client) => unary(client.getSpotCheck, client, { datasetId }));
