import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { decodeTextStream } from './decode-stream.js';
import { readTextWithFallback } from './read-text.js';
import { sniffUtf16 } from './text-encoding.js';
import { findInvalidUtf8 } from './well-formed.js';

/** A byte stream of `bytes`, in chunks of `size` bytes. */
function chunked(bytes: Buffer, size = bytes.length || 1): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks, { objectMode: false });
}

async function decodeAll(input: Readable, file = 'notes.txt', slow = false): Promise<{ text: string; error?: Error }> {
  const out: Buffer[] = [];
  try {
    for await (const chunk of decodeTextStream(input, file)) {
      out.push(chunk as Buffer);
      if (slow) await tick();
    }
  } catch (err) {
    return { text: Buffer.concat(out).toString('utf8'), error: err as Error };
  }
  return { text: Buffer.concat(out).toString('utf8') };
}

const SAMPLE = 'Grüße, 世界! 🎉 naïve café — “quotes”\n'.repeat(200);

function utf16be(text: string): Buffer {
  const le = Buffer.from(text, 'utf16le');
  return Buffer.from(le).swap16();
}

test('UTF-8 passes through (BOM dropped), whatever the chunk boundaries', async () => {
  const bytes = Buffer.from(SAMPLE, 'utf8');
  for (const size of [1, 2, 3, 7, 512, 100_000]) {
    assert.deepEqual(await decodeAll(chunked(bytes, size)), { text: SAMPLE }, `chunks of ${size}`);
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
    assert.deepEqual(await decodeAll(chunked(withBom, size)), { text: SAMPLE }, `BOM, chunks of ${size}`);
  }
  assert.deepEqual(await decodeAll(chunked(Buffer.alloc(0))), { text: '' });
});

test('UTF-16LE and UTF-16BE with a byte order mark are decoded, also split inside characters', async () => {
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SAMPLE, 'utf16le')]);
  const be = Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(SAMPLE)]);
  for (const size of [1, 3, 1000]) {
    assert.deepEqual(await decodeAll(chunked(le, size)), { text: SAMPLE }, `LE, chunks of ${size}`);
    assert.deepEqual(await decodeAll(chunked(be, size)), { text: SAMPLE }, `BE, chunks of ${size}`);
  }
});

test('UTF-16 without a byte order mark is recognised by its zero bytes', async () => {
  const json = '[{"title": "Plan", "text": "hello"}]';
  assert.equal(sniffUtf16(Buffer.from(json, 'utf16le')), 'utf-16le');
  assert.equal(sniffUtf16(utf16be(json)), 'utf-16be');
  assert.equal(sniffUtf16(Buffer.from(json, 'utf8')), undefined);
  assert.deepEqual(await decodeAll(chunked(Buffer.from(json, 'utf16le'), 5)), { text: json });
  assert.deepEqual(await decodeAll(chunked(utf16be(json), 5)), { text: json });
});

test('invalid UTF-8 errors with the file and the byte offset, after the valid text before it', async () => {
  const bytes = Buffer.concat([Buffer.from('a'.repeat(1234)), Buffer.from([0xff]), Buffer.from('tail')]);
  for (const size of [1, 100, 5000]) {
    const result = await decodeAll(chunked(bytes, size), 'notes.txt', true);
    assert.equal(result.error?.message, 'notes.txt: not valid UTF-8 at byte 1234', `chunks of ${size}`);
    assert.equal(result.text, 'a'.repeat(1234), `chunks of ${size}`);
  }
  // A reader taking 1000 bytes at a time still gets the 234 before the error.
  const decoded = decodeTextStream(chunked(bytes, 100), 'notes.txt');
  const got: Buffer[] = [];
  const error = await new Promise<Error>((resolve) => {
    decoded.on('readable', () => {
      for (let chunk = decoded.read(1000); chunk !== null; chunk = decoded.read(1000)) got.push(chunk as Buffer);
    });
    decoded.on('error', resolve);
  });
  assert.equal(error.message, 'notes.txt: not valid UTF-8 at byte 1234');
  assert.equal(Buffer.concat(got).toString(), 'a'.repeat(1234));
  // A multi-byte sequence broken in its middle, split over chunks: the offset is where it starts.
  const broken = Buffer.concat([Buffer.from('ab€'), Buffer.from([0xe2, 0x82]), Buffer.from('c')]);
  for (const size of [1, 2, 4]) {
    assert.equal((await decodeAll(chunked(broken, size))).error?.message, 'notes.txt: not valid UTF-8 at byte 5');
  }
  // With a BOM the offset still counts from the start of the file.
  const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('xy'), Buffer.from([0xc0, 0x80])]);
  assert.equal((await decodeAll(chunked(bom, 2))).error?.message, 'notes.txt: not valid UTF-8 at byte 5');
  // Text that ends inside a character.
  const cut = Buffer.concat([Buffer.from('hello '), Buffer.from('世').subarray(0, 2)]);
  assert.match((await decodeAll(chunked(cut, 3))).error?.message ?? '', /^notes\.txt: not valid UTF-8 at byte 6 /);
  // Encoded surrogates and overlong forms are not UTF-8.
  assert.equal(findInvalidUtf8(Buffer.from([0x41, 0xed, 0xa0, 0x80])), 1);
  assert.equal(findInvalidUtf8(Buffer.from([0xe0, 0x80, 0x80])), 0);
  assert.equal(findInvalidUtf8(Buffer.from('ok ✓ 🎉')), -1);
});

test('an unpaired surrogate in UTF-16 errors with its offset; input errors pass through', async () => {
  const bytes = Buffer.concat([
    Buffer.from([0xff, 0xfe]),
    Buffer.from('ab', 'utf16le'),
    Buffer.from([0x00, 0xdc]),
    Buffer.from('c', 'utf16le'),
  ]);
  assert.equal((await decodeAll(chunked(bytes, 3), 'chat.md')).error?.message, 'chat.md: not valid UTF-16LE at byte 6');

  const failing = new Readable({
    read() {
      this.push(Buffer.from('fine so far '));
      this.destroy(new Error('disk on fire'));
    },
  });
  assert.equal((await decodeAll(failing)).error?.message, 'disk on fire');
});

test('destroying the decoded stream destroys the input', async () => {
  const input = chunked(Buffer.from(SAMPLE), 10);
  const decoded = decodeTextStream(input, 'notes.txt');
  for await (const _ of decoded) break;
  assert.equal(input.destroyed, true);
});

test('readTextWithFallback: UTF-8, byte order marks, and Windows-1252 with a warning', async () => {
  assert.deepEqual(await readTextWithFallback(chunked(Buffer.from(SAMPLE), 7), 'a.md', 1e6), { text: SAMPLE, encoding: 'utf-8' });
  const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('hi')]);
  assert.deepEqual(await readTextWithFallback(chunked(bom), 'a.md', 1e6), { text: 'hi', encoding: 'utf-8' });
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SAMPLE, 'utf16le')]);
  assert.deepEqual(await readTextWithFallback(chunked(le, 999), 'a.md', 1e6), { text: SAMPLE, encoding: 'utf-16le' });
  const be = Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(SAMPLE)]);
  assert.deepEqual(await readTextWithFallback(chunked(be), 'a.md', 1e6), { text: SAMPLE, encoding: 'utf-16be' });

  // "Café – naïve" as Windows-1252: é = E9, – = 96, ï = EF.
  const cp1252 = Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0x96, 0x20, 0x6e, 0x61, 0xef, 0x76, 0x65]);
  assert.deepEqual(await readTextWithFallback(chunked(cp1252, 5), 'notes.txt', 1e6), {
    text: 'Café – naïve',
    encoding: 'windows-1252',
    warning: 'notes.txt: not valid UTF-8 at byte 3; read as Windows-1252',
  });

  const noBom = await readTextWithFallback(chunked(Buffer.from('# Transcript\nUser: hi', 'utf16le')), 't.md', 1e6);
  assert.equal(noBom.text, '# Transcript\nUser: hi');
  assert.equal(noBom.encoding, 'utf-16le');
  assert.match(noBom.warning ?? '', /^t\.md: has no byte order mark; read as UTF-16LE/);
});

test('readTextWithFallback rejects input over maxBytes and destroys it', async () => {
  const input = chunked(Buffer.alloc(10_000, 0x61), 1000);
  await assert.rejects(readTextWithFallback(input, 'big.txt', 5000), /^Error: big\.txt: larger than 5000 bytes/);
  assert.equal(input.destroyed, true);
  await assert.rejects(
    readTextWithFallback(chunked(Buffer.from([0xff, 0xfe, 0, 0, 0x41, 0, 0, 0])), 'x.txt', 100),
    /UTF-32 text is not supported/,
  );
});
