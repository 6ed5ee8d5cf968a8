import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { IngestedConversation } from '@trajectory/contracts';
import { ingestFile, oneMessageConversation, tmpFile } from '../ingest.test-helper.js';
import { createRedactor } from '../redact.js';
import { formatReport, REPORT_SAMPLE } from '../report.js';
import { DEFAULT_LIMITS } from '../types.js';
import { ingestExport } from './ingest.js';

/** A one-message ChatGPT conversation; `contentType` lets a test vary what the report counts by. */
const tiny = (i: number, contentType = 'text') => JSON.stringify(oneMessageConversation(`c${i}`, 'hi', contentType));

const exportOf = (elements: string[]) => tmpFile(`[${elements.join(',')}]`);

test('a report keeps the first 100 skipped elements and counts them all; the text says how many more', async () => {
  const bad = 20_000;
  const path = exportOf([tiny(0), ...Array.from({ length: bad }, (_, i) => `{"not-a-conversation":${i}}`), tiny(1)]);
  const { report, conversations } = await ingestFile(path);
  assert.deepEqual(
    conversations.map((c) => c.id),
    ['c0', 'c1'],
  );
  assert.equal(report.skipped.length, REPORT_SAMPLE);
  assert.equal(report.skippedTotal, bad);
  assert.equal(report.skipped[0]?.place, '[1]');
  assert.equal(report.skipped.at(-1)?.place, `[${REPORT_SAMPLE}]`);
  assert.equal(report.filesTotal, 1);
  const text = formatReport(report).split('\n');
  assert.ok(text.length < REPORT_SAMPLE + 10, `${text.length} lines`);
  assert.equal(text.at(-1), `skipped ... and ${(bad - REPORT_SAMPLE).toLocaleString('en')} more`);
});

test('a report counts at most 50 content types by name, the rest as (other), and clips what it quotes', async () => {
  const kinds = 80;
  const path = exportOf(Array.from({ length: kinds }, (_, i) => tiny(i, `kind-${i}-${'x'.repeat(i === 0 ? 10_000 : 0)}`)));
  const { report } = await ingestFile(path, { fileName: `${'long-name-'.repeat(100)}.json` });
  assert.equal(report.conversations, kinds);
  assert.equal(Object.keys(report.contentTypes).length, 51);
  assert.equal(report.contentTypes['(other)'], kinds - 50);
  assert.ok(Object.keys(report.contentTypes).every((k) => k.length <= 64));
  assert.equal(
    Object.values(report.contentTypes).reduce((a, b) => a + b, 0),
    kinds,
  );
  assert.ok((report.files[0] ?? '').length <= 256);
});

test('ingestExport hands each conversation to onConversation and returns counts only', async () => {
  const path = exportOf([tiny(0), tiny(1), '{"broken":true}', tiny(2)]);
  const seen: IngestedConversation[] = [];
  const result = await ingestExport({
    path,
    fileName: 'conversations.json',
    ingestId: 'test',
    redactor: createRedactor('secrets'),
    limits: DEFAULT_LIMITS,
    onConversation: (c) => {
      seen.push(c);
    },
  });
  assert.deepEqual(Object.keys(result).sort(), ['ingestId', 'report']);
  assert.deepEqual(
    seen.map((c) => [c.id, c.messages, c.contentHash.length]),
    [
      ['c0', 1, 64],
      ['c1', 1, 64],
      ['c2', 1, 64],
    ],
  );
  assert.equal(result.report?.skippedTotal, 1);
});

test('ingest memory does not grow with the number of conversations (100k tiny ones)', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const n = 100_000;
  const path = exportOf(Array.from({ length: n }, (_, i) => tiny(i)));
  const heapAt = new Map<number, number>();
  const result = await ingestExport({
    path,
    fileName: 'conversations.json',
    ingestId: 'test',
    redactor: createRedactor('secrets'),
    limits: DEFAULT_LIMITS,
    onProgress: ({ conversationsRead }) => {
      if (conversationsRead === n / 10 || conversationsRead === n) {
        gc();
        heapAt.set(conversationsRead, process.memoryUsage().heapUsed);
      }
    },
  });
  assert.equal(result.report?.conversations, n);
  const growthMb = ((heapAt.get(n) ?? 0) - (heapAt.get(n / 10) ?? 0)) / 1024 / 1024;
  // Holding a record per conversation grew the heap by 16 MB between 10k and 100k.
  assert.ok(growthMb < 4, `the heap grew ${growthMb.toFixed(1)} MB from ${n / 10} to ${n} conversations`);
});
