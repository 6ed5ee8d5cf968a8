import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';

/** The encodings a text input is read in. */
export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/** How many leading bytes are looked at to judge the encoding of an input without a byte order mark. */
export const SNIFF_BYTES = 512;

/** A byte order mark at the start of `head`, if there is one. */
export function detectBom(head: Uint8Array): { encoding: 'utf-8' | 'utf-16le' | 'utf-16be'; length: number } | undefined {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return undefined;
}

/** True when `head` starts with a UTF-32 byte order mark (not supported; it would otherwise pass for UTF-16LE). */
export function isUtf32Bom(head: Uint8Array): boolean {
  return (
    (head[0] === 0xff && head[1] === 0xfe && head[2] === 0 && head[3] === 0) ||
    (head[0] === 0 && head[1] === 0 && head[2] === 0xfe && head[3] === 0xff)
  );
}

/**
 * UTF-16 without a byte order mark, judged by its zero bytes (as RFC 4627 does for JSON): text
 * of mostly Latin characters has a zero in every other byte. Valid UTF-8 text has no zero bytes.
 */
export function sniffUtf16(head: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  const pairs = Math.floor(Math.min(head.length, SNIFF_BYTES) / 2);
  if (pairs < 2) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < pairs; i++) {
    if (head[2 * i] === 0) evenZeros++;
    if (head[2 * i + 1] === 0) oddZeros++;
  }
  if (oddZeros >= pairs * 0.3 && evenZeros <= pairs * 0.02) return 'utf-16le';
  if (evenZeros >= pairs * 0.3 && oddZeros <= pairs * 0.02) return 'utf-16be';
  return undefined;
}

/** Bytes that sequence lead byte `b` needs in all (1 for ASCII and for bytes that cannot lead a sequence). */
function sequenceLength(b: number): number {
  if (b >= 0xf0) return 4;
  if (b >= 0xe0) return 3;
  if (b >= 0xc0) return 2;
  return 1;
}

/**
 * Length of the well-formed UTF-8 sequence at `bytes[i]` (Unicode table 3-7), or 0 when the
 * sequence there is ill formed. A sequence cut short by the end of `bytes` counts as ill formed.
 */
function wellFormedLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i] as number;
  if (b < 0x80) return 1;
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 1;
  else if (b >= 0xe0 && b <= 0xef) {
    need = 2;
    if (b === 0xe0) lo = 0xa0;
    if (b === 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 3;
    if (b === 0xf0) lo = 0x90;
    if (b === 0xf4) hi = 0x8f;
  } else return 0;
  if (i + need >= bytes.length) return 0;
  const second = bytes[i + 1] as number;
  if (second < lo || second > hi) return 0;
  for (let k = 2; k <= need; k++) {
    const c = bytes[i + k] as number;
    if (c < 0x80 || c > 0xbf) return 0;
  }
  return need + 1;
}

/**
 * Where the first ill-formed UTF-8 sequence in `bytes` starts (Unicode table 3-7), or -1 when
 * all of it is well formed. A sequence cut short by the end of `bytes` counts as ill formed.
 */
export function findInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const length = wellFormedLength(bytes, i);
    if (length === 0) return i;
    i += length;
  }
  return -1;
}

/**
 * What the non-ASCII bytes of `bytes` look like as UTF-8: how many well-formed multi-byte
 * sequences, how many ill-formed bytes (each one that cannot start or continue a sequence), and
 * where the first ill-formed one is (-1 when none). Text in a single-byte encoding such as
 * Windows-1252 is almost all ill formed; UTF-8 with a damaged byte is almost all well formed.
 */
export function utf8Census(bytes: Uint8Array): { multiByte: number; invalid: number; firstInvalid: number } {
  let multiByte = 0;
  let invalid = 0;
  let firstInvalid = -1;
  for (let i = 0; i < bytes.length; ) {
    const length = wellFormedLength(bytes, i);
    if (length === 0) {
      if (firstInvalid < 0) firstInvalid = i;
      invalid++;
      i++;
    } else {
      if (length > 1) multiByte++;
      i += length;
    }
  }
  return { multiByte, invalid, firstInvalid };
}

/** Length of the part of `bytes` that does not end inside a multi-byte UTF-8 sequence. */
function completeUtf8Length(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = bytes[n - back] as number;
    if ((b & 0xc0) === 0x80) continue;
    return sequenceLength(b) > back ? n - back : n;
  }
  return n;
}

/** Index of the first unpaired surrogate code unit in UTF-16 `bytes` (even length), or -1. */
function findInvalidUtf16(bytes: Uint8Array, littleEndian: boolean): number {
  const unit = (i: number) =>
    littleEndian ? (bytes[i] as number) | ((bytes[i + 1] as number) << 8) : ((bytes[i] as number) << 8) | (bytes[i + 1] as number);
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const u = unit(i);
    if (u >= 0xdc00 && u <= 0xdfff) return i;
    if (u >= 0xd800 && u <= 0xdbff) {
      if (i + 3 >= bytes.length) return i;
      const next = unit(i + 2);
      if (next < 0xdc00 || next > 0xdfff) return i;
      i += 2;
    }
  }
  return -1;
}

/** Length of the part of UTF-16 `bytes` that ends neither inside a code unit nor after a lone high surrogate. */
function completeUtf16Length(bytes: Uint8Array, littleEndian: boolean): number {
  let n = bytes.length - (bytes.length % 2);
  if (n >= 2) {
    const last = littleEndian
      ? (bytes[n - 2] as number) | ((bytes[n - 1] as number) << 8)
      : ((bytes[n - 2] as number) << 8) | (bytes[n - 1] as number);
    if (last >= 0xd800 && last <= 0xdbff) n -= 2;
  }
  return n;
}

const toBuffer = (chunk: unknown): Buffer => (typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk as Uint8Array));

/**
 * Checks bytes (carry included) and turns the complete characters into UTF-8. At invalid input
 * it returns the output for the valid bytes before it, and the error.
 */
type Decoder = (bytes: Buffer) => { out: Buffer; error?: Error };

/** How an encoding is named in messages. */
export const ENCODING_LABELS: Record<TextEncodingName, string> = {
  'utf-8': 'UTF-8',
  'utf-16le': 'UTF-16LE',
  'utf-16be': 'UTF-16BE',
  'windows-1252': 'Windows-1252',
};

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
    if (isUtf32Bom(head)) {
      this.fail(new Error(`${this.file}: UTF-32 text is not supported; save it as UTF-8`));
      return undefined;
    }
    const bom = detectBom(head);
    this.encoding = bom?.encoding ?? sniffUtf16(head) ?? 'utf-8';
    this.decoder = this.encoding === 'utf-8' ? (b) => this.utf8(b) : (b) => this.utf16(b, this.encoding === 'utf-16le');
    this.offset = bom?.length ?? 0;
    return this.decode(head.subarray(bom?.length ?? 0));
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

  private utf16(bytes: Buffer, littleEndian: boolean): { out: Buffer; error?: Error } {
    const complete = completeUtf16Length(bytes, littleEndian);
    const body = bytes.subarray(0, complete);
    const bad = findInvalidUtf16(body, littleEndian);
    if (bad >= 0) {
      const out = Buffer.from(utf16ToString(body.subarray(0, bad), littleEndian), 'utf8');
      return { out, error: new Error(`${this.file}: not valid ${ENCODING_LABELS[this.encoding]} at byte ${this.offset + bad}`) };
    }
    this.carry = Buffer.from(bytes.subarray(complete));
    this.offset += complete;
    return { out: Buffer.from(utf16ToString(body, littleEndian), 'utf8') };
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

/**
 * Windows-1252 for bytes 0x80-0x9F (WHATWG index). Node's TextDecoder('windows-1252') decodes
 * these as Latin-1 C1 controls since v20.18.3 (nodejs/node#60888), so they are mapped here.
 */
const WINDOWS_1252_C1 =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/** Decodes Windows-1252 (correctly also where the built-in decoder treats it as Latin-1). */
export function decodeWindows1252(bytes: Uint8Array): string {
  return new TextDecoder('windows-1252')
    .decode(bytes)
    .replace(/[\u0080-\u009f]/g, (c) => WINDOWS_1252_C1[c.charCodeAt(0) - 0x80] as string);
}

function utf16ToString(bytes: Buffer, littleEndian: boolean): string {
  if (littleEndian) return bytes.toString('utf16le');
  const swapped = Buffer.from(bytes);
  swapped.swap16();
  return swapped.toString('utf16le');
}

/**
 * Reads a small text input (a Markdown transcript, notes) whole, in whatever encoding it is in:
 * a byte order mark decides; without one, UTF-16 is recognised by its zero bytes; otherwise
 * UTF-8, and when that is not valid, Windows-1252 (the usual encoding of Western text that is
 * not UTF-8), with a warning naming the file. Rejects when the input is over `maxBytes`.
 */
export async function readTextWithFallback(
  input: Readable,
  file: string,
  maxBytes: number,
): Promise<{ text: string; encoding: TextEncodingName; warning?: string }> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of input) {
    const bytes = toBuffer(chunk);
    length += bytes.length;
    if (length > maxBytes) {
      input.destroy();
      throw new Error(`${file}: larger than ${maxBytes} bytes, the limit for a text file`);
    }
    chunks.push(bytes);
  }
  const bytes = Buffer.concat(chunks, length);
  if (isUtf32Bom(bytes)) throw new Error(`${file}: UTF-32 text is not supported; save it as UTF-8`);

  const bom = detectBom(bytes);
  const utf16 = bom?.encoding === 'utf-8' ? undefined : (bom?.encoding ?? sniffUtf16(bytes));
  if (utf16) {
    const body = bytes.subarray(bom?.length ?? 0);
    const text = new TextDecoder(utf16).decode(body);
    const invalid = body.length % 2 !== 0 || findInvalidUtf16(body, utf16 === 'utf-16le') >= 0;
    const notes: string[] = [];
    if (!bom) notes.push(`has no byte order mark; read as ${ENCODING_LABELS[utf16]}, judged by its zero bytes`);
    if (invalid) notes.push(`is not valid ${ENCODING_LABELS[utf16]}; unreadable characters were replaced by U+FFFD`);
    return notes.length > 0 ? { text, encoding: utf16, warning: `${file}: ${notes.join('; ')}` } : { text, encoding: utf16 };
  }

  const body = bytes.subarray(bom?.length ?? 0);
  if (isUtf8(body)) return { text: body.toString('utf8'), encoding: 'utf-8' };
  const at = (bom?.length ?? 0) + Math.max(findInvalidUtf8(body), 0);
  return {
    text: decodeWindows1252(body),
    encoding: 'windows-1252',
    warning: `${file}: not valid UTF-8 at byte ${at}; read as Windows-1252`,
  };
}
