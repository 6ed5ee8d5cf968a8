import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { finished } from 'node:stream/promises';
import * as grpc from '@grpc/grpc-js';
import { publishEvent, SUBJECTS } from '@trajectory/bus';
import { DEFAULT_PORTS, z } from '@trajectory/config';
import { ConversationIngested, IngestionServiceService, type UploadExportChunk, type UploadExportResult } from '@trajectory/contracts';
import { main, runService } from '@trajectory/runtime';
import { ingestChatGptFile } from './core/ingest.js';

main(() =>
  runService({
    name: 'ingestion',
    defaultPort: DEFAULT_PORTS.ingestion,
    configShape: {
      // Set to false only when you want secrets kept in your graph and datasets.
      INGESTION_REDACT_SECRETS: z.stringbool().default(true),
      INGESTION_MAX_UPLOAD_BYTES: z.coerce
        .number()
        .int()
        .positive()
        .default(4 * 1024 * 1024 * 1024),
    },
    async start({ config, bus, logger, addGrpcService }) {
      addGrpcService(IngestionServiceService, {
        uploadExport(
          call: grpc.ServerReadableStream<UploadExportChunk, UploadExportResult>,
          callback: grpc.sendUnaryData<UploadExportResult>,
        ) {
          receiveUpload(call)
            .then(async ({ dir, path, fileName }) => {
              try {
                const ingestId = randomUUID();
                const result = await ingestChatGptFile({
                  path,
                  fileName,
                  ingestId,
                  redact: config.INGESTION_REDACT_SECRETS,
                  publish: async (event, msgId) => {
                    return publishEvent(bus, SUBJECTS.conversationIngested, ConversationIngested, event, msgId);
                  },
                });
                logger.info(
                  { ingestId, fileName, conversations: result.conversationsPublished, errors: result.errors.length },
                  'export ingested',
                );
                callback(null, result);
              } finally {
                await rm(dir, { recursive: true, force: true });
              }
            })
            .catch((err: Error & { code?: number }) => {
              logger.error({ err }, 'upload failed');
              callback({ code: err.code ?? grpc.status.INTERNAL, details: err.message });
            });
        },
      });

      /** Spools the client stream to a temporary file so parsing runs in bounded memory. */
      async function receiveUpload(call: grpc.ServerReadableStream<UploadExportChunk, UploadExportResult>) {
        const dir = await mkdtemp(join(tmpdir(), 'trajectory-upload-'));
        const path = join(dir, 'upload.json');
        const out = createWriteStream(path);
        let fileName = '';
        let size = 0;
        try {
          for await (const chunk of call as AsyncIterable<UploadExportChunk>) {
            if (chunk.header) {
              fileName = basename(chunk.header.fileName) || 'upload.json';
            } else if (chunk.data) {
              size += chunk.data.length;
              if (size > config.INGESTION_MAX_UPLOAD_BYTES) {
                throw Object.assign(new Error(`upload exceeds INGESTION_MAX_UPLOAD_BYTES (${config.INGESTION_MAX_UPLOAD_BYTES})`), {
                  code: grpc.status.RESOURCE_EXHAUSTED,
                });
              }
              if (!out.write(chunk.data)) await once(out, 'drain');
            }
          }
          if (!fileName)
            throw Object.assign(new Error('the first chunk must be a header with the file name'), { code: grpc.status.INVALID_ARGUMENT });
          out.end();
          await finished(out);
          return { dir, path, fileName };
        } catch (err) {
          out.destroy();
          await rm(dir, { recursive: true, force: true });
          throw err;
        }
      }
    },
  }),
);
