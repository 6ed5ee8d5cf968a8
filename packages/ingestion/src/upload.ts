import { basename } from 'node:path';
import { IngestState, type IngestStatus, type UploadExportChunk, type UploadExportResult } from '@trajectory/contracts';

/*
 * An upload as the ingestion service receives it, without the server: which chunk is allowed
 * when, what the status says at each step, and when the status is saved. The service's adapters
 * do what a step asks (claim the id, write the bytes) and turn a refusal into a gRPC error.
 */

/** What an ingest id may be: it is a KV key and an object name. */
export const isIngestId = (id: string) => /^[A-Za-z0-9_-]{1,128}$/.test(id);

/** Why a stream is not an upload; `status` is the gRPC status the client gets. */
export interface UploadRefusal {
  status: 'INVALID_ARGUMENT' | 'RESOURCE_EXHAUSTED';
  message: string;
}

/** What to do with one chunk of an upload. */
export type UploadStep =
  /** The header was taken: claim `status.ingestId` before anything is saved under it. */
  | { kind: 'claim' }
  /** Append these bytes to the upload. */
  | { kind: 'write'; data: Uint8Array }
  /** The chunk carries nothing. */
  | { kind: 'skip' }
  /** The stream is not a valid upload: stop and answer with this. */
  | { kind: 'refuse'; refusal: UploadRefusal };

const refuse = (status: UploadRefusal['status'], message: string): UploadStep => ({ kind: 'refuse', refusal: { status, message } });

export interface UploadOptions {
  /** The most bytes an upload may have (INGESTION_MAX_UPLOAD_BYTES). */
  maxBytes: number;
  /** An ingest id for a header that asks for none (or for one that is not an ingest id). */
  newIngestId: () => string;
}

/**
 * One upload's status, RECEIVING -> PARSING -> DONE, or FAILED from any of them, and the rules of
 * its stream: a header first and only once, then data up to the size limit.
 */
export class Upload {
  readonly status: IngestStatus = {
    ingestId: '',
    state: IngestState.INGEST_STATE_RECEIVING,
    fileName: '',
    bytesReceived: 0,
    bytesExpected: 0,
    conversationsRead: 0,
    conversationsPublished: 0,
    error: '',
    result: undefined,
  };

  constructor(private readonly options: UploadOptions) {}

  /** What to do with the next chunk of the stream. */
  receive(chunk: UploadExportChunk): UploadStep {
    this.expect(IngestState.INGEST_STATE_RECEIVING, 'receive a chunk');
    const { status } = this;
    if (chunk.header) {
      if (status.ingestId) return refuse('INVALID_ARGUMENT', 'only the first chunk may be a header');
      status.fileName = basename(chunk.header.fileName) || 'upload';
      status.ingestId = isIngestId(chunk.header.ingestId) ? chunk.header.ingestId : this.options.newIngestId();
      status.bytesExpected = chunk.header.size;
      return { kind: 'claim' };
    }
    if (chunk.data) {
      if (!status.ingestId) return refuse('INVALID_ARGUMENT', 'the first chunk must be a header with the file name');
      // Counted before the check: a failed upload's status shows how far it got.
      status.bytesReceived += chunk.data.length;
      if (status.bytesReceived > this.options.maxBytes) {
        return refuse('RESOURCE_EXHAUSTED', `upload exceeds INGESTION_MAX_UPLOAD_BYTES (${this.options.maxBytes})`);
      }
      return { kind: 'write', data: chunk.data };
    }
    return { kind: 'skip' };
  }

  /** The stream ended: a refusal if it was no upload. */
  end(): UploadRefusal | undefined {
    this.expect(IngestState.INGEST_STATE_RECEIVING, 'end');
    return this.status.ingestId ? undefined : { status: 'INVALID_ARGUMENT', message: 'the upload had no header' };
  }

  /** Every byte is in: the export is being read. */
  parsing(): void {
    this.expect(IngestState.INGEST_STATE_RECEIVING, 'start parsing');
    if (!this.status.ingestId) throw new Error('an upload without a header cannot be parsed');
    this.status.state = IngestState.INGEST_STATE_PARSING;
  }

  progress(progress: { conversationsRead: number; conversationsPublished: number }): void {
    this.status.conversationsRead = progress.conversationsRead;
    this.status.conversationsPublished = progress.conversationsPublished;
  }

  done(result: UploadExportResult): void {
    this.expect(IngestState.INGEST_STATE_PARSING, 'be done');
    this.status.state = IngestState.INGEST_STATE_DONE;
    this.status.result = result;
  }

  /** From any state: whatever went wrong is what the status ends with. */
  failed(message: string): void {
    this.status.state = IngestState.INGEST_STATE_FAILED;
    this.status.error = message;
  }

  private expect(state: IngestState, action: string): void {
    if (this.status.state !== state) throw new Error(`an upload in state ${this.status.state} cannot ${action}`);
  }
}

/** How often an upload's status is saved while nothing but its counts change. */
export const STATUS_SAVE_INTERVAL_MS = 500;

/**
 * When an upload's status is saved: never before its id is claimed (until then the status under
 * that id may be another upload's), then at most once per interval, and always when forced (on a
 * change of state). The time is an argument, so the caller's clock decides.
 */
export class StatusSaveThrottle {
  /** When the status was last saved; undefined until the id is claimed. */
  private lastSaved: number | undefined;

  constructor(private readonly intervalMs = STATUS_SAVE_INTERVAL_MS) {}

  /** The id is the upload's now; the claim saved the status. */
  claimed(now: number): void {
    this.lastSaved = now;
  }

  /** Whether to save the status now; a yes counts as a save. */
  due(now: number, force = false): boolean {
    if (this.lastSaved === undefined || (!force && now - this.lastSaved < this.intervalMs)) return false;
    this.lastSaved = now;
    return true;
  }
}
