import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, test } from 'node:test';
import type { UploadExportChunk } from '@trajectory/contracts';
import { Upload } from '@trajectory/ingestion';
import { ServiceError } from '@trajectory/runtime';
import { receiveUpload, uploadFolder } from './upload-spool.js';

const folders: { remove(): Promise<void> }[] = [];
after(() => Promise.all(folders.map((f) => f.remove())));

const header = (ingestId = 'spool-test'): UploadExportChunk => ({ header: { fileName: 'export.json', source: 0, ingestId, size: 6 } });
const data = (text: string): UploadExportChunk => ({ data: Buffer.from(text) });

async function* stream(chunks: UploadExportChunk[]): AsyncGenerator<UploadExportChunk> {
  yield* chunks;
}

/** Runs receiveUpload over `chunks`; what was claimed and saved, and the spooled file's path. */
async function receive(chunks: UploadExportChunk[], { maxBytes = 1_000, claim = async () => {} } = {}) {
  const folder = await uploadFolder();
  folders.push(folder);
  const upload = new Upload({ maxBytes, newIngestId: () => 'picked' });
  const events: string[] = [];
  const run = receiveUpload(
    stream(chunks),
    folder.uploadPath,
    upload,
    async () => {
      events.push(`claim ${upload.status.ingestId}`);
      await claim();
    },
    async () => {
      events.push(`save ${upload.status.bytesReceived}`);
    },
  );
  return { run, events, upload, folder, path: folder.uploadPath };
}

const refusedWith = (status: string, message: RegExp) => (err: unknown) =>
  err instanceof ServiceError && err.status === status && message.test(err.message);

test('an upload is claimed on its header, then its data is spooled to the file, saving as it goes', async () => {
  const { run, events, path } = await receive([header(), data('hel'), data('lo!')]);
  await run;
  assert.deepEqual(events, ['claim spool-test', 'save 3', 'save 6']);
  assert.equal(readFileSync(path, 'utf8'), 'hello!');
});

test("the core's refusals reach the caller as ServiceErrors with their gRPC status", async () => {
  const cases: [UploadExportChunk[], number, string, RegExp][] = [
    [[data('x')], 1_000, 'INVALID_ARGUMENT', /the first chunk must be a header/],
    [[header(), header('other')], 1_000, 'INVALID_ARGUMENT', /only the first chunk may be a header/],
    [[], 1_000, 'INVALID_ARGUMENT', /the upload had no header/],
    [[header(), data('12345'), data('6')], 5, 'RESOURCE_EXHAUSTED', /INGESTION_MAX_UPLOAD_BYTES \(5\)/],
  ];
  for (const [chunks, maxBytes, status, message] of cases) {
    const { run } = await receive(chunks, { maxBytes });
    await assert.rejects(run, refusedWith(status, message), status);
  }
});

test('a failed claim stops the upload before any byte is written', async () => {
  const taken = new ServiceError('ALREADY_EXISTS', 'ingest id spool-test is already in use');
  const { run, events } = await receive([header(), data('never')], {
    claim: async () => {
      throw taken;
    },
  });
  await assert.rejects(run, (err) => err === taken);
  assert.deepEqual(events, ['claim spool-test']);
});

test('an upload folder goes with everything in it', async () => {
  const { run, path, folder } = await receive([header(), data('x')]);
  await run;
  assert.equal(existsSync(path), true);
  await folder.remove();
  assert.equal(existsSync(dirname(path)), false);
});
