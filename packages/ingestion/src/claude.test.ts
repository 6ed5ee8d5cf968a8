import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ExportSource } from '@trajectory/contracts';
import { normaliseClaudeConversation } from './claude.js';
import { claudeFixture } from './fixtures.test-helper.js';
import { ingestFile, tmpFile } from './ingest.test-helper.js';
import { partsToText } from './message.js';
import { DEFAULT_LIMITS, type IngestLimits, type ParseContext, type Redactor } from './types.js';

function context(limits: Partial<IngestLimits> = {}, redact: Redactor = (t) => ({ text: t, counts: {} })) {
  const warnings: { place: string; message: string }[] = [];
  const skips: { place: string; message: string }[] = [];
  const ctx: ParseContext = {
    file: 'claude.zip:conversations.json',
    redact,
    limits: { ...DEFAULT_LIMITS, ...limits },
    warn: (place, message) => warnings.push({ place, message }),
    skip: (place, message) => skips.push({ place, message }),
  };
  return { ctx, warnings, skips };
}

const ROOT = '00000000-0000-4000-8000-000000000000';

/**
 * A hand-built `conversations.json` following fixtures/claude/SOURCES.md (no openly licensed real
 * Claude export exists): fixtures/claude/conversations.json, which `trajectory run` also takes
 * whole (bench/test/real-exports.test.mjs).
 */
const conversationsJson: unknown[] = JSON.parse(readFileSync(claudeFixture('conversations.json'), 'utf8'));

test('a linear Claude conversation: parts by block type, thinking kept apart, tool calls, attachments and files', () => {
  const { ctx, warnings, skips } = context();
  const c = normaliseClaudeConversation(conversationsJson[0], ctx, '[0]');
  assert.equal(c.id, 'conv-linear');
  assert.equal(c.title, 'Summarise my notes');
  assert.equal(c.source, ExportSource.EXPORT_SOURCE_CLAUDE);
  assert.equal(c.sourceFile, 'claude.zip:conversations.json');
  assert.deepEqual(c.createdAt, new Date('2024-06-01T10:00:00Z'));
  assert.deepEqual(c.updatedAt, new Date('2024-06-01T10:30:00Z'));

  // m6 is empty and left out; everything else is kept in order.
  assert.deepEqual(
    c.messages.map((m) => m.id),
    ['m1', 'm2', 'm3', 'm4', 'm5', 'm7'],
  );
  assert.deepEqual(
    c.messages.map((m) => m.role),
    ['user', 'assistant', 'assistant', 'user', 'assistant', 'user'],
  );
  // Linear: each follows the kept one before it; m7 links past the left-out m6.
  assert.deepEqual(
    c.messages.map((m) => m.parentId),
    ['', 'm1', 'm2', 'm3', 'm4', 'm5'],
  );
  assert.ok(c.messages.every((m) => m.onCurrentBranch));
  assert.equal(c.currentLeafId, 'm7');
  assert.deepEqual(c.messages[0]?.createdAt, new Date('2024-06-01T10:00:01Z'));
  assert.ok(c.messages.every((m) => m.createdAtFromSource));

  const [m1, m2, m3, m4, m5, m7] = c.messages;
  // The attachment's extracted text is kept; the file it came from is not listed twice.
  assert.deepEqual(
    m1?.parts.map((p) => [p.type, p.text, p.reference]),
    [
      ['text', 'Summarise this file', ''],
      ['file', 'line one', 'notes.txt'],
      ['file', '', 'diagram.png'],
    ],
  );
  // `text` is the readable join of the parts, as message.ts defines it for every source.
  assert.ok(c.messages.every((m) => m.text === partsToText(m.parts)));
  assert.ok(m1?.text.startsWith('Summarise this file'));
  assert.equal(m1?.contentType, 'text');

  // Built from the blocks, never from the joined message-level text.
  assert.deepEqual(
    m2?.parts.map((p) => [p.type, p.text]),
    [
      ['thoughts', 'The user wants a summary.'],
      ['text', 'The file says: line one.'],
    ],
  );
  assert.ok(m2?.text.includes('The file says: line one.'));
  assert.ok(!m2?.text.includes('summary.The file'));
  assert.equal(m2?.contentType, 'text');

  assert.deepEqual(
    m3?.parts.map((p) => [p.type, p.text, p.reference]),
    [
      ['tool_use', 'web_search {"query":"line one meaning"}', 'web_search'],
      ['tool_result', 'result one\nresult two', 'web_search'],
      ['text', 'I searched: it means nothing.', ''],
    ],
  );

  assert.deepEqual(
    m4?.parts.map((p) => [p.type, p.text]),
    [['text', 'Thanks! Try again?']],
  );

  // Empty thinking falls back to its summaries; a failed tool result says so; no text block:
  // the content type is the first block's.
  assert.deepEqual(
    m5?.parts.map((p) => [p.type, p.text]),
    [
      ['thoughts', 'Considering a retry\nCalling the tool'],
      ['tool_result', '[error] timeout'],
    ],
  );
  assert.equal(m5?.contentType, 'thinking');

  assert.deepEqual(
    m7?.parts.map((p) => [p.type, p.text]),
    [['unknown:voice_note', 'spoken words']],
  );
  assert.equal(m7?.contentType, 'voice_note');
  assert.deepEqual(warnings, [{ place: '[0] message m7', message: 'unknown content block type "voice_note": kept as unknown:voice_note' }]);
  assert.deepEqual(skips, []);
});

test('parent_message_uuid: an edited question is a sibling and the current branch ends at the last kept message', () => {
  const { ctx, warnings } = context();
  const c = normaliseClaudeConversation(conversationsJson[1], ctx, '[1]');
  assert.deepEqual(
    c.messages.map((m) => [m.id, m.parentId, m.onCurrentBranch]),
    [
      ['b1', '', true],
      ['b2', 'b1', true],
      ['b3', 'b2', false],
      ['b4', 'b3', false],
      ['b5', 'b2', true],
      ['b6', 'b5', true],
    ],
  );
  assert.equal(c.currentLeafId, 'b6');
  assert.deepEqual(warnings, []);
});

test('parent_message_uuid: a left-out message is skipped over and current_leaf_message_uuid is honoured', () => {
  const { ctx, skips } = context({ maxMessageBytes: 20 });
  const c = normaliseClaudeConversation(
    {
      uuid: 'conv-leaf',
      current_leaf_message_uuid: 'c4',
      chat_messages: [
        {
          uuid: 'c1',
          parent_message_uuid: ROOT,
          sender: 'human',
          content: [{ type: 'text', text: 'q' }],
          created_at: '2024-07-01T09:00:00Z',
        },
        { uuid: 'c2', parent_message_uuid: 'c1', sender: 'assistant', content: [{ type: 'text', text: 'x'.repeat(50) }] },
        { uuid: 'c3', parent_message_uuid: 'c2', sender: 'human', content: [{ type: 'text', text: 'more' }] },
        { uuid: 'c4', parent_message_uuid: 'c1', sender: 'assistant', content: [{ type: 'text', text: 'short' }] },
        { uuid: 'c5', parent_message_uuid: 'c3', sender: 'assistant', content: [{ type: 'text', text: 'later' }] },
      ],
    },
    ctx,
    '[2]',
  );
  assert.deepEqual(
    c.messages.map((m) => [m.id, m.parentId, m.onCurrentBranch]),
    [
      ['c1', '', true],
      ['c3', 'c1', false],
      ['c4', 'c1', true],
      ['c5', 'c3', false],
    ],
  );
  assert.equal(c.currentLeafId, 'c4');
  assert.equal(skips.length, 1);
  assert.equal(skips[0]?.place, '[2] message c2');
});

test('a message without time keeps none; missing title and times stay empty', () => {
  const { ctx, warnings } = context();
  const c = normaliseClaudeConversation(
    { uuid: 'conv-nt', chat_messages: [{ uuid: 'n1', sender: 'human', content: [{ type: 'text', text: 'no time' }] }] },
    ctx,
    '[3]',
  );
  assert.equal(c.title, '');
  assert.equal(c.createdAt, undefined);
  assert.equal(c.messages[0]?.createdAt, undefined);
  assert.equal(c.messages[0]?.createdAtFromSource, false);
  assert.ok(warnings.every((w) => w.place === '[3] message n1'));
});

test('unknown senders are kept, a message without uuid gets a positional id, a non-object message is skipped', () => {
  const { ctx, skips } = context();
  const c = normaliseClaudeConversation(
    {
      uuid: 'conv-odd',
      chat_messages: [
        { sender: 'human', content: [{ type: 'text', text: 'a' }], created_at: '2024-01-01T00:00:00Z' },
        'junk',
        { uuid: 's2', sender: 'system', content: [{ type: 'text', text: 'b' }], created_at: '2024-01-01T00:00:01Z' },
      ],
    },
    ctx,
    '[4]',
  );
  assert.deepEqual(
    c.messages.map((m) => [m.id, m.role, m.parentId]),
    [
      ['conv-odd:0', 'user', ''],
      ['s2', 'system', 'conv-odd:0'],
    ],
  );
  assert.deepEqual(skips, [{ place: '[4] message [1]', message: 'a message must be a JSON object: skipped' }]);
});

test('the redactor runs over every part: thinking, tool input and attachments', () => {
  const { ctx } = context({}, (t) => {
    const n = t.split('sk-SECRET').length - 1;
    return { text: t.replaceAll('sk-SECRET', '[REDACTED:key]'), counts: { key: n } };
  });
  const c = normaliseClaudeConversation(
    {
      uuid: 'conv-r',
      chat_messages: [
        {
          uuid: 'r1',
          sender: 'assistant',
          created_at: '2024-01-01T00:00:00Z',
          content: [
            { type: 'thinking', thinking: 'key is sk-SECRET' },
            { type: 'tool_use', name: 'run', input: { key: 'sk-SECRET' } },
            { type: 'text', text: 'done' },
          ],
          attachments: [{ file_name: 'env', extracted_content: 'KEY=sk-SECRET' }],
        },
      ],
    },
    ctx,
    '[5]',
  );
  const m = c.messages[0];
  assert.equal(m?.redactions, 3);
  assert.ok(!m?.text.includes('sk-SECRET'));
  assert.ok(m?.parts.every((p) => !p.text.includes('sk-SECRET')));
});

test('a broken conversation throws a clear error', () => {
  const { ctx } = context();
  assert.throws(() => normaliseClaudeConversation(conversationsJson[2], ctx, '[2]'), /Claude conversation has no uuid/);
  assert.throws(() => normaliseClaudeConversation('text', ctx, '[9]'), /must be a JSON object/);
  assert.throws(() => normaliseClaudeConversation([], ctx, '[9]'), /must be a JSON object/);
  assert.throws(() => normaliseClaudeConversation({ uuid: 'x' }, ctx, '[9]'), /conversation x has no chat_messages/);
});

test('tool blocks nested 20,000 levels deep: the conversation lands whole, nothing overflows the stack', async () => {
  const depth = 20_000;
  // Each level a tool_result holding the next one, as a hostile or broken export can write.
  const results = `${'[{"type":"tool_result","content":'.repeat(depth)}[{"type":"text","text":"the innermost result"}]${'}]'.repeat(depth)}`;
  const input = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const deep = `{"uuid":"deep","name":"deep","chat_messages":[
    {"uuid":"q","sender":"human","content":[{"type":"text","text":"run the tool"}]},
    {"uuid":"call","sender":"assistant","content":[{"type":"tool_use","name":"probe","input":${input}}]},
    {"uuid":"result","sender":"assistant","content":[{"type":"tool_result","content":${results}}]}]}`;
  const after = { uuid: 'after', name: 'after', chat_messages: [{ uuid: 'a1', sender: 'human', text: 'still read' }] };
  const { report, conversations } = await ingestFile(tmpFile(`[${deep},${JSON.stringify(after)}]`));
  assert.deepEqual(report.skipped, []);
  assert.deepEqual(
    conversations.map((c) => [c.id, c.messages.map((m) => m.id)]),
    [
      ['deep', ['q', 'call', 'result']],
      ['after', ['a1']],
    ],
  );
  const [, call, result] = conversations[0]?.messages ?? [];
  assert.equal(call?.parts[0]?.text, `probe ${input}`);
  assert.equal(result?.parts[0]?.text, 'the innermost result');
});
