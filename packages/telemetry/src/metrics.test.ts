import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { initTelemetry, meter, withSpan } from './index.js';

interface Received {
  path: string;
  contentType: string;
  body: string;
}

test('one setup exports spans and metrics to the OTLP endpoint as JSON, under the service name', async () => {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        contentType: String(req.headers['content-type']),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const telemetry = initTelemetry({ serviceName: 'metrics-test', otlpEndpoint: `http://127.0.0.1:${port}/`, logLevel: 'silent' });
    meter().createCounter('test.widgets').add(3, { colour: 'blue' });
    await withSpan('work', {}, async () => undefined);
    // Shutdown flushes both: the metric export interval (60 s) has not come round yet.
    await telemetry.shutdown();

    const metrics = received.filter((r) => r.path === '/v1/metrics');
    assert.equal(metrics.length, 1, `metric exports: ${received.map((r) => r.path).join(', ')}`);
    assert.match(metrics[0]?.contentType ?? '', /application\/json/);
    const body = JSON.parse(metrics[0]?.body ?? '{}');
    const resource = body.resourceMetrics[0];
    const resourceAttribute = (key: string) => resource.resource.attributes.find((a: { key: string }) => a.key === key)?.value;
    assert.deepEqual(resourceAttribute('service.name'), { stringValue: 'metrics-test' });
    assert.match(resourceAttribute('service.instance.id')?.stringValue ?? '', new RegExp(`-${process.pid}$`));
    const metric = resource.scopeMetrics[0].metrics.find((m: { name: string }) => m.name === 'test.widgets');
    assert.equal(metric.sum.dataPoints[0].asInt ?? metric.sum.dataPoints[0].asDouble, 3);

    const traces = received.filter((r) => r.path === '/v1/traces');
    assert.equal(traces.length, 1);
    assert.match(traces[0]?.body ?? '', /"name":"work"/);
  } finally {
    server.close();
  }
});
