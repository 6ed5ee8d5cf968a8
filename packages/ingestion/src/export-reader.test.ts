import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { type JsonElement, readJsonElements } from './export-reader.js';
import { ingestFile, oneMessageConversation, tmpFile } from './ingest.test-helper.js';

/** A byte stream of `bytes`, in chunks of `size` bytes. */
function chunked(bytes: Buffer, size = bytes.length || 1): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks, { objectMode: false });
}

interface Read {
  elements: JsonElement[];
  warnings: string[];
}

async function readAll(input: Readable, maxElementBytes = 1024 * 1024): Promise<Read> {
  const elements: JsonElement[] = [];
  const warnings: string[] = [];
  for await (const element of readJsonElements(input, {
    maxElementBytes,
    warn: (place, message) => warnings.push(`${place}: ${message}`),
  })) {
    elements.push(element);
  }
  return { elements, warnings };
}

/** Values of the elements read, and `error <place>: <message>` for the others. */
const summary = ({ elements }: Read) => elements.map((e) => (e.ok ? e.value : `error ${e.place}: ${e.message}`));

const chatgpt = (id: string, text: string) => oneMessageConversation(id, text);

function utf16be(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

test('row 4: one bad byte in a 2,000-conversation file costs nothing; the warning names the element and the exact byte', async () => {
  const json = JSON.stringify(Array.from({ length: 2000 }, (_, i) => chatgpt(`c${i}`, `Grüße ☕ ${i === 1234 ? 'BAD>X<' : 'fine'}`)));
  const bytes = Buffer.from(json);
  const bad = bytes.indexOf('BAD>X<') + 4;
  bytes[bad] = 0xff;
  assert.ok(bad > 300_000, 'the bad byte is far into the file, past the first chunks');

  const { report, conversations } = await ingestFile(tmpFile(bytes), { fileName: 'conversations.json' });
  assert.equal(conversations.length, 2000);
  assert.deepEqual(report.skipped, []);
  assert.deepEqual(
    report.warnings.map((w) => `${w.place}: ${w.message}`),
    [`[1234]: not valid UTF-8 at byte ${bad} (1 bad bytes in this element): kept, with U+FFFD in their place`],
  );
  assert.equal(conversations[1234]?.messages[0]?.text, 'Grüße ☕ BAD>\uFFFD<');
  assert.equal(conversations[1235]?.messages[0]?.text, 'Grüße ☕ fine');

  // The offset is the byte's own, whatever the chunking.
  for (const size of [7, 4099, 65536]) {
    const { elements, warnings } = await readAll(chunked(bytes, size));
    assert.equal(warnings.length, 1, `chunks of ${size}`);
    assert.match(warnings[0] ?? '', new RegExp(`^\\[1234\\]: not valid UTF-8 at byte ${bad} `), `chunks of ${size}`);
    assert.equal(elements.filter((e) => e.ok).length, 2000, `chunks of ${size}`);
  }
});

test('a bad byte in an element with no other non-ASCII text reads as Windows-1252 there; the UTF-8 elements stay UTF-8', async () => {
  const bytes = Buffer.concat([
    Buffer.from('[{"t":"plain '),
    Buffer.from([0xe9]),
    Buffer.from('"},{"t":"Grüße 世界"},{"t":"caf'),
    Buffer.from([0xe9, 0x22, 0x7d, 0x5d]),
  ]);
  const read = await readAll(chunked(bytes, 5));
  assert.deepEqual(summary(read), [{ t: 'plain é' }, { t: 'Grüße 世界' }, { t: 'café' }]);
  assert.equal(read.warnings.length, 1, 'one warning for the file');
  assert.match(read.warnings[0] ?? '', /^\[0\]: not valid UTF-8 at byte 13, .*read as Windows-1252/);
});

test('row 5: an element over the limit is skipped as it streams past, never held: index, byte and size reported, the rest read', async () => {
  const limit = 1024 * 1024;
  const head = Buffer.from(`[${JSON.stringify(chatgpt('before', 'one'))},{"id":"huge","title":"`);
  const tail = Buffer.from(`"},${JSON.stringify(chatgpt('after', 'two'))}]`);
  const chunk = 1024 * 1024;
  const chunks = 600; // 600 MB: past V8's longest string, so holding it as text cannot even work
  const rss = process.memoryUsage.rss();
  let peak = rss;
  async function* input() {
    yield head;
    for (let i = 0; i < chunks; i++) {
      // Fresh chunks: a reader that kept them would grow by all of them.
      yield Buffer.alloc(chunk, 0x78);
      if (i % 16 === 0) peak = Math.max(peak, process.memoryUsage.rss());
    }
    yield tail;
  }
  const read = await readAll(Readable.from(input(), { objectMode: false }), limit);
  const size = head.length - head.indexOf('{"id":"huge"') + chunks * chunk + 2;
  assert.deepEqual(
    read.elements.map((e) => (e.ok ? e.index : `${e.place}: ${e.message}`)),
    [
      0,
      `[1] at byte ${head.indexOf('{"id":"huge"')}: ${size} bytes, over the limit of ${limit} bytes for one conversation (maxConversationBytes): skipped`,
      2,
    ],
  );
  assert.ok(peak - rss < 200 * 1024 * 1024, `resident memory grew by ${Math.round((peak - rss) / 1048576)} MB while 600 MB streamed past`);
});

test('row 5, whole core: maxConversationBytes skips a conversation and a single-object file over it', async () => {
  const small = chatgpt('small', 'ok');
  const later = chatgpt('later', 'ok');
  const big = chatgpt('big', 'y'.repeat(5000));
  const { report, conversations } = await ingestFile(tmpFile(JSON.stringify([small, big, later])), {
    limits: { maxConversationBytes: 4096 },
  });
  assert.deepEqual(
    conversations.map((c) => c.id),
    ['small', 'later'],
  );
  assert.equal(report.skipped.length, 1);
  assert.equal(report.skipped[0]?.place, `[1] at byte ${JSON.stringify([small]).length}`);
  assert.match(
    report.skipped[0]?.message ?? '',
    /^\d+ bytes, over the limit of 4096 bytes for one conversation \(maxConversationBytes\): skipped$/,
  );

  const single = await ingestFile(tmpFile(`  ${JSON.stringify(big)}`), { limits: { maxConversationBytes: 4096 } });
  assert.equal(single.conversations.length, 0);
  assert.equal(single.report.skipped[0]?.place, '(whole file) at byte 2');
  const fits = await ingestFile(tmpFile(JSON.stringify(small)), { limits: { maxConversationBytes: 4096 } });
  assert.deepEqual(
    fits.conversations.map((c) => c.id),
    ['small'],
  );
});

test('row 10: UTF-16LE and UTF-16BE, with and without a byte order mark, and Windows-1252 are read', async () => {
  const values = [{ t: 'Grüße, 世界! 🎉 “quotes”' }, { t: 'naïve café' }];
  const json = JSON.stringify(values);
  const cases: [string, Buffer, string[]][] = [
    ['UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json, 'utf16le')]), []],
    ['UTF-16BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(json)]), []],
    ['UTF-16LE', Buffer.from(json, 'utf16le'), ['(whole file): no byte order mark; read as UTF-16LE, judged by its zero bytes']],
    ['UTF-16BE', utf16be(json), ['(whole file): no byte order mark; read as UTF-16BE, judged by its zero bytes']],
    ['UTF-8 with BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]), []],
  ];
  for (const [label, bytes, warnings] of cases) {
    for (const size of [1, 3, 1000]) {
      const read = await readAll(chunked(bytes, size));
      assert.deepEqual(summary(read), values, `${label}, chunks of ${size}`);
      assert.deepEqual(read.warnings, warnings, `${label}, chunks of ${size}`);
    }
  }

  const latin = Buffer.from(
    [...'[{"t":"caf'].map((c) => c.charCodeAt(0)).concat([0xe9, 0x20, 0x93, 0x71, 0x94, 0x20, 0x80, 0x22, 0x7d, 0x5d]),
  );
  const read = await readAll(chunked(latin, 4));
  assert.deepEqual(summary(read), [{ t: 'café “q” €' }]);
  assert.deepEqual(read.warnings, [
    '[0]: not valid UTF-8 at byte 10, and no more like UTF-8 than like single-byte text: read as Windows-1252 (Latin-1), as is every later element of this file that is not UTF-8',
  ]);
});

test('row 10, whole core: a UTF-16 ChatGPT export without a byte order mark ingests', async () => {
  const json = JSON.stringify([chatgpt('a', 'Grüße 世界'), chatgpt('b', 'two')]);
  const { report, conversations } = await ingestFile(tmpFile(Buffer.from(json, 'utf16le')));
  assert.deepEqual(
    conversations.map((c) => c.messages[0]?.text),
    ['Grüße 世界', 'two'],
  );
  assert.deepEqual(report.skipped, []);
  assert.match(report.warnings[0]?.message ?? '', /read as UTF-16LE/);
});

test('UTF-16: places are file bytes (two a character), also for a malformed element', async () => {
  const json = '[{"a":1},{"b" 2},{"c":"é"}]';
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json, 'utf16le')]);
  const read = await readAll(chunked(le, 7));
  assert.equal(read.elements.length, 3);
  assert.deepEqual(read.elements[2], { ok: true, index: 2, place: '[2]', value: { c: 'é' } });
  const bad = read.elements[1];
  assert.ok(bad && !bad.ok);
  assert.equal(bad.place, `[1] at byte ${2 + 2 * json.indexOf('{"b"')}`);
  assert.match(bad.message, new RegExp(`^malformed JSON: .* \\(byte ${2 + 2 * json.indexOf('2}')} of the file\\)$`));
});

test('a malformed element in the middle loses only itself; the error names its index and the exact byte', async () => {
  const good = (id: string) => JSON.stringify(chatgpt(id, 'hi'));
  const broken = '{"id": "x" "mapping": {}}';
  const text = `[${good('a')},${broken},${good('b')}]`;
  const { report, conversations } = await ingestFile(tmpFile(text), { fileName: 'conversations.json' });
  assert.deepEqual(
    conversations.map((c) => c.id),
    ['a', 'b'],
  );
  assert.equal(report.skipped.length, 1);
  assert.equal(report.skipped[0]?.place, `[1] at byte ${text.indexOf(broken)}`);
  assert.match(
    report.skipped[0]?.message ?? '',
    new RegExp(`^malformed JSON: .*\\(byte ${text.indexOf(broken) + broken.indexOf('"mapping"')} of the file\\)$`),
  );
});

test('what damage to the structure costs, exactly', async () => {
  const read = async (text: string) => summary(await readAll(chunked(Buffer.from(text), 3)));
  // An extra '}' ends its element early; the leftover up to the next comma is one more bad element.
  assert.deepEqual(await read('[{"a":1}},{"b":2}]'), [
    { a: 1 },
    `error [1] at byte 8: malformed JSON: Unexpected token '}', "}" is not valid JSON`,
    { b: 2 },
  ]);
  // An unclosed bracket runs on to the array's end: that element and those after it are lost, in one error.
  assert.deepEqual(await read('[{"a":1},{"b":[2},{"c":3}]'), [
    { a: 1 },
    "error [1] at byte 9: malformed JSON: Expected ',' or ']' after array element in JSON at position 7 (byte 16 of the file)",
    'error byte 26: the file ends before the top-level array is closed (it is cut off after element [1])',
  ]);
  // An unclosed string runs on to the end of the file.
  assert.deepEqual(await read('[{"a":1},{"b":"2},{"c":3}]'), [
    { a: 1 },
    'error [1] at byte 9: malformed JSON: the file ends inside this element, at byte 26 (it is cut off, or a bracket or quote in it is not closed)',
  ]);
  // So does an extra ']'; between elements, a stray one is passed over.
  assert.deepEqual(await read('[{"a":[1]]},{"b":2}]'), [
    "error [0] at byte 1: malformed JSON: Expected ',' or '}' after property value in JSON at position 8 (byte 9 of the file)",
    `error [1] at byte 10: malformed JSON: Unexpected token '}', "}" is not valid JSON`,
    { b: 2 },
  ]);
  const stray = await readAll(chunked(Buffer.from('[{"a":1}] , {"b":2}] x'), 3));
  assert.deepEqual(summary(stray), [
    { a: 1 },
    { b: 2 },
    'error byte 21: unexpected data after the end of the top-level array ("x"): the rest of the file is not read',
  ]);
  assert.deepEqual(stray.warnings, [
    "byte 8: a ']' closes the top-level array before its end: passed over, the elements after it are read",
  ]);
  // Cut off: every complete element is read.
  assert.deepEqual(await read('[{"a":1},{"b":"tw'), [
    { a: 1 },
    'error [1] at byte 9: malformed JSON: the file ends inside this element, at byte 17 (it is cut off, or a bracket or quote in it is not closed)',
  ]);
  assert.deepEqual(await read('[{"a":1}, '), [
    { a: 1 },
    'error byte 10: the file ends before the top-level array is closed (it is cut off after element [0])',
  ]);
  // Commas out of place lose nothing, and say so.
  const commas = await readAll(chunked(Buffer.from('[,{"a":1} {"b":2},,{"c":3},]'), 2));
  assert.deepEqual(summary(commas), [{ a: 1 }, { b: 2 }, { c: 3 }]);
  assert.deepEqual(commas.warnings, [
    "byte 1: an extra ',' between elements: passed over",
    "[1] at byte 10: no ',' before this element",
    "byte 18: an extra ',' between elements: passed over",
    "byte 27: a ',' before the closing ']': passed over",
  ]);
});

test('elements come out as JSON.parse reads them, whatever the chunk boundaries (escapes, brackets in strings, bare values)', async () => {
  const values = [
    { s: 'a "quoted" \\ back\\slash \\" and ] } [ { inside', u: '\u0022\u005c', n: [1, [2, [3, {}]], []], e: '' },
    'a bare string with \\"escapes\\"',
    12.5e3,
    -0,
    true,
    null,
    [],
    {},
    { deep: [[[[[['x']]]]]], '}': ']' },
  ];
  const text = ` \n[ ${values.map((v) => JSON.stringify(v, null, 1)).join(' ,\n')} ]\n `;
  for (let size = 1; size <= 9; size++) {
    const read = await readAll(chunked(Buffer.from(text), size));
    assert.deepEqual(summary(read), JSON.parse(text), `chunks of ${size}`);
    assert.deepEqual(read.warnings, [], `chunks of ${size}`);
  }
});

test('not an export: empty, whitespace, binary, a bare value, UTF-32, data after the object', async () => {
  const read = async (bytes: Buffer) => summary(await readAll(chunked(bytes, 2)));
  assert.deepEqual(await read(Buffer.alloc(0)), ['error byte 0: the file is empty']);
  assert.deepEqual(await read(Buffer.from(' \n\t ')), ['error byte 0: the file is empty']);
  assert.deepEqual(await read(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a])), [
    'error byte 0: expected a JSON array or object, found byte 0x89',
  ]);
  assert.deepEqual(await read(Buffer.from('  "text"')), ['error byte 2: expected a JSON array or object, found "\\""']);
  assert.deepEqual(await read(Buffer.from([0xff, 0xfe, 0, 0, 0x5b, 0, 0, 0])), [
    'error byte 0: UTF-32 text is not supported; save it as UTF-8',
  ]);
  assert.deepEqual(await read(Buffer.from('{"a":1} x')), [
    { a: 1 },
    'error byte 8: unexpected data after the end of the top-level object ("x"): the rest of the file is not read',
  ]);
});

test('an input that fails midway: the elements before are read, the error names the element it cut', async () => {
  async function* input() {
    yield Buffer.from('[{"a":1},{"b":');
    throw new Error('export.zip:conversations.json: the archive is cut off');
  }
  const read = await readAll(Readable.from(input(), { objectMode: false }));
  assert.deepEqual(summary(read), [{ a: 1 }, 'error [1] at byte 9: export.zip:conversations.json: the archive is cut off']);
});
