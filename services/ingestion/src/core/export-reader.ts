import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { pipeline, Transform } from 'node:stream';
import streamJson from 'stream-json';
import StreamArray from 'stream-json/streamers/StreamArray.js';

/** One top-level element of an export file, or the reason it could not be read. */
export type ExportItem = { ok: true; index: number; place: string; value: unknown } | { ok: false; place: string; message: string };

/** A single-object export (one conversation) is read whole; larger ones must be arrays. */
const MAX_SINGLE_OBJECT_BYTES = 64 * 1024 * 1024;

async function firstSignificantByte(path: string): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    for (let pos = 0; ; ) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return undefined;
      for (let i = 0; i < bytesRead; i++) {
        const c = buf[i] as number;
        // Skip whitespace and a UTF-8 byte order mark.
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xef || c === 0xbb || c === 0xbf) continue;
        return String.fromCharCode(c);
      }
      pos += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Streams the elements of a JSON export without holding the file in memory: a top-level array
 * yields one item per element; a top-level object is one conversation. A syntax error ends the
 * stream with an item naming the element and byte where reading stopped; everything before it
 * has already been yielded.
 */
export async function* readJsonExport(path: string): AsyncGenerator<ExportItem> {
  const first = await firstSignificantByte(path);
  if (first === undefined) {
    yield { ok: false, place: 'byte 0', message: 'the file is empty' };
    return;
  }
  if (first === '{') {
    const { size } = await stat(path);
    if (size > MAX_SINGLE_OBJECT_BYTES) {
      yield { ok: false, place: 'byte 0', message: `a single-object export over ${MAX_SINGLE_OBJECT_BYTES} bytes is not supported` };
      return;
    }
    try {
      yield { ok: true, index: 0, place: '(whole file)', value: JSON.parse((await readFile(path, 'utf8')).replace(/^\uFEFF/, '')) };
    } catch (err) {
      yield { ok: false, place: '(whole file)', message: `malformed JSON: ${(err as Error).message}` };
    }
    return;
  }
  if (first !== '[') {
    yield { ok: false, place: 'byte 0', message: `expected a JSON array or object, found ${JSON.stringify(first)}` };
    return;
  }

  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  let failure: Error | undefined;
  // pipeline() destroys every stage when one fails, so a parse error ends the iteration below.
  const elements = pipeline(createReadStream(path), counter, streamJson.parser(), StreamArray.streamArray(), (err) => {
    if (err) failure ??= err;
  });
  let next = 0;
  try {
    for await (const { key, value } of elements as AsyncIterable<{ key: number; value: unknown }>) {
      next = key + 1;
      yield { ok: true, index: key, place: `[${key}]`, value };
    }
  } catch (err) {
    failure ??= err as Error;
  }
  if (failure) {
    yield { ok: false, place: `[${next}] near byte ${bytes}`, message: `malformed JSON: ${failure.message}` };
  }
}
