import { createHash } from 'node:crypto';
import type { ConversationGraph, DatasetReport } from '@trajectory/contracts';
import { type ConversationTurns, DEFAULT_SYSTEM_PROMPT, PREFERENCE_SOURCES, type RecordOptions, turnPairSpans } from './build.js';
import { type Deduplicated, dedupeRecords } from './dedupe.js';
import { DEFAULT_MAX_TOKENS, type ExportManifest, type TokenCounter } from './exports.js';
import { type GatesOutcome, runGates } from './gates.js';
import { capMemory, type MemoryCap, MIN_REAL_SHARE, realShare, WARN_REAL_SHARE } from './mix.js';
import type { DatasetRecord, MemoryRecord, RecordHead } from './records.js';
import { relationRows, SampleShapeTally, trajectorySpan } from './report.js';
import { assignEvalSplit, DEFAULT_EVAL_SHARE, EVAL_MAX_RECORDS, type SplitSummary } from './split.js';
import {
  DECAY_DAYS,
  DEFAULT_CONTEXT_SIZE,
  DEFAULT_TARGET_ROLES,
  normaliseWeights,
  type WeightDistribution,
  type WeightNormalisation,
  weightDistribution,
} from './trajectories.js';

export interface DatasetSettings extends RecordOptions {
  /** Share of the conversation records the eval split aims at (drawn by conversation, see split.ts). */
  evalShare: number;
  /** The most records the eval split takes (default EVAL_MAX_RECORDS). */
  evalMaxRecords?: number;
  /** The longest export row (default DEFAULT_MAX_TOKENS, the trainer's max_seq_length), measured by `tokenCounter` (default: characters). */
  maxTokens?: number;
  tokenCounter?: TokenCounter;
  /** How the conversation records' weights are scaled (default `mean`: to a mean of 1.0). */
  weightNormalisation?: WeightNormalisation;
  /** The real-share gate fails below this share of real records (default MIN_REAL_SHARE, 0.35) ... */
  minRealShare?: number;
  /** ... and warns below this one (default WARN_REAL_SHARE, 0.5), which also caps the memory records. */
  warnRealShare?: number;
}

/**
 * A build's settings as the samples service has them by default, with `overrides` over them: what
 * a build with no service (a bench, the trainer's fixture) uses. Relation weights are set only
 * where given (none: the relation table's), since the settings are part of the version's id.
 */
export function defaultDatasetSettings(referenceDate: Date, overrides: Partial<DatasetSettings> = {}): DatasetSettings {
  const settings: DatasetSettings = {
    referenceDate,
    contextSize: DEFAULT_CONTEXT_SIZE,
    targetRoles: DEFAULT_TARGET_ROLES,
    relationWeights: undefined,
    decayDays: DECAY_DAYS,
    evalShare: DEFAULT_EVAL_SHARE,
    systemPrompt: DEFAULT_SYSTEM_PROMPT,
    ...overrides,
  };
  if (!settings.relationWeights) delete settings.relationWeights;
  return settings;
}

/** The report's fields 30-39: how the eval split was drawn, the exports' lengths and DPO pairs, the weights. */
export type SplitExportWeightFields = Pick<
  DatasetReport,
  | 'evalSplit'
  | 'evalConversations'
  | 'splitConversations'
  | 'exportLengths'
  | 'dpo'
  | 'weightsByRelation'
  | 'weightsByYear'
  | 'weightHistogram'
  | 'weightMean'
  | 'weightAboveMeanPercent'
>;

export function splitExportWeightFields(
  split: SplitSummary,
  exports: ExportManifest,
  weights: WeightDistribution,
): SplitExportWeightFields {
  const { lengths, dpo } = exports;
  return {
    evalSplit: split.method,
    evalConversations: split.evalConversations,
    splitConversations: split.conversations,
    exportLengths: {
      measure: lengths.measure,
      maxTokens: lengths.maxTokens,
      rows: lengths.rows,
      overLimit: lengths.overLimit,
      shortened: lengths.shortened,
      dropped: lengths.dropped,
      before: lengths.before,
      after: lengths.after,
    },
    dpo,
    weightsByRelation: weights.byRelation,
    weightsByYear: weights.byYear,
    weightHistogram: weights.histogram,
    weightMean: weights.mean,
    weightAboveMeanPercent: weights.aboveMeanPercent,
  };
}

export interface BuiltDataset {
  /** A hash of the settings and the records: the same graph and settings give the same id. */
  datasetId: string;
  dir: string;
  recordsPath: string;
  /** The records' heads (id, type, weight, split, tags, source), in the file's order; their texts are in records.jsonl. */
  records: RecordHead[];
  report: DatasetReport;
  gates: GatesOutcome;
  exports: ExportManifest;
  /** How the eval split was drawn. */
  split: SplitSummary;
  /** The settings the manifest records beside the report (fields 30-39). */
  manifestSettings: {
    evalMaxRecords: number;
    maxTokens: number;
    lengthMeasure: string;
    weightNormalisation: WeightNormalisation;
    weightScale: number;
  };
}

/**
 * What the report needs from the graphs beyond the records, as counters: a list per edge or per
 * sample would grow with the history (a quarter of a million edges in a 1,122-conversation history).
 */
export class CorpusTally {
  conversations = 0;
  readonly relations = new Map<string, number>();
  chains = 0;
  chainNodes = 0;
  readonly turnPairs = new SampleShapeTally();
  readonly trajectories = new SampleShapeTally();

  add(graph: ConversationGraph, records: readonly DatasetRecord[], { links, turns }: ConversationTurns): void {
    this.conversations += 1;
    for (const e of graph.edges) this.relations.set(e.relation, (this.relations.get(e.relation) ?? 0) + 1);
    this.chains += graph.chains.length;
    this.chainNodes += graph.chains.reduce((sum, c) => sum + c.nodeIds.length, 0);
    for (const span of turnPairSpans(turns)) this.turnPairs.add(span);
    for (const r of records) if (r.type === 'trajectory') this.trajectories.add(trajectorySpan(r, links.nodes));
  }
}

const percentRows = (counts: Map<string, number>, total: number) =>
  [...counts].map(([name, count]) => ({ name, count, percent: total > 0 ? (100 * count) / total : 0 }));

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** The report's fields 20-29: de-duplication, preference pairs per source, real versus synthetic. */
export type DedupeMixFields = Pick<
  DatasetReport,
  | 'deduplication'
  | 'preferencePairsBySource'
  | 'realRecords'
  | 'syntheticRecords'
  | 'realSharePercent'
  | 'memoryRecordsGenerated'
  | 'memoryRecordsKept'
  | 'memoryCap'
  | 'minRealShare'
  | 'warnRealShare'
>;

export function dedupeMixFields(
  records: readonly RecordHead[],
  deduplicated: Deduplicated<RecordHead>,
  cap: MemoryCap,
  thresholds: { minRealShare: number; warnRealShare: number },
): DedupeMixFields {
  const share = realShare(records);
  const pairs = records.filter((r) => r.type === 'preference');
  return {
    deduplication: deduplicated.byType.map((row) => ({
      type: row.type,
      before: row.before,
      after: row.after,
      dropped: row.dropped,
      reasons: percentRows(new Map(Object.entries(row.reasons)), row.dropped),
    })),
    preferencePairsBySource: percentRows(
      new Map(PREFERENCE_SOURCES.map((source) => [source, pairs.filter((r) => r.tags?.includes(source)).length])),
      pairs.length,
    ),
    realRecords: share.real,
    syntheticRecords: share.synthetic,
    realSharePercent: 100 * share.share,
    memoryRecordsGenerated: cap.generated,
    memoryRecordsKept: cap.kept,
    memoryCap: Number.isFinite(cap.budget) ? cap.budget : 0,
    ...thresholds,
  };
}

/** The report's tables for a dataset: record types and splits, sample shapes, relations, weights, chains, facts. */
export function datasetReport(
  records: readonly RecordHead[],
  tally: CorpusTally,
  gates: GatesOutcome,
  splitExportWeights: SplitExportWeightFields,
  dedupeMix: DedupeMixFields,
): DatasetReport {
  const weighted = records.filter((r) => r.type === 'trajectory' || r.type === 'chat');
  const memory = records.filter((r): r is MemoryRecord => r.type === 'memory');
  const nearDuplicates = gates.gates.find((g) => g.name === 'near-duplicates')?.details as { pairCount?: number } | undefined;
  return {
    conversations: tally.conversations,
    records: records.length,
    recordsByType: percentRows(
      countBy(records, (r) => r.type),
      records.length,
    ),
    recordsBySplit: percentRows(
      countBy(records, (r) => r.split),
      records.length,
    ),
    shapes: [tally.turnPairs.row('turn pairs (user -> assistant)'), tally.trajectories.row('cognitive trajectories')],
    relations: relationRows(tally.relations).map((r) => ({ name: r.relation, count: r.count, percent: r.percent })),
    weightAboveOnePercent: weighted.length > 0 ? (100 * weighted.filter((r) => r.weight > 1).length) / weighted.length : 0,
    refinementChains: tally.chains,
    averageChainLength: tally.chains > 0 ? tally.chainNodes / tally.chains : 0,
    preferencePairs: records.filter((r) => r.type === 'preference').length,
    facts: new Set(memory.filter((r) => r.kind === 'fact').map((r) => ('factId' in r.source ? r.source.factId : ''))).size,
    factPhrasings: memory.filter((r) => r.kind === 'fact').length,
    heldoutPhrasings: memory.filter((r) => r.split === 'heldout').length,
    nearDuplicates: nearDuplicates?.pairCount ?? 0,
    ...splitExportWeights,
    ...dedupeMix,
  };
}

/** What the build keeps of a record while it decides: a conversation record's head, or a memory record whole. */
export type BuildItem = RecordHead | MemoryRecord;

/** The records a dataset keeps, with how they were chosen, weighted, split and gated. */
export interface SelectedRecords<T extends BuildItem> {
  records: T[];
  deduplicated: Deduplicated<T>;
  memoryCap: MemoryCap;
  thresholds: { minRealShare: number; warnRealShare: number };
  weightNormalisation: WeightNormalisation;
  weightScale: number;
  weights: WeightDistribution;
  split: SplitSummary;
  gates: GatesOutcome;
}

/**
 * Chooses a dataset's records among `items` (in place: weights normalised, the eval split drawn)
 * and orders them by type and id, so the same graph and settings always give the same files.
 * `load` reads a record's texts back; `yearOf` is the year of a record's target, for the weights by year.
 */
export function selectRecords<T extends BuildItem>(
  items: T[],
  settings: DatasetSettings,
  load: (item: T) => DatasetRecord,
  yearOf: (id: string) => string,
): SelectedRecords<T> {
  // Records that repeat the training signal of a better-weighted one go (dedupe.ts), and the facts
  // file's phrasings are capped so that they do not swamp a small history (mix.ts).
  const thresholds = { minRealShare: settings.minRealShare ?? MIN_REAL_SHARE, warnRealShare: settings.warnRealShare ?? WARN_REAL_SHARE };
  const deduplicated = dedupeRecords(items, { load });
  const memoryCap = capMemory(deduplicated.records, { realShare: thresholds.warnRealShare });
  const records = memoryCap.records;
  items.length = 0;
  const weightNormalisation = settings.weightNormalisation ?? 'mean';
  const weightScale = normaliseWeights(records, weightNormalisation);
  const weights = weightDistribution(records, (r) => yearOf(r.id));
  const split = assignEvalSplit(records, { evalShare: settings.evalShare, evalMaxRecords: settings.evalMaxRecords, load });
  records.sort((a, b) => a.type.localeCompare(b.type) || a.id.localeCompare(b.id));
  const gates = runGates(records, { realShare: { minShare: thresholds.minRealShare, warnShare: thresholds.warnRealShare }, load });
  return { records, deduplicated, memoryCap, thresholds, weightNormalisation, weightScale, weights, split, gates };
}

/** A version's id: a hash of the settings and of records.jsonl (its sha256), so the same graph and settings give the same id. */
export const datasetIdOf = (settings: DatasetSettings, recordsHash: string): string =>
  createHash('sha256')
    .update(JSON.stringify({ ...settings, referenceDate: settings.referenceDate.toISOString() }))
    .update(recordsHash)
    .digest('hex')
    .slice(0, 16);

/** The settings a version's manifest records beside its report. */
export function manifestSettingsOf(
  settings: DatasetSettings,
  exports: ExportManifest,
  selected: Pick<SelectedRecords<BuildItem>, 'weightNormalisation' | 'weightScale'>,
): BuiltDataset['manifestSettings'] {
  return {
    evalMaxRecords: settings.evalMaxRecords ?? EVAL_MAX_RECORDS,
    maxTokens: settings.maxTokens ?? DEFAULT_MAX_TOKENS,
    lengthMeasure: exports.lengths.measure,
    weightNormalisation: selected.weightNormalisation,
    weightScale: selected.weightScale,
  };
}
