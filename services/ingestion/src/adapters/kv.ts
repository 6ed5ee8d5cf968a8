import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { IngestStatus } from '@trajectory/contracts';
import type { Ledger, LedgerEntry } from '../core/ingest.js';

export const LEDGER_BUCKET = 'trajectory_ingest_ledger';
export const JOBS_BUCKET = 'trajectory_ingest_jobs';

/** KV keys allow few characters; conversation ids come from exports, so they are hashed. */
const key = (conversationId: string) => createHash('sha256').update(conversationId).digest('hex');

/** The ingest ledger in a JetStream KV bucket, shared by every ingestion replica. */
export function kvLedger(kv: KV): Ledger {
  return {
    async get(conversationId) {
      const entry = await kv.get(key(conversationId));
      return entry && entry.operation === 'PUT' ? (entry.json() as LedgerEntry) : undefined;
    },
    async put(conversationId, entry) {
      await kv.put(key(conversationId), JSON.stringify(entry));
    },
  };
}

export function kvIngestJobs(kv: KV) {
  return {
    async get(ingestId: string): Promise<IngestStatus | undefined> {
      if (!/^[A-Za-z0-9_-]{1,128}$/.test(ingestId)) return undefined;
      const entry = await kv.get(ingestId);
      return entry && entry.operation === 'PUT' ? IngestStatus.fromJSON(entry.json()) : undefined;
    },
    async put(status: IngestStatus): Promise<void> {
      await kv.put(status.ingestId, JSON.stringify(IngestStatus.toJSON(status)));
    },
  };
}
