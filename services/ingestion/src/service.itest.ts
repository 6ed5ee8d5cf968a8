import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  type IngestedConversation,
  type IngestedConversationPage,
  IngestionServiceClient,
  IngestState,
  type UploadExportChunk,
  type UploadExportResult,
} from '@trajectory/contracts';
import { oneMessageConversation } from '@trajectory/ingestion/testing';
import { freePort } from '@trajectory/local-servers';
import { createClient, unary } from '@trajectory/runtime';
import { REPO_ROOT, resetBus, type ServiceProcess, startServiceProcess, startTestServers, type TestServers } from '@trajectory/testkit';

// The ingestion service as it runs, against a real NATS: what a client of its gRPC API sees.

let servers: TestServers;
let ingestion: ServiceProcess;
let client: IngestionServiceClient;
let dir: string;

before(async () => {
  servers = await startTestServers();
  await resetBus(servers.nats);
  dir = mkdtempSync(join(tmpdir(), 'ingestion-service-itest-'));
  ingestion = await startServiceProcess('ingestion', {
    env: { ...servers.nats.serviceEnv() },
    logDir: join(dir, 'logs'),
    port: await freePort(),
  });
  client = createClient(IngestionServiceClient, ingestion.target, ingestion.auth);
});

after(async () => {
  client?.close();
  await ingestion?.stop();
  await servers?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function upload(fileName: string, content: string, ingestId: string): Promise<UploadExportResult> {
  return new Promise((resolve, reject) => {
    const call = client.uploadExport((err: grpc.ServiceError | null, res: UploadExportResult) => (err ? reject(err) : resolve(res)));
    const data = Buffer.from(content);
    call.write({ header: { fileName, source: 0, ingestId, size: data.length } });
    for (let i = 0; i < data.length; i += 256 * 1024) call.write({ data: data.subarray(i, i + 256 * 1024) });
    call.end();
  });
}

async function listed(ingestId: string): Promise<{ pages: number; conversations: IngestedConversation[] }> {
  const conversations: IngestedConversation[] = [];
  let pages = 0;
  for await (const page of client.listIngestedConversations({ ingestId }) as AsyncIterable<IngestedConversationPage>) {
    pages += 1;
    conversations.push(...page.conversations);
  }
  return { pages, conversations };
}

const tiny = (i: number) => JSON.stringify(oneMessageConversation(`conv-${i}`, `hi ${i}`));

test('an upload whose problems would fill more than NATS allows in a message still ends DONE, with every total', async () => {
  const bad = 20_000;
  // 20,000 problems of ~150 bytes: a 3 MB report, three times NATS's 1 MiB max payload.
  const elements = [tiny(1), ...Array.from({ length: bad }, (_, i) => `{"a_long_key_that_is_no_export_format_${i}":true}`), tiny(2)];
  const result = await upload('many-problems.json', `[${elements.join(',')}]`, 'many-problems');
  assert.equal(result.report?.conversations, 2);
  assert.equal(result.report?.skippedTotal, bad);
  const status = await unary(client.getIngest, client, { ingestId: 'many-problems' });
  assert.equal(status.state, IngestState.INGEST_STATE_DONE);
  assert.equal(status.conversationsRead, 2);
  assert.equal(status.result?.report?.conversations, 2);
  assert.equal(status.result?.report?.skippedTotal, bad);
  assert.ok((status.result?.report?.skipped.length ?? 0) > 0);
});

test('an upload cannot take an ingest id another upload holds: ALREADY_EXISTS, and the first keeps its status', async () => {
  await upload('first.json', `[${tiny(10)}]`, 'shared-id');
  await assert.rejects(upload('second.json', `[${tiny(11)},${tiny(12)}]`, 'shared-id'), (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.ALREADY_EXISTS);
    assert.match(err.details, /ingest id shared-id is already in use/);
    return true;
  });
  const status = await unary(client.getIngest, client, { ingestId: 'shared-id' });
  assert.equal(status.fileName, 'first.json');
  assert.equal(status.state, IngestState.INGEST_STATE_DONE);
  assert.equal(status.result?.report?.conversations, 1);
  assert.deepEqual(
    (await listed('shared-id')).conversations.map((c) => c.id),
    ['conv-10'],
  );
});

test('ListIngestedConversations streams every conversation of a finished upload in pages, in the order read', async () => {
  const n = 1_203;
  const result = await upload('many.json', `[${Array.from({ length: n }, (_, i) => tiny(1_000 + i)).join(',')}]`, 'many-conversations');
  assert.deepEqual(Object.keys(result).sort(), ['ingestId', 'report']);
  const { pages, conversations } = await listed('many-conversations');
  assert.equal(pages, 3);
  assert.deepEqual(
    conversations.map((c) => c.id),
    Array.from({ length: n }, (_, i) => `conv-${1_000 + i}`),
  );
  assert.ok(conversations.every((c) => c.contentHash.length === 64 && c.messages === 1 && !c.duplicate));
  await assert.rejects(listed('no-such-ingest'), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);
});

test('the real sample lists its three conversations, and a re-upload lists them as duplicates', async () => {
  const sample = readFileSync(join(REPO_ROOT, 'e2e', 'fixtures', 'chatgpt', 'conversations.json'), 'utf8');
  await upload('conversations.json', sample, 'sample-first');
  await upload('conversations.json', sample, 'sample-again');
  const first = (await listed('sample-first')).conversations;
  const again = (await listed('sample-again')).conversations;
  assert.equal(first.length, 3);
  assert.ok(first.every((c) => !c.duplicate));
  assert.deepEqual(
    again.map((c) => [c.id, c.contentHash, c.duplicate]),
    first.map((c) => [c.id, c.contentHash, true]),
  );
});

test("an upload's stream breaks a rule: INVALID_ARGUMENT, with the rule in the details", async () => {
  const send = (chunks: UploadExportChunk[]) =>
    new Promise<UploadExportResult>((resolve, reject) => {
      const call = client.uploadExport((err: grpc.ServiceError | null, res: UploadExportResult) => (err ? reject(err) : resolve(res)));
      for (const chunk of chunks) call.write(chunk);
      call.end();
    });
  const header = { fileName: 'rules.json', source: 0, ingestId: '', size: 2 };
  const cases: [UploadExportChunk[], RegExp][] = [
    [[{ data: Buffer.from('[]') }], /the first chunk must be a header/],
    [[{ header }, { header }], /only the first chunk may be a header/],
    [[], /the upload had no header/],
  ];
  for (const [chunks, details] of cases) {
    await assert.rejects(send(chunks), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, details);
      return true;
    });
  }
});
