// The pure core of ingestion, shared with the CLI's offline `trajectory inspect`.
export {
  conversationContentHash,
  emptyReport,
  formatReport,
  type IngestOptions,
  ingestExport,
  type Ledger,
  type LedgerEntry,
  readConversations,
} from './ingest.js';
export { createRedactor, type RedactionMode, redactionModeFromEnv } from './redact.js';
export { DEFAULT_LIMITS, type IngestLimits } from './types.js';
