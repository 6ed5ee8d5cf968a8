import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(root, 'packages', 'cli', 'bin', 'trajectory.mjs');
const sample = join(root, 'e2e', 'fixtures', 'chatgpt', 'conversations.json');

test('trajectory inspect prints the ingest report offline, with no server running', () => {
  const env = { ...process.env, NATS_URL: 'nats://127.0.0.1:1', INGESTION_GRPC_TARGET: '127.0.0.1:1' };
  const report = JSON.parse(execFileSync(process.execPath, [cli, 'inspect', sample, '--json'], { env, encoding: 'utf8' }));
  assert.equal(report.conversations, 3);
  assert.deepEqual(report.conversationsBySource, { chatgpt: 3 });
  assert.equal(report.messages, 11);
  assert.equal(report.branchPoints, 1);
  assert.deepEqual(report.redactionsByKind, { openai_key: 1 });
  const text = execFileSync(process.execPath, [cli, 'inspect', sample], { env, encoding: 'utf8' });
  assert.match(text, /^conversations: 3 \(chatgpt 3\); new 3/m);
});

test('trajectory inspect names the file and place of what it skips', () => {
  const missing = join(root, 'no-such-export.json');
  assert.throws(
    () => execFileSync(process.execPath, [cli, 'inspect', missing], { encoding: 'utf8', stdio: 'pipe' }),
    /no-such-export\.json/,
  );
});

test('trajectory segment prints nodes, relations, chains and topic boundaries offline', () => {
  const env = { ...process.env, NATS_URL: 'nats://127.0.0.1:1' };
  const json = JSON.parse(execFileSync(process.execPath, [cli, 'segment', sample, '--json', '--lexical'], { env, encoding: 'utf8' }));
  assert.equal(json.length, 3);
  const sourdough = json.find((c: { title: string }) => c.title === 'Planning a sourdough schedule');
  assert.equal(sourdough.segmenter, 'cognitive/v1+lexical');
  assert.equal(sourdough.nodes.length, 5);
  assert.ok(sourdough.edges.every((e: { relation: string; confidence: number }) => e.relation && e.confidence > 0 && e.confidence <= 1));
  assert.deepEqual(sourdough.topicBoundaries, []);
  const text = execFileSync(process.execPath, [cli, 'segment', sample, '--lexical'], { env, encoding: 'utf8' });
  assert.match(
    text,
    /^conversation .* "Planning a sourdough schedule": 5 messages, 5 nodes, \d+ edges, 0 chains \(cognitive\/v1\+lexical\)$/m,
  );
  assert.match(text, /-responds 1\.00->/);
});
