// Two segmentation processes on the one durable work queue, through real NATS: the second
// process takes part of the load and no conversation is segmented twice. (The speed-up of a
// second worker is measured in bench/segmentation-scaling.mjs, not asserted here.)
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Subscription } from '@nats-io/nats-core';
import { type Bus, publishEvent, SUBJECTS } from '@trajectory/bus';
import { ConversationIngested, ExportSource, Message } from '@trajectory/contracts';
import { freePort } from '@trajectory/local-servers';
import { type ServiceProcess, startServiceProcess, startTestBus, type TestServers } from '@trajectory/testkit';

const CONVERSATIONS = 24;

let servers: TestServers;
let bus: Bus;
let workDir: string;
const workers: ServiceProcess[] = [];

before(async () => {
  ({ servers, bus } = await startTestBus('admin', 'segmentation-workers-itest'));
  workDir = mkdtempSync(join(tmpdir(), 'segmentation-workers-'));
});

after(async () => {
  for (const w of workers) await w.stop();
  await bus?.close();
  await servers?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function conversation(i: number) {
  const turns = [
    ['user', `Question ${i}: how should I structure the retry logic of service number ${i}?`],
    ['assistant', `For service ${i}, retry with exponential backoff and a cap; keep the operation idempotent.`],
    ['user', `Actually, service ${i} calls a payment API, so retries must not charge twice.`],
    ['assistant', `Then give every payment of service ${i} an idempotency key and retry only with the same key.`],
  ];
  const messages = turns.map(([role, text], k) =>
    Message.fromPartial({ id: `c${i}-m${k}`, parentId: k > 0 ? `c${i}-m${k - 1}` : '', role, text, onCurrentBranch: true }),
  );
  return {
    id: `conversation-${i}`,
    source: ExportSource.EXPORT_SOURCE_CHATGPT,
    title: `retries ${i}`,
    currentLeafId: messages.at(-1)?.id ?? '',
    messages,
    sourceFile: 'itest.json',
  };
}

test('a second worker process takes part of the load; no conversation is segmented twice', async () => {
  const env = { ...servers.nats.serviceEnv(), SEGMENTATION_CONCURRENCY: '1', SEGMENTATION_SIGNAL: 'lexical', LOG_LEVEL: 'info' };
  for (const name of ['a', 'b']) {
    workers.push(await startServiceProcess('segmentation', { env, logDir: join(workDir, name), port: await freePort() }));
  }
  // Every publish of a segmented event is counted, duplicates the stream would drop included.
  const segmented: string[] = [];
  const sub: Subscription = bus.nc.subscribe(SUBJECTS.conversationSegmented, {
    callback: (_err, msg) => {
      segmented.push(msg.headers?.get('Nats-Msg-Id') ?? '');
    },
  });
  for (let i = 0; i < CONVERSATIONS; i++) {
    const c = conversation(i);
    await publishEvent(
      bus,
      SUBJECTS.conversationIngested,
      ConversationIngested,
      ConversationIngested.fromPartial({ ingestId: 'itest', contentHash: `h${i}`, conversation: c }),
      `ingested:${c.id}:h${i}`,
    );
  }
  const deadline = Date.now() + 60_000;
  while (segmented.length < CONVERSATIONS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1_000)); // time for a stray second delivery to show
  sub.unsubscribe();

  assert.equal(segmented.length, CONVERSATIONS, 'each conversation segmented exactly once');
  assert.equal(new Set(segmented).size, CONVERSATIONS);
  const handled: number[] = workers.map(
    (w) =>
      readFileSync(w.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"conversation segmented"')).length,
  );
  assert.equal(
    handled.reduce((a, b) => a + b, 0),
    CONVERSATIONS,
  );
  assert.ok(
    handled.every((n) => n > 0),
    `both workers took conversations: ${handled.join(' / ')}`,
  );
});
