import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ConversationIngested } from '@trajectory/contracts';
import { sharedFixture } from './fixtures.test-helper.js';
import { ingestChatGptFile } from './ingest.js';

async function ingest(path: string, fileName = 'conversations.json') {
  const events: ConversationIngested[] = [];
  const msgIds: string[] = [];
  const result = await ingestChatGptFile({
    path,
    fileName,
    ingestId: 'test',
    redact: true,
    publish: async (event, msgId) => {
      events.push(event);
      msgIds.push(msgId);
      return { duplicate: false };
    },
  });
  return { result, events, msgIds, conversations: events.map((e) => e.conversation).filter((c) => c !== undefined) };
}

function tmpFile(content: string | Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), 'ingest-test-')), 'conversations.json');
  writeFileSync(path, content);
  return path;
}

test('the real June 2023 export: 8 conversations, branches kept, null roots and hidden system messages dropped', async () => {
  const { result, conversations } = await ingest(sharedFixture('pkuppens_2023-06_export_subset.conversations.json'));
  assert.deepEqual(result.errors, []);
  assert.equal(conversations.length, 8);
  for (const c of conversations) {
    const ids = new Set(c.messages.map((m) => m.id));
    // Every parent link points at a kept message; exactly one root per conversation.
    assert.ok(c.messages.every((m) => m.parentId === '' || ids.has(m.parentId)));
    assert.equal(c.messages.filter((m) => m.parentId === '').length, 1);
    assert.ok(c.messages.every((m) => m.role !== 'system' && m.text.trim() !== ''));
    assert.ok(c.createdAt instanceof Date && c.createdAt.getUTCFullYear() === 2023);
    // The current leaf is the last message on the current branch.
    assert.equal(c.messages.filter((m) => m.onCurrentBranch).at(-1)?.id, c.currentLeafId);
  }
  // Four conversations regenerate an answer; in one the discarded answer is empty (a failed
  // generation) and carries no text, so three visible branch points remain.
  const branchPoints = conversations.map((c) => {
    const children = new Map<string, number>();
    for (const m of c.messages) if (m.parentId) children.set(m.parentId, (children.get(m.parentId) ?? 0) + 1);
    return [...children.values()].filter((n) => n > 1).length;
  });
  assert.equal(branchPoints.filter((n) => n > 0).length, 3);
  const contentTypes = new Set(conversations.flatMap((c) => c.messages.map((m) => m.contentType)));
  assert.deepEqual([...contentTypes].sort(), ['code', 'system_error', 'tether_browsing_display', 'tether_quote', 'text']);
});

test('a 2025 single-conversation object: thoughts kept as their own message, custom instructions dropped', async () => {
  const { conversations } = await ingest(sharedFixture('polylogue_native-conversation-v1.json'));
  assert.equal(conversations.length, 1);
  const c = conversations[0];
  assert.ok(c);
  assert.equal(c.id, 'chatgpt-fixture-conversation');
  assert.ok(!c.messages.some((m) => m.contentType === 'user_editable_context'));
  const superseded = c.messages.find((m) => m.text === 'Superseded answer.');
  assert.equal(superseded?.onCurrentBranch, false);
  assert.equal(c.messages.find((m) => m.id === c.currentLeafId)?.onCurrentBranch, true);
  assert.ok(c.messages.some((m) => m.contentType === 'thoughts'));

  const { conversations: other } = await ingest(sharedFixture('blackiya_2026_single_conversation_thoughts.json'));
  assert.deepEqual(
    other[0]?.messages.map((m) => [m.role, m.contentType]),
    [
      ['user', 'text'],
      ['assistant', 'thoughts'],
      ['assistant', 'text'],
    ],
  );
});

test('a truncated file: the conversations before the damage go through, the error names the file and place', async () => {
  const good = { id: 'c1', title: 't', mapping: { r: { id: 'r', message: null, parent: null, children: [] } } };
  const text = JSON.stringify([good, { ...good, id: 'c2' }, { ...good, id: 'c3' }]);
  const { result, conversations } = await ingest(tmpFile(text.slice(0, text.length - 40)), 'broken.json');
  assert.deepEqual(
    conversations.map((c) => c.id),
    ['c1', 'c2'],
  );
  assert.equal(result.errors.length, 1);
  assert.equal(result.errors[0]?.fileName, 'broken.json');
  assert.match(result.errors[0]?.place ?? '', /^\[2\] near byte \d+$/);
  assert.match(result.errors[0]?.message ?? '', /malformed JSON/);
});

test('a bad conversation is reported with its index and the rest still go through', async () => {
  const good = (id: string) => ({ id, mapping: { r: { id: 'r', message: null, parent: null, children: [] } } });
  const { result, conversations } = await ingest(tmpFile(JSON.stringify([good('a'), { title: 'no id' }, 42, good('b')])));
  assert.deepEqual(
    conversations.map((c) => c.id),
    ['a', 'b'],
  );
  assert.deepEqual(
    result.errors.map((e) => [e.place, e.message]),
    [
      ['[1]', 'conversation has no id or conversation_id'],
      ['[2]', 'a conversation must be a JSON object'],
    ],
  );
});

test('not an export at all: empty, binary, or a bare value', async () => {
  for (const [content, expected] of [
    ['', /the file is empty/],
    [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]), /expected a JSON array or object/],
    ['"just a string"', /expected a JSON array or object/],
  ] as const) {
    const { result, conversations } = await ingest(tmpFile(content));
    assert.equal(conversations.length, 0);
    assert.match(result.errors[0]?.message ?? '', expected);
  }
});

test('re-ingesting identical content yields identical message ids (dedupe at the bus)', async () => {
  const path = sharedFixture('pkuppens_2023-06_export_subset.conversations.json');
  const first = await ingest(path);
  const second = await ingest(path);
  assert.deepEqual(first.msgIds, second.msgIds);
  assert.equal(new Set(first.msgIds).size, 8);
});
