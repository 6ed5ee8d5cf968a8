import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Kvm } from '@nats-io/kv';
import { type Bus, publishEvent, STREAMS, SUBJECTS } from '@trajectory/bus';
import { ConversationIngested } from '@trajectory/contracts';
import { createRedactor, DEFAULT_LIMITS, ingestExport } from '@trajectory/ingestion';
import { REPO_ROOT, startTestBus, type TestServers } from '@trajectory/testkit';
import { kvLedger, LEDGER_BUCKET } from './kv.js';

let servers: TestServers;
let bus: Bus;

before(async () => {
  ({ servers, bus } = await startTestBus('ingestion', 'ingestion-itest'));
});

after(async () => {
  await bus?.close();
  await servers?.stop();
});

const SAMPLE = join(REPO_ROOT, 'e2e', 'fixtures', 'chatgpt', 'conversations.json');

async function ingestOnce(ingestId: string) {
  // A fresh KV handle each time, as a new ingestion process (or another replica) would have.
  const ledger = kvLedger(await new Kvm(bus.nc).create(LEDGER_BUCKET, { history: 1 }));
  return ingestExport({
    path: SAMPLE,
    fileName: 'conversations.json',
    ingestId,
    redactor: createRedactor('secrets'),
    limits: DEFAULT_LIMITS,
    ledger,
    publish: (event, msgId) => publishEvent(bus, SUBJECTS.conversationIngested, ConversationIngested, event, msgId),
  });
}

async function ingestedEventsInStream(): Promise<number> {
  const info = await bus.jsm.streams.info(STREAMS.events.name, { subjects_filter: SUBJECTS.conversationIngested });
  return info.state.subjects?.[SUBJECTS.conversationIngested] ?? 0;
}

test('re-ingesting an export through the KV ledger publishes no event', async () => {
  const first = await ingestOnce('first');
  assert.equal(first.report?.conversationsNew, 3);
  assert.equal(await ingestedEventsInStream(), 3);
  const second = await ingestOnce('second');
  assert.equal(second.report?.conversationsUnchanged, 3);
  assert.equal(second.report?.conversationsNew, 0);
  assert.equal(await ingestedEventsInStream(), 3, 'the stream got no new ingested event');
});
