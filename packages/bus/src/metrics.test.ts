import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DataPoint, type Histogram, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { workerMetrics } from './metrics.js';

/** A reader that collects on demand, so the test sees exactly what an export would carry. */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

async function collect(reader: MetricReader) {
  const { resourceMetrics } = await reader.collect();
  const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  return (name: string) => all.find((m) => m.descriptor.name === name)?.dataPoints ?? [];
}

function setup(pending: () => Promise<number>) {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  return { reader, metrics: workerMetrics('segmentation', pending, provider.getMeter('test')) };
}

test('processed, failed (retried or dead-lettered) and the handler duration, per consumer', async () => {
  const { reader, metrics } = setup(async () => 7);
  metrics.processed(0.2);
  metrics.processed(0.4);
  metrics.failed(1.5, new Error('neo4j away'), false);
  class PoisonMessageError extends Error {
    override name = 'PoisonMessageError';
  }
  metrics.failed(0.01, new PoisonMessageError('no conversation'), true);
  const points = await collect(reader);

  const processed = points('trajectory.worker.processed');
  assert.deepEqual(
    processed.map((p) => [p.attributes, p.value]),
    [[{ 'messaging.consumer.group.name': 'segmentation' }, 2]],
  );
  const failed = points('trajectory.worker.failed').map((p) => [
    p.attributes['error.type'],
    p.attributes['trajectory.dead_lettered'],
    p.value,
  ]);
  assert.deepEqual(failed.sort(), [
    ['Error', false, 1],
    ['PoisonMessageError', true, 1],
  ]);

  const durations = points('messaging.process.duration') as DataPoint<Histogram>[];
  const ok = durations.find((p) => p.attributes['error.type'] === undefined);
  assert.equal(ok?.value.count, 2);
  assert.ok(Math.abs((ok?.value.sum ?? 0) - 0.6) < 1e-9);
  assert.equal(
    durations.reduce((n, p) => n + p.value.count, 0),
    4,
    'every delivery, failed ones too',
  );
  // Seconds, in buckets that reach the minutes a long conversation can take.
  assert.ok((ok?.value.buckets.boundaries.at(-1) ?? 0) >= 300);
});

test('queue depth is read at each collection; a failed reading is skipped, never reported as 0', async () => {
  let pending: number | Error = 12;
  const { reader, metrics } = setup(async () => {
    if (pending instanceof Error) throw pending;
    return pending;
  });
  const depth = async () => (await collect(reader))('trajectory.worker.queue_depth').map((p) => p.value);
  assert.deepEqual(await depth(), [12]);
  pending = 3;
  assert.deepEqual(await depth(), [3]);
  pending = new Error('NATS away');
  assert.deepEqual(await depth(), [3], 'the last reading stands');
  metrics.close();
  pending = 5;
  assert.deepEqual(await depth(), [3], 'a stopped worker reads the queue no more');
});
