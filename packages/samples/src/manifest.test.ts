import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatasetManifest, DatasetReport, SpotCheckVerdict } from '@trajectory/contracts';
import type { BuiltDataset, DatasetSettings } from './dataset.js';
import { datasetManifest, datasetSummary, validationResponse, versionObjectName } from './manifest.js';
import { spotCheckStatus } from './spot-check.js';

const report = DatasetReport.fromPartial({ conversations: 2, records: 3 });
const dataset = {
  datasetId: 'abc',
  dir: '/d/abc',
  recordsPath: '/d/abc/records.jsonl',
  records: [
    { id: 'r1', type: 'chat', weight: 1, split: 'train', source: { conversationId: 'c', nodeIds: ['n'] } },
    { id: 'r2', type: 'chat', weight: 1, split: 'eval', source: { conversationId: 'c', nodeIds: ['n'] } },
  ],
  report,
  gates: {
    passed: false,
    gates: [
      { name: 'schema', passed: true },
      { name: 'real-share', passed: false, reason: 'too few' },
    ],
    warnings: [],
  },
  exports: { files: [{ name: 'sft.jsonl' }, { name: 'exports.json' }] },
  split: {},
  manifestSettings: { evalMaxRecords: 10, maxTokens: 2048, lengthMeasure: 'characters', weightNormalisation: 'mean', weightScale: 1.5 },
} as unknown as BuiltDataset;
const settings: DatasetSettings = {
  referenceDate: new Date('2025-01-01T00:00:00Z'),
  contextSize: 3,
  targetRoles: ['user', 'assistant'],
  relationWeights: { refines: 2 },
  evalShare: 0.1,
  systemPrompt: 's',
};
const now = new Date('2026-01-01T00:00:00Z');

test("a version's files are stored under its id", () => {
  assert.equal(versionObjectName('abc', 'records.jsonl'), 'abc/records.jsonl');
});

test('a new version takes the next version number and now as its build time', () => {
  const manifest = datasetManifest(dataset, settings, { objects: ['abc/records.jsonl'], existing: undefined, nextVersion: 7, now });
  assert.deepEqual(manifest, {
    datasetId: 'abc',
    version: 7,
    builtAt: now,
    referenceDate: settings.referenceDate,
    path: '/d/abc/records.jsonl',
    recordCount: 2,
    gatesPassed: false,
    gates: [
      { name: 'schema', passed: true, reason: '' },
      { name: 'real-share', passed: false, reason: 'too few' },
    ],
    report,
    objects: ['abc/records.jsonl'],
    relationWeights: { refines: 2 },
    decayDays: 730,
    contextSize: 3,
    targetRoles: ['user', 'assistant'],
    evalShare: 0.1,
    exports: ['sft.jsonl', 'exports.json'],
    evalMaxRecords: 10,
    maxTokens: 2048,
    lengthMeasure: 'characters',
    weightNormalisation: 'mean',
    weightScale: 1.5,
  });
});

test("a rebuild of the same id keeps the registered version's number, build time and spot-check", () => {
  const spotCheck = {
    seed: 1,
    size: 1,
    drawnAt: now,
    threshold: 0.9,
    items: [{ recordId: 'r1', recordType: 'chat', verdict: SpotCheckVerdict.SPOT_CHECK_VERDICT_ACCEPTED, reason: '' }],
  };
  const existing = DatasetManifest.fromPartial({ datasetId: 'abc', version: 3, builtAt: new Date('2025-06-01T00:00:00Z'), spotCheck });
  const manifest = datasetManifest(dataset, settings, { objects: [], existing, nextVersion: undefined, now });
  assert.equal(manifest.version, 3);
  assert.deepEqual(manifest.builtAt, new Date('2025-06-01T00:00:00Z'));
  assert.deepEqual(manifest.spotCheck, existing.spotCheck);
  assert.equal(manifest.spotCheck?.items[0]?.recordId, spotCheck.items[0]?.recordId);
  const unchecked = datasetManifest(dataset, settings, {
    objects: [],
    existing: { ...existing, spotCheck: undefined },
    nextVersion: 9,
    now,
  });
  assert.equal('spotCheck' in unchecked, false);
  assert.equal(unchecked.version, 3);
});

test("a version's row in the list, with its spot-check's standing", () => {
  const manifest = datasetManifest(dataset, settings, { objects: [], existing: undefined, nextVersion: 1, now });
  assert.deepEqual(datasetSummary(manifest, 0.8), {
    datasetId: 'abc',
    version: 1,
    builtAt: now,
    recordCount: 2,
    gatesPassed: false,
    spotCheck: spotCheckStatus('abc', undefined, 0.8),
    path: '/d/abc/records.jsonl',
  });
});

test('each validation error names the file', () => {
  const response = validationResponse('d.jsonl', {
    valid: 1,
    invalid: 1,
    errors: [{ line: 2, message: 'line 2: /id is required' }],
    truncated: false,
  });
  assert.deepEqual(response, { valid: 1, errors: [{ line: 2, message: 'd.jsonl: line 2: /id is required' }] });
});
