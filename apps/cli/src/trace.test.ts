import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { conversationSpans, formatTrace, readTraceDir, spansOfLine, traceConversation } from './trace.js';

/**
 * Written by hand in the file exporter's format (OTLP JSON, one export request per line; checked
 * against what the compose stack's collector wrote): one upload of two conversations, conv-bread
 * (segmented on its second delivery) and conv-kiln, a rotated file, a metrics file, a line cut
 * short, and another trace.
 */
const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'traces');

test('reads every trace file of the folder, skips the metrics file, and counts a line cut short', async () => {
  const { spans, files, badLines } = await readTraceDir(FIXTURE_DIR);
  assert.equal(files, 2);
  assert.equal(badLines, 1);
  assert.equal(spans.length, 11);
  const upload = spans.find((s) => s.name === 'ingestion/uploadExport');
  assert.equal(upload?.service, 'trajectory-ingestion');
  assert.equal((upload?.endNs ?? 0n) - (upload?.startNs ?? 0n), 1_200_000_000n);
  const graph = spans.find((s) => s.spanId === 'b0b0000000000001');
  assert.deepEqual(graph?.attributes, {
    'messaging.destination.name': 'trajectory.conversation.segmented',
    'messaging.consumer.group.name': 'graph-writer',
    deliveries: 1,
    'trajectory.conversation.id': 'conv-bread',
  });
  assert.equal(spans.find((s) => s.spanId === 'c0ffee0000000001')?.error, true);
});

test('a conversation: the spans naming it, the upload above them, what ran inside them, not the other conversation', async () => {
  const { spans } = await readTraceDir(FIXTURE_DIR);
  const selected = conversationSpans(spans, 'conv-bread');
  assert.deepEqual(selected.map((s) => s.spanId).sort(), [
    '3f1c2a9d8e7b6a50', // the upload, carrying both conversations
    '7d2e4b6a1c3f5e80', // ingestion's publish of conv-bread
    'b0b0000000000001', // graph-writer
    'c0ffee0000000001', // segmentation, first delivery (failed)
    'c0ffee0000000003', // segmentation, second delivery
    'd00d000000000001', // the Neo4j write inside graph-writer's span, which names no conversation itself
  ]);
  assert.deepEqual(conversationSpans(spans, 'conv-unknown'), []);
});

test('the tree: indented by parent, start offsets from the upload, durations, services, a failed span marked', async () => {
  const { spans } = await readTraceDir(FIXTURE_DIR);
  assert.equal(
    formatTrace(conversationSpans(spans, 'conv-bread')),
    [
      'trace 5b8efff798038103d269b633813fc60c · 2026-12-01T05:00:47.565Z · 6 spans',
      '    +0 ms  1.20 s  trajectory-ingestion  ingestion/uploadExport',
      '  +300 ms    3 ms    trajectory-ingestion  trajectory.conversation.ingested publish',
      '  +320 ms   40 ms      trajectory-segmentation  segmentation process  ERROR',
      '  +1.40 s  850 ms      trajectory-segmentation  segmentation process',
      '  +2.26 s  120 ms        trajectory-graph  graph-writer process',
      '  +2.27 s  100 ms          trajectory-graph  neo4j write conversation',
    ].join('\n'),
  );
});

test('spans of separate traces print as separate trees; a span whose parent is missing is a root', () => {
  const line = (traceId: string, spanId: string, parentSpanId: string, start: number) =>
    JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'trajectory-graph' } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId,
                  spanId,
                  parentSpanId,
                  name: 'graph-writer process',
                  kind: 5,
                  startTimeUnixNano: String(start),
                  endTimeUnixNano: String(start + 2_000_000),
                  attributes: [{ key: 'trajectory.conversation.id', value: { stringValue: 'c' } }],
                  status: {},
                },
              ],
            },
          ],
        },
      ],
    });
  const spans = [...spansOfLine(line('bb', '02', 'ff', 2_000_000_000)), ...spansOfLine(line('aa', '01', '', 1_000_000_000))];
  const out = formatTrace(conversationSpans(spans, 'c'));
  assert.deepEqual(
    out.split('\n').filter((l) => l.startsWith('trace ')),
    ['trace aa · 1970-01-01T00:00:01.000Z · 1 span', 'trace bb · 1970-01-01T00:00:02.000Z · 1 span'],
  );
  assert.equal(spansOfLine('{"resourceMetrics":[]}').length, 0);
});

test('traceConversation says why when nothing is found', async () => {
  await assert.rejects(
    traceConversation('conv-unknown', FIXTURE_DIR),
    /no span names conversation conv-unknown .* among 11 spans in 2 file\(s\)/,
  );
  await assert.rejects(traceConversation('conv-bread', dirname(FIXTURE_DIR)), /no traces\*\.jsonl in/);
  await assert.rejects(
    traceConversation('conv-bread', join(FIXTURE_DIR, 'absent')),
    /no folder .*absent: the compose stack's collector creates it/,
  );
});
