import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IngestState, type UploadExportChunk } from '@trajectory/contracts';
import { emptyReport } from './report.js';
import { isIngestId, StatusSaveThrottle, Upload, type UploadStep } from './upload.js';

const header = (fileName = 'conversations.json', ingestId = 'my-upload', size = 10): UploadExportChunk => ({
  header: { fileName, source: 0, ingestId, size },
});
const data = (text: string): UploadExportChunk => ({ data: Buffer.from(text) });
const upload = (maxBytes = 1_000) => new Upload({ maxBytes, newIngestId: () => 'server-picked' });

test('the header comes first: the upload takes its name, id and size, then asks for the id to be claimed', () => {
  const u = upload();
  assert.deepEqual(u.receive(header('export.zip', 'my-upload', 42)), { kind: 'claim' });
  assert.equal(u.status.fileName, 'export.zip');
  assert.equal(u.status.ingestId, 'my-upload');
  assert.equal(u.status.bytesExpected, 42);
  assert.equal(u.status.state, IngestState.INGEST_STATE_RECEIVING);
  const step = u.receive(data('hello'));
  assert.equal(step.kind, 'write');
  assert.equal(Buffer.from((step as Extract<UploadStep, { kind: 'write' }>).data).toString(), 'hello');
  assert.equal(u.status.bytesReceived, 5);
  assert.equal(u.end(), undefined);
});

test('a file name is reduced to its last part, and an empty one becomes "upload"', () => {
  const u = upload();
  u.receive(header('../../etc/passwd'));
  assert.equal(u.status.fileName, 'passwd');
  const empty = upload();
  empty.receive(header(''));
  assert.equal(empty.status.fileName, 'upload');
});

test('an id that is no ingest id, or none, is replaced by one the server picks', () => {
  for (const asked of ['', 'has space', 'a/b', 'x'.repeat(129)]) {
    const u = upload();
    u.receive(header('f.json', asked));
    assert.equal(u.status.ingestId, 'server-picked', asked);
  }
  assert.ok(isIngestId('Abc_12-3'));
  assert.ok(!isIngestId(''));
});

test('a second header is refused with INVALID_ARGUMENT', () => {
  const u = upload();
  u.receive(header());
  u.receive(data('x'));
  assert.deepEqual(u.receive(header('other.json', 'other')), {
    kind: 'refuse',
    refusal: { status: 'INVALID_ARGUMENT', message: 'only the first chunk may be a header' },
  });
  assert.equal(u.status.ingestId, 'my-upload');
});

test('data before the header is refused with INVALID_ARGUMENT', () => {
  assert.deepEqual(upload().receive(data('x')), {
    kind: 'refuse',
    refusal: { status: 'INVALID_ARGUMENT', message: 'the first chunk must be a header with the file name' },
  });
});

test('a stream without a header is refused when it ends', () => {
  const u = upload();
  assert.deepEqual(u.receive({}), { kind: 'skip' });
  assert.deepEqual(u.end(), { status: 'INVALID_ARGUMENT', message: 'the upload had no header' });
});

test('the size limit: up to maxBytes is taken, one byte more is RESOURCE_EXHAUSTED and still counted', () => {
  const u = upload(10);
  u.receive(header());
  assert.equal(u.receive(data('12345')).kind, 'write');
  assert.equal(u.receive(data('67890')).kind, 'write');
  assert.deepEqual(u.receive(data('!')), {
    kind: 'refuse',
    refusal: { status: 'RESOURCE_EXHAUSTED', message: 'upload exceeds INGESTION_MAX_UPLOAD_BYTES (10)' },
  });
  assert.equal(u.status.bytesReceived, 11);
});

test('states: RECEIVING -> PARSING -> DONE, with progress and the result; FAILED keeps the error', () => {
  const u = upload();
  u.receive(header());
  u.parsing();
  assert.equal(u.status.state, IngestState.INGEST_STATE_PARSING);
  assert.throws(() => u.receive(data('late')), /cannot receive a chunk/);
  u.progress({ conversationsRead: 3, conversationsPublished: 2 });
  assert.equal(u.status.conversationsRead, 3);
  assert.equal(u.status.conversationsPublished, 2);
  const result = { ingestId: 'my-upload', report: emptyReport() };
  u.done(result);
  assert.equal(u.status.state, IngestState.INGEST_STATE_DONE);
  assert.deepEqual(u.status.result, result);

  const failed = upload();
  failed.receive(header());
  failed.failed('the disk is full');
  assert.equal(failed.status.state, IngestState.INGEST_STATE_FAILED);
  assert.equal(failed.status.error, 'the disk is full');
});

test('states: no parsing without a header, no DONE without parsing', () => {
  assert.throws(() => upload().parsing(), /without a header/);
  const u = upload();
  u.receive(header());
  assert.throws(() => u.done({ ingestId: 'my-upload', report: emptyReport() }), /cannot be done/);
});

test('nothing is saved before the claim, forced or not', () => {
  const throttle = new StatusSaveThrottle();
  assert.equal(throttle.due(0), false);
  assert.equal(throttle.due(10_000, true), false);
});

test('after the claim, a save is due every 500 ms at most, and always when forced', () => {
  const throttle = new StatusSaveThrottle();
  throttle.claimed(1_000);
  assert.equal(throttle.due(1_499), false);
  assert.equal(throttle.due(1_500), true);
  assert.equal(throttle.due(1_600), false);
  assert.equal(throttle.due(1_700, true), true);
  assert.equal(throttle.due(2_199), false);
  assert.equal(throttle.due(2_200), true);
});
