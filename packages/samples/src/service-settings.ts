// The samples service's settings: what its environment may say about relation weights, and how
// a build request's settings are chosen: the request's own, else the service's configuration, else
// the library's defaults (the configuration's own defaults).

import { commaList } from '@trajectory/config';
import type { BuildDatasetRequest } from '@trajectory/contracts';
import { defaultRelationWeights } from '@trajectory/relations';
import { z } from 'zod';
import type { DatasetSettings } from './dataset.js';
import type { TokenCounter } from './exports.js';
import type { WeightNormalisation } from './trajectories.js';

/** `refines=2,iteration_final=3`: weights over the relation table's defaults; unknown relations are refused. */
export const relationWeightsSetting = z
  .string()
  .default('')
  .transform((s, ctx) => {
    const weights: Record<string, number> = {};
    const known = defaultRelationWeights();
    for (const pair of commaList(s)) {
      const [name = '', value = ''] = pair.split('=').map((x) => x.trim());
      const weight = Number(value);
      if (!(name in known) || !Number.isFinite(weight) || weight < 0) {
        ctx.addIssue({
          code: 'custom',
          message: `"${pair}": expected relation=weight with a relation of the table (${Object.keys(known).join(', ')})`,
        });
      } else weights[name] = weight;
    }
    return weights;
  });

/** What the service's configuration says about a build, where a request does not. */
export interface BuildDefaults {
  contextSize: number;
  targetRoles: readonly string[];
  /** Over the relation table's defaults; a request's weights go over these. */
  relationWeights: Record<string, number>;
  decayDays: number;
  evalShare: number;
  evalMaxRecords: number;
  maxTokens: number;
  tokenCounter: TokenCounter;
  weightNormalisation: WeightNormalisation;
  minRealShare: number;
  warnRealShare: number;
  systemPrompt: string;
  /** The dataset folder where a request names none. */
  datasetDir: string;
  /** The facts file where a request names none (and gives no facts text). */
  factsFile?: string | undefined;
}

/** A build as asked for: its settings, the folder its versions go in, and where its facts come from. */
export interface BuildPlan {
  settings: DatasetSettings;
  outputDir: string;
  /** A facts file to read (none: `factsText`, or no memory records). */
  factsPath: string | undefined;
  factsText: string;
}

/**
 * The settings of a build request: each of the request's own (a zero, an empty list or an unset
 * field: not given), else the configuration's. Relation weights merge: the table's, the
 * configuration's over them, the request's over both. `now` is the reference date where the request has none.
 */
export function buildPlan(request: BuildDatasetRequest, defaults: BuildDefaults, now: Date): BuildPlan {
  const settings: DatasetSettings = {
    referenceDate: request.asOf ?? now,
    contextSize: request.contextSize || defaults.contextSize,
    targetRoles: request.targetRoles.length > 0 ? request.targetRoles : defaults.targetRoles,
    relationWeights: { ...defaultRelationWeights(), ...defaults.relationWeights, ...request.relationWeights },
    decayDays: request.decayDays || defaults.decayDays,
    evalShare: request.evalShare || defaults.evalShare,
    evalMaxRecords: defaults.evalMaxRecords,
    maxTokens: defaults.maxTokens,
    tokenCounter: defaults.tokenCounter,
    weightNormalisation: defaults.weightNormalisation,
    minRealShare: request.minRealShare ?? defaults.minRealShare,
    warnRealShare: request.warnRealShare ?? defaults.warnRealShare,
    systemPrompt: defaults.systemPrompt,
  };
  return {
    settings,
    outputDir: request.outputDir || defaults.datasetDir,
    factsPath: request.factsPath || defaults.factsFile,
    factsText: request.factsText,
  };
}
