import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
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
  type IngestStatus,
  type UploadExportChunk,
  type UploadExportResult,
} from '@trajectory/contracts';
import {
  createRedactor,
  DEFAULT_LIMITS,
  ingestExport,
  isIngestId,
  redactionModeFromEnv,
  StatusSaveThrottle,
  Upload,
} from '@trajectory/ingestion';
import { answerStream, answerUnary, main, runService, ServiceError } from '@trajectory/runtime';
import { ATTR_CONVERSATION_ID, SpanKind, withSpan } from '@trajectory/telemetry';
import {
  INGEST_RECORD_TTL_MS,
  INGESTED_BUCKET,
  IngestIdTakenError,
  JOBS_BUCKET,
  kvIngestJobs,
  kvLedger,
  LEDGER_BUCKET,
  objectIngestedConversations,
  spoolLine,
} from './adapters/kv.js';
import { FileSpool, receiveUpload, uploadFolder } from './adapters/upload-spool.js';

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
        const folder = await uploadFolder();
        const upload = new Upload({ maxBytes: config.INGESTION_MAX_UPLOAD_BYTES, newIngestId: randomUUID });
        const { status } = upload;
        const throttle = new StatusSaveThrottle();
        const save = async (force = false) => {
          if (!throttle.due(Date.now(), force)) return;
          await jobs.put(status).catch((err: Error) => logger.warn({ err }, 'ingest status not saved'));
        };
        const claim = async () => {
          try {
            await jobs.create(status);
          } catch (err) {
            const taken = err instanceof IngestIdTakenError;
            throw new ServiceError(taken ? 'ALREADY_EXISTS' : 'UNAVAILABLE', (err as Error).message, { cause: err });
          }
          throttle.claimed(Date.now());
        };
        try {
          await receiveUpload(call as AsyncIterable<UploadExportChunk>, folder.uploadPath, upload, claim, save);
          upload.parsing();
          await save(true);
          const spool = new FileSpool(folder.conversationsPath);
          const result = await ingestExport({
            path: folder.uploadPath,
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
            onConversation: (conversation) => spool.write(spoolLine(conversation)),
            onProgress: (p) => {
              upload.progress(p);
              void save();
            },
          }).finally(() => spool.end());
          await spool.closed();
          // Listed before DONE is saved: a client that sees DONE can always list.
          await ingested.put(status.ingestId, spool.path);
          upload.done(result);
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
          upload.failed((err as Error).message);
          await save(true);
          throw err;
        } finally {
          await folder.remove();
        }
      }
    },
  }),
);
