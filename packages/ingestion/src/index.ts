// Ingestion: the pure core (parsers, the report, what becomes of each conversation, the rules of
// an upload) and, under io/, what reads export files; shared with the CLI's offline `trajectory inspect`.
export { type IngestOptions, ingestExport, readConversations } from './io/ingest.js';
export { conversationContentHash, type Ledger, type LedgerEntry } from './record.js';
export { createRedactor, type RedactionMode, redactionModeFromEnv } from './redact.js';
export { emptyReport, formatReport } from './report.js';
export { DEFAULT_LIMITS, type IngestLimits } from './types.js';
export {
  isIngestId,
  STATUS_SAVE_INTERVAL_MS,
  StatusSaveThrottle,
  Upload,
  type UploadOptions,
  type UploadRefusal,
  type UploadStep,
} from './upload.js';
