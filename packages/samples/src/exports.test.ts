// Exports of every record type, checked here and by the consumer library itself: Hugging Face
// `datasets` loads every file (scripts/check_exports.py, in the Python trainer's venv that
// devstack sets up before the unit tests run), and dataset_info.json goes through LLaMA-Factory's
// own rules. Without the venv the Python checks are skipped on a developer's machine, but fail
// under CI (env CI set): there a missing venv or `datasets` means the setup broke.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  characterCounter,
  conversationTokens,
  DPO_MIN_PAIRS,
  type ExportManifest,
  fitConversation,
  floatJson,
  knowledgePrompt,
  lengthStats,
  MESSAGE_OVERHEAD_TOKENS,
  type Message,
  parseTurns,
  sftConversation,
  sftMessages,
  type TokenCounter,
  toAlpaca,
  toConversation,
  USER_TARGET_SYSTEM,
} from './exports.js';
import { exportDataset } from './io/exports.js';
import type { DatasetRecord, Split, TrajectoryTurn } from './records.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PYTHON = join(resolve(ROOT, process.env.TRAJECTORY_DATA_DIR ?? '.trajectory'), 'venv', 'bin', 'python');
const CHECK = fileURLToPath(new URL('../scripts/check_exports.py', import.meta.url));
const SETUP = 'node tooling/devstack/bin/devstack.mjs setup';

const conv = { conversationId: 'c1', nodeIds: ['n1', 'n2'] };
const base = (id: string, split: Split, weight: number) => ({ id, split, weight, source: conv });
const turn = (role: string, text: string, nodeId = `node-${text.length}`): TrajectoryTurn => ({ role, text, nodeId });

/** Every record type; train, eval and heldout; whole and fractional weights. */
const RECORDS: DatasetRecord[] = [
  {
    ...base('chat-1', 'train', 2.5),
    type: 'chat',
    instruction: 'You are my research assistant.',
    input: 'User: How do I speed up the build?\nAssistant: Cache the compiler output.\nUser: I did; it still takes:\n\n  four minutes',
    output: 'Then split the slow package.',
  },
  {
    ...base('chat-2', 'train', 1.3),
    type: 'chat',
    instruction: '',
    input: 'Assistant: The index is stale.\nUser: Rebuild it?',
    output: 'Yes, rebuild it nightly.',
  },
  { ...base('qa-1', 'train', 1), type: 'qa', question: 'What is the cache key?', answer: 'The lockfile hash.' },
  {
    ...base('kn-1', 'train', 0.75),
    type: 'knowledge',
    topic: 'build caching',
    content: 'Cache by lockfile hash; bust on toolchain change.',
  },
  {
    id: 'mem-1',
    split: 'train',
    weight: 2,
    source: { factId: 'f1' },
    type: 'memory',
    subject: 'I',
    relation: 'live in',
    value: 'Lisbon',
    question: 'where do i live?',
    answer: 'You live in Lisbon.',
    kind: 'fact',
    system: 'You know these facts about the user: I live in Lisbon.',
  },
  {
    id: 'mem-2',
    split: 'train',
    weight: 1,
    source: { factId: 'f1' },
    type: 'memory',
    subject: 'I',
    relation: 'live in',
    value: 'Lisbon',
    question: 'What is the capital of Portugal?',
    answer: 'Lisbon is the capital of Portugal.',
    kind: 'negative',
    system: 'You know these facts about the user: I live in Lisbon.',
  },
  {
    ...base('tr-assistant', 'train', 1.83),
    type: 'trajectory',
    context: [turn('user', 'Plan the migration.'), turn('assistant', 'Step one: freeze writes.'), turn('user', 'And then?')],
    next: turn('assistant', 'Step two: copy the tables.'),
    relation: 'refines',
    ageDays: 40,
  },
  {
    ...base('tr-user', 'train', 1.2),
    type: 'trajectory',
    context: [turn('user', 'Is Postgres enough?'), turn('assistant', 'For this load, yes.')],
    next: turn('user', 'Then what about the search index?'),
    relation: 'derives',
    ageDays: 3,
  },
  {
    ...base('tr-merge', 'train', 1),
    type: 'trajectory',
    context: [turn('user', 'Summarise.'), turn('assistant', 'Part one.'), turn('assistant', 'Part two.'), turn('user', 'Shorter.')],
    next: turn('assistant', 'One line.'),
    relation: 'follows',
    ageDays: 0,
  },
  {
    ...base('tr-tool', 'train', 1),
    type: 'trajectory',
    context: [turn('user', 'Run it.')],
    next: turn('tool', 'exit 0'),
    relation: 'follows',
    ageDays: 0,
  },
  { ...base('pref-1', 'train', 1.5), type: 'preference', prompt: 'Name the cache.', chosen: 'turbo cache', rejected: 'the thing' },
  { ...base('pref-2', 'train', 1), type: 'preference', prompt: 'Fix the test?', chosen: 'Pin the clock.', rejected: 'Retry it.' },
  // eval: whole weights only, which Arrow would read as int64 without the `.0`.
  { ...base('chat-e', 'eval', 1), type: 'chat', instruction: 'Be brief.', input: 'User: Ship it?', output: 'After the gate passes.' },
  { ...base('qa-e', 'eval', 2), type: 'qa', question: 'Who owns CI?', answer: 'The platform team.' },
  {
    ...base('tr-e', 'eval', 1),
    type: 'trajectory',
    context: [turn('user', 'Why did it fail?')],
    next: turn('assistant', 'A flaky clock.'),
    relation: 'follows',
    ageDays: 1,
  },
  { ...base('pref-e', 'eval', 1), type: 'preference', prompt: 'Best fix?', chosen: 'A fake clock.', rejected: 'Sleep 5.' },
  // heldout: never in any export.
  { ...base('qa-h', 'heldout', 1), type: 'qa', question: 'HELDOUT where do I live', answer: 'HELDOUT Lisbon' },
  {
    id: 'mem-h',
    split: 'heldout',
    weight: 1,
    source: { factId: 'f1' },
    type: 'memory',
    subject: 'I',
    relation: 'live in',
    value: 'Lisbon',
    question: 'HELDOUT my city?',
    answer: 'HELDOUT Lisbon.',
    kind: 'fact',
    system: 'HELDOUT',
  },
  { ...base('pref-h', 'heldout', 1), type: 'preference', prompt: 'HELDOUT', chosen: 'HELDOUT a', rejected: 'HELDOUT b' },
];

const SFT_TRAIN = 9; // chat×2, qa, knowledge, memory×2, trajectory×3 (tr-tool is unusable)
const SFT_EVAL = 3;
const EXPECTED_ROWS: Record<string, number> = {
  'sft.jsonl': SFT_TRAIN,
  'sft.eval.jsonl': SFT_EVAL,
  'sharegpt.jsonl': SFT_TRAIN,
  'sharegpt.eval.jsonl': SFT_EVAL,
  'alpaca.jsonl': SFT_TRAIN,
  'alpaca.eval.jsonl': SFT_EVAL,
  'dpo.jsonl': 2,
  'dpo.eval.jsonl': 1,
  'sharegpt_dpo.jsonl': 2,
  'sharegpt_dpo.eval.jsonl': 1,
  'alpaca_dpo.jsonl': 2,
  'alpaca_dpo.eval.jsonl': 1,
};

/** One token per word: lengths a test can count by eye. */
const words: TokenCounter = { name: 'words', unit: 'tokens', count: (text) => text.split(/\s+/).filter(Boolean).length };

const readJsonl = (path: string): Record<string, unknown>[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('pure pieces', () => {
  test('parseTurns: prefixes open turns, other lines continue them', () => {
    assert.deepEqual(parseTurns('User: a\nb\n\nAssistant: c\nUser:d'), [
      { role: 'user', content: 'a\nb' },
      { role: 'assistant', content: 'c' },
      { role: 'user', content: 'd' },
    ]);
    assert.deepEqual(parseTurns('no prefix\nUser: x'), [
      { role: 'user', content: 'no prefix' },
      { role: 'user', content: 'x' },
    ]);
  });

  test('toConversation merges same-role runs, moves a leading assistant into the system prompt, ends with assistant', () => {
    const m = (role: Message['role'], content: string): Message => ({ role, content });
    const c = toConversation('sys', [m('assistant', 'A0'), m('user', 'U1'), m('user', 'U2'), m('assistant', 'A1'), m('user', 'U3')]);
    assert.deepEqual(c, {
      system: 'sys\n\nYour previous message in this conversation:\n\nA0',
      turns: [m('user', 'U1\n\nU2'), m('assistant', 'A1')],
    });
    assert.equal(toConversation('', [m('assistant', 'alone')]), null);
    assert.equal(toConversation('', [m('user', 'no answer'), m('assistant', '  ')]), null);
  });

  test('alpaca history holds the earlier pairs, the last pair is instruction/output', () => {
    const c = sftConversation(RECORDS[0] as DatasetRecord);
    assert.ok(c);
    assert.deepEqual(toAlpaca(c), {
      instruction: 'I did; it still takes:\n\n  four minutes',
      input: '',
      output: 'Then split the slow package.',
      system: 'You are my research assistant.',
      history: [['How do I speed up the build?', 'Cache the compiler output.']],
    });
  });

  test('user-target trajectories: roles swapped under a system note, or skipped', () => {
    const record = RECORDS.find((r) => r.id === 'tr-user') as DatasetRecord;
    // The user's first turn is now on the model's side: before any "user" turn, so context in the system prompt.
    assert.deepEqual(sftConversation(record, { systemPrompt: 'ignored here' }), {
      system: `${USER_TARGET_SYSTEM}\n\nYour previous message in this conversation:\n\nIs Postgres enough?`,
      turns: [
        { role: 'user', content: 'For this load, yes.' },
        { role: 'assistant', content: 'Then what about the search index?' },
      ],
    });
    assert.equal(sftConversation(record, { userTargets: 'skip' }), null);
  });

  test('knowledge asks about the topic; preference has no SFT conversation', () => {
    const c = sftConversation(RECORDS.find((r) => r.id === 'kn-1') as DatasetRecord);
    assert.equal(c?.turns[0]?.content, knowledgePrompt('build caching'));
    assert.equal(sftConversation(RECORDS.find((r) => r.id === 'pref-1') as DatasetRecord), null);
  });

  test('floatJson always writes a float', () => {
    assert.equal(floatJson(1), '1.0');
    assert.equal(floatJson(0), '0.0');
    assert.equal(floatJson(2.5), '2.5');
    assert.equal(floatJson(1e21), '1e+21');
    assert.throws(() => floatJson(Number.NaN), /finite/);
  });
});

describe('the length policy', () => {
  const long = (n: number, word = 'w') => Array.from({ length: n }, () => word).join(' ');
  const chat: DatasetRecord = {
    ...base('chat-long', 'train', 1),
    type: 'chat',
    instruction: 'sys',
    input: `User: ${long(50)}\nAssistant: ${long(50)}\nUser: ${long(10)}`,
    output: long(20),
  };
  const size = (...contents: number[]) => contents.reduce((sum, n) => sum + n + MESSAGE_OVERHEAD_TOKENS, 0);

  test('a conversation is measured message by message, with the chat template overhead', () => {
    const c = sftConversation(chat) as NonNullable<ReturnType<typeof sftConversation>>;
    assert.equal(conversationTokens(c, words), size(1, 50, 50, 10, 20));
  });

  test('too long: the oldest messages go first, a node (message) at a time, down to the last exchange', () => {
    const parts = sftMessages(chat) as NonNullable<ReturnType<typeof sftMessages>>;
    const whole = fitConversation(parts, words, 1000);
    assert.equal(whole.droppedMessages, 0);
    assert.equal(whole.tokens, whole.fullTokens);
    // Without the first user turn, the assistant's reply to it opens the rest: it moves into the system prompt.
    const one = fitConversation(parts, words, size(1 + 6 + 50, 10, 20)); // "Your previous message in this conversation:" is 6 words
    assert.equal(one.droppedMessages, 1);
    assert.match(one.conversation?.system ?? '', /^sys\n\nYour previous message in this conversation:/);
    const last = fitConversation(parts, words, size(1, 10, 20));
    assert.equal(last.droppedMessages, 2);
    assert.deepEqual(
      last.conversation?.turns.map((t) => t.content.split(' ').length),
      [10, 20],
    );
    assert.equal(last.tokens, size(1, 10, 20));
    const none = fitConversation(parts, words, size(1, 10, 20) - 1);
    assert.equal(none.conversation, null, 'the last exchange alone is too long: dropped, never cut');
    assert.equal(none.fullTokens, size(1, 50, 50, 10, 20));
  });

  test('exportDataset shortens or drops what is too long, counts it, and the manifest and rows agree', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samples-exports-length-'));
    try {
      const tooLong: DatasetRecord = { ...base('qa-long', 'train', 1), type: 'qa', question: long(5), answer: long(200) };
      const bigPair: DatasetRecord = {
        ...base('pref-long', 'eval', 1),
        type: 'preference',
        prompt: long(5),
        chosen: long(200),
        rejected: 'no',
      };
      const maxTokens = size(1, 50, 10, 20);
      const result = await exportDataset([chat, tooLong, bigPair, ...RECORDS.slice(1, 4)], dir, {
        systemPrompt: 'sys',
        tokenCounter: words,
        maxTokens,
      });
      assert.equal(result.lengths.measure, 'tokens (words)');
      assert.equal(result.lengths.rows, 5);
      assert.equal(result.lengths.overLimit, 2);
      assert.equal(result.lengths.shortened, 1);
      assert.equal(result.lengths.dropped, 1);
      assert.equal(result.skipped.tooLong, 1);
      assert.equal(result.dpo.dropped, 1);
      assert.equal(result.lengths.before.max, size(1, 5, 200));
      assert.ok(result.lengths.after.max <= maxTokens);
      const rows = readJsonl(join(dir, 'sft.jsonl'));
      assert.deepEqual(
        rows.map((r) => r.id),
        ['chat-long', 'chat-2', 'qa-1', 'kn-1'],
      );
      for (const row of rows) {
        const messages = row.messages as Message[];
        assert.ok(messages.reduce((sum, m) => sum + words.count(m.content) + MESSAGE_OVERHEAD_TOKENS, 0) <= maxTokens, `${row.id}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('lengthStats: p50, p95, max', () => {
    assert.deepEqual(lengthStats([]), { p50: 0, p95: 0, max: 0 });
    assert.deepEqual(lengthStats(Array.from({ length: 100 }, (_, i) => 100 - i)), { p50: 51, p95: 96, max: 100 });
    assert.equal(characterCounter.count('abcdefg'), 3);
  });
});

describe('exportDataset', () => {
  let dir: string;
  let manifest: ExportManifest;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samples-exports-'));
    manifest = await exportDataset(RECORDS, dir, { systemPrompt: 'You are my personal model.' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the manifest lists every file with its row count, and says where weights are dropped', () => {
    const rows = Object.fromEntries(manifest.files.filter((f) => f.name.endsWith('.jsonl')).map((f) => [f.name, f.records]));
    assert.deepEqual(rows, EXPECTED_ROWS);
    assert.deepEqual(manifest.skipped, { heldout: 3, userTargets: 0, unusable: 1, tooLong: 0 });
    for (const file of manifest.files) {
      const trlSft = file.format === 'trl-sft-messages';
      assert.equal(file.weighted, trlSft, file.name);
      if (!trlSft) {
        assert.equal(file.weightsApplied, false, file.name);
        assert.match(file.note ?? '', /weight/, file.name);
      }
    }
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'exports.json'), 'utf8')), manifest);
    assert.deepEqual(readdirSync(dir).sort(), [...Object.keys(EXPECTED_ROWS), 'dataset_info.json', 'exports.json'].sort());
    for (const [name, count] of Object.entries(EXPECTED_ROWS)) assert.equal(readJsonl(join(dir, name)).length, count, name);
  });

  test('SFT conversations alternate, start with user after an optional system message, end with assistant, carry weights', () => {
    for (const name of ['sft.jsonl', 'sft.eval.jsonl']) {
      for (const row of readJsonl(join(dir, name))) {
        const messages = row.messages as Message[];
        const turns = messages[0]?.role === 'system' ? messages.slice(1) : messages;
        assert.ok(turns.length >= 2 && turns.length % 2 === 0, `${row.id}`);
        for (const [i, m] of turns.entries()) assert.equal(m.role, i % 2 === 0 ? 'user' : 'assistant', `${row.id} turn ${i}`);
        assert.equal(typeof row.weight, 'number');
        assert.equal(row.weight, (RECORDS.find((r) => r.id === row.id) as DatasetRecord).weight);
      }
    }
    const sft = new Map(readJsonl(join(dir, 'sft.jsonl')).map((r) => [r.id, r.messages as Message[]]));
    // The system prompt option fills in only where a record has none.
    assert.equal(sft.get('qa-1')?.[0]?.content, 'You are my personal model.');
    assert.equal(sft.get('chat-1')?.[0]?.content, 'You are my research assistant.');
    assert.equal(sft.get('mem-1')?.[0]?.content, 'You know these facts about the user: I live in Lisbon.');
    assert.match(
      sft.get('chat-2')?.[0]?.content ?? '',
      /personal model\.\n\nYour previous message in this conversation:\n\nThe index is stale\./,
    );
    assert.deepEqual(sft.get('tr-merge')?.slice(1, 3), [
      { role: 'user', content: 'Summarise.' },
      { role: 'assistant', content: 'Part one.\n\nPart two.' },
    ]);
    assert.ok(sft.get('tr-user')?.[0]?.content.startsWith(USER_TARGET_SYSTEM));
    // Whole weights are written as floats.
    assert.match(readFileSync(join(dir, 'sft.eval.jsonl'), 'utf8'), /"weight":2\.0,/);
  });

  test('heldout records are in no file', () => {
    for (const name of readdirSync(dir)) assert.doesNotMatch(readFileSync(join(dir, name), 'utf8'), /HELDOUT|-h"/, name);
  });

  test("DPO rows are TRL's conversational preference format, with the SFT files' system prompt; sharegpt ranking for LLaMA-Factory", () => {
    assert.deepEqual(readJsonl(join(dir, 'dpo.eval.jsonl')), [
      {
        prompt: [
          { role: 'system', content: 'You are my personal model.' },
          { role: 'user', content: 'Best fix?' },
        ],
        chosen: [{ role: 'assistant', content: 'A fake clock.' }],
        rejected: [{ role: 'assistant', content: 'Sleep 5.' }],
      },
    ]);
    assert.deepEqual(readJsonl(join(dir, 'sharegpt_dpo.eval.jsonl')), [
      {
        conversations: [{ from: 'human', value: 'Best fix?' }],
        chosen: { from: 'gpt', value: 'A fake clock.' },
        rejected: { from: 'gpt', value: 'Sleep 5.' },
        system: 'You are my personal model.',
      },
    ]);
    // The same system prompt opens the SFT rows of records without their own.
    const qa = readJsonl(join(dir, 'sft.jsonl')).find((r) => r.id === 'qa-1');
    assert.deepEqual((qa?.messages as Message[] | undefined)?.[0], { role: 'system', content: 'You are my personal model.' });
    assert.deepEqual(manifest.dpo, {
      train: 2,
      eval: 1,
      dropped: 0,
      minPairs: DPO_MIN_PAIRS,
      enough: false,
      note: `2 pairs to train on, 1 pair to evaluate: too few to train on (fewer than ${DPO_MIN_PAIRS}); train SFT only`,
    });
  });

  test('lengths: without a tokenizer, measured as characters / 3 against 2048; nothing here is over', () => {
    const { lengths } = manifest;
    assert.equal(lengths.measure, 'characters / 3');
    assert.equal(lengths.maxTokens, 2048);
    assert.equal(lengths.rows, SFT_TRAIN + SFT_EVAL);
    assert.deepEqual([lengths.overLimit, lengths.shortened, lengths.dropped], [0, 0, 0]);
    assert.deepEqual(lengths.before, lengths.after);
  });

  test('an export into the same folder replaces the files, leaving no stale ones and no temporaries', async () => {
    const again = mkdtempSync(join(tmpdir(), 'samples-exports-again-'));
    try {
      await exportDataset(RECORDS, again);
      await exportDataset(
        RECORDS.filter((r) => r.split === 'train' && r.type === 'qa'),
        again,
      );
      assert.deepEqual(readdirSync(again).sort(), ['alpaca.jsonl', 'dataset_info.json', 'exports.json', 'sft.jsonl', 'sharegpt.jsonl']);
      assert.deepEqual(Object.keys(JSON.parse(readFileSync(join(again, 'dataset_info.json'), 'utf8'))).sort(), [
        'trajectory_sft_alpaca',
        'trajectory_sft_messages',
        'trajectory_sft_sharegpt',
      ]);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });
});

// --- The consumer library: Hugging Face `datasets` and LLaMA-Factory's dataset_info rules ---

function pythonProblem(): string | null {
  if (!existsSync(PYTHON)) return `no Python venv at ${PYTHON}: run \`${SETUP}\``;
  const probe = spawnSync(PYTHON, ['-c', 'import datasets'], { encoding: 'utf8' });
  if (probe.status !== 0) return `the venv at ${PYTHON} has no \`datasets\` (${probe.stderr.trim().split('\n').at(-1)}): run \`${SETUP}\``;
  return null;
}
const PROBLEM = pythonProblem();

interface CheckReport {
  datasetsVersion?: string;
  files?: Record<string, { num_rows: number; column_names: string[]; features: Record<string, { dtype?: string; _type: string }> }>;
  datasetInfo: { entries: string[]; errors: string[] };
}

function check(dir: string, ...flags: string[]): CheckReport {
  const result = spawnSync(PYTHON, [CHECK, dir, ...flags], { encoding: 'utf8', timeout: 180_000 });
  assert.equal(result.status, 0, `check_exports.py failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as CheckReport;
}

test('the Python venv with `datasets` is there under CI', () => {
  if (PROBLEM && process.env.CI) assert.fail(`CI is set but ${PROBLEM} (devstack's setup installs trainer-gpu[test])`);
});

describe('the consumers load the export', { skip: PROBLEM ?? false }, () => {
  let dir: string;
  let report: CheckReport;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samples-exports-py-'));
    await exportDataset(RECORDS, dir);
    report = check(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('datasets.load_dataset("json") reads every file with the expected rows and columns', () => {
    const files = report.files ?? {};
    assert.deepEqual(Object.fromEntries(Object.entries(files).map(([name, f]) => [name, f.num_rows])), EXPECTED_ROWS);
    const columns: Record<string, string[]> = {
      sft: ['messages', 'weight', 'id', 'type'],
      sharegpt: ['conversations', 'system'],
      alpaca: ['instruction', 'input', 'output', 'system', 'history'],
      dpo: ['prompt', 'chosen', 'rejected'],
      sharegpt_dpo: ['conversations', 'chosen', 'rejected', 'system'],
      alpaca_dpo: ['instruction', 'input', 'chosen', 'rejected', 'system'],
    };
    for (const [name, file] of Object.entries(files)) {
      assert.deepEqual(file.column_names, columns[name.replace(/(\.eval)?\.jsonl$/, '')], name);
    }
    for (const name of ['sft.jsonl', 'sft.eval.jsonl']) {
      const features = files[name]?.features ?? {};
      assert.deepEqual(features.weight, { dtype: 'float64', _type: 'Value' }, `${name} weight`);
      assert.equal(features.messages?._type, 'List', `${name} messages`);
    }
    // TRL's conversational preference format: every column a list of {role, content} messages, like `messages`.
    for (const name of ['dpo.jsonl', 'dpo.eval.jsonl']) {
      const features = files[name]?.features ?? {};
      for (const column of ['prompt', 'chosen', 'rejected']) {
        assert.deepEqual(features[column], files['sft.jsonl']?.features.messages, `${name} ${column}`);
      }
    }
  });

  test("dataset_info.json passes LLaMA-Factory's rules", () => {
    assert.deepEqual(report.datasetInfo, {
      entries: [
        'trajectory_dpo',
        'trajectory_dpo_eval',
        'trajectory_dpo_sharegpt',
        'trajectory_dpo_sharegpt_eval',
        'trajectory_sft_alpaca',
        'trajectory_sft_alpaca_eval',
        'trajectory_sft_messages',
        'trajectory_sft_messages_eval',
        'trajectory_sft_sharegpt',
        'trajectory_sft_sharegpt_eval',
      ],
      errors: [],
    });
  });

  test('the dataset_info check catches a missing file, wrong tags and a ranking entry without chosen/rejected', () => {
    const broken = mkdtempSync(join(tmpdir(), 'samples-exports-broken-'));
    try {
      cpSync(dir, broken, { recursive: true });
      const info = JSON.parse(readFileSync(join(broken, 'dataset_info.json'), 'utf8')) as Record<string, Record<string, unknown>>;
      (info.trajectory_sft_alpaca as Record<string, unknown>).file_name = 'missing.jsonl';
      (info.trajectory_sft_sharegpt as Record<string, unknown>).tags = { role_tag: 'role', content_tag: 'content' };
      (info.trajectory_dpo as Record<string, unknown>).columns = { prompt: 'instruction' };
      writeFileSync(join(broken, 'dataset_info.json'), JSON.stringify(info));
      // Unequal turn count: an SFT row ending with the user.
      const rows = readJsonl(join(broken, 'sharegpt.eval.jsonl'));
      ((rows[0] as Record<string, unknown>).conversations as unknown[]).push({ from: 'human', value: 'dangling' });
      writeFileSync(join(broken, 'sharegpt.eval.jsonl'), rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
      // A ranking row whose chosen answer is a plain string (LLaMA-Factory's sharegpt ranking wants one gpt message).
      const pairs = readJsonl(join(broken, 'sharegpt_dpo.jsonl'));
      (pairs[0] as Record<string, unknown>).chosen = 'a string';
      writeFileSync(join(broken, 'sharegpt_dpo.jsonl'), pairs.map((r) => `${JSON.stringify(r)}\n`).join(''));
      const { errors } = check(broken, '--info-only').datasetInfo;
      assert.equal(errors.length, 5, errors.join('\n'));
      assert.match(errors.join('\n'), /trajectory_dpo_sharegpt: sharegpt_dpo\.jsonl line 1: chosen is not one 'gpt' message/);
      assert.match(errors.join('\n'), /trajectory_sft_alpaca: file_name missing\.jsonl does not exist/);
      assert.match(errors.join('\n'), /trajectory_sft_sharegpt: sharegpt\.jsonl line 1: message keys/);
      assert.match(errors.join('\n'), /trajectory_dpo: ranking without chosen and rejected/);
      assert.match(errors.join('\n'), /trajectory_sft_sharegpt_eval: sharegpt\.eval\.jsonl line 1: invalid message count 3/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});
