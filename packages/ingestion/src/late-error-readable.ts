import { Readable } from 'node:stream';

/**
 * A Readable that ends with an error only after the bytes pushed before it have been read: a
 * plain `destroy(err)` discards what is still buffered, so a reader would lose the end of the
 * good data before a cut or an invalid byte. Subclasses call `failAfterData(err)`.
 *
 * The error is also held back until something reads the stream, so it is never emitted
 * before the reader listens.
 */
export class LateErrorReadable extends Readable {
  private lateError: Error | undefined;
  private reading = false;
  private failScheduled = false;

  /** True once the stream is failing (its error is held or emitted). */
  protected get failing(): boolean {
    return this.lateError !== undefined || this.destroyed;
  }

  /** Ends the stream with `err` once the bytes already pushed have been read. */
  protected failAfterData(err: Error): void {
    if (this.failing) return;
    this.lateError = err;
    // A reader waiting on 'readable' with read(n) may hold off on fewer than n bytes: wake it,
    // and read() then hands out the rest, as it does at the end of a stream.
    if (this.readableLength > 0 && this.listenerCount('readable') > 0) process.nextTick(() => this.emit('readable'));
    this.failIfDrained();
  }

  override read(size?: number): unknown {
    this.reading = true;
    const rest = this.lateError !== undefined && size !== undefined && size > this.readableLength;
    const chunk: unknown = super.read(rest ? undefined : size);
    this.failIfDrained();
    return chunk;
  }

  private failIfDrained(): void {
    const err = this.lateError;
    if (!err || !this.reading || this.failScheduled || this.destroyed || this.readableLength > 0) return;
    this.failScheduled = true;
    process.nextTick(() => this.destroy(err));
  }
}
