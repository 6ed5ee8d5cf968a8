import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExportSource } from '@trajectory/contracts';
import { isMarkdownTranscript, parseMarkdownTranscript } from './markdown.js';
import { context, linear } from './parse-context.test-helper.js';

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
