// A dataset version as the samples service registers it (DatasetManifest), the names of its files
// in the object store, and what the service answers about versions (a list row, a validation).
import type { DatasetManifest, DatasetSummary, ValidateDatasetResponse } from '@trajectory/contracts';
import type { BuiltDataset, DatasetSettings } from './dataset.js';
import { spotCheckStatus } from './spot-check.js';
import { DECAY_DAYS } from './trajectories.js';
import type { ValidationResult } from './validate.js';

/** The object-store name of one of a version's files: `<datasetId>/<file>`, so a trainer fetches a version by its id. */
export const versionObjectName = (datasetId: string, file: string): string => `${datasetId}/${file}`;

export interface RegisterOptions {
  /** The object-store names of the version's files. */
  objects: string[];
  /** The manifest already registered under the same id (a rebuild), if any. */
  existing: DatasetManifest | undefined;
  /** The next free version number: asked for only when the id is new. */
  nextVersion: number | undefined;
  now: Date;
}

/**
 * The manifest of a built version. The same id is the same records: a rebuild keeps the
 * registered version's number, build time and spot-check (the person's verdicts).
 */
export function datasetManifest(dataset: BuiltDataset, settings: DatasetSettings, options: RegisterOptions): DatasetManifest {
  const { existing } = options;
  return {
    datasetId: dataset.datasetId,
    version: existing?.version ?? (options.nextVersion as number),
    builtAt: existing?.builtAt ?? options.now,
    referenceDate: settings.referenceDate,
    path: dataset.recordsPath,
    recordCount: dataset.records.length,
    gatesPassed: dataset.gates.passed,
    gates: dataset.gates.gates.map((g) => ({ name: g.name, passed: g.passed, reason: g.reason ?? '' })),
    report: dataset.report,
    objects: options.objects,
    relationWeights: settings.relationWeights ?? {},
    decayDays: settings.decayDays ?? DECAY_DAYS,
    contextSize: settings.contextSize,
    targetRoles: [...settings.targetRoles],
    evalShare: settings.evalShare,
    exports: dataset.exports.files.map((f) => f.name),
    ...dataset.manifestSettings,
    ...(existing?.spotCheck ? { spotCheck: existing.spotCheck } : {}),
  };
}

/** A version's row in the list of datasets, with its spot-check's standing against `threshold`. */
export const datasetSummary = (m: DatasetManifest, threshold: number): DatasetSummary => ({
  datasetId: m.datasetId,
  version: m.version,
  builtAt: m.builtAt,
  recordCount: m.recordCount,
  gatesPassed: m.gatesPassed,
  spotCheck: spotCheckStatus(m.datasetId, m.spotCheck, threshold),
  path: m.path,
});

/** The answer to a validation of the file `fileName`: each error names the file. */
export const validationResponse = (fileName: string, result: ValidationResult): ValidateDatasetResponse => ({
  valid: result.valid,
  errors: result.errors.map((e) => ({ line: e.line, message: `${fileName}: ${e.message}` })),
});
