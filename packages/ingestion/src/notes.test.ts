import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExportSource } from '@trajectory/contracts';
import { isMarkdownTranscript } from './markdown.js';
import { parseNotes } from './notes.js';
import { context, linear } from './parse-context.test-helper.js';

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
