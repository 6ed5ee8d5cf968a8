import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { metrics } from '@opentelemetry/api';
import { type DataPoint, type Histogram, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { tracedImplementation } from './grpc.js';

class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

test('every call served is in rpc.server.call.duration, per method, a failed one with its status', async () => {
  const reader = new OnDemandReader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  const impl = tracedImplementation('graph', {
    getStats: (_call: unknown, callback: grpc.sendUnaryData<string>) => callback(null, 'ok'),
    getNode: (_call: unknown, callback: grpc.sendUnaryData<string>) => callback({ code: grpc.status.NOT_FOUND, details: 'no node' }),
  });
  const call = () => ({ metadata: new grpc.Metadata(), on: () => undefined });
  const done = () => undefined;
  for (let i = 0; i < 2; i++) (impl.getStats as (c: unknown, cb: unknown) => void)(call(), done);
  (impl.getNode as (c: unknown, cb: unknown) => void)(call(), done);

  const { resourceMetrics } = await reader.collect();
  const points = resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .filter((m) => m.descriptor.name === 'rpc.server.call.duration')
    .flatMap((m) => m.dataPoints as DataPoint<Histogram>[]);
  assert.deepEqual(points.map((p) => [p.attributes['rpc.method'], p.attributes['error.type'], p.value.count]).sort(), [
    ['getNode', 'NOT_FOUND', 1],
    ['getStats', undefined, 2],
  ]);
  assert.equal(points[0]?.attributes['rpc.service'], 'graph');
});
