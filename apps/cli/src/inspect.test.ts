import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(root, 'apps', 'cli', 'bin', 'trajectory.mjs');
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

/** Files from which not one conversation can be read, and what stderr must say of each. */
const unreadable: [name: string, content: Buffer | string, why: RegExp][] = [
  ['empty.json', '', /empty\.json byte 0: the file is empty/],
  ['empty.zip', Buffer.alloc(0), /empty\.zip byte 0: /],
  ['image.json', Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex'), /image\.json byte 0: /],
  ['others.json', '[{"foo":1},{"bar":2}]', /others\.json \[0\]: unknown export format .* \(and 1 more skipped\)/],
];

test('trajectory inspect exits 2 and says why on stderr when not one conversation could be read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inspect-unreadable-'));
  for (const [name, content, why] of unreadable) {
    const file = join(dir, name);
    writeFileSync(file, content);
    const run = spawnSync(process.execPath, [cli, 'inspect', file], { encoding: 'utf8' });
    assert.equal(run.status, 2, `${name}: exit ${run.status}, stderr ${run.stderr}`);
    assert.match(run.stderr, new RegExp(`^trajectory: nothing could be read from ${file.replaceAll('.', '\\.')}: `), name);
    assert.match(run.stderr, why, name);
    assert.match(run.stdout, /^conversations: 0 /m, `${name}: the report is still printed`);
  }
});

test('trajectory inspect exits 0 when at least one conversation was read, skips or not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inspect-partial-'));
  const file = join(dir, 'partial.json');
  const good = JSON.parse(readFileSync(sample, 'utf8'));
  writeFileSync(file, JSON.stringify([{ foo: 1 }, good[0]]));
  const run = spawnSync(process.execPath, [cli, 'inspect', file], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^conversations: 1 /m);
  assert.match(run.stdout, /^skipped {2}partial\.json \[0\]: unknown export format/m);
});
