import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { KV } from '@nats-io/kv';
import type { ObjectStore } from '@nats-io/obj';
import { BUCKETS } from '@trajectory/bus';
import { IngestedConversation, IngestStatus } from '@trajectory/contracts';
import { isIngestId, type Ledger, type LedgerEntry } from '@trajectory/ingestion';

export const LEDGER_BUCKET = BUCKETS.ingestLedger;
export const JOBS_BUCKET = BUCKETS.ingestJobs;
/** One object per finished upload, named by its ingest id: its conversations, one JSON line each. */
export const INGESTED_BUCKET = BUCKETS.ingestedConversations;
/** Status records and conversation lists expire: they are for following an upload, not an archive. */
export const INGEST_RECORD_TTL_MS = 7 * 24 * 60 * 60 * 1000;

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

/** An upload asked for an ingest id that another upload holds. */
export class IngestIdTakenError extends Error {
  constructor(ingestId: string) {
    super(`ingest id ${ingestId} is already in use: choose another, or leave it empty for the server to pick one`);
  }
}

const MAX_ERROR_CHARS = 2_000;

/**
 * The status as JSON of at most `maxBytes`: the report's lists are halved until it fits (their
 * totals stay), so a status is always saved however much an export had to say.
 */
export function encodeStatus(status: IngestStatus, maxBytes: number): string {
  const error = status.error.length > MAX_ERROR_CHARS ? `${status.error.slice(0, MAX_ERROR_CHARS - 1)}…` : status.error;
  let current: IngestStatus = { ...status, error };
  for (;;) {
    const json = JSON.stringify(IngestStatus.toJSON(current));
    const report = current.result?.report;
    const longest = report ? Math.max(report.skipped.length, report.warnings.length, report.files.length) : 0;
    if (Buffer.byteLength(json) <= maxBytes || !current.result || !report || longest === 0) return json;
    const keep = Math.floor(longest / 2);
    current = {
      ...current,
      result: {
        ...current.result,
        report: {
          ...report,
          skipped: report.skipped.slice(0, keep),
          warnings: report.warnings.slice(0, keep),
          files: report.files.slice(0, keep),
        },
      },
    };
  }
}

/** Upload statuses by ingest id; each saved status fits in `maxBytes` (keep it under NATS's max_payload). */
export function kvIngestJobs(kv: KV, options: { maxBytes: number }) {
  return {
    async get(ingestId: string): Promise<IngestStatus | undefined> {
      if (!isIngestId(ingestId)) return undefined;
      const entry = await kv.get(ingestId);
      return entry && entry.operation === 'PUT' ? IngestStatus.fromJSON(entry.json()) : undefined;
    },
    /** The first save of an upload: claims its id, and throws IngestIdTakenError where one exists. */
    async create(status: IngestStatus): Promise<void> {
      try {
        await kv.create(status.ingestId, encodeStatus(status, options.maxBytes));
      } catch (err) {
        const existing = await kv.get(status.ingestId).catch(() => null);
        if (existing?.operation === 'PUT') throw new IngestIdTakenError(status.ingestId);
        throw err;
      }
    },
    async put(status: IngestStatus): Promise<void> {
      await kv.put(status.ingestId, encodeStatus(status, options.maxBytes));
    },
  };
}

/** Conversations sent to a ListIngestedConversations caller in one message. */
export const INGESTED_PAGE_SIZE = 500;

/**
 * The conversations of finished uploads in a JetStream object store, so any replica can list
 * them and none holds a list in memory: an upload spools them to a file as it reads them, and
 * the file becomes the object.
 */
export function objectIngestedConversations(objects: ObjectStore) {
  return {
    /** `spoolFile` holds one IngestedConversation as proto3 JSON per line. */
    async put(ingestId: string, spoolFile: string): Promise<void> {
      await objects.put({ name: ingestId }, Readable.toWeb(createReadStream(spoolFile)) as ReadableStream<Uint8Array>);
    },
    /** Pages of an upload's conversations, in the order they were read; undefined for no such upload. */
    async pages(ingestId: string): Promise<AsyncGenerator<IngestedConversation[]> | undefined> {
      const object = await objects.get(ingestId);
      if (!object) return undefined;
      return (async function* () {
        const input = Readable.fromWeb(object.data as WebReadableStream<Uint8Array>);
        try {
          let page: IngestedConversation[] = [];
          for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
            if (line === '') continue;
            page.push(IngestedConversation.fromJSON(JSON.parse(line)));
            if (page.length === INGESTED_PAGE_SIZE) {
              yield page;
              page = [];
            }
          }
          if (page.length > 0) yield page;
          // A digest mismatch or a chunk lost in the store surfaces here, not as a short list.
          const error = await object.error;
          if (error) throw error;
        } finally {
          // A caller that stops early (a cancelled call) must not leave the object streaming in.
          input.destroy();
        }
      })();
    },
  };
}

/** One line of a spool file: the conversation as proto3 JSON. */
export function spoolLine(conversation: IngestedConversation): string {
  return `${JSON.stringify(IngestedConversation.toJSON(conversation))}\n`;
}
