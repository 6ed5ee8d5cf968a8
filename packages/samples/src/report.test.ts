import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatasetManifest } from '@trajectory/contracts';
import { dedupeMixBlock, formatDatasetReport, relationDistribution, sampleShapeRow, splitExportWeightBlock } from './report.js';

test('sample shape: context across messages is multi-turn; turns count distinct messages', () => {
  const row = sampleShapeRow('cognitive', [
    { contextMessageIds: ['m1', 'm1'], targetMessageIds: ['m1'] },
    { contextMessageIds: ['m1', 'm2', 'm3'], targetMessageIds: ['m4'] },
  ]);
  assert.deepEqual(row, { method: 'cognitive', samples: 2, singleTurn: 1, multiTurn: 1, averageTurns: 2.5 });
});

test('relation distribution: counts and percentages, most frequent first', () => {
  assert.deepEqual(
    relationDistribution([{ relation: 'follows' }, { relation: 'refines' }, { relation: 'follows' }, { relation: 'derives' }]),
    [
      { relation: 'follows', count: 2, percent: 50 },
      { relation: 'derives', count: 1, percent: 25 },
      { relation: 'refines', count: 1, percent: 25 },
    ],
  );
});

test('the eval split, export lengths, DPO and weights block: how drawn, before/after, a histogram', () => {
  const manifest = DatasetManifest.fromPartial({
    datasetId: 'd',
    weightNormalisation: 'mean',
    weightScale: 3.4,
    report: {
      evalSplit: 'by conversation: 2 of 9 conversations',
      exportLengths: {
        measure: 'tokens (Qwen/Qwen2.5-7B-Instruct)',
        maxTokens: 2048,
        rows: 10,
        overLimit: 3,
        shortened: 2,
        dropped: 1,
        before: { p50: 500, p95: 3000, max: 9000 },
        after: { p50: 480, p95: 2000, max: 2040 },
      },
      dpo: { train: 2, eval: 1, note: '2 pairs to train on, 1 pair to evaluate: too few to train on (fewer than 100); train SFT only' },
      weightsByRelation: [{ name: 'trajectory: refines', records: 3, mean: 1.8, min: 1.7, max: 1.9, aboveMeanPercent: 100 }],
      weightsByYear: [{ name: '2023', records: 3, mean: 1, min: 0.9, max: 1.9, aboveMeanPercent: 30 }],
      weightHistogram: [
        { name: '0.75–1', count: 4, percent: 80 },
        { name: '1.5–2', count: 1, percent: 20 },
      ],
      weightMean: 1,
      weightAboveMeanPercent: 20,
    },
  });
  const text = splitExportWeightBlock(manifest).join('\n');
  assert.match(text, /^eval split: by conversation: 2 of 9 conversations$/m);
  assert.match(
    text,
    /export rows \(SFT\), measured in tokens \(Qwen\/Qwen2\.5-7B-Instruct\) against 2,048: 10 built, 3 over the limit: 2 shortened \(fewer context turns\), 1 dropped \(too long without context\); length p50 \/ p95 \/ max 500 \/ 3,000 \/ 9,000 before, 480 \/ 2,000 \/ 2,040 after/,
  );
  assert.match(text, /^DPO: 2 pairs to train on, 1 pair to evaluate: too few to train on/m);
  assert.match(text, /scaled to a mean of 1\.0 \(x3\.40 of relation weight x e\^\(-age\/τ\)\); mean 1\.00, 20\.0% above it/);
  assert.match(text, /\| trajectory: refines \|\s+3 \| 1\.80 \| 1\.70 \| 1\.90 \| 100\.0% \|/);
  assert.match(text, /^ {2}0\.75–1 #{40} 4$/m);
  assert.match(text, /^ {2}1\.5–2 {2}#{10} {30} 1$/m);
  const printed = formatDatasetReport(manifest);
  for (const part of splitExportWeightBlock(manifest)) assert.ok(printed.includes(part), `printed: ${part}`);
});

test('the de-duplication, preference pairs and real-share block: dropped per type and why, pairs per source, the cap', () => {
  const manifest = DatasetManifest.fromPartial({
    datasetId: 'd',
    report: {
      deduplication: [
        { type: 'chat', before: 644, after: 644, dropped: 0, reasons: [] },
        {
          type: 'trajectory',
          before: 1980,
          after: 1967,
          dropped: 13,
          reasons: [
            { name: 'identical, other-conversation', count: 9, percent: 69.2 },
            { name: 'identical, same-conversation', count: 4, percent: 30.8 },
          ],
        },
      ],
      nearDuplicates: 60,
      preferencePairs: 68,
      preferencePairsBySource: [
        { name: 'regenerated', count: 2, percent: 2.9 },
        { name: 'revision', count: 66, percent: 97.1 },
      ],
      realRecords: 59,
      syntheticRecords: 59,
      realSharePercent: 50,
      memoryRecordsGenerated: 136,
      memoryRecordsKept: 59,
      memoryCap: 59,
      minRealShare: 0.35,
      warnRealShare: 0.5,
    },
  });
  const text = dedupeMixBlock(manifest).join('\n');
  assert.match(text, /^de-duplication: 13 records dropped that repeat the training signal of a better-weighted record/m);
  assert.match(text, /\| trajectory {2}\| {2}1,980 \| 1,967 \| {6}13 \|/);
  assert.match(text, /^ {2}trajectory dropped: 9 identical, other-conversation; 4 identical, same-conversation$/m);
  assert.match(text, /^preference pairs: 68 \(regenerated 2, revision 66\)$/m);
  assert.match(
    text,
    /^real vs synthetic: 50\.0% of the training records are from conversations \(59 real, 59 synthetic memory records; warn below 50\.0%, fail below 35\.0%\); memory records capped to 59 of 136 \(room for 59 beside this history\)$/m,
  );
  const printed = formatDatasetReport(manifest);
  assert.ok(printed.includes('trajectory dropped: 9 identical'), printed);
  assert.ok(!printed.includes('preference pairs from regenerated replies'));
  const clean = DatasetManifest.fromPartial({
    datasetId: 'd',
    report: { deduplication: [{ type: 'chat', before: 5, after: 5, dropped: 0, reasons: [] }] },
  });
  assert.equal(dedupeMixBlock(clean)[0], 'de-duplication: no record repeats the training signal of another (5 records)');
});
