import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IngestState, IngestStatus } from '@trajectory/contracts';
import { emptyReport } from '@trajectory/ingestion';
import { encodeStatus } from './kv.js';

test('a status is encoded within its byte budget, its report lists shortened and its totals kept', () => {
  const problems = Array.from({ length: 5_000 }, (_, i) => ({ fileName: 'conversations.json', place: `[${i}]`, message: 'x'.repeat(400) }));
  const report = { ...emptyReport(), conversations: 2, skipped: problems, skippedTotal: 200_000, warnings: problems, warningsTotal: 5_000 };
  const status = IngestStatus.fromPartial({
    ingestId: 'big',
    state: IngestState.INGEST_STATE_DONE,
    error: 'e'.repeat(100_000),
    result: { ingestId: 'big', report },
  });
  assert.ok(JSON.stringify(IngestStatus.toJSON(status)).length > 4 * 1024 * 1024);
  const json = encodeStatus(status, 256 * 1024);
  assert.ok(Buffer.byteLength(json) <= 256 * 1024, `${Buffer.byteLength(json)} bytes`);
  const decoded = IngestStatus.fromJSON(JSON.parse(json));
  assert.equal(decoded.state, IngestState.INGEST_STATE_DONE);
  assert.equal(decoded.result?.report?.skippedTotal, 200_000);
  assert.equal(decoded.result?.report?.warningsTotal, 5_000);
  assert.equal(decoded.result?.report?.conversations, 2);
  assert.deepEqual(decoded.result?.report?.skipped[0], problems[0]);
  assert.ok((decoded.result?.report?.skipped.length ?? 0) > 100, 'only as much is dropped as it takes');
  assert.equal(decoded.error.length, 2_000);
});

test('a status that fits is encoded whole', () => {
  const status = IngestStatus.fromPartial({
    ingestId: 'small',
    state: IngestState.INGEST_STATE_DONE,
    result: { ingestId: 'small', report: emptyReport() },
  });
  assert.deepEqual(IngestStatus.fromJSON(JSON.parse(encodeStatus(status, 256 * 1024))), status);
});
