import { basename } from 'node:path';
import type { IngestReport } from '@trajectory/contracts';
import { createRedactor, DEFAULT_LIMITS, emptyReport, ingestExport, readConversations, redactionModeFromEnv } from '@trajectory/ingestion';

/** Ingestion's own redaction, as INGESTION_REDACTION sets it for the service. */
const redactorFromEnv = () => createRedactor(redactionModeFromEnv(process.env.INGESTION_REDACTION));

/**
 * Reads an export in this process with ingestion's own parser, redaction (INGESTION_REDACTION)
 * and limits: what `segment` runs, with no server. The conversations are those the ingestion
 * service would publish; the report is the one `ingest` prints.
 */
export function readExportOffline(path: string, ingestId: string) {
  return readConversations(path, { ingestId, redactor: redactorFromEnv() });
}

/** The report `ingest` would print, read in this process: `inspect`. Keeps no conversation, so any export fits. */
export async function inspectExportOffline(path: string): Promise<IngestReport> {
  const result = await ingestExport({
    path,
    fileName: basename(path),
    ingestId: 'inspect',
    redactor: redactorFromEnv(),
    limits: DEFAULT_LIMITS,
  });
  return result.report ?? emptyReport();
}
