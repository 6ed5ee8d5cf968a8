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
