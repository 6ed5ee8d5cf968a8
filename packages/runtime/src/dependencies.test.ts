import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getLogger } from '@trajectory/telemetry';
import { Dependencies } from './dependencies.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The probe's timers do not keep a process alive; the test's own deadline does. */
async function within<T>(promise: Promise<T>, ms = 2_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

test('a dependency whose probe fails is unavailable until the probe answers again, and its waiters resume then', async () => {
  let up = true;
  const changes: string[] = [];
  const dependencies = new Dependencies(getLogger(), (d) => changes.push(`${d.name} ${d.available}`));
  const neo4j = dependencies.watch(
    'neo4j',
    async () => {
      if (!up) throw new Error('connection refused');
    },
    { intervalMs: 10 },
  );
  try {
    await sleep(40);
    assert.equal(dependencies.allAvailable, true);
    up = false;
    await sleep(40);
    assert.equal(neo4j.available, false);
    assert.equal(dependencies.allAvailable, false);
    let resumed = false;
    const waiting = neo4j.whenAvailable().then(() => {
      resumed = true;
    });
    await sleep(40);
    assert.equal(resumed, false);
    up = true;
    await within(waiting);
    assert.equal(neo4j.available, true);
    assert.deepEqual(changes, ['neo4j false', 'neo4j true']);
  } finally {
    dependencies.stop();
  }
});

test('a probe that does not answer in time counts as a failure', async () => {
  const dependencies = new Dependencies(getLogger(), () => {});
  const hung = dependencies.watch('hung', () => new Promise(() => {}), { intervalMs: 5, timeoutMs: 20 });
  try {
    await sleep(80);
    assert.equal(hung.available, false);
  } finally {
    dependencies.stop();
  }
});

test('lost() turns a dependency unavailable at once; restored() or the next good probe brings it back', async () => {
  const dependencies = new Dependencies(getLogger(), () => {});
  const events = dependencies.watch('nats');
  const probed = dependencies.watch('neo4j', async () => undefined, { intervalMs: 10 });
  try {
    events.lost(new Error('disconnected'));
    probed.lost(new Error('ServiceUnavailable'));
    assert.equal(dependencies.allAvailable, false);
    events.restored();
    await within(probed.whenAvailable());
    assert.equal(dependencies.allAvailable, true);
  } finally {
    dependencies.stop();
  }
});
