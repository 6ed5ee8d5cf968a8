import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { validateFile } from './io/validate-file.js';
import { RECORD_TYPES, type RecordType } from './records.js';
import { loadRecordSchemas } from './schema-files.test-helper.js';
import { recordSchemas, validateRecord, validateRecords } from './validate.js';

const graph = { conversationId: 'c1', nodeIds: ['n1', 'n2'] };

/** A valid record of every type. */
export const VALID: Record<RecordType, Record<string, unknown>> = {
  chat: {
    id: 'chat-1',
    type: 'chat',
    weight: 1.5,
    source: graph,
    split: 'train',
    tags: ['follow-up'],
    instruction: '',
    input: 'User: How do I sort a list?\nAssistant: Use sorted().\n\nIt returns a new list.\nUser: And in place?',
    output: 'Call list.sort().',
  },
  qa: { id: 'qa-1', type: 'qa', weight: 1, source: graph, split: 'eval', question: 'What is 2+2?', answer: '4' },
  preference: {
    id: 'pref-1',
    type: 'preference',
    weight: 1,
    source: graph,
    split: 'train',
    prompt: 'Write a haiku',
    chosen: 'An old silent pond',
    rejected: 'A haiku is a poem',
  },
  knowledge: {
    id: 'k-1',
    type: 'knowledge',
    weight: 2.5,
    source: graph,
    split: 'train',
    topic: 'caching',
    content: 'Cache by content hash.',
  },
  memory: {
    id: 'm-1',
    type: 'memory',
    weight: 1,
    source: { factId: 'f1' },
    split: 'heldout',
    subject: 'my dog',
    relation: 'name',
    value: 'Pixel',
    question: "What's my dog's name?",
    answer: 'Pixel.',
    kind: 'fact',
    system: 'Facts:\n- my dog — name: Pixel',
  },
  trajectory: {
    id: 't-1',
    type: 'trajectory',
    weight: 0.8,
    source: graph,
    split: 'train',
    context: [
      { role: 'user', text: 'Idea A', nodeId: 'n1' },
      { role: 'assistant', text: 'Refined A', nodeId: 'n2' },
    ],
    next: { role: 'user', text: 'Final A', nodeId: 'n3' },
    relation: 'refines',
    ageDays: 12.5,
  },
};

/** One broken record per type and the field its error must name. */
const BROKEN: [RecordType, Record<string, unknown>, string][] = [
  ['chat', { ...VALID.chat, output: '' }, '/output must NOT have fewer than 1 characters'],
  ['qa', { ...VALID.qa, answer: undefined }, '/answer is required'],
  ['preference', { ...VALID.preference, weight: -1 }, '/weight must be >= 0'],
  ['knowledge', { ...VALID.knowledge, split: 'test' }, '/split must be one of train, eval, heldout'],
  ['memory', { ...VALID.memory, kind: 'guess' }, '/kind must be one of fact, negative, unknown'],
  ['trajectory', { ...VALID.trajectory, context: [] }, '/context must NOT have fewer than 1 items'],
];

test('a valid record of every type passes', () => {
  for (const type of RECORD_TYPES) assert.deepEqual(validateRecord(VALID[type]), { valid: true, errors: [] }, type);
});

test('a broken record of every type fails, naming the field', () => {
  for (const [type, record, message] of BROKEN) {
    const check = validateRecord(JSON.parse(JSON.stringify(record)));
    assert.equal(check.valid, false, type);
    assert.ok(check.errors.includes(message), `${type}: ${check.errors.join(' | ')}`);
  }
});

test('rules beyond JSON Schema and the finer schema rules', () => {
  const errorsOf = (record: Record<string, unknown>) => validateRecord(record).errors;
  assert.deepEqual(errorsOf({ ...VALID.preference, rejected: VALID.preference.chosen }), ['/rejected must differ from /chosen']);
  const fourTurns = 'User: a\nAssistant: b\nUser: c\nAssistant: d';
  assert.match(errorsOf({ ...VALID.chat, input: fourTurns }).join(), /^\/input must be 1 to 3 previous turns/);
  assert.match(errorsOf({ ...VALID.chat, input: 'hello' }).join(), /^\/input must be 1 to 3 previous turns/);
  assert.deepEqual(errorsOf({ ...VALID.chat, extra: 1 }), ['/extra is not allowed']);
  assert.deepEqual(errorsOf({ ...VALID.qa, source: { conversationId: 'c' } }), ['/source/nodeIds is required']);
  assert.deepEqual(errorsOf({ ...VALID.qa, source: { factId: 'f' } }), []);
  assert.deepEqual(errorsOf({ ...VALID.memory, source: graph }), [
    '/source/factId is required',
    '/source/conversationId is not allowed',
    '/source/nodeIds is not allowed',
  ]);
  assert.deepEqual(errorsOf({ ...VALID.trajectory, source: { factId: 'f' } }), [
    '/source/conversationId is required',
    '/source/nodeIds is required',
    '/source/factId is not allowed',
  ]);
  assert.deepEqual(errorsOf({ ...VALID.memory, value: '' }), ['/value must NOT have fewer than 1 characters']);
  assert.deepEqual(errorsOf({ ...VALID.memory, value: '', kind: 'unknown' }), []);
  assert.deepEqual(errorsOf({ ...VALID.trajectory, next: { role: 'user', text: 'x' } }), ['/next/nodeId is required']);
  assert.deepEqual(errorsOf({ ...VALID.trajectory, ageDays: -2 }), ['/ageDays must be >= 0']);
  assert.deepEqual(errorsOf({ ...VALID.qa, type: 'poem' }), [
    '/type must be one of chat, qa, preference, knowledge, memory, trajectory (got "poem")',
  ]);
  assert.deepEqual(validateRecord([1]).errors, ['record must be a JSON object']);
});

test('the schemas the library checks against are the schema files', () => {
  assert.deepEqual(recordSchemas(), loadRecordSchemas());
});

test('every schema declares the same common fields', () => {
  const schemas = loadRecordSchemas();
  const common = (type: RecordType) => {
    const { id, weight, split, tags } = schemas[type].properties as Record<string, unknown>;
    return { id, weight, split, tags, required: (schemas[type].required as string[]).slice(0, 5) };
  };
  for (const type of RECORD_TYPES) {
    assert.deepEqual(common(type), common('chat'), type);
    assert.equal(schemas[type].$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.deepEqual((schemas[type].properties as Record<string, unknown>).type, { const: type });
  }
});

test('validateRecords numbers lines from 1, reports malformed JSON and unknown types, skips blank lines', async () => {
  const lines = [
    JSON.stringify(VALID.chat),
    '',
    '{"id": "x", "type": "chat",',
    JSON.stringify({ ...VALID.qa, type: 'essay' }),
    JSON.stringify({ ...VALID.chat, output: '' }),
    JSON.stringify(VALID.memory),
  ];
  const result = await validateRecords(lines);
  assert.equal(result.valid, 2);
  assert.equal(result.invalid, 3);
  assert.deepEqual(
    result.errors.map((e) => e.line),
    [3, 4, 5],
  );
  assert.match(result.errors[0]?.message ?? '', /^line 3: malformed JSON: /);
  assert.equal(result.errors[1]?.message, 'line 4: /type must be one of chat, qa, preference, knowledge, memory, trajectory (got "essay")');
  assert.equal(result.errors[2]?.message, 'line 5: /output must NOT have fewer than 1 characters');
});

test('an empty file is valid with zero records; async lines work; messages are capped', async () => {
  assert.deepEqual(await validateRecords([]), { valid: 0, invalid: 0, errors: [], truncated: false });
  async function* lines() {
    yield JSON.stringify(VALID.qa);
    yield 'nope';
    yield 'nope';
  }
  const result = await validateRecords(lines(), { maxErrors: 1 });
  assert.equal(result.valid, 1);
  assert.equal(result.invalid, 2);
  assert.equal(result.errors.length, 1);
  assert.equal(result.truncated, true);
});

test('validateFile reads a JSONL file line by line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'validate-'));
  try {
    const file = join(dir, 'd.jsonl');
    await writeFile(file, `${JSON.stringify(VALID.knowledge)}\r\n${JSON.stringify({ ...VALID.knowledge, content: '' })}\n`);
    const result = await validateFile(file);
    assert.equal(result.valid, 1);
    assert.deepEqual(result.errors, [{ line: 2, message: 'line 2: /content must NOT have fewer than 1 characters' }]);
    await writeFile(file, '');
    assert.equal((await validateFile(file)).valid, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
