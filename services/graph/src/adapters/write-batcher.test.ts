import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConversationSegmented } from '@trajectory/contracts';
import { createWriteBatcher } from './write-batcher.js';

const event = (id: string) => ConversationSegmented.fromPartial({ conversation: { id } });
const ids = (events: ConversationSegmented[]) => events.map((e) => e.conversation?.id);

test('concurrent conversations are written together, each resolved after the write', async () => {
  const writes: (string | undefined)[][] = [];
  const batcher = createWriteBatcher(
    async (events) => {
      writes.push(ids(events));
    },
    { maxBatch: 3, maxWaitMs: 20 },
  );
  await Promise.all(['a', 'b', 'c', 'd'].map((id) => batcher.add(event(id))));
  assert.deepEqual(writes, [['a', 'b', 'c'], ['d']]);
});

test('a failing batch is retried one by one, so only the bad conversation fails', async () => {
  const writes: (string | undefined)[][] = [];
  const batcher = createWriteBatcher(
    async (events) => {
      writes.push(ids(events));
      if (ids(events).includes('bad')) throw new Error('bad conversation');
    },
    { maxBatch: 3, maxWaitMs: 20 },
  );
  const results = await Promise.allSettled(['a', 'bad', 'c'].map((id) => batcher.add(event(id))));
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.deepEqual(writes, [['a', 'bad', 'c'], ['a'], ['bad'], ['c']]);
});

test('a failure that is no conversation’s fault (the database is gone) fails the whole batch at once, without one-by-one retries', async () => {
  const writes: (string | undefined)[][] = [];
  const gone = new Error('database unavailable');
  const batcher = createWriteBatcher(
    async (events) => {
      writes.push(ids(events));
      throw gone;
    },
    { maxBatch: 3, maxWaitMs: 20, failsEveryone: (err) => err === gone },
  );
  const results = await Promise.allSettled(['a', 'b', 'c'].map((id) => batcher.add(event(id))));
  assert.deepEqual(
    results.map((r) => (r.status === 'rejected' ? r.reason : r.status)),
    [gone, gone, gone],
  );
  assert.deepEqual(writes, [['a', 'b', 'c']]);
});
