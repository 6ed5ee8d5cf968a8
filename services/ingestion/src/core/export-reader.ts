import { pipeline, type Readable, Transform } from 'node:stream';
import { JSONParser } from '@streamparser/json';

/** One top-level element of a JSON export, or the reason reading stopped. */
export type JsonElement = { ok: true; index: number; place: string; value: unknown } | { ok: false; place: string; message: string };

/** A single-object export (one conversation) is read whole; larger ones must be arrays. */
export const MAX_SINGLE_OBJECT_BYTES = 64 * 1024 * 1024;

const WHITESPACE = new Set([0x20, 0x0a, 0x0d, 0x09]);

/**
 * Streams the elements of a JSON export without holding it in memory: a top-level array yields
 * one element at a time; a top-level object is one element. Bytes are checked as UTF-8 on the
 * way. A syntax or encoding error ends the stream with an element naming the index and byte
 * where reading stopped; everything before it has already been yielded.
 */
export async function* readJsonElements(input: Readable): AsyncGenerator<JsonElement> {
  let bytes = 0;
  let first: number | undefined;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  // Finds the first significant byte, drops a UTF-8 byte order mark, and validates UTF-8.
  const inspect = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      let data = chunk;
      if (bytes === 0 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) data = data.subarray(3);
      try {
        utf8.decode(data, { stream: true });
      } catch {
        cb(new Error(`not valid UTF-8 in bytes ${bytes}..${bytes + chunk.length}`));
        return;
      }
      if (first === undefined) first = data.find((c) => !WHITESPACE.has(c));
      bytes += chunk.length;
      cb(null, data);
    },
  });

  let failure: Error | undefined;
  const checked = pipeline(input, inspect, (err) => {
    if (err) failure ??= err;
  });
  // Peek: read until the first significant byte is known; the same iterator goes on below
  // (a for-await with break would destroy the stream).
  const chunks = (checked as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  try {
    while (first === undefined) {
      const { value, done } = await chunks.next();
      if (done) break;
      head.push(value);
    }
  } catch (err) {
    failure ??= err as Error;
  }
  if (failure) {
    yield { ok: false, place: `byte ${bytes}`, message: failure.message };
    return;
  }
  if (first === undefined) {
    yield { ok: false, place: 'byte 0', message: 'the file is empty' };
    return;
  }
  const firstChar = String.fromCharCode(first);
  if (firstChar !== '[' && firstChar !== '{') {
    checked.destroy();
    yield { ok: false, place: 'byte 0', message: `expected a JSON array or object, found ${JSON.stringify(firstChar)}` };
    return;
  }
  const rest = async function* () {
    yield* head;
    for (let r = await chunks.next(); !r.done; r = await chunks.next()) yield r.value;
  };

  if (firstChar === '{') {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of rest()) {
        size += chunk.length;
        if (size > MAX_SINGLE_OBJECT_BYTES) {
          checked.destroy();
          yield { ok: false, place: 'byte 0', message: `a single-object export over ${MAX_SINGLE_OBJECT_BYTES} bytes is not supported` };
          return;
        }
        chunks.push(chunk);
      }
    } catch (err) {
      failure ??= err as Error;
    }
    if (failure) {
      yield { ok: false, place: `byte ${bytes}`, message: failure.message };
      return;
    }
    try {
      yield { ok: true, index: 0, place: '(whole file)', value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
    } catch (err) {
      yield { ok: false, place: '(whole file)', message: `malformed JSON: ${(err as Error).message}` };
    }
    return;
  }

  // A push parser: each chunk's complete elements are handed over before a later error is
  // thrown, so everything before damage in the file still goes through.
  const parser = new JSONParser({ paths: ['$.*'], keepStack: false });
  const ready: { key: number; value: unknown }[] = [];
  parser.onValue = ({ value, key }) => {
    ready.push({ key: Number(key), value });
  };
  let next = 0;
  try {
    for await (const chunk of rest()) {
      try {
        parser.write(chunk);
      } finally {
        for (const { key, value } of ready.splice(0)) {
          next = key + 1;
          yield { ok: true, index: key, place: `[${key}]`, value };
        }
      }
    }
    if (!failure && !parser.isEnded) parser.end();
  } catch (err) {
    failure ??= err as Error;
  }
  for (const { key, value } of ready.splice(0)) {
    next = key + 1;
    yield { ok: true, index: key, place: `[${key}]`, value };
  }
  if (failure) {
    const malformed = /UTF-8|ends at byte|entry/.test(failure.message) ? failure.message : `malformed JSON: ${failure.message}`;
    yield { ok: false, place: `[${next}] near byte ${bytes}`, message: malformed };
  }
}
