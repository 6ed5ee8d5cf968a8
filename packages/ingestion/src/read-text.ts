import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import { decodeUtf16, decodeWindows1252, detectEncoding, ENCODING_LABELS, type TextEncodingName, toBuffer } from './text-encoding.js';
import { findInvalidUtf8, findInvalidUtf16 } from './well-formed.js';

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
  const { encoding, bomLength, sniffed } = detectEncoding(bytes, file);
  const body = bytes.subarray(bomLength);
  if (encoding !== 'utf-8') {
    const text = decodeUtf16(body, encoding);
    const invalid = body.length % 2 !== 0 || findInvalidUtf16(body, encoding === 'utf-16le') >= 0;
    const notes: string[] = [];
    if (sniffed) notes.push(`has no byte order mark; read as ${ENCODING_LABELS[encoding]}, judged by its zero bytes`);
    if (invalid) notes.push(`is not valid ${ENCODING_LABELS[encoding]}; unreadable characters were replaced by U+FFFD`);
    return notes.length > 0 ? { text, encoding, warning: `${file}: ${notes.join('; ')}` } : { text, encoding };
  }

  if (isUtf8(body)) return { text: body.toString('utf8'), encoding: 'utf-8' };
  const at = bomLength + Math.max(findInvalidUtf8(body), 0);
  return {
    text: decodeWindows1252(body),
    encoding: 'windows-1252',
    warning: `${file}: not valid UTF-8 at byte ${at}; read as Windows-1252`,
  };
}
