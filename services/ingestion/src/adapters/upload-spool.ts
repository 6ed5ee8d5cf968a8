import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { UploadExportChunk } from '@trajectory/contracts';
import type { Upload } from '@trajectory/ingestion';
import { ServiceError } from '@trajectory/runtime';

/** A file written piece by piece, waiting for the disk whenever its buffer is full. */
export class FileSpool {
  private readonly out: WriteStream;

  constructor(readonly path: string) {
    this.out = createWriteStream(path);
  }

  async write(data: Uint8Array | string): Promise<void> {
    if (!this.out.write(data)) await once(this.out, 'drain');
  }

  /** No more writes; `closed()` says when every byte is on disk. */
  end(): void {
    this.out.end();
  }

  closed(): Promise<void> {
    return finished(this.out);
  }

  async close(): Promise<void> {
    this.end();
    await this.closed();
  }

  destroy(): void {
    this.out.destroy();
  }
}

/**
 * A temporary folder for one upload: the uploaded bytes (so parsing runs in bounded memory), then
 * the conversations read from them. `remove` deletes it with everything in it.
 */
export async function uploadFolder(): Promise<{ uploadPath: string; conversationsPath: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'trajectory-upload-'));
  return {
    uploadPath: join(dir, 'upload'),
    conversationsPath: join(dir, 'conversations.jsonl'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * Spools a client stream to `path` as `upload` says: claims the id on the header (through `claim`),
 * writes the data, saves the status as it goes (`save`, throttled by the caller) and throws the
 * upload's refusal as a ServiceError with its gRPC status. The file is complete when this resolves.
 */
export async function receiveUpload(
  chunks: AsyncIterable<UploadExportChunk>,
  path: string,
  upload: Upload,
  claim: () => Promise<void>,
  save: () => Promise<void>,
): Promise<void> {
  const out = new FileSpool(path);
  try {
    for await (const chunk of chunks) {
      const step = upload.receive(chunk);
      if (step.kind === 'refuse') throw new ServiceError(step.refusal.status, step.refusal.message);
      if (step.kind === 'claim') await claim();
      else if (step.kind === 'write') {
        await out.write(step.data);
        void save();
      }
    }
    const refusal = upload.end();
    if (refusal) throw new ServiceError(refusal.status, refusal.message);
    await out.close();
  } catch (err) {
    out.destroy();
    throw err;
  }
}
