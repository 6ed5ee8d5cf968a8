import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatgptFixture } from './fixtures.test-helper.js';
import { ingestFile, mapLedger, tmpFile } from './ingest.test-helper.js';

test('the real June 2023 export: exact conversation, message and branch counts', async () => {
  const { report, conversations } = await ingestFile(chatgptFixture('pkuppens_2023-06_export_subset.conversations.json'));
  assert.deepEqual(report.skipped, []);
  assert.equal(report.conversations, 8);
  assert.equal(report.messages, 175);
  // Four conversations regenerate an answer; in one the discarded answer is empty (a failed
  // generation) and carries no text, so three visible branch points remain.
  assert.equal(report.branchPoints, 3);
  assert.deepEqual(report.contentTypes, { code: 15, system_error: 2, tether_browsing_display: 9, tether_quote: 7, text: 142 });
  assert.equal(report.messagesWithoutTime, 0, 'every message keeps its original time');
  for (const c of conversations) {
    const ids = new Set(c.messages.map((m) => m.id));
    // Every parent link points at a kept message; exactly one root per conversation.
    assert.ok(c.messages.every((m) => m.parentId === '' || ids.has(m.parentId)));
    assert.equal(c.messages.filter((m) => m.parentId === '').length, 1);
    assert.ok(c.messages.every((m) => m.role !== 'system' && m.text.trim() !== '' && m.createdAtFromSource));
    assert.ok(c.createdAt instanceof Date && c.createdAt.getUTCFullYear() === 2023);
    assert.equal(c.messages.filter((m) => m.onCurrentBranch).at(-1)?.id, c.currentLeafId);
  }
  const tools = conversations.flatMap((c) => c.messages).filter((m) => m.role === 'tool');
  assert.equal(tools.length, 18);
  assert.ok(tools.some((m) => m.authorName === 'browser'));
});

test('2025 single-conversation objects: typed parts, thoughts, image pointers, custom instructions dropped', async () => {
  const { report, conversations } = await ingestFile(chatgptFixture('polylogue_native-conversation-v1.json'));
  assert.equal(report.conversations, 1);
  assert.equal(report.branchPoints, 1);
  const c = conversations[0];
  assert.ok(c);
  assert.equal(c.id, 'chatgpt-fixture-conversation');
  assert.ok(!c.messages.some((m) => m.contentType === 'user_editable_context'));
  assert.equal(c.messages.find((m) => m.text === 'Superseded answer.')?.onCurrentBranch, false);
  assert.equal(c.messages.find((m) => m.id === c.currentLeafId)?.onCurrentBranch, true);
  const user = c.messages.find((m) => m.role === 'user');
  assert.deepEqual(
    user?.parts.map((p) => p.type),
    ['text', 'image'],
  );
  assert.match(user?.parts[1]?.reference ?? '', /^(file-service|sediment):\/\//);
  assert.ok(c.messages.some((m) => m.contentType === 'thoughts' && m.parts[0]?.type === 'thoughts'));
  assert.ok(c.messages.some((m) => m.contentType === 'execution_output' && m.role === 'tool'));

  const { conversations: other } = await ingestFile(chatgptFixture('blackiya_2026_single_conversation_thoughts.json'));
  assert.deepEqual(
    other[0]?.messages.map((m) => [m.role, m.contentType]),
    [
      ['user', 'text'],
      ['assistant', 'thoughts'],
      ['assistant', 'reasoning_recap'],
      ['assistant', 'text'],
    ],
  );
});

const conversation = (id: string, messages: { id: string; role: string; text: string; type?: string; time?: number | null }[]) => {
  const mapping: Record<string, unknown> = { root: { id: 'root', message: null, parent: null, children: [messages[0]?.id] } };
  messages.forEach((m, i) => {
    mapping[m.id] = {
      id: m.id,
      parent: i === 0 ? 'root' : messages[i - 1]?.id,
      children: messages[i + 1] ? [messages[i + 1]?.id] : [],
      message: {
        id: m.id,
        author: { role: m.role, name: null },
        create_time: m.time === undefined ? 1700000000.25 + i : m.time,
        content: m.type ? { content_type: m.type, text: m.text, payload: { x: 1 } } : { content_type: 'text', parts: [m.text] },
      },
    };
  });
  return { id, title: id, create_time: 1700000000.5, mapping, current_node: messages.at(-1)?.id };
};

test('unknown content types are kept as typed parts with a warning; null and fractional times are honest', async () => {
  const { report, conversations } = await ingestFile(
    tmpFile(
      JSON.stringify([
        conversation('c1', [
          { id: 'u', role: 'user', text: 'hello' },
          { id: 'a', role: 'assistant', text: 'a hologram', type: 'hologram_v9' },
          { id: 'u2', role: 'user', text: 'no time here', time: null },
        ]),
      ]),
    ),
  );
  const c = conversations[0];
  assert.deepEqual(
    c?.messages.map((m) => m.parts[0]?.type),
    ['text', 'unknown:hologram_v9', 'text'],
  );
  assert.equal(c?.messages[1]?.text, 'a hologram');
  assert.match(report.warnings[0]?.message ?? '', /unknown content type "hologram_v9": kept as a typed part/);
  assert.match(report.warnings[0]?.place ?? '', /^\[0\] conversation c1 message a$/);
  assert.equal(c?.messages[0]?.createdAt?.toISOString(), '2023-11-14T22:13:20.250Z');
  assert.equal(c?.messages[2]?.createdAt, undefined);
  assert.equal(c?.messages[2]?.createdAtFromSource, false);
  assert.equal(report.messagesWithoutTime, 1);
});

test('a truncated file: the conversations before the damage go through, the error names the file and place', async () => {
  const text = JSON.stringify([
    conversation('c1', [{ id: 'x', role: 'user', text: 'one' }]),
    conversation('c2', [{ id: 'y', role: 'user', text: 'two' }]),
    conversation('c3', [{ id: 'z', role: 'user', text: 'three' }]),
  ]);
  const { report, conversations } = await ingestFile(tmpFile(text.slice(0, text.length - 40)), { fileName: 'broken.json' });
  assert.deepEqual(
    conversations.map((c) => c.id),
    ['c1', 'c2'],
  );
  assert.equal(report.skipped.length, 1);
  assert.equal(report.skipped[0]?.fileName, 'broken.json');
  assert.match(report.skipped[0]?.place ?? '', /^\[2\] at byte \d+$/);
  assert.match(report.skipped[0]?.message ?? '', /malformed JSON/);
});

test('a bad or unknown-version element is reported with its index; the rest still go through', async () => {
  const good = (id: string) => conversation(id, [{ id: `${id}-m`, role: 'user', text: 'hi' }]);
  const { report, conversations } = await ingestFile(
    tmpFile(JSON.stringify([good('a'), { mapping: {} }, 42, { messages_v7: [] }, good('b')])),
  );
  assert.deepEqual(
    conversations.map((c) => c.id),
    ['a', 'b'],
  );
  assert.deepEqual(
    report.skipped.map((e) => e.place),
    ['[1]', '[2]', '[3]'],
  );
  assert.match(report.skipped[0]?.message ?? '', /no id or conversation_id/);
  assert.match(report.skipped[2]?.message ?? '', /unknown export format or version.*messages_v7/);
});

test('a 50 MB message is skipped with its conversation named; its neighbours stay linked', async () => {
  const huge = 'x'.repeat(50 * 1024 * 1024);
  const { report, conversations } = await ingestFile(
    tmpFile(
      JSON.stringify([
        conversation('big', [
          { id: 'q', role: 'user', text: 'question' },
          { id: 'h', role: 'assistant', text: huge },
          { id: 'f', role: 'user', text: 'follow-up' },
        ]),
      ]),
    ),
  );
  assert.deepEqual(
    conversations[0]?.messages.map((m) => [m.id, m.parentId]),
    [
      ['q', ''],
      ['f', 'q'],
    ],
  );
  assert.match(report.skipped[0]?.place ?? '', /conversation big message h/);
  assert.match(report.skipped[0]?.message ?? '', /52428800 bytes is over the 1048576-byte limit/);
});

test('not an export at all: empty, binary, or a bare value', async () => {
  for (const [content, expected] of [
    ['', /the file is empty/],
    [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]), /./],
    ['"just a string"', /expected a JSON array or object/],
  ] as const) {
    const { report, conversations } = await ingestFile(tmpFile(content));
    assert.equal(conversations.length, 0);
    assert.match(report.skipped[0]?.message ?? '', expected);
  }
});

test('re-ingesting an export publishes nothing; a newer export publishes only what is new', async () => {
  const ledger = mapLedger();
  const v1 = [
    conversation('kept', [{ id: 'k1', role: 'user', text: 'same' }]),
    conversation('grows', [
      { id: 'g1', role: 'user', text: 'start' },
      { id: 'g2', role: 'assistant', text: 'reply' },
    ]),
  ];
  const first = await ingestFile(tmpFile(JSON.stringify(v1)), { ledger });
  assert.equal(first.events.length, 2);
  assert.equal(first.report.conversationsNew, 2);

  const again = await ingestFile(tmpFile(JSON.stringify(v1)), { ledger });
  assert.equal(again.events.length, 0, 'the same export again publishes nothing');
  assert.equal(again.report.conversationsUnchanged, 2);

  const v2 = [
    v1[0],
    conversation('grows', [
      { id: 'g1', role: 'user', text: 'start' },
      { id: 'g2', role: 'assistant', text: 'reply' },
      { id: 'g3', role: 'user', text: 'and more' },
    ]),
    conversation('fresh', [{ id: 'f1', role: 'user', text: 'new one' }]),
  ];
  const newer = await ingestFile(tmpFile(JSON.stringify(v2)), { ledger });
  assert.deepEqual(
    newer.events.map((e) => [e.conversation?.id, e.newMessageIds]),
    [
      ['grows', ['g3']],
      ['fresh', ['f1']],
    ],
  );
  assert.equal(newer.report.conversationsContinued, 1);
  assert.equal(newer.report.conversationsNew, 1);
  assert.equal(newer.report.conversationsUnchanged, 1);
  assert.equal(newer.report.messagesNew, 2);
});

// ---------------------------------------------------------------------------------------------
// A damaged mapping is read as far as it goes, and every cut or guess is reported.

/** A mapping node as the export writes it: `parent` and `children` links and one message. */
const node = (id: string, parent: string | null, children: string[], text: string | null, time = 1700000000) => ({
  id,
  parent,
  children,
  message:
    text === null
      ? null
      : { id, author: { role: 'user', name: null }, create_time: time, content: { content_type: 'text', parts: [text] } },
});
const good = (id = 'good') => conversation(id, [{ id: `${id}-1`, role: 'user', text: 'a sound conversation' }]);

test('a cycle of parent links is cut at its oldest message and reported; every message of it is kept', async () => {
  const cyclic = {
    id: 'cyc',
    current_node: 'b',
    // a → b → a: no node is a root, so the old reader kept nothing of it and said nothing.
    mapping: { a: node('a', 'b', ['b'], 'first', 1700000001), b: node('b', 'a', ['a'], 'second', 1700000002) },
  };
  const { report, conversations } = await ingestFile(tmpFile(JSON.stringify([good('before'), cyclic, good('after')])), {
    fileName: 'cyclic.json',
  });
  assert.deepEqual(
    conversations.map((c) => c.id),
    ['before', 'cyc', 'after'],
  );
  assert.deepEqual(
    conversations[1]?.messages.map((m) => [m.id, m.parentId, m.onCurrentBranch]),
    [
      ['a', '', true],
      ['b', 'a', true],
    ],
  );
  assert.equal(conversations[1]?.currentLeafId, 'b');
  assert.deepEqual(report.warnings, [
    {
      fileName: 'cyclic.json',
      place: '[1] conversation cyc node a',
      message: 'parent links form a cycle (a → b → a): the link from a to its parent b is cut, a is read as the start',
    },
  ]);
});

test('a node that is its own parent starts the conversation, with a warning; its children stay below it', async () => {
  const selfParent = {
    id: 'self',
    current_node: 'b',
    mapping: { a: node('a', 'a', ['a', 'b'], 'me again'), b: node('b', 'a', [], 'reply') },
  };
  const { report, conversations } = await ingestFile(tmpFile(JSON.stringify([selfParent, good()])));
  assert.deepEqual(
    conversations[0]?.messages.map((m) => [m.id, m.parentId]),
    [
      ['a', ''],
      ['b', 'a'],
    ],
  );
  assert.equal(conversations[1]?.id, 'good');
  assert.equal(report.warnings[0]?.place, '[0] conversation self node a');
  assert.match(report.warnings[0]?.message ?? '', /is its own parent: read as the start/);
});

test('a missing or unknown current_node: the branch written last is taken as current, and the warning names it', async () => {
  const branched = (id: string, current?: unknown) => ({
    id,
    ...(current === undefined ? {} : { current_node: current }),
    mapping: {
      root: node('root', null, ['q'], null),
      q: node('q', 'root', ['old', 'new'], 'question', 1700000000),
      new: node('new', 'q', [], 'the answer regenerated', 1700000200),
      old: node('old', 'q', [], 'the first answer', 1700000100),
    },
  });
  const { report, conversations } = await ingestFile(tmpFile(JSON.stringify([branched('none'), branched('dangling', 'gone'), good()])));
  assert.equal(conversations.length, 3);
  for (const c of conversations.slice(0, 2)) {
    assert.equal(c.currentLeafId, 'new');
    assert.deepEqual(
      c.messages.filter((m) => m.onCurrentBranch).map((m) => m.id),
      ['q', 'new'],
    );
  }
  assert.deepEqual(
    report.warnings.map((w) => [w.place, w.message]),
    [
      ['[0] conversation none', 'has no current_node: the current branch is taken to end at node new, the message written last'],
      [
        '[1] conversation dangling',
        'current_node "gone" names no node of the mapping: the current branch is taken to end at node new, the message written last',
      ],
    ],
  );
});

test('a content part nested 10,000 levels deep keeps its text and is reported; unreadable parts and nodes are reported too', async () => {
  const depth = 10_000;
  const nested = `${'{"content_type":"wrapped","parts":['.repeat(depth)}"deep text"${']}'.repeat(depth)}`;
  const message = `{"id":"m","author":{"role":"user"},"create_time":1700000000,"content":{"content_type":"text","parts":["on top",${nested},42]}}`;
  const deep = `{"id":"deep","current_node":"m","mapping":{"m":{"id":"m","parent":null,"children":[],"message":${message}},"junk":null}}`;
  const { report, conversations } = await ingestFile(tmpFile(`[${deep},${JSON.stringify(good())}]`));
  assert.deepEqual(
    conversations.map((c) => c.id),
    ['deep', 'good'],
  );
  assert.deepEqual(
    conversations[0]?.messages[0]?.parts.map((p) => p.text),
    ['on top', 'deep text'],
  );
  assert.deepEqual(
    report.warnings.map((w) => [w.place, w.message]),
    [
      [
        '[0] conversation deep message m',
        `content part [1] is an object of type "wrapped" of a shape this reader does not know, ${2 * depth} level(s) deep: its text is kept`,
      ],
      ['[0] conversation deep message m', 'content part [2] is a number with no text: left out'],
    ],
  );
  assert.deepEqual(
    report.skipped.map((s) => [s.place, s.message]),
    [['[0] conversation deep node junk', 'a mapping node must be a JSON object, found null: left out']],
  );
});

test("a node its parent's children list forgets is still read below its parent", async () => {
  const forgotten = {
    id: 'forgot',
    current_node: 'b',
    mapping: { a: node('a', null, [], 'question'), b: node('b', 'a', [], 'answer the list forgot') },
  };
  const { report, conversations } = await ingestFile(tmpFile(JSON.stringify([forgotten])));
  assert.deepEqual(
    conversations[0]?.messages.map((m) => [m.id, m.parentId, m.onCurrentBranch]),
    [
      ['a', '', true],
      ['b', 'a', true],
    ],
  );
  assert.deepEqual(report.warnings, []);
});

test('fields of the wrong type (a numeric title, role or content type, an object for a name) lose nothing', async () => {
  const odd = (id: string, conv: object, message: object) => {
    const c = conversation(id, [{ id: `${id}-m`, role: 'user', text: 'hello' }]);
    const m = (c.mapping[`${id}-m`] as { message: object }).message;
    Object.assign(m, message);
    return { ...c, ...conv };
  };
  const { report, conversations } = await ingestFile(
    tmpFile(
      JSON.stringify([
        // A title that is not a string once ended the whole file, in the redactor ("text.includes is not a function").
        odd('title', { title: 42 }, {}),
        odd('author', {}, { author: { role: 7, name: { first: 'x' } } }),
        odd('type', {}, { content: { content_type: 5, parts: ['typed by a number'] } }),
        good('after'),
      ]),
    ),
  );
  assert.deepEqual(
    conversations.map((c) => [c.id, c.title, c.messages[0]?.role, c.messages[0]?.authorName, c.messages[0]?.contentType]),
    [
      ['title', '', 'user', '', 'text'],
      ['author', 'author', 'unknown', '', 'text'],
      ['type', 'type', 'user', '', 'unknown'],
      ['after', 'after', 'user', '', 'text'],
    ],
  );
  assert.deepEqual(report.skipped, []);
  assert.deepEqual(
    report.warnings.map((w) => [w.place, w.message]),
    [['[2] conversation type message type-m', 'unknown content type 5: kept as a typed part']],
  );
});
