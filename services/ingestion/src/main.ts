import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { finished } from 'node:stream/promises';
import type * as grpc from '@grpc/grpc-js';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { publishEvent, SUBJECTS } from '@trajectory/bus';
import { DEFAULT_PORTS, z } from '@trajectory/config';
import {
  ConversationIngested,
  type GetIngestRequest,
  type IngestedConversationPage,
  IngestionServiceService,
  IngestState,
  type IngestStatus,
  type UploadExportChunk,
  type UploadExportResult,
} from '@trajectory/contracts';
import { createRedactor, DEFAULT_LIMITS, ingestExport, redactionModeFromEnv } from '@trajectory/ingestion';
import { answerStream, answerUnary, main, runService, ServiceError } from '@trajectory/runtime';
import { ATTR_CONVERSATION_ID, SpanKind, withSpan } from '@trajectory/telemetry';
import {
  INGEST_RECORD_TTL_MS,
  INGESTED_BUCKET,
  IngestIdTakenError,
  isIngestId,
  JOBS_BUCKET,
  kvIngestJobs,
  kvLedger,
  LEDGER_BUCKET,
  objectIngestedConversations,
  spoolLine,
} from './adapters/kv.js';

const positive = (fallback: number) => z.coerce.number().int().positive().default(fallback);

main(() =>
  runService({
    name: 'ingestion',
    defaultPort: DEFAULT_PORTS.ingestion,
    configShape: {
      // secrets (default) | secrets+pii | off: what is replaced by placeholders before anything leaves ingestion.
      INGESTION_REDACTION: z
        .string()
        .optional()
        .transform((value, ctx) => {
          try {
            return redactionModeFromEnv(value);
          } catch (err) {
            ctx.addIssue({ code: 'custom', message: (err as Error).message });
            return z.NEVER;
          }
        }),
      INGESTION_MAX_UPLOAD_BYTES: positive(8 * 1024 * 1024 * 1024),
      INGESTION_MAX_MESSAGE_BYTES: positive(DEFAULT_LIMITS.maxMessageBytes),
      INGESTION_MAX_CONVERSATION_BYTES: positive(DEFAULT_LIMITS.maxConversationBytes),
      INGESTION_MAX_ENTRY_BYTES: positive(DEFAULT_LIMITS.maxEntryBytes),
      INGESTION_MAX_COMPRESSION_RATIO: positive(DEFAULT_LIMITS.maxCompressionRatio),
    },
    async start({ config, bus, logger, addGrpcService }) {
      const redactor = createRedactor(config.INGESTION_REDACTION);
      const limits = {
        ...DEFAULT_LIMITS,
        maxMessageBytes: config.INGESTION_MAX_MESSAGE_BYTES,
        maxConversationBytes: config.INGESTION_MAX_CONVERSATION_BYTES,
        maxEntryBytes: config.INGESTION_MAX_ENTRY_BYTES,
        maxCompressionRatio: config.INGESTION_MAX_COMPRESSION_RATIO,
      };
      const kvm = new Kvm(bus.nc);
      const ledger = kvLedger(await kvm.create(LEDGER_BUCKET, { history: 1 }));
      // A status must fit in one NATS message, or it is never saved and GetIngest shows an
      // upload stuck where it was; half the server's limit leaves room for the KV's headers.
      const maxPayload = bus.nc.info?.max_payload ?? 1024 * 1024;
      const jobs = kvIngestJobs(await kvm.create(JOBS_BUCKET, { history: 1, ttl: INGEST_RECORD_TTL_MS }), {
        maxBytes: Math.min(256 * 1024, Math.floor(maxPayload / 2)),
      });
      const ingested = objectIngestedConversations(
        await new Objm(bus.nc).create(INGESTED_BUCKET, { ttl: INGEST_RECORD_TTL_MS * 1_000_000 }),
      );

      addGrpcService(IngestionServiceService, {
        uploadExport(
          call: grpc.ServerReadableStream<UploadExportChunk, UploadExportResult>,
          callback: grpc.sendUnaryData<UploadExportResult>,
        ) {
          answerUnary(
            handleUpload(call).catch((err: unknown) => {
              logger.error({ err }, 'upload failed');
              throw err;
            }),
            callback,
          );
        },
        getIngest(call: grpc.ServerUnaryCall<GetIngestRequest, IngestStatus>, callback: grpc.sendUnaryData<IngestStatus>) {
          const { ingestId } = call.request;
          answerUnary(
            jobs.get(ingestId).then((status) => {
              if (!status) throw new ServiceError('NOT_FOUND', `no ingest ${ingestId}`);
              return status;
            }),
            callback,
          );
        },
        listIngestedConversations(call: grpc.ServerWritableStream<GetIngestRequest, IngestedConversationPage>) {
          answerStream(
            call,
            listConversations(call).catch((err: unknown) => {
              logger.error({ err, ingestId: call.request.ingestId }, 'listing ingested conversations failed');
              throw err;
            }),
          );
        },
      });

      async function listConversations(call: grpc.ServerWritableStream<GetIngestRequest, IngestedConversationPage>) {
        const { ingestId } = call.request;
        const pages = isIngestId(ingestId) ? await ingested.pages(ingestId) : undefined;
        if (!pages) {
          throw new ServiceError('NOT_FOUND', `no conversations of ingest ${ingestId}: unknown, still running, failed or expired`);
        }
        for await (const conversations of pages) {
          if (call.cancelled) return;
          if (!call.write({ conversations })) await Promise.race([once(call, 'drain'), once(call, 'cancelled')]);
        }
      }

      async function handleUpload(call: grpc.ServerReadableStream<UploadExportChunk, UploadExportResult>): Promise<UploadExportResult> {
        const dir = await mkdtemp(join(tmpdir(), 'trajectory-upload-'));
        const status: IngestStatus = {
          ingestId: '',
          state: IngestState.INGEST_STATE_RECEIVING,
          fileName: '',
          bytesReceived: 0,
          bytesExpected: 0,
          conversationsRead: 0,
          conversationsPublished: 0,
          error: '',
          result: undefined,
        };
        let lastSaved = 0;
        // Until the id is claimed, the status under it may be another upload's: nothing is saved.
        let claimed = false;
        const save = async (force = false) => {
          if (!claimed || (!force && Date.now() - lastSaved < 500)) return;
          lastSaved = Date.now();
          await jobs.put(status).catch((err: Error) => logger.warn({ err }, 'ingest status not saved'));
        };
        const claim = async () => {
          try {
            await jobs.create(status);
          } catch (err) {
            const taken = err instanceof IngestIdTakenError;
            throw new ServiceError(taken ? 'ALREADY_EXISTS' : 'UNAVAILABLE', (err as Error).message, { cause: err });
          }
          claimed = true;
          lastSaved = Date.now();
        };
        try {
          const path = join(dir, 'upload');
          await receive(call, path, status, save, claim);
          status.state = IngestState.INGEST_STATE_PARSING;
          await save(true);
          const spoolPath = join(dir, 'conversations.jsonl');
          const spool = createWriteStream(spoolPath);
          const result = await ingestExport({
            path,
            fileName: status.fileName,
            ingestId: status.ingestId,
            redactor,
            limits,
            ledger,
            // One span per conversation under the upload's: the trace of an export branches per
            // conversation here, and `trajectory trace` finds a conversation's branch by its id.
            publish: (event, msgId) =>
              withSpan(
                `${SUBJECTS.conversationIngested} publish`,
                {
                  kind: SpanKind.PRODUCER,
                  attributes: {
                    'messaging.destination.name': SUBJECTS.conversationIngested,
                    [ATTR_CONVERSATION_ID]: event.conversation?.id ?? '',
                  },
                },
                () => publishEvent(bus, SUBJECTS.conversationIngested, ConversationIngested, event, msgId),
              ),
            onConversation: async (conversation) => {
              if (!spool.write(spoolLine(conversation))) await once(spool, 'drain');
            },
            onProgress: (p) => {
              status.conversationsRead = p.conversationsRead;
              status.conversationsPublished = p.conversationsPublished;
              void save();
            },
          }).finally(() => spool.end());
          await finished(spool);
          // Listed before DONE is saved: a client that sees DONE can always list.
          await ingested.put(status.ingestId, spoolPath);
          status.state = IngestState.INGEST_STATE_DONE;
          status.result = result;
          await save(true);
          const r = result.report;
          logger.info(
            {
              ingestId: status.ingestId,
              file: status.fileName,
              conversations: r?.conversations,
              new: r?.conversationsNew,
              skipped: r?.skippedTotal,
            },
            'export ingested',
          );
          return result;
        } catch (err) {
          status.state = IngestState.INGEST_STATE_FAILED;
          status.error = (err as Error).message;
          await save(true);
          throw err;
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }

      /** Spools the client stream to a file so parsing runs in bounded memory. */
      async function receive(
        call: grpc.ServerReadableStream<UploadExportChunk, UploadExportResult>,
        path: string,
        status: IngestStatus,
        save: (force?: boolean) => Promise<void>,
        claim: () => Promise<void>,
      ) {
        const out = createWriteStream(path);
        try {
          for await (const chunk of call as AsyncIterable<UploadExportChunk>) {
            if (chunk.header) {
              if (status.ingestId) {
                throw new ServiceError('INVALID_ARGUMENT', 'only the first chunk may be a header');
              }
              status.fileName = basename(chunk.header.fileName) || 'upload';
              status.ingestId = isIngestId(chunk.header.ingestId) ? chunk.header.ingestId : randomUUID();
              status.bytesExpected = chunk.header.size;
              await claim();
            } else if (chunk.data) {
              if (!status.ingestId) {
                throw new ServiceError('INVALID_ARGUMENT', 'the first chunk must be a header with the file name');
              }
              status.bytesReceived += chunk.data.length;
              if (status.bytesReceived > config.INGESTION_MAX_UPLOAD_BYTES) {
                throw new ServiceError(
                  'RESOURCE_EXHAUSTED',
                  `upload exceeds INGESTION_MAX_UPLOAD_BYTES (${config.INGESTION_MAX_UPLOAD_BYTES})`,
                );
              }
              if (!out.write(chunk.data)) await once(out, 'drain');
              void save();
            }
          }
          if (!status.ingestId) throw new ServiceError('INVALID_ARGUMENT', 'the upload had no header');
          out.end();
          await finished(out);
        } catch (err) {
          out.destroy();
          throw err;
        }
      }
    },
  }),
);
