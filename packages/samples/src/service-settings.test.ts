import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BuildDatasetRequest } from '@trajectory/contracts';
import { defaultRelationWeights } from '@trajectory/relations';
import { characterCounter } from './exports.js';
import { type BuildDefaults, buildPlan, relationWeightsSetting } from './service-settings.js';

const DEFAULTS: BuildDefaults = {
  contextSize: 4,
  targetRoles: ['assistant'],
  relationWeights: { refines: 2 },
  decayDays: 365,
  evalShare: 0.2,
  evalMaxRecords: 500,
  maxTokens: 1024,
  tokenCounter: characterCounter,
  weightNormalisation: 'none',
  minRealShare: 0.3,
  warnRealShare: 0.6,
  systemPrompt: 'be brief',
  datasetDir: '/data/datasets',
  factsFile: '/data/facts.yaml',
};
const now = new Date('2026-03-04T05:06:07Z');

test('relation weights: relation=weight pairs of the table; unknown relations, negative or non-numbers are refused', () => {
  assert.deepEqual(relationWeightsSetting.parse(undefined), {});
  assert.deepEqual(relationWeightsSetting.parse('refines=2, iteration_final = 3.5'), { refines: 2, iteration_final: 3.5 });
  for (const bad of ['nope=1', 'refines=-1', 'refines=x']) {
    const result = relationWeightsSetting.safeParse(bad);
    assert.equal(result.success, false, bad);
    assert.match(result.error?.issues[0]?.message ?? '', /expected relation=weight with a relation of the table \(.*refines.*\)/);
  }
});

test('a request with nothing set builds with the configuration; relation weights are the table with the configuration over it', () => {
  const plan = buildPlan(BuildDatasetRequest.fromPartial({}), DEFAULTS, now);
  const { datasetDir, factsFile, ...fromConfig } = DEFAULTS;
  assert.deepEqual(plan, {
    settings: { ...fromConfig, referenceDate: now, relationWeights: { ...defaultRelationWeights(), refines: 2 } },
    outputDir: datasetDir,
    factsPath: factsFile,
    factsText: '',
  });
});

test("a request's own settings win over the configuration's; its relation weights go over both", () => {
  const asOf = new Date('2025-01-01T00:00:00Z');
  const plan = buildPlan(
    BuildDatasetRequest.fromPartial({
      outputDir: 'out',
      asOf,
      contextSize: 2,
      targetRoles: ['user'],
      relationWeights: { refines: 5, contrasts: 0.5 },
      decayDays: 30,
      factsPath: 'mine.yaml',
      factsText: 'facts: []',
      evalShare: 0.05,
      minRealShare: 0,
      warnRealShare: 0.4,
    }),
    DEFAULTS,
    now,
  );
  assert.equal(plan.settings.referenceDate, asOf);
  assert.equal(plan.settings.contextSize, 2);
  assert.deepEqual(plan.settings.targetRoles, ['user']);
  assert.deepEqual(plan.settings.relationWeights, { ...defaultRelationWeights(), refines: 5, contrasts: 0.5 });
  assert.equal(plan.settings.decayDays, 30);
  assert.equal(plan.settings.evalShare, 0.05);
  assert.equal(plan.settings.minRealShare, 0, 'a share of 0 asked for is kept');
  assert.equal(plan.settings.warnRealShare, 0.4);
  // What a request cannot set stays the configuration's.
  assert.equal(plan.settings.evalMaxRecords, 500);
  assert.equal(plan.settings.systemPrompt, 'be brief');
  assert.deepEqual(
    { outputDir: plan.outputDir, factsPath: plan.factsPath, factsText: plan.factsText },
    {
      outputDir: 'out',
      factsPath: 'mine.yaml',
      factsText: 'facts: []',
    },
  );
  assert.equal(buildPlan(BuildDatasetRequest.fromPartial({}), { ...DEFAULTS, factsFile: undefined }, now).factsPath, undefined);
});
