// The eval split and the exports on real exports, read through ingestion and segmented as the
// service does (bench/lib/offline-dataset.mjs): the eval split is drawn by conversation, so no
// eval record shares a turn with a training record (by node, and by text in the SFT/DPO files);
// it is a few hundred records at most, holds the hard cases, and is the same on every build; every
// export row fits the length limit; the conversation records' weights average 1.0.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { characterCounter, EVAL_MAX_RECORDS, MESSAGE_OVERHEAD_TOKENS, SHARED_TEXT_MIN_CHARS, WEIGHTED_TYPES } from '@trajectory/samples';
import { exportGraphs, offlineDataset } from '../lib/offline-dataset.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXPORTS = {
  'the whole real export (192 conversations)': 'fixtures/chatgpt-export/pkuppens_2023-06_export.conversations.json',
  'refine_dev (20 conversations of another snapshot)': 'fixtures/refinement/refine_dev.conversations.json',
};
const FACTS = join(ROOT, 'examples', 'facts.yaml');
const REFERENCE_DATE = new Date('2026-01-01T00:00:00Z');
const normalise = (text) => text.toLowerCase().replace(/\s+/g, ' ').trim();
const jsonl = (dir, name) => {
  try {
    return readFileSync(join(dir, name), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch (err) {
    if (err.code === 'ENOENT') return [];
    throw err;
  }
};

for (const [label, path] of Object.entries(EXPORTS)) {
  describe(label, () => {
    let graphs;
    let built;
    let work;
    before(async () => {
      graphs = await exportGraphs(join(ROOT, path));
      work = mkdtempSync(join(tmpdir(), 'bench-split-'));
      built = await offlineDataset(graphs, work, { factsPath: FACTS, referenceDate: REFERENCE_DATE });
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    test('whole conversations: no eval record shares a turn (node) with a training record', () => {
      const evalRecords = built.records.filter((r) => r.split === 'eval');
      const train = built.records.filter((r) => r.split === 'train');
      assert.ok(evalRecords.length > 0, 'an eval split');
      const evalConversations = new Set(evalRecords.map((r) => r.source.conversationId));
      assert.ok(!evalRecords.some((r) => r.type === 'memory'), 'memory records are never drawn');
      assert.ok(
        train.every((r) => !evalConversations.has(r.source.conversationId)),
        'a conversation is on one side only',
      );
      const trainNodes = new Set(train.flatMap((r) => r.source.nodeIds ?? []));
      const shared = evalRecords.filter((r) => r.source.nodeIds.some((n) => trainNodes.has(n)));
      assert.equal(shared.length, 0, `${shared.length} eval records share a node with training`);
      assert.equal(built.split.sharedTurns, 0);
      assert.equal(built.split.evalConversations, evalConversations.size);
    });

    test('the exports: no turn of sft.eval.jsonl or dpo.eval.jsonl is in sft.jsonl (but short replies like "OK")', () => {
      const turns = (rows) => rows.flatMap((r) => r.messages.filter((m) => m.role !== 'system').map((m) => normalise(m.content)));
      const trainTurns = new Set(turns(jsonl(built.dir, 'sft.jsonl')));
      const evalTurns = turns(jsonl(built.dir, 'sft.eval.jsonl'));
      assert.ok(evalTurns.length > 0);
      const leaked = evalTurns.filter((t) => trainTurns.has(t) && t.length >= SHARED_TEXT_MIN_CHARS);
      assert.deepEqual(leaked, []);
      const dpoPrompts = jsonl(built.dir, 'dpo.eval.jsonl').flatMap((r) =>
        r.prompt.filter((m) => m.role === 'user').map((m) => normalise(m.content)),
      );
      assert.deepEqual(
        dpoPrompts.filter((p) => trainTurns.has(p) && p.length >= SHARED_TEXT_MIN_CHARS),
        [],
      );
    });

    test('sized for its job, hard cases kept, said how it was drawn, the same on every build', async () => {
      const evalCount = built.records.filter((r) => r.split === 'eval').length;
      assert.ok(evalCount <= EVAL_MAX_RECORDS, `${evalCount} eval records`);
      assert.equal(evalCount, built.split.evalRecords);
      const gate = built.gates.gates.find((g) => g.name === 'eval-split');
      assert.ok(gate?.passed, gate?.reason);
      assert.match(built.report.evalSplit, /^by conversation: \d+ of \d+ conversations/);
      const again = await offlineDataset(graphs, work, { factsPath: FACTS, referenceDate: REFERENCE_DATE });
      assert.equal(again.datasetId, built.datasetId);
      assert.deepEqual(
        again.records.filter((r) => r.split === 'eval').map((r) => r.id),
        built.records.filter((r) => r.split === 'eval').map((r) => r.id),
      );
    });

    test('every SFT and DPO row fits the length limit as measured; what did not was shortened or dropped and counted', () => {
      const { lengths } = built.exports;
      assert.equal(lengths.measure, characterCounter.name, 'no tokenizer is configured here: characters / 3');
      const size = (messages) => messages.reduce((sum, m) => sum + characterCounter.count(m.content) + MESSAGE_OVERHEAD_TOKENS, 0);
      const rows = [...jsonl(built.dir, 'sft.jsonl'), ...jsonl(built.dir, 'sft.eval.jsonl')];
      assert.equal(rows.length, lengths.rows - lengths.dropped);
      for (const row of rows) assert.ok(size(row.messages) <= lengths.maxTokens, `${row.id}: ${size(row.messages)}`);
      for (const row of [...jsonl(built.dir, 'dpo.jsonl'), ...jsonl(built.dir, 'dpo.eval.jsonl')]) {
        assert.ok(size(row.prompt) + Math.max(size(row.chosen), size(row.rejected)) <= lengths.maxTokens);
      }
      assert.equal(lengths.overLimit, lengths.shortened + lengths.dropped);
      assert.ok(lengths.after.max <= lengths.maxTokens);
    });

    test('DPO in the chat format of SFT, in train and eval where pairs exist in two conversations', () => {
      const pairs = built.records.filter((r) => r.type === 'preference' && r.split !== 'heldout');
      const conversations = new Set(pairs.map((r) => r.source.conversationId));
      const train = jsonl(built.dir, 'dpo.jsonl');
      const evaluation = jsonl(built.dir, 'dpo.eval.jsonl');
      assert.equal(train.length + evaluation.length + built.exports.dpo.dropped, pairs.length);
      if (conversations.size >= 2) assert.ok(train.length > 0 && evaluation.length > 0, `${train.length} / ${evaluation.length}`);
      const system = jsonl(built.dir, 'sft.jsonl').find((r) => r.type === 'qa')?.messages[0];
      for (const row of [...train, ...evaluation]) {
        assert.deepEqual(row.prompt[0], system, 'the system prompt of the SFT rows');
        assert.equal(row.prompt.at(-1).role, 'user');
        assert.deepEqual(
          [row.chosen.length, row.chosen[0].role, row.rejected.length, row.rejected[0].role],
          [1, 'assistant', 1, 'assistant'],
        );
      }
      assert.match(built.report.dpo.note, /pairs? to train on|no preference pairs/);
    });

    test('weights: the conversation records average 1.0; the rule is recoverable from the recorded scale', () => {
      const weighted = built.records.filter((r) => WEIGHTED_TYPES.includes(r.type));
      const mean = weighted.reduce((sum, r) => sum + r.weight, 0) / weighted.length;
      assert.ok(Math.abs(mean - 1) < 1e-9, `mean ${mean}`);
      assert.ok(built.manifestSettings.weightScale > 1, 'the history is old: the rule weights were below 1.0');
      assert.ok(built.report.weightAboveMeanPercent > 0 && built.report.weightAboveMeanPercent < 100);
      assert.ok(built.report.weightsByYear.length > 0 && built.report.weightHistogram.length > 0);
    });
  });
}
