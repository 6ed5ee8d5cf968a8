import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Conversation, ExportSource } from '@trajectory/contracts';
import { isMarkdownTranscript, parseHumanTime, parseJsonlConversations, parseMarkdownTranscript, parseNotes } from './generic.js';
import { DEFAULT_LIMITS, type ParseContext, type ParsedItem } from './types.js';

function context() {
  const warnings: { place: string; message: string }[] = [];
  const skips: { place: string; message: string }[] = [];
  const ctx: ParseContext = {
    file: 'export.zip:chats/archive.jsonl',
    redact: (t) => ({ text: t, counts: {} }),
    limits: DEFAULT_LIMITS,
    warn: (place, message) => warnings.push({ place, message }),
    skip: (place, message) => skips.push({ place, message }),
  };
  return { ctx, warnings, skips };
}

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
const linear = (c: Conversation | undefined) =>
  c?.messages.map((m, i, all) => m.parentId === (i === 0 ? '' : all[i - 1]?.id)).every(Boolean);

// ---------------------------------------------------------------------------------------------
// JSONL

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

// ---------------------------------------------------------------------------------------------
// Markdown transcripts

const HEADING_TRANSCRIPT = `# Debugging session

## User (2024-06-01 10:00)

Why does this fail?

\`\`\`md
## User
this heading is inside a fence
\`\`\`

## Assistant — 2024-06-01T10:00:30Z

Because of the fence.

### Details

More text.

## User interface notes

Still the assistant.

## ChatGPT

No time here.
`;

test('a Markdown transcript with speaker headings: title, times, fenced code kept verbatim', () => {
  const { ctx } = context();
  assert.equal(isMarkdownTranscript(HEADING_TRANSCRIPT), true);
  const c = parseMarkdownTranscript(HEADING_TRANSCRIPT, ctx, 'debug.md');
  assert.ok(c);
  assert.equal(c.title, 'Debugging session');
  assert.equal(c.source, ExportSource.EXPORT_SOURCE_TRANSCRIPT);
  assert.equal(c.sourceFile, 'export.zip:chats/archive.jsonl');
  assert.equal(c.messages.length, 3);
  assert.deepEqual(
    c.messages.map((m) => [m.id, m.role, m.authorName]),
    [
      [`${c.id}:0`, 'user', ''],
      [`${c.id}:1`, 'assistant', ''],
      [`${c.id}:2`, 'assistant', 'ChatGPT'],
    ],
  );
  assert.ok(linear(c));
  assert.equal(c.messages[0]?.text, 'Why does this fail?\n\n```md\n## User\nthis heading is inside a fence\n```');
  assert.equal(
    c.messages[1]?.text,
    'Because of the fence.\n\n### Details\n\nMore text.\n\n## User interface notes\n\nStill the assistant.',
  );
  assert.equal(c.messages[2]?.text, 'No time here.');
  // A time without a zone is read as UTC; a message without one keeps none.
  assert.deepEqual(c.messages[0]?.createdAt, new Date('2024-06-01T10:00:00Z'));
  assert.deepEqual(c.messages[1]?.createdAt, new Date('2024-06-01T10:00:30Z'));
  assert.equal(c.messages[2]?.createdAt, undefined);
  assert.deepEqual(
    c.messages.map((m) => m.createdAtFromSource),
    [true, true, false],
  );
  assert.equal(c.currentLeafId, `${c.id}:2`);
  assert.deepEqual(c.createdAt, new Date('2024-06-01T10:00:00Z'));

  // Stable ids: the same file gives the same ids; another title gives another id.
  assert.equal(parseMarkdownTranscript(HEADING_TRANSCRIPT, ctx, 'debug.md')?.id, c.id);
  assert.notEqual(parseMarkdownTranscript(HEADING_TRANSCRIPT.replace('Debugging', 'Other'), ctx, 'debug.md')?.id, c.id);
});

const BOLD_TRANSCRIPT = `**User:** What is 2+2?
**Assistant:** 4.

\`\`\`
**User:** inside a fence
\`\`\`

**Human (June 1, 2024):**
Thanks.
Assistant: a plain line in a bold transcript is text
`;

test('a transcript in the **User:** style: text on the speaker line, fences and plain lines are text', () => {
  const { ctx } = context();
  assert.equal(isMarkdownTranscript(BOLD_TRANSCRIPT), true);
  const c = parseMarkdownTranscript(BOLD_TRANSCRIPT, ctx, 'math.txt');
  assert.ok(c);
  assert.equal(c.title, 'math.txt');
  assert.deepEqual(
    c.messages.map((m) => [m.role, m.text]),
    [
      ['user', 'What is 2+2?'],
      ['assistant', '4.\n\n```\n**User:** inside a fence\n```'],
      ['user', 'Thanks.\nAssistant: a plain line in a bold transcript is text'],
    ],
  );
  assert.deepEqual(
    c.messages.map((m) => m.createdAt?.toISOString()),
    [undefined, undefined, '2024-06-01T00:00:00.000Z'],
  );
  assert.ok(linear(c));
});

test('plain User:/AI: lines make a transcript only with both sides; one "Me:" line is notes', () => {
  const { ctx } = context();
  const c = parseMarkdownTranscript('User: hi\nAI: hello\nhow are you?\n', ctx, 'chat.txt');
  assert.deepEqual(
    c?.messages.map((m) => [m.role, m.text]),
    [
      ['user', 'hi'],
      ['assistant', 'hello\nhow are you?'],
    ],
  );
  assert.equal(isMarkdownTranscript('Groceries\n\nMe: call the bank\n'), false);
  assert.equal(parseMarkdownTranscript('Groceries\n\nMe: call the bank\n', ctx, 'todo.txt'), undefined);
});

test('no speaker heading: not a transcript (a heading inside a fence does not count)', () => {
  const { ctx, warnings } = context();
  const fencedOnly = '# Notes\n\n```\n## User\n```\n\n## User stories\n';
  assert.equal(isMarkdownTranscript(fencedOnly), false);
  assert.equal(parseMarkdownTranscript(fencedOnly, ctx, 'n.md'), undefined);
  // Text before the first speaker belongs to no message and is reported.
  const c = parseMarkdownTranscript('Exported by hand\n\n## User\nq\n## Assistant\na\n', ctx, 'p.md');
  assert.equal(c?.messages.length, 2);
  assert.deepEqual(warnings, [{ place: 'line 1', message: 'text before the first speaker belongs to no message: left out' }]);
});

// ---------------------------------------------------------------------------------------------
// Notes

const JOURNAL = `# Journal

## 2024-06-01
Started the project.

### Morning
Coffee.

## June 3, 2024
Wrote tests.

## Ideas
2024-06-05 10:00
First line date.

\`\`\`sh
# not a heading
\`\`\`

## Someday
No date here.
`;

test('notes with dated headings: one message a section, sub-sections keep their date, no date stays none', () => {
  const { ctx } = context();
  assert.equal(isMarkdownTranscript(JOURNAL), false);
  const c = parseNotes(JOURNAL, ctx, 'journal.md');
  assert.equal(c.title, 'Journal');
  assert.equal(c.source, ExportSource.EXPORT_SOURCE_NOTES);
  assert.equal(c.sourceFile, 'export.zip:chats/archive.jsonl');
  assert.deepEqual(
    c.messages.map((m) => [m.text, m.createdAt?.toISOString()]),
    [
      ['# Journal\n\n## 2024-06-01\nStarted the project.', '2024-06-01T00:00:00.000Z'],
      ['### Morning\nCoffee.', '2024-06-01T00:00:00.000Z'],
      ['## June 3, 2024\nWrote tests.', '2024-06-03T00:00:00.000Z'],
      ['## Ideas\n2024-06-05 10:00\nFirst line date.\n\n```sh\n# not a heading\n```', '2024-06-05T10:00:00.000Z'],
      ['## Someday\nNo date here.', undefined],
    ],
  );
  assert.deepEqual(
    c.messages.map((m) => m.createdAtFromSource),
    [true, true, true, true, false],
  );
  assert.ok(c.messages.every((m) => m.role === 'user' && m.authorName === 'notes' && m.onCurrentBranch));
  assert.deepEqual(
    c.messages.map((m) => m.id),
    [0, 1, 2, 3, 4].map((i) => `${c.id}:${i}`),
  );
  assert.ok(linear(c));
  assert.equal(c.currentLeafId, `${c.id}:4`);
  assert.deepEqual(c.createdAt, new Date('2024-06-01T00:00:00Z'));
  assert.deepEqual(c.updatedAt, new Date('2024-06-05T10:00:00Z'));
  assert.equal(parseNotes(JOURNAL, ctx, 'journal.md').id, c.id);
});

test('notes with front matter: its date dates every section without one of its own', () => {
  const { ctx } = context();
  const text = `---
title: "Trip plans"
date: 2024-05-20
tags: [travel]
---
Paragraph one.

Paragraph two.
`;
  const c = parseNotes(text, ctx, 'trip.md');
  assert.equal(c.title, 'Trip plans');
  assert.deepEqual(
    c.messages.map((m) => [m.text, m.createdAt?.toISOString()]),
    [['Paragraph one.\n\nParagraph two.', '2024-05-20T00:00:00.000Z']],
  );
  const withHeadings = parseNotes('---\ndate: 2024-05-20\n---\n## Packing\nSocks.\n\n## 2024-06-01\nLeft.\n', ctx, 'trip2.md');
  assert.equal(withHeadings.title, 'Packing');
  assert.deepEqual(
    withHeadings.messages.map((m) => m.createdAt?.toISOString()),
    ['2024-05-20T00:00:00.000Z', '2024-06-01T00:00:00.000Z'],
  );
});

test('plain notes without headings or dates: paragraph groups of about 2,000 characters, no time', () => {
  const { ctx } = context();
  const para = (c: string) => `${c.repeat(899)}.`;
  const text = [para('a'), para('b'), para('c')].join('\n\n');
  const c = parseNotes(text, ctx, 'thoughts.txt');
  assert.equal(c.title, 'thoughts.txt');
  assert.equal(c.messages.length, 2);
  assert.equal(c.messages[0]?.text, `${para('a')}\n\n${para('b')}`);
  assert.equal(c.messages[1]?.text, para('c'));
  assert.ok(c.messages.every((m) => m.createdAt === undefined && !m.createdAtFromSource));
  assert.equal(c.createdAt, undefined);
  assert.ok(linear(c));
});

test('a plain-text diary: a dated first line starts a new message and dates the ones after it', () => {
  const { ctx } = context();
  const text = 'Undated intro.\n\n2024-06-01\nWent out.\n\nMore that day.\n\nJune 2, 2024\nStayed in.\n';
  const c = parseNotes(text, ctx, 'diary.txt');
  assert.deepEqual(
    c.messages.map((m) => [m.text, m.createdAt?.toISOString()]),
    [
      ['Undated intro.', undefined],
      ['2024-06-01\nWent out.\n\nMore that day.', '2024-06-01T00:00:00.000Z'],
      ['June 2, 2024\nStayed in.', '2024-06-02T00:00:00.000Z'],
    ],
  );
});

test('an empty notes file is a conversation without messages', () => {
  const c = parseNotes('\n\n', context().ctx, 'empty.txt');
  assert.equal(c.messages.length, 0);
  assert.equal(c.currentLeafId, '');
});

test('human times: ISO with or without zone (UTC), month names; junk is no time', () => {
  assert.deepEqual(parseHumanTime('2024-06-01'), new Date('2024-06-01T00:00:00Z'));
  assert.deepEqual(parseHumanTime('2024-06-01 10:00'), new Date('2024-06-01T10:00:00Z'));
  assert.deepEqual(parseHumanTime('2024-06-01T10:00:00+02:00'), new Date('2024-06-01T08:00:00Z'));
  assert.deepEqual(parseHumanTime('2024-06-01T10:00:00.250Z'), new Date('2024-06-01T10:00:00.250Z'));
  assert.deepEqual(parseHumanTime('June 1, 2024'), new Date('2024-06-01T00:00:00Z'));
  assert.deepEqual(parseHumanTime('1 Jun 2024'), new Date('2024-06-01T00:00:00Z'));
  assert.equal(parseHumanTime('2024-02-30'), undefined);
  assert.equal(parseHumanTime('someday'), undefined);
  assert.equal(parseHumanTime('Juneteenth 2024'), undefined);
});
