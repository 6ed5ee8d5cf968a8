import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { test } from 'node:test';
import yazl from 'yazl';
import { chatgptFixture } from '../fixtures.test-helper.js';
import { ingestFile, oneMessageConversation, tmpFile } from '../ingest.test-helper.js';

async function zipOf(files: Record<string, string | Buffer>): Promise<string> {
  const path = tmpFile('', 'export.zip');
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files)) zip.addBuffer(Buffer.from(content), name);
  zip.end();
  const out = createWriteStream(path);
  zip.outputStream.pipe(out);
  await once(out, 'finish');
  return path;
}

const chatgpt = (id: string, text: string) => oneMessageConversation(id, text);

const claude = {
  uuid: 'c1aude00-0000-4000-8000-000000000001',
  name: 'A Claude chat',
  created_at: '2025-02-01T10:00:00.000Z',
  updated_at: '2025-02-01T10:05:00.000Z',
  account: { uuid: 'acc' },
  chat_messages: [
    { uuid: 'h1', sender: 'human', text: 'hi', content: [{ type: 'text', text: 'hi' }], created_at: '2025-02-01T10:00:00.000Z' },
    {
      uuid: 'a1',
      sender: 'assistant',
      text: 'thinking... hello',
      content: [
        { type: 'thinking', thinking: 'thinking...' },
        { type: 'text', text: 'hello' },
      ],
      created_at: '2025-02-01T10:00:05.000Z',
    },
  ],
};

test('every real sample in fixtures/chatgpt ingests with exact counts and no warnings', async () => {
  const expected: Record<string, { conversations: number; messages: number; branchPoints: number }> = {
    'pkuppens_2023-06_export_subset.conversations.json': { conversations: 8, messages: 175, branchPoints: 3 },
    'polylogue_native-conversation-v1.json': { conversations: 1, messages: 7, branchPoints: 1 },
    'blackiya_2026_single_conversation_thoughts.json': { conversations: 1, messages: 4, branchPoints: 0 },
  };
  for (const [file, counts] of Object.entries(expected)) {
    const { report } = await ingestFile(chatgptFixture(file));
    assert.deepEqual({ conversations: report.conversations, messages: report.messages, branchPoints: report.branchPoints }, counts, file);
    assert.deepEqual(report.skipped, [], file);
    assert.equal(report.messagesWithoutTime, 0, file);
  }
});

test('a ChatGPT zip with split shards and media: the shards are read, the rest passed over', async () => {
  const path = await zipOf({
    'conversations-000.json': JSON.stringify([chatgpt('a', 'one'), chatgpt('b', 'two')]),
    'conversations-001.json': JSON.stringify([chatgpt('c', 'three')]),
    'chat.html': '<html></html>',
    'user.json': '{"id":"user"}',
    'dalle-generations/file-1.webp': Buffer.from([1, 2, 3]),
  });
  const { report, conversations } = await ingestFile(path, { fileName: 'export.zip' });
  assert.deepEqual(
    conversations.map((c) => [c.id, c.sourceFile]),
    [
      ['a', 'export.zip:conversations-000.json'],
      ['b', 'export.zip:conversations-000.json'],
      ['c', 'export.zip:conversations-001.json'],
    ],
  );
  assert.deepEqual(report.files, ['export.zip:conversations-000.json', 'export.zip:conversations-001.json']);
  assert.deepEqual(report.skipped, []);
});

test('a Claude export, JSONL, a Markdown transcript and notes are told apart by content and name', async () => {
  const claudeZip = await zipOf({ 'conversations.json': JSON.stringify([claude]), 'users.json': '[]', 'projects.json': '[]' });
  const fromClaude = await ingestFile(claudeZip, { fileName: 'claude-export.zip' });
  assert.deepEqual(fromClaude.report.conversationsBySource, { claude: 1 });
  assert.deepEqual(
    fromClaude.conversations[0]?.messages.map((m) => [m.role, m.text]),
    [
      ['user', 'hi'],
      ['assistant', 'hello'],
    ],
  );

  const jsonl = tmpFile(
    ['{"role":"user","content":"q","timestamp":"2024-01-01T00:00:00Z"}', '{"role":"assistant","content":"a"}'].join('\n'),
    'chat.jsonl',
  );
  const transcript = tmpFile('# Trip\n\n## User\nWhere to?\n\n## Assistant\nLisbon.\n', 'trip.md');
  const notes = tmpFile('2024-03-01\nPlan the garden.\n\n2024-03-08\nOrder seeds.\n', 'notes.txt');
  const sources = await Promise.all([jsonl, transcript, notes].map(async (p) => (await ingestFile(p)).report.conversationsBySource));
  assert.deepEqual(sources, [{ transcript: 1 }, { transcript: 1 }, { notes: 1 }]);
  const { report } = await ingestFile(jsonl);
  assert.equal(report.messagesWithoutTime, 1, 'the line without a timestamp stays without one');
});

test('a truncated zip: the conversations before the cut go through, the damage is reported', async () => {
  const many = Array.from({ length: 400 }, (_, i) => chatgpt(`c${i}`, `conversation number ${i} ${'words '.repeat(200)}`));
  const whole = await zipOf({ 'conversations.json': JSON.stringify(many) });
  const bytes = readFileSync(whole);
  const cut = tmpFile(bytes.subarray(0, Math.floor(bytes.length * 0.6)), 'export.zip');
  const { report, conversations } = await ingestFile(cut, { fileName: 'export.zip' });
  assert.ok(conversations.length > 50 && conversations.length < 400, `${conversations.length} conversations before the cut`);
  assert.deepEqual(
    conversations.map((c) => c.id),
    many.slice(0, conversations.length).map((c) => c.id),
  );
  assert.ok(report.skipped.some((s) => /truncated or damaged/.test(s.message)));
  assert.ok(report.skipped.some((s) => s.fileName === 'export.zip:conversations.json'));
});

test('hostile zips: a ../ path and a bomb are skipped with reasons; good entries still go through', async () => {
  const built = await zipOf({
    'XX/evil.json': JSON.stringify([chatgpt('evil', 'x')]),
    'bomb.json': Buffer.alloc(30 * 1024 * 1024, 0x20),
    'conversations.json': JSON.stringify([chatgpt('good', 'fine')]),
  });
  // Zip writers refuse `../` names, as they should; an attacker's tool does not. Same length,
  // patched in both the local header and the central directory.
  const path = tmpFile(
    Buffer.from(readFileSync(built).toString('latin1').replaceAll('XX/evil.json', '../evil.json'), 'latin1'),
    'hostile.zip',
  );
  const { report, conversations } = await ingestFile(path, { fileName: 'hostile.zip', limits: { maxCompressionRatio: 100 } });
  assert.deepEqual(
    conversations.map((c) => c.id),
    ['good'],
  );
  const reasons = report.skipped.map((s) => `${s.place}: ${s.message}`).join('\n');
  assert.match(reasons, /\.\.\/evil\.json.*unsafe path/);
  assert.match(reasons, /bomb\.json.*ratio/);
});

test('wrong encodings in text inputs: UTF-16 is decoded, Windows-1252 notes fall back with a warning', async () => {
  const utf16 = tmpFile(
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('## User\nHallo\n\n## Assistant\nHoi\n', 'utf16le')]),
    'chat.md',
  );
  const fromUtf16 = await ingestFile(utf16);
  assert.deepEqual(
    fromUtf16.conversations[0]?.messages.map((m) => m.text),
    ['Hallo', 'Hoi'],
  );
  const cp1252 = tmpFile(Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0x96, 0x20, 0x6e, 0x6f, 0x74, 0x65]), 'notes.txt');
  const fromCp1252 = await ingestFile(cp1252);
  assert.equal(fromCp1252.conversations[0]?.messages[0]?.text, 'Café – note');
  assert.match(fromCp1252.report.warnings[0]?.message ?? '', /notes\.txt/);
});

test('secrets in titles, names and file names are redacted in every event and in the report, not only in message bodies', async () => {
  const token = 'ghp_8sK2mVn4Lp7Rx9Wc3Yb6Hd1Fg5Js0aQe2Tu7';
  const key = 'sk-proj-Zt8kQ2mVn4Lp7Rx9Wc3Yb6Hd1Fg5Js0aZt8kQ2mVn4Lp7Rx9Wc3Yb6';
  const chatgptPath = tmpFile(JSON.stringify([{ ...chatgpt('c-title', 'hello'), title: `deploy with ${token}` }]), 'conversations.json');
  const claudePath = tmpFile(JSON.stringify([{ ...claude, name: `OPENAI_API_KEY=${key} rotation` }]), 'conversations.json');
  for (const path of [chatgptPath, claudePath]) {
    const { events, report } = await ingestFile(path, { fileName: `export-${token}.json` });
    assert.equal(events.length, 1);
    const everything = JSON.stringify({ events, report });
    assert.ok(
      !everything.includes(token) && !everything.includes(key),
      `a secret reached an event or the report: ${everything.slice(0, 400)}`,
    );
    assert.match(events[0]?.conversation?.title ?? '', /\[SECRET:[a-z_]+\]/);
    assert.ok(Object.values(report.redactionsByKind).reduce((a, b) => a + b, 0) >= 1, 'the title counts as a redaction');
  }
});
