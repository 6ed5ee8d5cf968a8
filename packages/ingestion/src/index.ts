// Ingestion: the pure core (parsers, the report, what becomes of each conversation) and, under
// io/, what reads export files; shared with the CLI's offline `trajectory inspect`.
export { type IngestOptions, ingestExport, readConversations } from './io/ingest.js';
export { conversationContentHash, type Ledger, type LedgerEntry } from './record.js';
export { createRedactor, type RedactionMode, redactionModeFromEnv } from './redact.js';
export { emptyReport, formatReport } from './report.js';
export { DEFAULT_LIMITS, type IngestLimits } from './types.js';
