import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import type { TextDecoder } from 'node:util';
import { decodeWindows1252, detectEncoding, ENCODING_LABELS, SNIFF_BYTES, utf16Decoder } from './text-encoding.js';
import { utf8Census } from './well-formed.js';

/** One top-level element of a JSON export, or why one could not be read. */
export type JsonElement = { ok: true; index: number; place: string; value: unknown } | { ok: false; place: string; message: string };

export interface JsonReadOptions {
  /** Most bytes (as UTF-8) one element may take; a larger one is skipped as it streams past, never held. */
  maxElementBytes: number;
  /** Something read with a caveat: an assumed encoding, replaced bytes, a missing comma. */
  warn(place: string, message: string): void;
}

/**
 * Streams the elements of a JSON export, holding one element at a time and none over
 * `maxElementBytes`: a top-level array yields its elements, a top-level object is one element.
 *
 * A splitter finds each element's bytes by tracking strings, escapes and bracket depth only, and
 * each element is then parsed on its own (JSON.parse). So damage costs only what it touches:
 * - A syntax error inside an element whose brackets and quotes still balance (a missing colon or
 *   comma, a bad literal, a stray byte) loses that element alone, reported with its index and byte.
 * - An element over the limit is reported with its index, byte and size, and the next one read.
 * - The splitter cannot resync when the damage unbalances the structure. An unclosed bracket or
 *   string makes the element run on to the array's closing bracket or the end of the file: it and
 *   every element after it are lost, as one malformed element (or one over the limit) named by
 *   the index and byte where it began, and then an error that the array is not closed. An extra
 *   `}` or `]` inside an element ends it early: the element and the bytes up to the next comma
 *   are reported as malformed, and reading goes on. A stray `]` between elements is passed over
 *   with a warning when a comma follows it; anything else after the end of the top-level value
 *   is reported with its byte, and not read.
 * - A file that ends inside an element (cut off) loses that element only.
 * - An error of `input` itself (a zip entry cut off or over a limit) ends reading there.
 *
 * Encodings. Byte offsets always count from the start of the file, byte order mark included.
 * - A byte order mark decides (UTF-8, UTF-16LE, UTF-16BE; UTF-32 is refused). Without one, the
 *   zero-byte pattern of the first bytes recognises UTF-16 (RFC 4627), with a warning; UTF-16 is
 *   transcoded to UTF-8 before splitting, unpaired surrogates becoming U+FFFD.
 * - Otherwise every element is judged on its own: valid UTF-8 is read as UTF-8. One that is not
 *   is UTF-8 with damage when it has at least as many well-formed multi-byte UTF-8 sequences as
 *   ill-formed bytes: it is kept with U+FFFD for the bad bytes and a warning naming the first
 *   one's byte. Otherwise it is single-byte text and read as Windows-1252 (a superset of the
 *   printable Latin-1), with one warning per file. So a UTF-8 file with a bad byte stays UTF-8
 *   everywhere else, and a Latin-1 file reads whole.
 */
export async function* readJsonElements(input: Readable, options: JsonReadOptions): AsyncGenerator<JsonElement> {
  const source = new TranscodedSource(input);
  // Made once the first bytes tell the encoding.
  let reader: { splitter: ElementSplitter; decoder: ElementDecoder } | undefined;
  const ready = () => {
    reader ??= {
      splitter: new ElementSplitter(options.maxElementBytes, source.utf16),
      decoder: new ElementDecoder(options.warn, source.utf16),
    };
    return reader;
  };
  try {
    for await (const chunk of source.chunks()) {
      if (!reader && source.sniffed) options.warn('(whole file)', `no byte order mark; read as ${source.label}, judged by its zero bytes`);
      const { splitter, decoder } = ready();
      splitter.write(chunk);
      for (const item of splitter.take()) yield* decoder.decode(item);
      if (splitter.stopped) return;
    }
  } catch (err) {
    const { splitter, decoder } = ready();
    splitter.fail((err as Error).message);
    for (const item of splitter.take()) yield* decoder.decode(item);
    return;
  }
  const { splitter, decoder } = ready();
  splitter.end();
  for (const item of splitter.take()) yield* decoder.decode(item);
}

/** Bytes for the splitter: UTF-8 (or single-byte) text, and the file offset of its first byte. */
interface Chunk {
  bytes: Buffer;
  offset: number;
}

/** The input as chunks of UTF-8 bytes: UTF-8 passed through, UTF-16 transcoded. */
class TranscodedSource {
  encoding: 'utf-8' | 'utf-16le' | 'utf-16be' = 'utf-8';
  /** True when the encoding was judged from zero bytes rather than declared by a byte order mark. */
  sniffed = false;
  private offset = 0;
  private utf16Decoder: TextDecoder | undefined;

  constructor(private readonly input: Readable) {}

  get utf16(): boolean {
    return this.encoding !== 'utf-8';
  }

  get label(): string {
    return ENCODING_LABELS[this.encoding];
  }

  async *chunks(): AsyncGenerator<Chunk> {
    let head: Buffer[] | undefined = [];
    let headLength = 0;
    try {
      for await (const raw of this.input) {
        const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : (raw as Buffer);
        if (head) {
          head.push(bytes);
          headLength += bytes.length;
          if (headLength < SNIFF_BYTES) continue;
          const first = this.start(Buffer.concat(head, headLength));
          head = undefined;
          if (first.bytes.length > 0) yield first;
          continue;
        }
        const next = this.decode(bytes);
        if (next.bytes.length > 0) yield next;
      }
    } catch (err) {
      // The bytes that came before the failure still count.
      if (head) {
        const first = this.start(Buffer.concat(head, headLength));
        if (first.bytes.length > 0) yield first;
      }
      throw err;
    }
    if (head) {
      const first = this.start(Buffer.concat(head, headLength));
      if (first.bytes.length > 0) yield first;
    }
    if (this.utf16Decoder) {
      const rest = this.decode(undefined);
      if (rest.bytes.length > 0) yield rest;
    }
  }

  private start(head: Buffer): Chunk {
    const { encoding, bomLength, sniffed } = detectEncoding(head);
    this.encoding = encoding;
    this.sniffed = sniffed;
    this.offset = bomLength;
    if (encoding !== 'utf-8') this.utf16Decoder = utf16Decoder(encoding);
    return this.decode(head.subarray(this.offset));
  }

  /** `bytes` as UTF-8 with the file offset of its first byte; undefined flushes the decoder. */
  private decode(bytes: Buffer | undefined): Chunk {
    const offset = this.offset;
    if (!this.utf16Decoder) {
      this.offset += (bytes as Buffer).length;
      return { bytes: bytes as Buffer, offset };
    }
    const text = bytes ? this.utf16Decoder.decode(bytes, { stream: true }) : this.utf16Decoder.decode();
    const utf8 = Buffer.from(text, 'utf8');
    this.offset += utf16Length(utf8, utf8.length);
    return { bytes: utf8, offset };
  }
}

/** The UTF-16 size of the first `end` bytes of UTF-8 `bytes`: 2 bytes a character, 4 above U+FFFF. */
function utf16Length(bytes: Buffer, end: number): number {
  let length = 0;
  for (let i = 0; i < end; i++) {
    const b = bytes[i] as number;
    if ((b & 0xc0) !== 0x80) length += b >= 0xf0 ? 4 : 2;
  }
  return length;
}

/** What the splitter hands on: an element's bytes, or a problem located in the file. */
type SplitItem =
  | { kind: 'element'; index: number; place: string; offset: number; bytes: Buffer }
  | { kind: 'error'; place: string; message: string }
  | { kind: 'warning'; place: string; message: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const isWhitespace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
const opens = (b: number) => b === 0x7b || b === 0x5b;
const closes = (b: number) => b === 0x7d || b === 0x5d;
/** Bytes that end a bare value (a number, true, false, null, or garbage) at the top of an array. */
const endsScalar = (b: number) => isWhitespace(b) || b === COMMA || opens(b) || closes(b) || b === QUOTE;

const describeByte = (b: number) =>
  b >= 0x20 && b < 0x7f ? JSON.stringify(String.fromCharCode(b)) : `byte 0x${b.toString(16).padStart(2, '0')}`;

/**
 * Finds the byte range of each top-level element by tracking strings, escapes and bracket depth,
 * and holds the current element's bytes up to `maxBytes`. Memory: one element, plus the chunk
 * its first byte is in.
 */
class ElementSplitter {
  private state: 'start' | 'between' | 'element' | 'after' | 'stopped' = 'start';
  private topLevel: 'array' | 'object' = 'array';
  private items: SplitItem[] = [];
  /** Index of the element being read, or of the next one. */
  private index = 0;
  private commaPending = false;
  /** Where the top-level array was closed. */
  private closedAt = 0;

  // The element being read.
  private kind: 'nested' | 'scalar' = 'nested';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private parts: Buffer[] = [];
  private size = 0;
  private oversized = false;
  private startOffset = 0;

  // The current chunk.
  private chunk: Chunk = { bytes: Buffer.alloc(0), offset: 0 };
  /** Next quote and backslash at or after the scan position in this chunk (its length when none). */
  private nextQuote = -1;
  private nextBackslash = -1;
  /** A position in this chunk whose file offset is known, for transcoded UTF-16, where bytes and offsets differ. */
  private known = { at: 0, offset: 0 };

  constructor(
    private readonly maxBytes: number,
    private readonly transcoded: boolean,
  ) {}

  get stopped(): boolean {
    return this.state === 'stopped';
  }

  /** What was found since the last call. */
  take(): SplitItem[] {
    return this.items.splice(0);
  }

  write(chunk: Chunk): void {
    this.chunk = chunk;
    this.nextQuote = -1;
    this.nextBackslash = -1;
    this.known = { at: 0, offset: chunk.offset };
    const bytes = chunk.bytes;
    const n = bytes.length;
    let i = 0;
    while (i < n) {
      const b = bytes[i] as number;
      switch (this.state) {
        case 'start':
          if (isWhitespace(b)) i++;
          else if (b === 0x5b) {
            this.state = 'between';
            i++;
          } else if (b === 0x7b) {
            this.topLevel = 'object';
            this.begin(i);
          } else {
            this.error(`byte ${this.offsetAt(i)}`, `expected a JSON array or object, found ${describeByte(b)}`);
            this.state = 'stopped';
            return;
          }
          break;
        case 'between':
          if (isWhitespace(b)) i++;
          else if (b === COMMA) {
            if (this.commaPending || this.index === 0)
              this.warning(`byte ${this.offsetAt(i)}`, "an extra ',' between elements: passed over");
            this.commaPending = true;
            i++;
          } else if (b === 0x5d) {
            this.closedAt = this.offsetAt(i);
            if (this.commaPending) this.warning(`byte ${this.closedAt}`, "a ',' before the closing ']': passed over");
            this.state = 'after';
            i++;
          } else {
            if (this.index > 0 && !this.commaPending)
              this.warning(`${this.place()} at byte ${this.offsetAt(i)}`, "no ',' before this element");
            this.commaPending = false;
            this.begin(i);
          }
          break;
        case 'element': {
          const end = this.kind === 'nested' ? this.scanNested(bytes, i) : this.scanScalar(bytes, i);
          this.hold(bytes.subarray(i, end < 0 ? n : end));
          if (end < 0) i = n;
          else {
            this.finish();
            i = end;
          }
          break;
        }
        case 'after':
          if (isWhitespace(b)) i++;
          else if (b === COMMA && this.topLevel === 'array') {
            // More elements follow: that ']' was a stray one.
            this.warning(
              `byte ${this.closedAt}`,
              "a ']' closes the top-level array before its end: passed over, the elements after it are read",
            );
            this.state = 'between';
            this.commaPending = true;
            i++;
          } else {
            this.error(
              `byte ${this.offsetAt(i)}`,
              `unexpected data after the end of the top-level ${this.topLevel} (${describeByte(b)}): the rest of the file is not read`,
            );
            this.state = 'stopped';
            return;
          }
          break;
        case 'stopped':
          return;
      }
    }
  }

  /** At the end of the input. */
  end(): void {
    const eof = this.endOfInput();
    switch (this.state) {
      case 'start':
        this.error('byte 0', 'the file is empty');
        break;
      case 'between':
        this.error(
          `byte ${eof}`,
          `the file ends before the top-level array is closed (it is cut off${this.index > 0 ? ` after element [${this.index - 1}]` : ''})`,
        );
        break;
      case 'element':
        this.error(
          `${this.place()} at byte ${this.startOffset}`,
          `malformed JSON: the file ends inside this element, at byte ${eof} (it is cut off, or a bracket or quote in it is not closed)`,
        );
        break;
    }
    this.state = 'stopped';
  }

  /** The input failed with `message` (a zip entry cut off, a limit broken): reading ends here. */
  fail(message: string): void {
    if (this.state === 'element') this.error(`${this.place()} at byte ${this.startOffset}`, message);
    else if (this.state !== 'stopped') this.error(`byte ${this.endOfInput()}`, message);
    this.state = 'stopped';
    this.parts = [];
  }

  /** File offset just past the bytes written so far. */
  private endOfInput(): number {
    const { bytes, offset } = this.chunk;
    return offset + (this.transcoded ? utf16Length(bytes, bytes.length) : bytes.length);
  }

  private place(): string {
    return this.topLevel === 'object' ? '(whole file)' : `[${this.index}]`;
  }

  private begin(i: number): void {
    const b = this.chunk.bytes[i] as number;
    this.state = 'element';
    this.kind = opens(b) || b === QUOTE ? 'nested' : 'scalar';
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.parts = [];
    this.size = 0;
    this.oversized = false;
    this.startOffset = this.offsetAt(i);
  }

  /** Where the element that started before `i` ends (just after its last byte), or -1 when it goes past this chunk. */
  private scanNested(bytes: Buffer, from: number): number {
    const n = bytes.length;
    let i = from;
    while (i < n) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          i++;
          continue;
        }
        // Strings are most of an export: jump from quote to backslash with the native search.
        if (this.nextBackslash < i) this.nextBackslash = indexOrEnd(bytes, BACKSLASH, i);
        if (this.nextQuote < i) this.nextQuote = indexOrEnd(bytes, QUOTE, i);
        if (this.nextBackslash < this.nextQuote) {
          this.escaped = true;
          i = this.nextBackslash + 1;
          continue;
        }
        if (this.nextQuote >= n) return -1;
        this.inString = false;
        i = this.nextQuote + 1;
        if (this.depth === 0) return i;
        continue;
      }
      const b = bytes[i++] as number;
      if (b === QUOTE) this.inString = true;
      else if (opens(b)) this.depth++;
      else if (closes(b) && --this.depth === 0) return i;
    }
    return -1;
  }

  private scanScalar(bytes: Buffer, from: number): number {
    // The first byte belongs to the value whatever it is (a stray '}' is a malformed element).
    let i = this.size === 0 ? from + 1 : from;
    while (i < bytes.length) {
      if (endsScalar(bytes[i] as number)) return i;
      i++;
    }
    return -1;
  }

  private hold(bytes: Buffer): void {
    this.size += bytes.length;
    if (this.oversized) return;
    if (this.size > this.maxBytes) {
      this.oversized = true;
      this.parts = [];
    } else if (bytes.length > 0) this.parts.push(bytes);
  }

  private finish(): void {
    const place = this.place();
    if (this.oversized) {
      this.error(
        `${place} at byte ${this.startOffset}`,
        `${this.size} bytes, over the limit of ${this.maxBytes} bytes for one conversation (maxConversationBytes): skipped`,
      );
    } else {
      const bytes = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
      this.items.push({ kind: 'element', index: this.index, place, offset: this.startOffset, bytes });
    }
    this.parts = [];
    this.index++;
    this.state = this.topLevel === 'object' ? 'after' : 'between';
  }

  /** File offset of byte `i` of the current chunk; calls come in increasing order within a chunk. */
  private offsetAt(i: number): number {
    if (!this.transcoded) return this.chunk.offset + i;
    const from = this.known.at;
    const offset = this.known.offset + utf16Length(this.chunk.bytes.subarray(from), i - from);
    this.known = { at: i, offset };
    return offset;
  }

  private error(place: string, message: string): void {
    this.items.push({ kind: 'error', place, message });
  }

  private warning(place: string, message: string): void {
    this.items.push({ kind: 'warning', place, message });
  }
}

function indexOrEnd(bytes: Buffer, byte: number, from: number): number {
  const at = bytes.indexOf(byte, from);
  return at < 0 ? bytes.length : at;
}

/** Turns an element's bytes into its value, judging its encoding (see readJsonElements). */
class ElementDecoder {
  private warnedWindows1252 = false;

  constructor(
    private readonly warn: (place: string, message: string) => void,
    /** The file is UTF-16, transcoded: character i of an element is 2i bytes after its start. */
    private readonly transcoded: boolean,
  ) {}

  *decode(item: SplitItem): Generator<JsonElement> {
    if (item.kind === 'warning') {
      this.warn(item.place, item.message);
      return;
    }
    if (item.kind === 'error') {
      yield { ok: false, place: item.place, message: item.message };
      return;
    }
    const { bytes, place, offset } = item;
    let text: string;
    /** Byte in the file of character `i` of `text`, where that can be told. */
    let byteOf: ((i: number) => number) | undefined;
    try {
      if (isUtf8(bytes)) {
        text = bytes.toString('utf8');
        byteOf = this.transcoded ? (i) => offset + 2 * i : (i) => offset + Buffer.byteLength(text.slice(0, i), 'utf8');
      } else {
        const census = utf8Census(bytes);
        const at = offset + census.firstInvalid;
        if (census.multiByte >= census.invalid) {
          text = bytes.toString('utf8');
          this.warn(place, `not valid UTF-8 at byte ${at} (${census.invalid} bad bytes in this element): kept, with U+FFFD in their place`);
        } else {
          text = decodeWindows1252(bytes);
          byteOf = (i) => offset + i;
          if (!this.warnedWindows1252) {
            this.warnedWindows1252 = true;
            this.warn(
              place,
              `not valid UTF-8 at byte ${at}, and no more like UTF-8 than like single-byte text: read as Windows-1252 (Latin-1), as is every later element of this file that is not UTF-8`,
            );
          }
        }
      }
    } catch (err) {
      // A string over V8's length limit, only when the element limit is set above it.
      yield { ok: false, place: `${place} at byte ${offset}`, message: `cannot be read as text: ${(err as Error).message}` };
      return;
    }
    try {
      yield { ok: true, index: item.index, place, value: JSON.parse(text) };
    } catch (err) {
      const message = (err as Error).message;
      const position = /at position (\d+)/.exec(message)?.[1];
      const where = position !== undefined && byteOf ? ` (byte ${byteOf(Number(position))} of the file)` : '';
      yield { ok: false, place: `${place} at byte ${offset}`, message: `malformed JSON: ${message}${where}` };
    }
  }
}
