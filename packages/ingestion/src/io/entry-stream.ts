import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { LateErrorReadable } from '../late-error-readable.js';
import { bytes, METHOD_DEFLATED, RATIO_EXEMPT_BYTES, READ_CHUNK } from '../zip-format.js';

/** Where an entry's data lies in the archive, and what it must hold: all an EntryStream reads by. */
export interface DataPlan {
  /** `archive.zip:path/in/zip` (or the file name), for messages. */
  label: string;
  path: string;
  fileSize: number;
  dataStart: number;
  /** Undefined: unknown, the data is read up to the end of the deflate stream (or of the file). */
  compressedSize: number | undefined;
  method: number;
  /** Exact uncompressed size, when declared. */
  declaredSize?: number | undefined;
  crc?: number | undefined;
  maxBytes: number;
  /** Limits enforced while streaming when the sizes are not declared. */
  streamLimits?: { ratio: number; total: { used: number }; maxTotal: number };
  /** Called when the data turns out to be cut off by the end of the file. */
  onCut?: () => void;
  /** Called at the end of the data with what it held; returns a problem, if any. */
  onComplete?: (compressedSize: number, crc: number, size: number) => Promise<string | undefined>;
}

/**
 * The uncompressed bytes of one entry, read from the file on demand (bounded memory). Errors
 * carry the entry's label, and come after every byte produced before them has been read.
 */
export class EntryStream extends LateErrorReadable {
  private readonly raw: Readable;
  private readonly inflate: zlib.InflateRaw | undefined;
  private readonly source: Readable;
  private produced = 0;
  private crc = 0;
  private rawEnded = false;
  private wanted = false;
  private completing = false;

  /** A stream that errors as soon as it is read. */
  static failed(label: string, message: string): Readable {
    return new Readable({
      read() {
        this.destroy(new Error(`${label}: ${message}`));
      },
    });
  }

  constructor(private readonly plan: DataPlan) {
    super({ highWaterMark: READ_CHUNK });
    const { compressedSize, dataStart } = plan;
    this.raw =
      compressedSize === 0 || dataStart >= plan.fileSize
        ? Readable.from([], { objectMode: false })
        : createReadStream(plan.path, {
            start: dataStart,
            end: compressedSize === undefined ? undefined : dataStart + compressedSize - 1,
            highWaterMark: READ_CHUNK,
          });
    this.raw.on('end', () => {
      this.rawEnded = true;
    });
    this.raw.on('error', (err: Error) => this.fail(`cannot read the archive: ${err.message}`));
    if (plan.method === METHOD_DEFLATED) {
      // Z_SYNC_FLUSH at the end of the input: data cut off mid-stream yields everything that
      // precedes the cut (Z_FINISH would drop the last partial block and error); `complete()`
      // then tells a cut from a whole entry.
      const inflate = zlib.createInflateRaw({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
      this.inflate = inflate;
      inflate.on('error', (err: Error) => this.fail(this.explainInflateError(err)));
      // The deflate stream ended (it may end before the bytes read for it): stop reading.
      inflate.on('end', () => this.raw.destroy());
      this.raw.pipe(inflate);
      this.source = inflate;
    } else {
      this.source = this.raw;
    }
    this.source.on('readable', () => this.pump());
    this.source.on('end', () => void this.complete());
  }

  /**
   * The file ends before this entry's data does: its declared extent runs past the end, or (size
   * unknown) it was read up to the end of the file without the deflate stream ending first.
   */
  private get truncated(): boolean {
    const { compressedSize, dataStart, fileSize } = this.plan;
    if (compressedSize !== undefined) return dataStart + compressedSize > fileSize;
    return dataStart + (this.inflate ? this.inflate.bytesWritten : this.produced) >= fileSize;
  }

  private explainInflateError(err: Error): string {
    if (this.rawEnded && this.truncated) return this.cutMessage();
    return `damaged compressed data (${err.message})`;
  }

  private cutMessage(): string {
    return `the file ends at byte ${this.plan.fileSize}, inside this entry: the zip is truncated and the rest of the entry is missing`;
  }

  override _read(): void {
    this.wanted = true;
    this.pump();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.stopSource();
    callback(err);
  }

  private pump(): void {
    while (this.wanted && !this.failing) {
      const chunk = this.source.read() as Buffer | null;
      if (chunk === null) return;
      const problem = this.check(chunk);
      if (problem) {
        this.fail(problem);
        return;
      }
      this.wanted = this.push(chunk);
    }
  }

  private check(chunk: Buffer): string | undefined {
    const { plan } = this;
    this.produced += chunk.length;
    if (plan.declaredSize !== undefined && this.produced > plan.declaredSize) {
      return `inflates to more than the ${bytes(plan.declaredSize)} it declares (its header lies): stopped`;
    }
    if (this.produced > plan.maxBytes) {
      return `over the limit of ${bytes(plan.maxBytes)} per entry (maxEntryBytes): stopped`;
    }
    const limits = plan.streamLimits;
    if (limits) {
      limits.total.used += chunk.length;
      if (limits.total.used > limits.maxTotal) {
        return `the archive inflates to more than the limit of ${bytes(limits.maxTotal)} in all (maxTotalBytes): stopped`;
      }
      const consumed = Math.max(this.inflate?.bytesWritten ?? this.produced, 1);
      if (this.produced > RATIO_EXEMPT_BYTES && this.produced / consumed > limits.ratio) {
        return `inflates over ${limits.ratio} times its compressed size (maxCompressionRatio), a likely zip bomb: stopped`;
      }
    }
    if (plan.crc !== undefined || plan.onComplete) this.crc = zlib.crc32(chunk, this.crc);
    return undefined;
  }

  private async complete(): Promise<void> {
    if (this.completing || this.failing) return;
    this.completing = true;
    const { plan } = this;
    if (this.truncated) {
      plan.onCut?.();
      this.fail(this.cutMessage());
      return;
    }
    if (plan.declaredSize !== undefined && this.produced < plan.declaredSize) {
      this.fail(`holds only ${bytes(this.produced)} of the ${bytes(plan.declaredSize)} it declares: the entry is damaged`);
      return;
    }
    if (plan.crc !== undefined && plan.crc !== this.crc) {
      this.fail('its data does not match its checksum (CRC-32): the entry is damaged');
      return;
    }
    if (plan.onComplete) {
      const consumed = this.inflate?.bytesWritten ?? this.produced;
      let message: string | undefined;
      try {
        message = await plan.onComplete(consumed, this.crc, this.produced);
      } catch (err) {
        message = `cannot read the archive: ${(err as Error).message}`;
      }
      if (message) {
        this.fail(message);
        return;
      }
    }
    if (!this.failing) this.push(null);
  }

  private stopSource(): void {
    this.raw.destroy();
    this.inflate?.destroy();
  }

  private fail(message: string): void {
    if (this.failing) return;
    this.stopSource();
    this.failAfterData(new Error(`${this.plan.label}: ${message}`));
  }
}
