import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Adapter, DatasetManifest, TrainingJob } from '@trajectory/contracts';
import {
  AdapterRejected,
  adapterObjectName,
  adapterUri,
  checkAdapterListing,
  completeAdapter,
  isSafeFileName,
  rechunk,
} from './adapters.js';

const SHA = 'ab'.repeat(32);
const listing = (over: Partial<Adapter> = {}) =>
  Adapter.fromPartial({
    adapterId: 'job1-a1',
    files: [
      { name: 'adapter_config.json', sha256: SHA, size: 10 },
      { name: 'adapter_model.safetensors', sha256: 'cd'.repeat(32), size: 20 },
    ],
    ...over,
  });

test('object names and the published uri', () => {
  assert.equal(adapterObjectName('a1', 'merged/model.safetensors'), 'a1/merged/model.safetensors');
  assert.equal(adapterUri('trajectory_adapters', 'a1'), 'nats://trajectory_adapters/a1/');
});

test('a listing is checked before any byte is read', () => {
  checkAdapterListing(listing());
  const bad: [Adapter | undefined, RegExp][] = [
    [undefined, /carries no adapter/],
    [listing({ adapterId: '' }), /invalid adapter id/],
    [listing({ adapterId: 'a/b' }), /invalid adapter id/],
    [listing({ files: [] }), /lists no files/],
    [listing({ files: [{ name: '../etc/passwd', sha256: SHA, size: 1 }] }), /not a safe relative path/],
    [
      listing({
        files: [
          { name: 'x', sha256: SHA, size: 1 },
          { name: 'x', sha256: SHA, size: 1 },
        ],
      }),
      /listed twice/,
    ],
    [listing({ files: [{ name: 'x', sha256: 'nope', size: 1 }] }), /not a hex digest/],
    [listing({ sha256: SHA }), /differs from adapter_model.safetensors/],
  ];
  for (const [adapter, message] of bad) {
    assert.throws(
      () => checkAdapterListing(adapter),
      (err: Error) => err instanceof AdapterRejected && message.test(err.message),
    );
  }
  assert.ok(isSafeFileName('merged/config.json'));
  assert.ok(!isSafeFileName('/abs'));
  assert.ok(!isSafeFileName('a//b'));
});

test('the metadata is completed from the job and the dataset manifest', () => {
  const job = TrainingJob.fromPartial({
    jobId: 'job1',
    baseModel: 'Qwen/Qwen2.5-7B-Instruct',
    datasetId: 'd1',
    datasetVersion: 4,
    hyperparameters: { loraR: 64 },
    metrics: { train_loss: 0.3 },
  });
  const manifest = DatasetManifest.fromPartial({ datasetId: 'd1', version: 4, objects: ['d1/records.jsonl', 'd1/report.json'] });
  const now = new Date('2026-02-01T00:00:00Z');
  const a = completeAdapter(listing(), job, manifest, now);
  assert.equal(a.jobId, 'job1');
  assert.equal(a.baseModel, 'Qwen/Qwen2.5-7B-Instruct');
  assert.equal(a.datasetVersion, 4);
  assert.deepEqual(a.datasetObjects, ['d1/records.jsonl', 'd1/report.json']);
  assert.equal(a.hyperparameters?.loraR, 64);
  assert.deepEqual(a.metrics, { train_loss: 0.3 });
  assert.equal(a.sha256, 'cd'.repeat(32), 'the digest of the weights file');
  assert.equal(a.createdAt?.toISOString(), now.toISOString());
  const own = completeAdapter(listing({ baseModel: 'mine', metrics: { eval_loss: 1 } }), job, manifest, now);
  assert.equal(own.baseModel, 'mine', "the trainer's values win");
  assert.deepEqual(own.metrics, { eval_loss: 1 });
});

test('rechunk cuts into pieces of at most the limit and keeps every byte in order', async () => {
  const input = [new Uint8Array(5).fill(1), new Uint8Array(0), new Uint8Array(9).fill(2), new Uint8Array(3).fill(3)];
  async function* source() {
    yield* input;
  }
  const out: Uint8Array[] = [];
  for await (const c of rechunk(source(), 4)) out.push(Uint8Array.from(c));
  assert.deepEqual(
    out.map((c) => c.byteLength),
    [4, 4, 4, 4, 1],
  );
  assert.deepEqual(Buffer.concat(out), Buffer.concat(input));
  const none: Uint8Array[] = [];
  for await (const c of rechunk((async function* () {})(), 4)) none.push(c);
  assert.equal(none.length, 0);
});
