import assert from 'node:assert/strict';
import { test } from 'node:test';
import { currentTraceId, extractTraceContext, initTelemetry, injectTraceContext, trace, withSpan } from './index.js';

const mapSetter = { set: (c: Map<string, string>, k: string, v: string) => c.set(k, v) };
const mapGetter = {
  get: (c: Map<string, string>, k: string) => c.get(k),
  keys: (c: Map<string, string>) => [...c.keys()],
};

test('trace context crosses a carrier and parents the remote span', async () => {
  initTelemetry({ serviceName: 'telemetry-test', logLevel: 'silent' });
  const carrier = new Map<string, string>();
  let sentTraceId: string | undefined;
  await withSpan('send', {}, async () => {
    sentTraceId = currentTraceId();
    injectTraceContext(carrier, mapSetter);
  });
  assert.match(carrier.get('traceparent') ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const remote = extractTraceContext(carrier, mapGetter);
  await withSpan('receive', { parent: remote }, async (span) => {
    assert.equal(span.spanContext().traceId, sentTraceId);
    assert.equal(trace.getActiveSpan(), span);
  });
});

test('a failing span rethrows', async () => {
  await assert.rejects(
    withSpan('boom', {}, async () => {
      throw new Error('nope');
    }),
    /nope/,
  );
});
