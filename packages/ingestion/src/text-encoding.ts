import { TextDecoder } from 'node:util';

/*
 * Which encoding a text input is in, and decoding a whole buffer of each. The three readers of
 * text (decode-stream.ts for JSONL, read-text.ts for Markdown and notes, export-reader.ts for
 * JSON) judge the encoding the same way, with detectEncoding, and decode UTF-16 the same way;
 * what they do with text that is not valid differs, and is theirs.
 */

/** The encodings a text input is read in. */
export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/** How many leading bytes are looked at to judge the encoding of an input without a byte order mark. */
export const SNIFF_BYTES = 512;

/** A byte order mark at the start of `head`, if there is one. */
function detectBom(head: Uint8Array): { encoding: 'utf-8' | 'utf-16le' | 'utf-16be'; length: number } | undefined {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return undefined;
}

/** True when `head` starts with a UTF-32 byte order mark (not supported; it would otherwise pass for UTF-16LE). */
function isUtf32Bom(head: Uint8Array): boolean {
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

/** An input's encoding as its first bytes tell it. */
export interface DetectedEncoding {
  encoding: 'utf-8' | 'utf-16le' | 'utf-16be';
  /** Length of the byte order mark the input starts with (0 when none): the text starts after it. */
  bomLength: number;
  /** True when UTF-16 was judged from zero bytes rather than declared by a byte order mark. */
  sniffed: boolean;
}

/**
 * The encoding of an input from its first bytes (SNIFF_BYTES of them, or all there are): a byte
 * order mark decides; without one, the zero bytes of UTF-16 (sniffUtf16); otherwise UTF-8.
 * Throws for UTF-32, which is not read; the message names `file` when one is given.
 */
export function detectEncoding(head: Uint8Array, file?: string): DetectedEncoding {
  if (isUtf32Bom(head)) throw new Error(`${file === undefined ? '' : `${file}: `}UTF-32 text is not supported; save it as UTF-8`);
  const bom = detectBom(head);
  const sniffed = bom ? undefined : sniffUtf16(head);
  return { encoding: bom?.encoding ?? sniffed ?? 'utf-8', bomLength: bom?.length ?? 0, sniffed: sniffed !== undefined };
}

/** The bytes of a stream chunk (a string chunk is taken as UTF-8), as a Buffer of their own. */
export const toBuffer = (chunk: unknown): Buffer =>
  typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk as Uint8Array);

/** How an encoding is named in messages. */
export const ENCODING_LABELS: Record<TextEncodingName, string> = {
  'utf-8': 'UTF-8',
  'utf-16le': 'UTF-16LE',
  'utf-16be': 'UTF-16BE',
  'windows-1252': 'Windows-1252',
};

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

/**
 * A decoder of UTF-16 whose byte order mark is already taken off: a U+FEFF after it is text (as
 * in UTF-8 input), which keeps byte offsets exact. Unpaired surrogates become U+FFFD; the strict
 * reader finds them first (findInvalidUtf16). `decode(bytes, { stream: true })` carries a
 * character split between chunks.
 */
export const utf16Decoder = (encoding: 'utf-16le' | 'utf-16be'): TextDecoder => new TextDecoder(encoding, { ignoreBOM: true });

/** UTF-16 bytes, the byte order mark taken off, as text. */
export const decodeUtf16 = (bytes: Uint8Array, encoding: 'utf-16le' | 'utf-16be'): string => utf16Decoder(encoding).decode(bytes);
