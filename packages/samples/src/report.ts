import type { CognitiveNode, DatasetManifest, Edge } from '@trajectory/contracts';
import type { TrajectoryRecord } from './records.js';
import { spotCheckBlock } from './spot-check.js';

/**
 * Segmentations compared by the samples each one yields, as the seed pipeline compared its own: how
 * many, how many see more than one turn of context, and how many turns (messages) a sample spans.
 */
export interface SampleShapeRow {
  method: string;
  samples: number;
  /** Samples whose context lies within one message. */
  singleTurn: number;
  /** Samples whose context spans two or more messages. */
  multiTurn: number;
  /** Distinct messages per sample, context and target together. */
  averageTurns: number;
}

/** What a sample covers: the messages of its context and of its target. */
export interface SampleSpan {
  contextMessageIds: readonly string[];
  targetMessageIds: readonly string[];
}

/**
 * A sample-shape row counted one sample at a time, so a whole history's samples need not be held
 * together: three counters instead of one span per sample.
 */
export class SampleShapeTally {
  private samples = 0;
  private singleTurn = 0;
  private turns = 0;

  add(span: SampleSpan): void {
    const context = new Set(span.contextMessageIds);
    this.samples += 1;
    if (context.size <= 1) this.singleTurn += 1;
    this.turns += new Set([...context, ...span.targetMessageIds]).size;
  }

  row(method: string): SampleShapeRow {
    return {
      method,
      samples: this.samples,
      singleTurn: this.singleTurn,
      multiTurn: this.samples - this.singleTurn,
      averageTurns: this.samples > 0 ? this.turns / this.samples : 0,
    };
  }
}

export function sampleShapeRow(method: string, spans: readonly SampleSpan[]): SampleShapeRow {
  const tally = new SampleShapeTally();
  for (const span of spans) tally.add(span);
  return tally.row(method);
}

/** The messages a trajectory sample covers, through its nodes. */
export function trajectorySpan(record: TrajectoryRecord, nodes: ReadonlyMap<string, CognitiveNode>): SampleSpan {
  const messagesOf = (nodeId: string) => nodes.get(nodeId)?.messageIds ?? [];
  return {
    contextMessageIds: record.context.flatMap((turn) => messagesOf(turn.nodeId)),
    targetMessageIds: messagesOf(record.next.nodeId),
  };
}

export interface RelationRow {
  relation: string;
  count: number;
  /** Share of all edges, in percent. */
  percent: number;
}

/** Edges by relation, most frequent first. */
export function relationDistribution(edges: readonly Pick<Edge, 'relation'>[]): RelationRow[] {
  const counts = new Map<string, number>();
  for (const e of edges) counts.set(e.relation, (counts.get(e.relation) ?? 0) + 1);
  return relationRows(counts);
}

/** The distribution from edge counts per relation (what a tally over many graphs keeps). */
export function relationRows(counts: ReadonlyMap<string, number>): RelationRow[] {
  const total = [...counts.values()].reduce((sum, n) => sum + n, 0);
  return [...counts]
    .map(([relation, count]) => ({ relation, count, percent: total > 0 ? (100 * count) / total : 0 }))
    .sort((a, b) => b.count - a.count || a.relation.localeCompare(b.relation));
}

/** A plain-text table: the first column left-aligned, the others right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(width[i] ?? 0) : c.padStart(width[i] ?? 0))).join(' | ')} |`;
  const rule = `|${width.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const count = (n: number) => n.toLocaleString('en-US');
const BAR_WIDTH = 40;

/** The report's block of fields 30-39: how the eval split was drawn, the exports' lengths and DPO pairs, the weights. */
export function splitExportWeightBlock(manifest: DatasetManifest): string[] {
  const r = manifest.report;
  if (!r) return [];
  const parts: string[] = [];
  if (r.evalSplit) parts.push(`eval split: ${r.evalSplit}`);
  const l = r.exportLengths;
  if (l) {
    const stats = (s: typeof l.before) => (s ? `${count(s.p50)} / ${count(s.p95)} / ${count(s.max)}` : '-');
    parts.push(
      `export rows (SFT), measured in ${l.measure} against ${count(l.maxTokens)}: ${count(l.rows)} built, ${count(l.overLimit)} over the limit: ` +
        `${count(l.shortened)} shortened (fewer context turns), ${count(l.dropped)} dropped (too long without context); ` +
        `length p50 / p95 / max ${stats(l.before)} before, ${stats(l.after)} after`,
    );
  }
  if (r.dpo) parts.push(`DPO: ${r.dpo.note}`);
  if (r.weightsByRelation.length > 0) {
    const w = (x: number) => x.toFixed(2);
    const scale =
      manifest.weightNormalisation === 'mean'
        ? `scaled to a mean of 1.0 (x${manifest.weightScale.toPrecision(3)} of relation weight x e^(-age/τ))`
        : 'relation weight x e^(-age/τ), not normalised';
    parts.push(`weights of the conversation records: ${scale}; mean ${w(r.weightMean)}, ${pct(r.weightAboveMeanPercent)} above it`);
    const rows = (list: typeof r.weightsByRelation) =>
      list.map((x) => [x.name, count(x.records), w(x.mean), w(x.min), w(x.max), pct(x.aboveMeanPercent)]);
    parts.push(formatTable(['weights by relation', 'records', 'mean', 'min', 'max', '> mean'], rows(r.weightsByRelation)));
    parts.push(formatTable(['weights by year', 'records', 'mean', 'min', 'max', '> mean'], rows(r.weightsByYear)));
    const most = Math.max(1, ...r.weightHistogram.map((h) => h.count));
    const label = Math.max(...r.weightHistogram.map((h) => h.name.length));
    parts.push(
      [
        'weight histogram:',
        ...r.weightHistogram.map(
          (h) => `  ${h.name.padEnd(label)} ${'#'.repeat(Math.round((BAR_WIDTH * h.count) / most)).padEnd(BAR_WIDTH)} ${count(h.count)}`,
        ),
      ].join('\n'),
    );
  }
  return parts;
}

const pct = (x: number) => `${x.toFixed(1)}%`;

/**
 * The dataset report as the CLI prints it: its tables (sample shapes, relations, record types and
 * splits, weights, chains, facts), then the gates.
 */
export function formatDatasetReport(manifest: DatasetManifest): string {
  const r = manifest.report;
  if (!r) return `dataset ${manifest.datasetId}: no report`;
  const pct = (x: number) => `${x.toFixed(1)}%`;
  const parts = [
    `dataset ${manifest.datasetId} (version ${manifest.version}): ${r.records} records from ${r.conversations} conversations; ` +
      `reference date ${manifest.referenceDate?.toISOString().slice(0, 10) ?? '?'}, τ ${manifest.decayDays} days`,
    formatTable(
      ['segmentation', 'samples', 'single-turn', 'multi-turn', 'avg turns/sample'],
      r.shapes.map((s) => [s.method, String(s.samples), String(s.singleTurn), String(s.multiTurn), s.averageTurns.toFixed(2)]),
    ),
    formatTable(
      ['relation', 'edges', '%'],
      r.relations.map((x) => [x.name, String(x.count), pct(x.percent)]),
    ),
    formatTable(
      ['record type', 'records', '%'],
      r.recordsByType.map((x) => [x.name, String(x.count), pct(x.percent)]),
    ),
    `splits: ${r.recordsBySplit.map((x) => `${x.name} ${x.count}`).join(', ')}`,
    `samples with weight > 1.0: ${pct(r.weightAboveOnePercent)}`,
    ...splitExportWeightBlock(manifest),
    `refinement chains: ${r.refinementChains}, average length ${r.averageChainLength.toFixed(2)}`,
    `facts: ${r.facts}, phrasings ${r.factPhrasings}, held out for the recall eval ${r.heldoutPhrasings}`,
    ...dedupeMixBlock(manifest),
    `gates: ${manifest.gatesPassed ? 'passed' : 'FAILED'}`,
    ...manifest.gates.map((g) => `  ${g.passed ? 'ok  ' : 'FAIL'} ${g.name}${g.reason ? `: ${g.reason}` : ''}`),
    // A person's gate, beside the automatic ones: training waits for it (or an explicit override).
    ...spotCheckBlock(manifest),
  ];
  return parts.join('\n\n').replace(/\n\n {2}/g, '\n  ');
}

/** The report's block of fields 20-29: de-duplication, preference pairs per source, real versus synthetic. */
export function dedupeMixBlock(manifest: DatasetManifest): string[] {
  const r = manifest.report;
  if (!r) return [];
  const n = (x: number) => x.toLocaleString('en-US');
  const percent = (x: number) => `${x.toFixed(1)}%`;
  const parts: string[] = [];
  const dropped = r.deduplication.reduce((sum, row) => sum + row.dropped, 0);
  const total = r.deduplication.reduce((sum, row) => sum + row.before, 0);
  if (dropped === 0 && total > 0) parts.push(`de-duplication: no record repeats the training signal of another (${n(total)} records)`);
  else if (dropped > 0) {
    parts.push(
      `de-duplication: ${n(dropped)} records dropped that repeat the training signal of a better-weighted record (same target and context)`,
      formatTable(
        ['record type', 'before', 'after', 'dropped'],
        r.deduplication.map((row) => [row.type, n(row.before), n(row.after), n(row.dropped)]),
      ),
      ...r.deduplication
        .filter((row) => row.dropped > 0)
        .map((row) => `  ${row.type} dropped: ${row.reasons.map((x) => `${n(x.count)} ${x.name}`).join('; ')}`),
    );
  }
  parts.push(`near-duplicates left (records repeating another's target): ${n(r.nearDuplicates)}`);
  const sources = r.preferencePairsBySource.map((x) => `${x.name} ${n(x.count)}`).join(', ');
  parts.push(`preference pairs: ${n(r.preferencePairs)}${sources ? ` (${sources})` : ''}`);
  let mix =
    `real vs synthetic: ${percent(r.realSharePercent)} of the training records are from conversations ` +
    `(${n(r.realRecords)} real, ${n(r.syntheticRecords)} synthetic memory records; warn below ${percent(100 * r.warnRealShare)}, fail below ${percent(100 * r.minRealShare)})`;
  if (r.memoryRecordsKept < r.memoryRecordsGenerated) {
    mix += `; memory records capped to ${n(r.memoryRecordsKept)} of ${n(r.memoryRecordsGenerated)} (room for ${n(r.memoryCap)} beside this history)`;
  }
  parts.push(mix);
  return parts;
}
