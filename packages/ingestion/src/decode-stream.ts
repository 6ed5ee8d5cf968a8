import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import { LateErrorReadable } from './late-error-readable.js';
import {
  type DetectedEncoding,
  decodeUtf16,
  detectEncoding,
  ENCODING_LABELS,
  SNIFF_BYTES,
  type TextEncodingName,
  toBuffer,
} from './text-encoding.js';
import { completeUtf8Length, completeUtf16Length, findInvalidUtf8, findInvalidUtf16 } from './well-formed.js';

/**
 * Checks bytes (carry included) and turns the complete characters into UTF-8. At invalid input
 * it returns the output for the valid bytes before it, and the error.
 */
type Decoder = (bytes: Buffer) => { out: Buffer; error?: Error };

/**
 * Re-encodes a text input as UTF-8, checking it on the way, without holding it in memory.
 *
 * Output: a byte stream (Buffers) of UTF-8 without a byte order mark, for byte-oriented readers
 * (a streaming JSON parser) as well as text ones (`setEncoding('utf8')`).
 *
 * - A UTF-8 byte order mark is dropped; the bytes after it are checked as UTF-8.
 * - A UTF-16LE or UTF-16BE byte order mark: the text is decoded from UTF-16 and re-encoded.
 * - No byte order mark but the zero-byte pattern of UTF-16 (RFC 4627): decoded as that UTF-16.
 * - Otherwise the input must be UTF-8. At the first ill-formed sequence the stream errors with
 *   `<file>: not valid UTF-8 at byte N` (N counts from the start of the input, BOM included),
 *   after every byte before that sequence has been delivered.
 *
 * Errors of `input` end the output with the same error; destroying the output destroys `input`.
 */
export function decodeTextStream(input: Readable, file: string): Readable {
  return new DecodedTextStream(input, file);
}

class DecodedTextStream extends LateErrorReadable {
  private head: Buffer[] = [];
  private headLength = 0;
  private decoder: Decoder | undefined;
  /** Bytes of an incomplete character carried to the next chunk. */
  private carry: Buffer = Buffer.alloc(0);
  /** Input offset of the first byte of `carry` (or of the next chunk when `carry` is empty). */
  private offset = 0;
  private encoding: TextEncodingName = 'utf-8';
  private wanted = false;
  private inputEnded = false;
  private finished = false;

  constructor(
    private readonly input: Readable,
    private readonly file: string,
  ) {
    super();
    input.on('readable', () => this.pump());
    input.on('end', () => {
      this.inputEnded = true;
      this.pump();
    });
    input.on('error', (err: Error) => this.fail(err));
  }

  override _read(): void {
    this.wanted = true;
    this.pump();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.input.destroy();
    callback(err);
  }

  private pump(): void {
    while (this.wanted && !this.failing) {
      const chunk: unknown = this.input.read();
      if (chunk === null) {
        if (this.inputEnded) this.finish();
        return;
      }
      const out = this.accept(toBuffer(chunk));
      if (out === undefined) return;
      if (out.length > 0) this.wanted = this.push(out);
    }
  }

  /** Takes a chunk of input; returns output bytes, or undefined after a failure. */
  private accept(chunk: Buffer): Buffer | undefined {
    if (!this.decoder) {
      this.head.push(chunk);
      this.headLength += chunk.length;
      if (this.headLength < SNIFF_BYTES) return Buffer.alloc(0);
      const head = Buffer.concat(this.head);
      this.head = [];
      return this.start(head);
    }
    return this.decode(chunk);
  }

  /** Chooses the decoder from the first bytes, then decodes them. */
  private start(head: Buffer): Buffer | undefined {
    let detected: DetectedEncoding;
    try {
      detected = detectEncoding(head, this.file);
    } catch (err) {
      this.fail(err as Error);
      return undefined;
    }
    const { encoding, bomLength } = detected;
    this.encoding = encoding;
    this.decoder = encoding === 'utf-8' ? (b) => this.utf8(b) : (b) => this.utf16(b, encoding);
    this.offset = bomLength;
    return this.decode(head.subarray(bomLength));
  }

  private decode(chunk: Buffer): Buffer | undefined {
    const bytes = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const { out, error } = (this.decoder as Decoder)(bytes);
    if (!error) return out;
    if (out.length > 0) this.push(out);
    this.fail(error);
    return undefined;
  }

  private utf8(bytes: Buffer): { out: Buffer; error?: Error } {
    const complete = completeUtf8Length(bytes);
    const body = bytes.subarray(0, complete);
    if (!isUtf8(body)) {
      const at = Math.max(findInvalidUtf8(body), 0);
      return { out: body.subarray(0, at), error: new Error(`${this.file}: not valid UTF-8 at byte ${this.offset + at}`) };
    }
    this.carry = Buffer.from(bytes.subarray(complete));
    this.offset += complete;
    return { out: body };
  }

  private utf16(bytes: Buffer, encoding: 'utf-16le' | 'utf-16be'): { out: Buffer; error?: Error } {
    const littleEndian = encoding === 'utf-16le';
    const complete = completeUtf16Length(bytes, littleEndian);
    const body = bytes.subarray(0, complete);
    const bad = findInvalidUtf16(body, littleEndian);
    if (bad >= 0) {
      const out = Buffer.from(decodeUtf16(body.subarray(0, bad), encoding), 'utf8');
      return { out, error: new Error(`${this.file}: not valid ${ENCODING_LABELS[this.encoding]} at byte ${this.offset + bad}`) };
    }
    this.carry = Buffer.from(bytes.subarray(complete));
    this.offset += complete;
    return { out: Buffer.from(decodeUtf16(body, encoding), 'utf8') };
  }

  private finish(): void {
    if (this.finished || this.failing) return;
    this.finished = true;
    if (!this.decoder) {
      const head = Buffer.concat(this.head);
      this.head = [];
      const out = this.start(head);
      if (out === undefined) return;
      if (out.length > 0) this.push(out);
    }
    if (this.carry.length > 0) {
      this.fail(
        new Error(`${this.file}: not valid ${ENCODING_LABELS[this.encoding]} at byte ${this.offset} (the text ends inside a character)`),
      );
      return;
    }
    this.push(null);
  }

  private fail(err: Error): void {
    if (this.failing) return;
    this.input.destroy();
    this.failAfterData(err);
  }
}
