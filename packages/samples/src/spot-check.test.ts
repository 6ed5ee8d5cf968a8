import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatasetManifest, type SpotCheck, SpotCheckVerdict } from '@trajectory/contracts';
import { BRANCHED_GRAPH } from './fixtures.test-helper.js';
import { formatDatasetReport } from './report.js';
import type { DrawCandidate } from './spot-check.js';
import {
  allocateStrata,
  drawAnswers,
  drawSettings,
  newSpotCheck,
  recordVerdict,
  SPOT_CHECK_SEED,
  SPOT_CHECK_SIZE,
  SpotCheckError,
  spotCheckBlock,
  spotCheckContext,
  spotCheckDraw,
  spotCheckStatus,
  stratifiedDraw,
} from './spot-check.js';
import { trajectoryRecords } from './trajectories.js';

const {
  SPOT_CHECK_VERDICT_ACCEPTED: ACCEPTED,
  SPOT_CHECK_VERDICT_REJECTED: REJECTED,
  SPOT_CHECK_VERDICT_UNSPECIFIED: UNJUDGED,
} = SpotCheckVerdict;

/** A dataset of 1,000 records: 700 trajectory, 200 chat, 90 qa, 7 preference, 3 knowledge. */
function candidates(): DrawCandidate[] {
  const out: DrawCandidate[] = [];
  const add = (type: string, n: number) => {
    for (let i = 0; i < n; i++) out.push({ id: `${type}-${i}`, type });
  };
  add('trajectory', 700);
  add('chat', 200);
  add('qa', 90);
  add('preference', 7);
  add('knowledge', 3);
  return out;
}

const countByType = (records: readonly DrawCandidate[]) => {
  const counts: Record<string, number> = {};
  for (const r of records) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return counts;
};

test('the draw is stratified by type: proportional to the counts, every type present, the size asked', () => {
  const drawn = stratifiedDraw(candidates(), 100, 7);
  assert.equal(drawn.length, 100);
  assert.equal(new Set(drawn.map((r) => r.id)).size, 100, 'no record drawn twice');
  // Quotas 70 / 20 / 9 / 0.7 / 0.3: the two small types get one each, the one over paid for by the
  // largest type (the smallest change relative to its quota).
  assert.deepEqual(countByType(drawn), { trajectory: 69, chat: 20, qa: 9, preference: 1, knowledge: 1 });
  // Types are mixed in the shown order, not one block after another.
  assert.notDeepEqual(
    drawn.slice(0, 70).map((r) => r.type),
    new Array(70).fill('trajectory'),
  );
});

test('strata: at least one of each type, never more than a type has, all records when there are fewer', () => {
  assert.deepEqual(
    Object.fromEntries(
      allocateStrata(
        new Map([
          ['a', 997],
          ['b', 1],
          ['c', 2],
        ]),
        10,
      ),
    ),
    { a: 8, b: 1, c: 1 },
  );
  assert.deepEqual(
    Object.fromEntries(
      allocateStrata(
        new Map([
          ['a', 30],
          ['b', 20],
        ]),
        100,
      ),
    ),
    { a: 30, b: 20 },
  );
  // Exactly proportional when the counts divide.
  assert.deepEqual(
    Object.fromEntries(
      allocateStrata(
        new Map([
          ['a', 600],
          ['b', 300],
          ['c', 100],
        ]),
        100,
      ),
    ),
    { a: 60, b: 30, c: 10 },
  );
});

test('the same seed gives the same draw whatever the file order; another seed another draw', () => {
  const records = candidates();
  const first = stratifiedDraw(records, 100, 42).map((r) => r.id);
  assert.deepEqual(
    stratifiedDraw([...records].reverse(), 100, 42).map((r) => r.id),
    first,
  );
  const other = stratifiedDraw(records, 100, 43).map((r) => r.id);
  assert.notDeepEqual(other, first);
  assert.deepEqual(countByType(stratifiedDraw(records, 100, 43)), countByType(stratifiedDraw(records, 100, 42)));
});

const now = new Date('2026-01-02T03:04:05Z');

function judgedAll(spotCheck: SpotCheck, rejected: number): SpotCheck {
  let sc = spotCheck;
  sc.items.forEach((item, i) => {
    sc = recordVerdict(
      sc,
      { recordId: item.recordId, verdict: i < rejected ? REJECTED : ACCEPTED, reason: i < rejected ? `wrong ${i}` : '' },
      now,
      0.9,
    );
  });
  return sc;
}

test('the pass rule: every drawn record judged and accept rate >= threshold', () => {
  const drawn = newSpotCheck(candidates(), { size: 100, seed: 1, threshold: 0.9, now });
  assert.equal(drawn.items.length, 100);
  let status = spotCheckStatus('d', drawn);
  assert.deepEqual([status.drawn, status.judged, status.passed], [100, 0, false]);
  assert.equal(status.summary, 'spot-check 0/100 judged');
  assert.equal(spotCheckStatus('d', undefined).passed, false, 'not drawn is not passed');

  // 99 of 100 accepted, one unjudged: not yet.
  let sc = drawn;
  for (const item of drawn.items.slice(0, 99)) sc = recordVerdict(sc, { recordId: item.recordId, verdict: ACCEPTED, reason: '' }, now, 0.9);
  status = spotCheckStatus('d', sc);
  assert.deepEqual([status.judged, status.acceptRate, status.passed], [99, 1, false]);

  // Exactly the threshold passes; one below fails.
  status = spotCheckStatus('d', judgedAll(drawn, 10));
  assert.deepEqual([status.accepted, status.rejected, status.passed], [90, 10, true]);
  assert.match(status.summary, /^spot-check passed: 90 of 100 accepted \(90\.0% >= 90\.0%\)$/);
  status = spotCheckStatus('d', judgedAll(drawn, 11));
  assert.equal(status.passed, false);
  assert.match(status.summary, /FAILED: 89 of 100 accepted \(89\.0% < 90\.0%\)/);
  assert.deepEqual(
    status.rejections.map((r) => r.reason),
    Array.from({ length: 11 }, (_, i) => `wrong ${i}`),
  );
  // The threshold stored with the spot-check is the one that counts.
  assert.equal(spotCheckStatus('d', { ...judgedAll(drawn, 11), threshold: 0.85 }).passed, true);
});

test('verdicts: a rejection needs a reason, judging again replaces, only drawn records, nothing before a draw', () => {
  const drawn = newSpotCheck(candidates(), { size: 20, seed: 1, threshold: 0.9, now });
  const id = drawn.items[0]?.recordId as string;
  assert.throws(() => recordVerdict(drawn, { recordId: id, verdict: REJECTED, reason: '  ' }, now, 0.9), SpotCheckError);
  assert.throws(() => recordVerdict(drawn, { recordId: 'nope', verdict: ACCEPTED, reason: '' }, now, 0.9), /not in the spot-check's draw/);
  assert.throws(() => recordVerdict(undefined, { recordId: id, verdict: ACCEPTED, reason: '' }, now, 0.9), /draw the spot-check first/);
  let sc = recordVerdict(drawn, { recordId: id, verdict: REJECTED, reason: 'a tool call, not a thought' }, now, 0.9);
  assert.equal(spotCheckStatus('d', sc).rejected, 1);
  sc = recordVerdict(sc, { recordId: id, verdict: ACCEPTED, reason: '' }, now, 0.9);
  assert.deepEqual([spotCheckStatus('d', sc).rejected, spotCheckStatus('d', sc).accepted], [0, 1]);
  assert.equal(sc.items.filter((i) => i.recordId === id).length, 1);
  sc = recordVerdict(sc, { recordId: id, verdict: UNJUDGED, reason: '' }, now, 0.9);
  assert.equal(spotCheckStatus('d', sc).judged, 0);
  assert.equal(drawn.items[0]?.verdict, UNJUDGED, 'the stored value is not changed in place');
});

test('the stored draw answers until another seed or size is asked for; a redraw keeps verdicts of records drawn again', () => {
  const records = candidates();
  const first = judgedAll(newSpotCheck(records, { size: 100, seed: 1, threshold: 0.9, now }), 3);
  assert.ok(drawAnswers(first, { size: 0 }));
  assert.ok(drawAnswers(first, { size: 100, seed: 1 }));
  assert.ok(!drawAnswers(first, { size: 0, seed: 2 }));
  assert.ok(!drawAnswers(first, { size: 50 }));
  assert.ok(!drawAnswers(undefined, { size: 0 }));

  const redrawn = newSpotCheck(records, { size: 100, seed: 2, threshold: 0.9, now, previous: first });
  const before = new Map(first.items.map((i) => [i.recordId, i]));
  const again = redrawn.items.filter((i) => before.has(i.recordId));
  assert.ok(again.length > 0 && again.length < 100);
  for (const item of again) assert.deepEqual(item, before.get(item.recordId));
  for (const item of redrawn.items.filter((i) => !before.has(i.recordId))) assert.equal(item.verdict, UNJUDGED);
});

test("a draw request takes its own size and seed, else the stored draw's, else the defaults", () => {
  const stored = newSpotCheck(candidates(), { size: 40, seed: 7, threshold: 0.9, now });
  assert.deepEqual(drawSettings({ size: 0 }, undefined), { size: SPOT_CHECK_SIZE, seed: SPOT_CHECK_SEED });
  assert.deepEqual(drawSettings({ size: 0 }, stored), { size: 40, seed: 7 });
  assert.deepEqual(drawSettings({ size: 10, seed: 0 }, stored), { size: 10, seed: 0 });
});

test('the draw shown: each drawn record with its JSON and context where the file has it, its verdict, and the status', () => {
  const records = trajectoryRecords(BRANCHED_GRAPH, {
    referenceDate: new Date('2024-06-01T00:00:00Z'),
    contextSize: 2,
    targetRoles: ['user', 'assistant'],
  });
  const sc = newSpotCheck(
    records.map((r) => ({ id: r.id, type: r.type })),
    { size: 3, seed: 1, threshold: 0.9, now },
  );
  const manifest = DatasetManifest.fromPartial({ datasetId: 'd', version: 2, decayDays: 730, weightScale: 1, spotCheck: sc });
  const [missing, ...found] = sc.items.map((item) => item.recordId);
  const byId = new Map(records.filter((r) => found.includes(r.id)).map((r) => [r.id, r]));
  const draw = spotCheckDraw(manifest, byId, 0.9);
  assert.deepEqual(
    { datasetId: draw.datasetId, version: draw.version, seed: draw.seed, size: draw.size, drawnAt: draw.drawnAt },
    { datasetId: 'd', version: 2, seed: 1, size: 3, drawnAt: now },
  );
  assert.deepEqual(
    draw.records.map((r) => r.recordId),
    sc.items.map((item) => item.recordId),
  );
  const absent = draw.records.find((r) => r.recordId === missing);
  assert.equal(absent?.recordJson, '');
  assert.equal(absent?.context, undefined);
  for (const r of draw.records.filter((r) => r.recordId !== missing)) {
    const record = byId.get(r.recordId);
    assert.equal(r.recordJson, JSON.stringify(record));
    assert.deepEqual(r.context, record && spotCheckContext(record, manifest));
    assert.equal(r.verdict, UNJUDGED);
  }
  assert.deepEqual(draw.status, spotCheckStatus('d', sc, 0.9));
  assert.deepEqual(spotCheckDraw(DatasetManifest.fromPartial({ datasetId: 'e', version: 1 }), new Map(), 0.9).records, []);
});

test('verdicts round-trip through the stored manifest (proto3 JSON, as the dataset registry keeps it)', () => {
  const sc = judgedAll(newSpotCheck(candidates(), { size: 100, seed: 9, threshold: 0.9, now }), 4);
  const manifest = DatasetManifest.fromPartial({ datasetId: 'd', version: 3, spotCheck: sc });
  const stored = DatasetManifest.fromJSON(JSON.parse(JSON.stringify(DatasetManifest.toJSON(manifest))));
  assert.deepEqual(stored.spotCheck, sc);
  assert.deepEqual(spotCheckStatus('d', stored.spotCheck), spotCheckStatus('d', sc));
  assert.equal(stored.spotCheck?.items[0]?.judgedAt?.toISOString(), now.toISOString());
});

test('the report shows the spot-check with each rejected record and its reason', () => {
  const manifest = DatasetManifest.fromPartial({
    datasetId: 'd',
    gatesPassed: true,
    report: {},
    gates: [{ name: 'schema', passed: true }],
  });
  assert.match(formatDatasetReport(manifest), /\n {2}WAIT spot-check: spot-check not drawn yet/);
  const sc = judgedAll(newSpotCheck(candidates(), { size: 10, seed: 1, threshold: 0.9, now }), 2);
  const lines = spotCheckBlock({ ...manifest, spotCheck: sc });
  assert.match(lines[0] ?? '', /FAIL spot-check: spot-check FAILED: 8 of 10 accepted/);
  assert.equal(lines.length, 3);
  const report = formatDatasetReport({ ...manifest, spotCheck: sc });
  assert.match(report, new RegExp(`rejected ${sc.items[0]?.recordType} ${sc.items[0]?.recordId}: wrong 0`));
  assert.match(report, /rejected .*: wrong 1/);
});

test('a trajectory record comes with its context: the preceding nodes with times, the relation and how its weight came about', () => {
  const referenceDate = new Date('2025-01-01T00:00:00Z');
  const relationWeights = { refines: 1.5, iteration_final: 2.5 };
  const [record] = trajectoryRecords(BRANCHED_GRAPH, {
    referenceDate,
    contextSize: 3,
    targetRoles: ['user'],
    decayDays: 730,
    relationWeights,
  }).filter((r) => r.next.nodeId === 'u3');
  assert.ok(record);
  const context = spotCheckContext({ ...record, weight: record.weight * 2 }, { relationWeights, decayDays: 730, weightScale: 2 });
  assert.deepEqual(
    context.turns.map((t) => [t.role, t.nodeId, t.createdAt?.toISOString()]),
    [
      ['assistant', 'a1', '2024-01-01T00:01:00.000Z'],
      ['user', 'u2', '2024-01-01T00:03:00.000Z'],
      ['assistant', 'a2', '2024-01-01T00:04:00.000Z'],
    ],
  );
  assert.equal(context.target?.nodeId, 'u3');
  assert.equal(context.target?.createdAt?.toISOString(), '2024-01-01T00:05:00.000Z');
  assert.equal(context.relation, 'iteration_final', 'the strongest relation into the target');
  assert.equal(context.relationWeight, 2.5);
  assert.equal(context.conversationId, 'c');
  // weight = relation weight x decay x scale, each part shown.
  assert.ok(Math.abs(context.relationWeight * context.decay * context.weightScale - context.weight) < 1e-9);
});
