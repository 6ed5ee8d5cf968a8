import { createHash } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConversationGraph, DatasetReport } from '@trajectory/contracts';
import { writeAtomic } from './atomic-file.js';
import {
  type ConversationTurns,
  conversationRecords,
  conversationTurns,
  PREFERENCE_SOURCES,
  type RecordOptions,
  turnPairSpans,
} from './build.js';
import { type Deduplicated, dedupeRecords } from './dedupe.js';
import { DEFAULT_MAX_TOKENS, type ExportManifest, exportDataset, type TokenCounter } from './exports.js';
import { type GatesOutcome, loadEach, runGates } from './gates.js';
import { capMemory, type MemoryCap, MIN_REAL_SHARE, realShare, WARN_REAL_SHARE } from './mix.js';
import type { DatasetRecord, MemoryRecord, RecordHead } from './records.js';
import { relationRows, SampleShapeTally, trajectorySpan } from './report.js';
import { assignEvalSplit, EVAL_MAX_RECORDS, type SplitSummary } from './split.js';
import { RecordSpool, type SpooledHead } from './spool.js';
import { normaliseWeights, type WeightDistribution, type WeightNormalisation, weightDistribution } from './trajectories.js';

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

/** The report's fields 30-39: how the eval split was drawn, the exports' lengths and DPO pairs, the weights. */
type SplitExportWeightFields = Pick<
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

function splitExportWeightFields(split: SplitSummary, exports: ExportManifest, weights: WeightDistribution): SplitExportWeightFields {
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
class CorpusTally {
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
type DedupeMixFields = Pick<
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

function dedupeMixFields(
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

/** Writes the records as JSONL, whole or not at all, and returns the sha256 of the file. */
function writeJsonl(path: string, records: Iterable<DatasetRecord>): Promise<string> {
  return writeAtomic(path, async (file) => {
    const hash = createHash('sha256');
    for (const record of records) {
      const line = `${JSON.stringify(record)}\n`;
      hash.update(line);
      await file.write(line);
    }
    return hash.digest('hex');
  });
}

/**
 * Builds a dataset version: records of every type from the graphs (plus the memory records of the
 * facts file), the eval split, schema validation, the quality gates, the report and the trainer
 * exports, in `<rootDir>/<datasetId>/`. Records are ordered by type and id, so the same graph and
 * settings always give the same files and id.
 *
 * Each conversation's records go to the build's spool (spool.ts) as they are made; what stays in
 * memory is each record's head, the de-duplication and gate sketches, and the eval split's hashes
 * of turn texts, so the build's memory grows with the number of records and not with their texts.
 * The memory records (a facts file's, a few hundred) are kept whole.
 */
export async function buildDataset(
  graphs: AsyncIterable<ConversationGraph>,
  rootDir: string,
  settings: DatasetSettings,
  memory: readonly MemoryRecord[] = [],
): Promise<BuiltDataset> {
  await mkdir(rootDir, { recursive: true });
  const building = join(rootDir, `.building-${process.pid}-${Date.now()}`);
  await mkdir(building, { recursive: true });
  const spool = new RecordSpool(join(building, '.records.spool'));
  try {
    type Item = SpooledHead | MemoryRecord;
    const load = (item: Item): DatasetRecord => ('bytes' in item ? spool.read(item) : item);
    const tally = new CorpusTally();
    const items: Item[] = [];
    // The year of each record's target (its last node), for the weights by year.
    const years = new Map<string, string>();
    for await (const graph of graphs) {
      const turns = conversationTurns(graph);
      const own = conversationRecords(graph, settings, turns);
      tally.add(graph, own, turns);
      for (const r of own) {
        const last = 'nodeIds' in r.source ? r.source.nodeIds.at(-1) : undefined;
        const at = last ? turns.links.nodes.get(last)?.createdAt : undefined;
        years.set(r.id, at ? String(at.getUTCFullYear()) : 'unknown');
      }
      for (const head of spool.add(own)) items.push(head);
    }
    for (const r of memory) items.push(r);
    // Records that repeat the training signal of a better-weighted one go (dedupe.ts), and the facts
    // file's phrasings are capped so that they do not swamp a small history (mix.ts).
    const thresholds = { minRealShare: settings.minRealShare ?? MIN_REAL_SHARE, warnRealShare: settings.warnRealShare ?? WARN_REAL_SHARE };
    const deduplicated = dedupeRecords(items, { load });
    const memoryCap = capMemory(deduplicated.records, { realShare: thresholds.warnRealShare });
    const records = memoryCap.records;
    items.length = 0;
    const weightNormalisation = settings.weightNormalisation ?? 'mean';
    const weightScale = normaliseWeights(records, weightNormalisation);
    const weights = weightDistribution(records, (r) => years.get(r.id) ?? 'unknown');
    const split = assignEvalSplit(records, { evalShare: settings.evalShare, evalMaxRecords: settings.evalMaxRecords, load });
    records.sort((a, b) => a.type.localeCompare(b.type) || a.id.localeCompare(b.id));

    const gates = runGates(records, { realShare: { minShare: thresholds.minRealShare, warnShare: thresholds.warnRealShare }, load });
    const recordsHash = await writeJsonl(join(building, 'records.jsonl'), loadEach(records, load));
    const datasetId = createHash('sha256')
      .update(JSON.stringify({ ...settings, referenceDate: settings.referenceDate.toISOString() }))
      .update(recordsHash)
      .digest('hex')
      .slice(0, 16);
    const maxTokens = settings.maxTokens ?? DEFAULT_MAX_TOKENS;
    const exports = await exportDataset(loadEach(records, load), building, {
      systemPrompt: settings.systemPrompt,
      maxTokens,
      ...(settings.tokenCounter ? { tokenCounter: settings.tokenCounter } : {}),
    });
    const report = datasetReport(
      records,
      tally,
      gates,
      splitExportWeightFields(split, exports, weights),
      dedupeMixFields(records, deduplicated, memoryCap, thresholds),
    );
    await writeFile(join(building, 'report.json'), `${JSON.stringify({ report, gates }, null, 2)}\n`);
    await spool.remove();
    const dir = join(rootDir, datasetId);
    await rm(dir, { recursive: true, force: true });
    await rename(building, dir);
    const manifestSettings = {
      evalMaxRecords: settings.evalMaxRecords ?? EVAL_MAX_RECORDS,
      maxTokens,
      lengthMeasure: exports.lengths.measure,
      weightNormalisation,
      weightScale,
    };
    return { datasetId, dir, recordsPath: join(dir, 'records.jsonl'), records, report, gates, exports, split, manifestSettings };
  } catch (err) {
    await spool.remove();
    await rm(building, { recursive: true, force: true });
    throw err;
  }
}
