import { createRedactor, readConversations, redactionModeFromEnv } from '@trajectory/ingestion';

/**
 * Reads an export in this process with ingestion's own parser, redaction (INGESTION_REDACTION)
 * and limits: what `inspect` and `segment` run, with no server. The conversations are those the
 * ingestion service would publish; the report is the one `ingest` prints.
 */
export function readExportOffline(path: string, ingestId: string) {
  return readConversations(path, { ingestId, redactor: createRedactor(redactionModeFromEnv(process.env.INGESTION_REDACTION)) });
}
