import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Conversation, ExportSource } from '@trajectory/contracts';
import { parseJsonlConversations } from './jsonl.js';
import { context } from './parse-context.test-helper.js';
import type { ParsedItem } from './types.js';

async function* linesOf(text: string, pulled?: { count: number }) {
  for (const line of text.split('\n')) {
    if (pulled) pulled.count++;
    yield line;
  }
}

async function collect(items: AsyncIterable<ParsedItem>): Promise<ParsedItem[]> {
  const out: ParsedItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const conversations = (items: ParsedItem[]): Conversation[] => items.flatMap((i) => (i.ok ? [i.conversation] : []));

const JSONL = [
  '{"conversation_id":"c-1","id":"u1","role":"user","content":"Hello","timestamp":1717236000000,"title":"First chat"}',
  '{"conversation_id":"c-1","role":"assistant","content":[{"type":"text","text":"Hi"},{"type":"text","text":"there"}],"timestamp":1717236005}',
  '{"conversation_id":"c-1","role":"user","content":"oops",',
  '{"conversation_id":"c-1","role":"user","content":"Without time"}',
  '{"conversation":"c-2","role":"human","content":"Second","timestamp":"2024-06-02T08:00:00Z"}',
  '{"conversation":"c-2","role":"assistant"}',
  '{"conversation":"c-2","content":"no role"}',
  '',
  '{"conversation":"c-2","role":"model","name":"gemini-pro","content":"Reply","timestamp":"2024-06-02T08:00:05+02:00"}',
].join('\n');

test('JSONL: two conversations, epoch ms/s and ISO times, bad lines reported and skipped', async () => {
  const { ctx } = context();
  const items = await collect(parseJsonlConversations(linesOf(JSONL), ctx, 'archive.jsonl'));
  // In order: the malformed line, c-1 when the id changes, the two bad c-2 lines, c-2 at the end.
  assert.deepEqual(
    items.map((i) => (i.ok ? `ok ${i.place}` : `bad ${i.place}`)),
    ['bad line 3', 'ok lines 1-4', 'bad line 6', 'bad line 7', 'ok lines 5-9'],
  );
  assert.match((items[0] as { message: string }).message, /^malformed JSON/);
  assert.equal((items[2] as { message: string }).message, 'the message has no content');
  assert.equal((items[3] as { message: string }).message, 'the message has no role');

  const [c1, c2] = conversations(items);
  assert.equal(c1?.id, 'c-1');
  assert.equal(c1?.title, 'First chat');
  assert.equal(c1?.source, ExportSource.EXPORT_SOURCE_TRANSCRIPT);
  assert.equal(c1?.sourceFile, 'export.zip:chats/archive.jsonl');
  assert.deepEqual(
    c1?.messages.map((m) => [m.id, m.role, m.parentId, m.text]),
    [
      ['u1', 'user', '', 'Hello'],
      ['line-2', 'assistant', 'u1', 'Hi\n\nthere'],
      ['line-4', 'user', 'line-2', 'Without time'],
    ],
  );
  assert.deepEqual(
    c1?.messages[1]?.parts.map((p) => [p.type, p.text]),
    [
      ['text', 'Hi'],
      ['text', 'there'],
    ],
  );
  // Epoch milliseconds and seconds, told apart by size.
  assert.deepEqual(c1?.messages[0]?.createdAt, new Date('2024-06-01T10:00:00Z'));
  assert.deepEqual(c1?.messages[1]?.createdAt, new Date('2024-06-01T10:00:05Z'));
  // No time in the line: none is invented.
  assert.equal(c1?.messages[2]?.createdAt, undefined);
  assert.deepEqual(
    c1?.messages.map((m) => m.createdAtFromSource),
    [true, true, false],
  );
  assert.deepEqual(c1?.createdAt, new Date('2024-06-01T10:00:00Z'));
  assert.deepEqual(c1?.updatedAt, new Date('2024-06-01T10:00:05Z'));
  assert.equal(c1?.currentLeafId, 'line-4');
  assert.ok(c1?.messages.every((m) => m.onCurrentBranch));

  assert.equal(c2?.id, 'c-2');
  assert.equal(c2?.title, '');
  assert.deepEqual(
    c2?.messages.map((m) => [m.id, m.role, m.parentId, m.authorName, m.createdAt?.toISOString()]),
    [
      ['line-5', 'user', '', '', '2024-06-02T08:00:00.000Z'],
      ['line-9', 'assistant', 'line-5', 'gemini-pro', '2024-06-02T06:00:05.000Z'],
    ],
  );
  assert.equal(c2?.currentLeafId, 'line-9');
});

test('JSONL: content items that are neither text nor a typed part are reported, the rest of the line kept', async () => {
  const { ctx, warnings } = context();
  const line = '{"role":"user","content":["kept",42,null,[["nested"]],{"type":"text","text":"also kept"}]}';
  const [item] = await collect(parseJsonlConversations(linesOf(line), ctx, 'odd.jsonl'));
  assert.deepEqual(item?.ok ? item.conversation.messages.map((m) => m.parts.map((p) => p.text)) : item, [['kept', 'also kept']]);
  assert.deepEqual(warnings, [
    { place: 'line 1', message: 'content item [1] is a number, not text or a typed part: left out' },
    { place: 'line 1', message: 'content item [2] is null, not text or a typed part: left out' },
    { place: 'line 1', message: 'content item [3] is a list, not text or a typed part: left out' },
  ]);
});

test('JSONL streams: a conversation is yielded as soon as the next one starts', async () => {
  const { ctx } = context();
  const pulled = { count: 0 };
  const seenAt: number[] = [];
  for await (const item of parseJsonlConversations(linesOf(JSONL, pulled), ctx, 'archive.jsonl')) if (item.ok) seenAt.push(pulled.count);
  // c-1 comes out after line 5 (the first of c-2) was read, before lines 6-9.
  assert.deepEqual(seenAt, [5, 9]);
});

test('JSONL without conversation ids: one conversation named after the file, with a stable id', async () => {
  const text = ['{"role":"user","content":"a","timestamp":"2024-06-01T10:00:00Z"}', '{"role":"assistant","content":"b"}'].join('\n');
  const first = conversations(await collect(parseJsonlConversations(linesOf(text), context().ctx, 'notes.jsonl')));
  const again = conversations(await collect(parseJsonlConversations(linesOf(text), context().ctx, 'notes.jsonl')));
  const other = conversations(await collect(parseJsonlConversations(linesOf(text), context().ctx, 'other.jsonl')));
  assert.equal(first.length, 1);
  assert.equal(first[0]?.title, 'notes.jsonl');
  assert.match(first[0]?.id ?? '', /^[0-9a-f]{32}$/);
  assert.equal(first[0]?.id, again[0]?.id);
  assert.notEqual(first[0]?.id, other[0]?.id);
  assert.deepEqual(
    first[0]?.messages.map((m) => [m.id, m.parentId, m.createdAtFromSource]),
    [
      ['line-1', '', true],
      ['line-2', 'line-1', false],
    ],
  );
});

test('JSONL: a conversation id that comes back later is a second conversation with its own id', async () => {
  const { ctx, warnings } = context();
  const text = [
    '{"conversation_id":"a","role":"user","content":"1"}',
    '{"conversation_id":"b","role":"user","content":"2"}',
    '{"conversation_id":"a","role":"user","content":"3"}',
  ].join('\n');
  const cs = conversations(await collect(parseJsonlConversations(linesOf(text), ctx, 'x.jsonl')));
  assert.deepEqual(
    cs.map((c) => c.id),
    ['a', 'b', 'a:2'],
  );
  assert.equal(warnings.filter((w) => w.place === 'line 3').length, 1);
});
