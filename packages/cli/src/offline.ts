import { basename } from 'node:path';
import type { ConversationIngested } from '@trajectory/contracts';
import { createRedactor, DEFAULT_LIMITS, ingestExport, redactionModeFromEnv } from '@trajectory/ingestion';

/**
 * Reads an export in this process with ingestion's own parser, redaction (INGESTION_REDACTION)
 * and limits: what `inspect` and `segment` run, with no server. `onConversation` sees every
 * conversation the ingestion service would publish.
 */
export function readExportOffline(path: string, ingestId: string, onConversation?: (event: ConversationIngested) => void) {
  return ingestExport({
    path,
    fileName: basename(path),
    ingestId,
    redactor: createRedactor(redactionModeFromEnv(process.env.INGESTION_REDACTION)),
    limits: DEFAULT_LIMITS,
    ...(onConversation
      ? {
          publish: async (event: ConversationIngested) => {
            onConversation(event);
            return { duplicate: false };
          },
        }
      : {}),
  });
}
