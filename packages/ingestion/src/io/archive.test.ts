import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import { REPO_ROOT } from '@trajectory/testkit';
import yazl from 'yazl';
import { unsafePathReason, zipEntryKind } from '../entry-kind.js';
import { DEFAULT_LIMITS, type EntryItem, type IngestLimits, type Located } from '../types.js';
import { readExportEntries } from './archive.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'archive-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileCounter = 0;
async function onDisk(bytes: Buffer): Promise<string> {
  const path = join(dir, `upload-${++fileCounter}`);
  await writeFile(path, bytes);
  return path;
}

// ---------------------------------------------------------------------------------------------
// Building zips

interface YazlEntry {
  name: string;
  data?: Buffer;
  /** Written from a stream: sizes and CRC go in a data descriptor after the data. */
  streamed?: boolean;
  compress?: boolean;
  directory?: boolean;
}

async function yazlZip(entries: YazlEntry[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    if (e.directory) zip.addEmptyDirectory(e.name);
    else if (e.streamed) zip.addReadStream(Readable.from([e.data ?? Buffer.alloc(0)]), e.name, { compress: e.compress ?? true });
    else zip.addBuffer(e.data ?? Buffer.alloc(0), e.name, { compress: e.compress ?? true });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A hand-made entry, for what zip writers refuse to write: every header field can lie. */
interface Crafted {
  name: string;
  data?: Buffer;
  method?: number;
  /** The bytes stored (default: `data`, deflated when method is 8). */
  stored?: Buffer;
  flags?: number;
  crc?: number;
  size?: number;
  compressedSize?: number;
}

/** fixtures/hostile/zip-writer.mjs, the zip writer the hostile corpus is written with too. */
const { zip: craftZip } = (await import(pathToFileURL(join(REPO_ROOT, 'fixtures', 'hostile', 'zip-writer.mjs')).href)) as {
  zip(entries: Crafted[]): Buffer;
};

/** `size` zero bytes, deflated without ever holding them all. */
async function deflatedZeros(size: number): Promise<Buffer> {
  const deflate = zlib.createDeflateRaw();
  const chunks: Buffer[] = [];
  deflate.on('data', (c: Buffer) => chunks.push(c));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let done = 0; done < size; done += zeros.length) {
    if (!deflate.write(zeros.subarray(0, Math.min(zeros.length, size - done)))) await once(deflate, 'drain');
  }
  deflate.end();
  await once(deflate, 'end');
  return Buffer.concat(chunks);
}

/** A JSON array of conversations that does not compress much (hex strings). */
function conversationsJson(bytes: number): Buffer {
  const items: string[] = [];
  let length = 2;
  for (let i = 0; length < bytes; i++) {
    const item = JSON.stringify({ id: `c${i}`, title: `Conversation ${i}`, text: randomBytes(2000).toString('hex') });
    items.push(item);
    length += item.length + 1;
  }
  return Buffer.from(`[${items.join(',')}]`);
}

// ---------------------------------------------------------------------------------------------
// Reading

interface Read {
  name?: string;
  kind?: string;
  size?: number | undefined;
  data?: Buffer;
  error?: string;
  problem?: Located;
}

/** How the caller reads an entry: iterating (fast or slow), piping into a slow writer, or read(n) on 'readable'. */
type Consumer = 'iterate' | 'slow' | 'pipe' | 'read-n';

async function readStream(stream: Readable, consumer: Consumer): Promise<{ data: Buffer; error?: string }> {
  const chunks: Buffer[] = [];
  if (consumer === 'read-n') {
    return new Promise((resolve) => {
      stream.on('readable', () => {
        for (let chunk = stream.read(1000); chunk !== null; chunk = stream.read(1000)) chunks.push(chunk as Buffer);
      });
      stream.on('end', () => resolve({ data: Buffer.concat(chunks) }));
      stream.on('error', (err) => resolve({ data: Buffer.concat(chunks), error: err.message }));
    });
  }
  if (consumer === 'pipe') {
    const slowWriter = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        setImmediate(callback);
      },
    });
    try {
      await pipeline(stream, slowWriter);
    } catch (err) {
      return { data: Buffer.concat(chunks), error: (err as Error).message };
    }
    return { data: Buffer.concat(chunks) };
  }
  const slow = consumer === 'slow';
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      if (slow) await tick();
    }
  } catch (err) {
    return { data: Buffer.concat(chunks), error: (err as Error).message };
  }
  return { data: Buffer.concat(chunks) };
}

/** Reads an upload the way the caller does: each entry read to its end before the next. */
async function readUpload(
  bytes: Buffer,
  fileName: string,
  limits: IngestLimits = DEFAULT_LIMITS,
  consumer: Consumer = 'iterate',
): Promise<Read[]> {
  const path = await onDisk(bytes);
  const out: Read[] = [];
  for await (const item of readExportEntries(path, fileName, limits)) {
    if (!item.ok) {
      out.push({ problem: item.problem });
      continue;
    }
    const { name, kind, size } = item.entry;
    out.push({ name, kind, size, ...(await readStream(await item.entry.open(), consumer)) });
  }
  return out;
}

const names = (items: Read[]) => items.filter((i) => i.name).map((i) => i.name);
const problems = (items: Read[]) => items.flatMap((i) => (i.problem ? [i.problem] : []));

// ---------------------------------------------------------------------------------------------

test('a ChatGPT export yields its conversation files in archive order, and nothing else', async () => {
  const conversations = conversationsJson(50_000);
  const shard0 = Buffer.from('[{"id":"a"}]');
  const shard1 = Buffer.from('[{"id":"b"}]');
  const zip = await yazlZip([
    { name: 'user.json', data: Buffer.from('{"email":"x@example.com"}') },
    { name: 'conversations.json', data: conversations },
    { name: 'chat.html', data: Buffer.from('<html></html>') },
    { name: 'file-abc123.png', data: randomBytes(3000), compress: false },
    { name: 'dalle-generations/', directory: true },
    { name: 'dalle-generations/file-1.webp', data: randomBytes(2000), compress: false },
    { name: 'audio/', directory: true },
    { name: 'audio/file-2.wav', data: randomBytes(2000), streamed: true },
    { name: 'message_feedback.json', data: Buffer.from('[]') },
    { name: 'model_comparisons.json', data: Buffer.from('[]') },
    { name: 'shared_conversations.json', data: Buffer.from('[]') },
    { name: 'conversations-000.json', data: shard0, streamed: true },
    { name: 'conversations-001.json', data: shard1, streamed: true, compress: false },
    { name: '__MACOSX/._conversations.json', data: Buffer.from([0, 5, 22, 7]) },
  ]);
  const items = await readUpload(zip, 'export.zip');
  assert.deepEqual(items, [
    { name: 'export.zip:conversations.json', kind: 'json', size: conversations.length, data: conversations },
    { name: 'export.zip:conversations-000.json', kind: 'json', size: shard0.length, data: shard0 },
    { name: 'export.zip:conversations-001.json', kind: 'json', size: shard1.length, data: shard1 },
  ]);
});

test('a Claude export and a hand-made archive: kinds by extension, metadata skipped', async () => {
  const zip = await yazlZip([
    { name: 'users.json', data: Buffer.from('[]') },
    { name: 'projects.json', data: Buffer.from('[]') },
    { name: 'memories.json', data: Buffer.from('[]') },
    { name: 'conversations.json', data: Buffer.from('[]') },
    { name: 'notes/Chat With Claude.MD', data: Buffer.from('# Chat') },
    { name: 'notes/plan.markdown', data: Buffer.from('# Plan') },
    { name: 'log.jsonl', data: Buffer.from('{}\n') },
    { name: 'log2.ndjson', data: Buffer.from('{}\n') },
    { name: 'readme.txt', data: Buffer.from('hello') },
    { name: 'other-export.json', data: Buffer.from('{}') },
    { name: '.DS_Store', data: Buffer.from('x') },
  ]);
  const items = await readUpload(zip, 'claude.zip');
  assert.deepEqual(
    items.map((i) => [i.name, i.kind]),
    [
      ['claude.zip:conversations.json', 'json'],
      ['claude.zip:notes/Chat With Claude.MD', 'markdown'],
      ['claude.zip:notes/plan.markdown', 'markdown'],
      ['claude.zip:log.jsonl', 'jsonl'],
      ['claude.zip:log2.ndjson', 'jsonl'],
      ['claude.zip:readme.txt', 'text'],
      ['claude.zip:other-export.json', 'json'],
    ],
  );
  assert.equal(zipEntryKind('a/b/Conversations.JSON'), 'json');
  assert.equal(zipEntryKind('dalle-generations/x.jpg'), undefined);
});

test('unsafe paths are reported and skipped; the other entries are still read', async () => {
  const good = Buffer.from('[1]');
  const entries: Crafted[] = [
    { name: '../evil.json', data: good },
    { name: '/abs.json', data: good },
    { name: 'good.json', data: good },
    { name: 'C:/win.json', data: good },
    { name: 'dir\\back.json', data: good },
    { name: 'deep/../../up.json', data: good },
    { name: 'also-good.md', data: good, method: 0 },
  ];
  const expected = [
    { file: 'evil.zip', place: 'entry ../evil.json', message: 'unsafe path (it has a ".." segment): skipped' },
    { file: 'evil.zip', place: 'entry /abs.json', message: 'unsafe path (it is absolute): skipped' },
    { file: 'evil.zip', place: 'entry C:/win.json', message: 'unsafe path (it starts with a drive letter): skipped' },
    { file: 'evil.zip', place: 'entry dir\\back.json', message: 'unsafe path (it contains a backslash): skipped' },
    { file: 'evil.zip', place: 'entry deep/../../up.json', message: 'unsafe path (it has a ".." segment): skipped' },
  ];
  const zip = craftZip(entries);
  const items = await readUpload(zip, 'evil.zip');
  assert.deepEqual(problems(items), expected);
  assert.deepEqual(names(items), ['evil.zip:good.json', 'evil.zip:also-good.md']);
  assert.deepEqual(
    items.filter((i) => i.name).map((i) => i.data),
    [good, good],
  );

  // The same from the local headers (no central directory).
  const headersOnly = await readUpload(zip.subarray(0, zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]))), 'evil.zip');
  assert.deepEqual(problems(headersOnly).slice(1), expected);
  assert.deepEqual(names(headersOnly), ['evil.zip:good.json', 'evil.zip:also-good.md']);
  assert.equal(unsafePathReason('ok/fine.json'), undefined);
  assert.equal(unsafePathReason('a/\u0000.json'), 'it contains control characters');
});

test('archives inside the zip are reported as not opened, each by its path; the rest is read', async () => {
  const conversations = Buffer.from('[]');
  const inner = await yazlZip([{ name: 'conversations.json', data: Buffer.from('[{"id":"hidden"}]') }]);
  const zip = await yazlZip([
    { name: 'conversations.json', data: conversations },
    { name: 'older/export-2023.zip', data: inner },
    { name: 'backup.tar.gz', data: randomBytes(100) },
    { name: '__MACOSX/older/._export-2023.zip', data: Buffer.from([0, 5, 22, 7]) },
  ]);
  const expected = [
    {
      file: 'nested.zip',
      place: 'entry older/export-2023.zip',
      message: 'an archive inside the archive is not opened (nested archives are not read): skipped; unpack it and upload what it holds',
    },
    {
      file: 'nested.zip',
      place: 'entry backup.tar.gz',
      message: 'an archive inside the archive is not opened (nested archives are not read): skipped; unpack it and upload what it holds',
    },
  ];
  const items = await readUpload(zip, 'nested.zip');
  assert.deepEqual(problems(items), expected);
  assert.deepEqual(names(items), ['nested.zip:conversations.json']);
  // The same from the local headers (no central directory).
  const headersOnly = await readUpload(zip.subarray(0, zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]))), 'nested.zip');
  assert.deepEqual(problems(headersOnly).slice(1), expected);
  assert.deepEqual(names(headersOnly), ['nested.zip:conversations.json']);
});

test('zip bombs are skipped by their declared sizes, without inflating them', async () => {
  const zeros = 50 * 1024 * 1024;
  const bomb = await deflatedZeros(zeros);
  const ok = Buffer.from('[]');
  const zip = craftZip([
    { name: 'bomb.json', method: 8, stored: bomb, size: zeros, crc: 0 },
    { name: 'conversations.json', data: ok },
  ]);
  const rssBefore = process.memoryUsage().rss;

  // The default ratio limit (200:1): 50 MB of zeros deflate about 1000:1.
  const byRatio = await readUpload(zip, 'bomb.zip');
  assert.deepEqual(names(byRatio), ['bomb.zip:conversations.json']);
  assert.equal(problems(byRatio).length, 1);
  assert.equal(problems(byRatio)[0]?.place, 'entry bomb.json');
  assert.match(
    problems(byRatio)[0]?.message ?? '',
    /^compression ratio \d+:1 is over the limit of 200:1 \(maxCompressionRatio\), a likely zip bomb: skipped$/,
  );

  // The size limit.
  const bySize = await readUpload(zip, 'bomb.zip', { ...DEFAULT_LIMITS, maxCompressionRatio: 1e9, maxEntryBytes: 10 * 1024 * 1024 });
  assert.match(
    problems(bySize)[0]?.message ?? '',
    /^declares 52428800 bytes, over the limit of 10485760 bytes per entry \(maxEntryBytes\): skipped$/,
  );
  assert.deepEqual(names(bySize), ['bomb.zip:conversations.json']);
  assert.ok(process.memoryUsage().rss - rssBefore < 40 * 1024 * 1024, 'the bomb was not inflated into memory');

  // The total limit: the second 3 MB entry would bring the total over 5 MB.
  const big = Buffer.alloc(3 * 1024 * 1024, 0x20);
  const twoBig = craftZip([
    { name: 'a.json', data: big },
    { name: 'b.json', data: big },
    { name: 'c.json', data: ok },
  ]);
  const byTotal = await readUpload(twoBig, 'big.zip', { ...DEFAULT_LIMITS, maxCompressionRatio: 1e9, maxTotalBytes: 5 * 1024 * 1024 });
  assert.deepEqual(names(byTotal), ['big.zip:a.json', 'big.zip:c.json']);
  assert.match(problems(byTotal)[0]?.message ?? '', /over the limit of 5242880 bytes in all \(maxTotalBytes\): skipped$/);

  // The entry count.
  const many = craftZip(['1', '2', '3', '4'].map((n) => ({ name: `${n}.json`, data: ok })));
  const byCount = await readUpload(many, 'many.zip', { ...DEFAULT_LIMITS, maxEntries: 2 });
  assert.deepEqual(names(byCount), ['many.zip:1.json', 'many.zip:2.json']);
  assert.deepEqual(problems(byCount), [
    {
      file: 'many.zip',
      place: 'entry 3.json',
      message: 'the archive has more than 2 entries, the limit (maxEntries): only the first 2 were read',
    },
  ]);
});

test('an entry that inflates past the size it declares errors on its stream', async () => {
  const bomb = await deflatedZeros(5 * 1024 * 1024);
  const zip = craftZip([
    { name: 'liar.json', method: 8, stored: bomb, size: 1000, crc: 0 },
    { name: 'short.json', data: Buffer.from('[1,2,3]'), size: 100 },
    { name: 'bad-crc.json', data: Buffer.from('[1,2,3]'), crc: 1234 },
    { name: 'after.json', data: Buffer.from('[]') },
  ]);
  const items = await readUpload(zip, 'liar.zip');
  assert.deepEqual(problems(items), []);
  const [liar, short, badCrc, after] = items;
  assert.equal(liar?.error, 'liar.zip:liar.json: inflates to more than the 1000 bytes it declares (its header lies): stopped');
  assert.ok((liar?.data?.length ?? Infinity) <= 1000);
  assert.equal(short?.error, 'liar.zip:short.json: holds only 7 bytes of the 100 bytes it declares: the entry is damaged');
  assert.equal(badCrc?.error, 'liar.zip:bad-crc.json: its data does not match its checksum (CRC-32): the entry is damaged');
  assert.deepEqual(after?.data, Buffer.from('[]'));
});

test('encrypted entries, unknown methods and inconsistent stored sizes are reported; the rest is read', async () => {
  const data = Buffer.from('[]');
  const zip = craftZip([
    { name: 'secret.json', data, flags: 0x1 },
    { name: 'bzip2.json', data, method: 12, stored: Buffer.from('BZh9') },
    { name: 'stored.json', data, method: 0, compressedSize: 2, size: 5000 },
    { name: 'encrypted-picture.png', data, flags: 0x1 },
    { name: 'plain.json', data },
  ]);
  const items = await readUpload(zip, 'mixed.zip');
  assert.deepEqual(problems(items), [
    { file: 'mixed.zip', place: 'entry secret.json', message: 'the entry is encrypted: skipped' },
    {
      file: 'mixed.zip',
      place: 'entry bzip2.json',
      message: 'unsupported compression method 12 (only stored and deflated entries are read): skipped',
    },
    { file: 'mixed.zip', place: 'entry stored.json', message: 'the stored entry declares 5000 bytes but holds 2 bytes: skipped' },
  ]);
  assert.deepEqual(names(items), ['mixed.zip:plain.json']);
});

for (const [streamed, consumer] of [
  [false, 'slow'],
  [true, 'slow'],
  [true, 'pipe'],
  [false, 'read-n'],
] as const) {
  const layout = streamed ? 'data descriptors' : 'sizes in local headers';
  test(`a truncated zip (${layout}, ${consumer} reader): what precedes the cut is read, then the stream errors`, async () => {
    const small = Buffer.from('[{"id":"first"}]');
    const conversations = conversationsJson(2 * 1024 * 1024);
    const zip = await yazlZip([
      { name: 'chat.html', data: Buffer.from('<html></html>'), streamed },
      { name: 'small.json', data: small, streamed },
      { name: 'conversations.json', data: conversations, streamed },
    ]);
    const cut = zip.subarray(0, Math.floor(zip.length * 0.6));
    const started = Date.now();
    const items = await readUpload(cut, 'export.zip', DEFAULT_LIMITS, consumer);
    assert.deepEqual(problems(items), [
      {
        file: 'export.zip',
        place: `byte ${cut.length}`,
        message: 'the zip is truncated or damaged (no central directory): read what precedes the damage',
      },
    ]);
    assert.deepEqual(names(items), ['export.zip:small.json', 'export.zip:conversations.json']);
    assert.deepEqual(items[1]?.data, small);
    assert.equal(items[1]?.error, undefined);
    const partial = items[2];
    assert.equal(
      partial?.error,
      `export.zip:conversations.json: the file ends at byte ${cut.length}, inside this entry: the zip is truncated and the rest of the entry is missing`,
    );
    const got = partial?.data ?? Buffer.alloc(0);
    // All that can be inflated from what is left of the entry (it is the last one in the zip).
    const header = cut.lastIndexOf(Buffer.from('PK\x03\x04', 'latin1'));
    const dataStart = header + 30 + cut.readUInt16LE(header + 26) + cut.readUInt16LE(header + 28);
    const readable = zlib.inflateRawSync(cut.subarray(dataStart), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).length;
    assert.ok(readable > 1024 * 1024);
    assert.equal(got.length, readable, 'every byte before the cut is delivered');
    assert.ok(got.equals(conversations.subarray(0, got.length)), 'the bytes before the cut are the original ones');
    assert.ok(Date.now() - started < 3000);
  });
}

test('a damaged central directory: the entries after the damage are read from their local headers', async () => {
  const zip = await yazlZip([
    { name: 'a.json', data: Buffer.from('"a"') },
    { name: 'b.json', data: Buffer.from('"b"'), streamed: true },
    { name: 'c.json', data: Buffer.from('"c"') },
  ]);
  const damaged = Buffer.from(zip);
  const first = damaged.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  const second = damaged.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), first + 4);
  damaged.writeUInt32LE(0xdeadbeef, second);
  const items = await readUpload(damaged, 'x.zip');
  assert.equal(problems(items).length, 1);
  assert.equal(problems(items)[0]?.place, 'entry #2');
  assert.match(
    problems(items)[0]?.message ?? '',
    /^the zip's central directory is damaged \(invalid central directory file header signature: 0xdeadbeef\)/,
  );
  assert.deepEqual(
    items.filter((i) => i.name).map((i) => [i.name, i.data?.toString(), i.error]),
    [
      ['x.zip:a.json', '"a"', undefined],
      ['x.zip:b.json', '"b"', undefined],
      ['x.zip:c.json', '"c"', undefined],
    ],
  );
});

test('without declared sizes (data descriptors, no central directory), the limits hold while streaming', async () => {
  const bomb = await deflatedZeros(50 * 1024 * 1024);
  const zip = craftZip([{ name: 'bomb.json', method: 8, stored: bomb, flags: 0x8, size: 0, compressedSize: 0, crc: 0 }]);
  const headersOnly = zip.subarray(0, zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])));
  const items = await readUpload(headersOnly, 'bomb.zip');
  assert.equal(problems(items).length, 1);
  const entry = items.find((i) => i.name);
  assert.equal(
    entry?.error,
    'bomb.zip:bomb.json: inflates over 200 times its compressed size (maxCompressionRatio), a likely zip bomb: stopped',
  );
  assert.ok((entry?.data?.length ?? Infinity) < 2 * 1024 * 1024);
});

test('a file that is not a zip is one entry, its kind by extension or by its first byte', async () => {
  const json = Buffer.from('  [{"id": 1}]');
  assert.deepEqual(await readUpload(json, 'conversations.json'), [
    { name: 'conversations.json', kind: 'json', size: json.length, data: json },
  ]);
  assert.equal((await readUpload(json, 'export'))[0]?.kind, 'json');
  assert.equal((await readUpload(Buffer.from('\ufeff{"a":1}'), 'export.dat'))[0]?.kind, 'json');
  assert.equal((await readUpload(Buffer.from('User: hi'), 'transcript'))[0]?.kind, 'text');
  assert.equal((await readUpload(Buffer.from('# Chat'), 'chat.md'))[0]?.kind, 'markdown');
  assert.equal((await readUpload(Buffer.from('{}\n{}\n'), 'x.ndjson'))[0]?.kind, 'jsonl');
  assert.deepEqual(await readUpload(Buffer.from('<html>'), 'export.zip'), [
    {
      problem: {
        file: 'export.zip',
        place: 'byte 0',
        message: 'not a zip archive: it does not start with a zip signature (is the download complete?)',
      },
    },
  ]);
  assert.deepEqual(problems(await readUpload(await yazlZip([]), 'empty.zip')), [
    { file: 'empty.zip', place: 'byte 0', message: 'the zip archive holds no files' },
  ]);
  // A zip is a zip whatever it is called.
  assert.deepEqual(names(await readUpload(await yazlZip([{ name: 'conversations.json', data: json }]), 'export.json')), [
    'export.json:conversations.json',
  ]);
});

test('stopping early, or destroying an entry stream midway, leaves nothing behind', async () => {
  const big = conversationsJson(300_000);
  const path = await onDisk(
    await yazlZip([
      { name: 'a.json', data: big },
      { name: 'b.json', data: big },
    ]),
  );
  const seen: EntryItem[] = [];
  for await (const item of readExportEntries(path, 'x.zip', DEFAULT_LIMITS)) {
    seen.push(item);
    if (!item.ok) continue;
    const stream = await item.entry.open();
    for await (const _ of stream) break; // destroys the stream after one chunk
    assert.equal(stream.destroyed, true);
    break;
  }
  assert.equal(seen.length, 1);
  // The generator was closed: opening a second reader on the same file works as before.
  assert.deepEqual(names(await readUpload(await yazlZip([{ name: 'a.json', data: big }]), 'y.zip')), ['y.zip:a.json']);
});
