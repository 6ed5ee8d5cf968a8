import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ConversationGraph } from '@trajectory/contracts';
import { DEFAULT_SYSTEM_PROMPT } from './build.js';
import { defaultDatasetSettings } from './dataset.js';
import { factRecords, parseFacts } from './facts.js';
import { edge, node } from './fixtures.test-helper.js';
import { buildDataset } from './io/dataset.js';
import { DEFAULT_EVAL_SHARE } from './split.js';
import { DECAY_DAYS, DEFAULT_CONTEXT_SIZE, DEFAULT_TARGET_ROLES } from './trajectories.js';

const SENTENCES = [
  'How do I make the build reproducible across machines?',
  'Pin the toolchain and lock every dependency, then build in a clean container.',
  'That is too slow for every commit, we need something cheaper.',
  'Cache the dependency layer and rebuild only what changed since the last commit.',
  'What about the tests, do they still run in the container?',
  'Yes: the same image runs them, so a pass locally is a pass in CI.',
  'Explain how the cache key is computed from the lock file.',
  'The key is a hash of the lock file and the toolchain version together.',
];

/**
 * A small history that exercises every step of the build: branches (preference pairs), a
 * challenged and revised answer (a revision pair), a refinement chain, repeated conversations (de-
 * duplication, and conversations the eval split must keep together), and two years of dates.
 */
function history(count: number): ConversationGraph[] {
  return Array.from({ length: count }, (_, i) => {
    const cid = `c${String(i).padStart(2, '0')}`;
    // Every fourth conversation repeats the first one's texts; the others vary by their number.
    const say = (k: number) => (i % 4 === 3 ? `${SENTENCES[k % 8]}` : `${SENTENCES[(k + i) % 8]} (conversation ${i}, turn ${k})`);
    const at = (minute: number) => `${2024 + (i % 2)}-0${1 + (i % 9)}-1${i % 10}T10:${String(minute).padStart(2, '0')}:00Z`;
    const n = (id: string, role: string, k: number, extra = {}) =>
      node(`${cid}-${id}`, role, at(k), { conversationId: cid, text: say(k), ...extra });
    const e = (from: string, to: string, relation: string, tags: string[] = []) => ({
      ...edge(`${cid}-${from}`, `${cid}-${to}`, relation),
      tags,
    });
    return {
      conversationId: cid,
      title: `t${i}`,
      nodes: [
        n('u1', 'user', 0, { tags: ['question', 'topic-start'] }),
        n('a1', 'assistant', 1),
        n('a1b', 'assistant', 2, { onCurrentBranch: false }),
        n('u2', 'user', 3),
        n('a2', 'assistant', 4),
        n('u3', 'user', 5, { tags: ['question'] }),
        n('a3', 'assistant', 6),
      ],
      edges: [
        e('a1', 'u1', 'follows'),
        e('a1', 'u1', 'responds'),
        e('a1b', 'u1', 'follows'),
        e('a1b', 'u1', 'responds'),
        e('u2', 'a1', 'follows'),
        e('u2', 'a1', 'contrasts'),
        e('a2', 'u2', 'follows'),
        e('a2', 'a1', 'refines', ['revision', 'after-pushback']),
        e('u3', 'a2', 'follows'),
        e('u3', 'u1', 'refines'),
        e('a3', 'u3', 'follows'),
        e('a3', 'u3', 'responds'),
        e('u1', 'u3', 'iteration_final'),
      ],
      chains: [
        {
          id: `${cid}-ch`,
          conversationId: cid,
          nodeIds: ['u1', 'a1', 'u2', 'a2', 'u3'].map((x) => `${cid}-${x}`),
          steps: ['idea', 'answer', 'challenge', 'revision', 'convergence'],
          tags: [],
        },
      ],
    };
  });
}

/**
 * The sha256 of every file of the dataset this history gives, as the build wrote them when it
 * held every record in memory (commit 7146f44): the build that spools its records must write the
 * same bytes, and so the same dataset id (1a8025521ceb62c2).
 */
const PINNED: Record<string, string> = {
  'alpaca.eval.jsonl': '34fb270e9114ecf64dbcec03b13cb66c80eaf863f73ecb311fef5aac0d985fee',
  'alpaca.jsonl': 'd79c027aee4897d5dd6a42c459b84d6a03f4a2962a4bce332dee0aeea3b6b794',
  'alpaca_dpo.eval.jsonl': 'b842a56991d3ddcbac12fd0f78d197b368a0992e35236892a7ae0cfbe424724e',
  'alpaca_dpo.jsonl': 'a23a915af7cb0b2a7b9b746f7917361e865102a6eadfc52b3250e971e75efd66',
  'dataset_info.json': 'dcc68cec824983425d2988fa4781c01b2e0b158360ab00417d8f177c0e0dc689',
  'dpo.eval.jsonl': '6280f65e7e4ba083ba141b287d65dedef7b824187a393e7bcd57b73069c5224e',
  'dpo.jsonl': 'b7b3e1d9d21b6959d98ce1e7348eadf85203452f9332fec0ce358478243f03f5',
  'exports.json': '5bd1a549a894c0545d9f4bcdb7af410e1c2f0d9be2f6e13446829d7eab9b8cf4',
  'records.jsonl': 'f0baa3b4e4b5538a3e700a1c22defc9b6e916842b121cfe3389f5ea0367ec220',
  'report.json': 'a42cdd1d0b0a2f84e379eda7401a3931fb637a73f9a8b85e4742e5ce9acd179c',
  'sft.eval.jsonl': '9b7160d1b63ce35e980981cc94e0f79ecad1fa3c28dbd8a0b5330dad331e0124',
  'sft.jsonl': '3081ca3b876f4755b9252375bc0a45fada4a873760651cab1e36e6942987a0c2',
  'sharegpt.eval.jsonl': '560f820be3e592070669536cb784e528ca3009dd5680737473cc797cb40ede18',
  'sharegpt.jsonl': 'a051991b9b784c26ca3601125cf7a697b2bf9f72b7465e023408e903af08fb55',
  'sharegpt_dpo.eval.jsonl': '5ca39b95979d221aea837c212bf182c4ad5b2e048acc4cccbe2ea3c8aadef5c2',
  'sharegpt_dpo.jsonl': 'a49259ae5d52b025281d9bc9a34310f934d5de780a302b78e664f76b2ad54e92',
};

test('buildDataset writes the same files, byte for byte, as the build that held every record in memory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'samples-dataset-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const systemPrompt = DEFAULT_SYSTEM_PROMPT;
  const memory = factRecords(
    parseFacts('- {subject: my dog, relation: name, value: Pixel}\n- {subject: I, relation: live in, value: Utrecht}', 'facts.yaml'),
    { systemPrompt },
  );
  async function* graphs() {
    yield* history(24);
  }
  const built = await buildDataset(
    graphs(),
    dir,
    {
      referenceDate: new Date('2026-01-01T00:00:00Z'),
      contextSize: DEFAULT_CONTEXT_SIZE,
      targetRoles: DEFAULT_TARGET_ROLES,
      decayDays: DECAY_DAYS,
      evalShare: 0.2,
      systemPrompt,
    },
    memory,
  );
  const files = Object.fromEntries(
    readdirSync(built.dir)
      .sort()
      .map((name) => [
        name,
        createHash('sha256')
          .update(readFileSync(join(built.dir, name)))
          .digest('hex'),
      ]),
  );
  // The history reaches every step whose result the pin covers.
  const byType = Object.fromEntries(built.report.recordsByType.map((r) => [r.name, r.count]));
  for (const type of ['trajectory', 'chat', 'qa', 'preference', 'knowledge', 'memory']) assert.ok(byType[type], `no ${type} records`);
  assert.ok(
    built.report.deduplication.some((row) => row.dropped > 0),
    'nothing de-duplicated',
  );
  assert.ok(built.split.evalRecords > 0, 'no eval split');
  assert.deepEqual(readdirSync(dir), [built.datasetId], 'the spool and the building folder are gone');
  assert.equal(built.records.length, readFileSync(built.recordsPath, 'utf8').trim().split('\n').length);
  assert.deepEqual(files, PINNED, JSON.stringify({ datasetId: built.datasetId, files }, null, 2));
});

test("a build with no service takes the service's default settings; relation weights only where given", () => {
  const at = new Date('2024-06-01T00:00:00Z');
  const settings = defaultDatasetSettings(at);
  assert.deepEqual(settings, {
    referenceDate: at,
    contextSize: DEFAULT_CONTEXT_SIZE,
    targetRoles: DEFAULT_TARGET_ROLES,
    decayDays: DECAY_DAYS,
    evalShare: DEFAULT_EVAL_SHARE,
    systemPrompt: DEFAULT_SYSTEM_PROMPT,
  });
  assert.equal('relationWeights' in settings, false);
  // The settings are hashed into the version's id: a given key keeps its place among the defaults.
  assert.deepEqual(Object.keys(defaultDatasetSettings(at, { relationWeights: { refines: 2 }, evalShare: 0.2 })), [
    'referenceDate',
    'contextSize',
    'targetRoles',
    'relationWeights',
    'decayDays',
    'evalShare',
    'systemPrompt',
  ]);
});
