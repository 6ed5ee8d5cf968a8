import { createHash } from 'node:crypto';
import type { CognitiveNode, ConversationGraph } from '@trajectory/contracts';
import { defaultRelationWeights } from '@trajectory/relations';
import type { DatasetRecord, RecordHead, TrajectoryRecord, TrajectoryTurn } from './records.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Time constant τ of the age decay: a node two years old weighs e^-1 of a new one. */
export const DECAY_DAYS = 730;

/** How much a prediction along each relation is worth by default: the relation table's weights. */
export const RELATION_WEIGHTS: Readonly<Record<string, number>> = defaultRelationWeights();

export interface WeightOptions {
  /** Age is measured from this date; it is recorded in the dataset, so a rebuild gives the same weights. */
  referenceDate: Date;
  /** Weights by relation; relations missing here weigh their table default. */
  relationWeights?: Readonly<Record<string, number>>;
  /** τ of e^(-age_days/τ). */
  decayDays?: number;
}

export function ageDays(createdAt: Date | undefined, referenceDate: Date): number {
  return createdAt ? Math.max(0, (referenceDate.getTime() - createdAt.getTime()) / DAY_MS) : 0;
}

/** e^(-age_days/τ); a node without a time is treated as new (weight 1), never given an invented age. */
export function timeDecay(createdAt: Date | undefined, referenceDate: Date, decayDays = DECAY_DAYS): number {
  return Math.exp(-ageDays(createdAt, referenceDate) / decayDays);
}

export const relationWeight = (relation: string, options: Pick<WeightOptions, 'relationWeights'>) =>
  options.relationWeights?.[relation] ?? RELATION_WEIGHTS[relation] ?? 1;

/** The relation that names a prediction: the heaviest, and on a tie the specific one over `follows`. */
export function strongestRelation(relations: readonly string[], options: WeightOptions): string {
  return relations.reduce((best, r) => {
    const [wr, wb] = [relationWeight(r, options), relationWeight(best, options)];
    return wr > wb || (wr === wb && best === 'follows') ? r : best;
  }, 'follows');
}

/** How a conversation's nodes connect: each node's predecessor and the relations that reach it. */
export interface NodeLinks {
  nodes: Map<string, CognitiveNode>;
  predecessor: Map<string, string>;
  /** Relations into a node: edges are attributed to their later end (an ITERATION_FINAL edge runs from a chain's start to its end). */
  into: Map<string, string[]>;
}

export function nodeLinks(graph: ConversationGraph): NodeLinks {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const position = new Map(graph.nodes.map((n, i) => [n.id, i]));
  const predecessor = new Map<string, string>();
  const into = new Map<string, string[]>();
  for (const edge of graph.edges) {
    if (edge.relation === 'follows') predecessor.set(edge.fromId, edge.toId);
    const later = (position.get(edge.fromId) ?? 0) >= (position.get(edge.toId) ?? 0) ? edge.fromId : edge.toId;
    into.set(later, [...(into.get(later) ?? []), edge.relation]);
  }
  return { nodes, predecessor, into };
}

/**
 * The up to `size` nodes before `nodeId` along FOLLOWS (a branch sees only its own past), oldest
 * first; nodes that are not `spoken` (tool output, tool calls) are passed over.
 */
export function contextOf(
  links: NodeLinks,
  nodeId: string,
  size: number,
  spoken: (node: CognitiveNode) => boolean = () => true,
): CognitiveNode[] {
  const context: CognitiveNode[] = [];
  for (let id = links.predecessor.get(nodeId); id && context.length < size; id = links.predecessor.get(id)) {
    const node = links.nodes.get(id);
    if (!node) break;
    if (spoken(node)) context.unshift(node);
  }
  return context;
}

/** A node as a trajectory record holds it: with its time where the source had one (none is invented). */
const turnOf = (n: CognitiveNode): TrajectoryTurn => ({
  role: n.role,
  text: n.text,
  nodeId: n.id,
  ...(n.createdAt ? { createdAt: n.createdAt.toISOString() } : {}),
});

export const recordId = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);

/** The window of the design's samples [n(t-2), n(t-1), n(t)] -> n(t+1), and the roles it predicts, unless set. */
export const DEFAULT_CONTEXT_SIZE = 3;
export const DEFAULT_TARGET_ROLES: readonly ('user' | 'assistant')[] = ['user', 'assistant'];

export interface TrajectoryOptions extends WeightOptions {
  /** Nodes of context before the predicted one (the window). */
  contextSize: number;
  /** Roles a sample may predict. */
  targetRoles: readonly string[];
}

/**
 * Trajectory samples [n(t-k) .. n(t)] -> n(t+1) of one conversation, across turn boundaries.
 * Every node with a predecessor and an allowed role is a target; the weight is its strongest
 * relation's weight times e^(-age/τ).
 */
export function trajectoryRecords(
  graph: ConversationGraph,
  options: TrajectoryOptions,
  links = nodeLinks(graph),
  spoken: (node: CognitiveNode) => boolean = () => true,
): TrajectoryRecord[] {
  const records: TrajectoryRecord[] = [];
  for (const target of graph.nodes) {
    if (!options.targetRoles.includes(target.role) || !target.text.trim() || !spoken(target)) continue;
    const context = contextOf(links, target.id, options.contextSize, spoken);
    if (context.length === 0) continue;
    const relation = strongestRelation(links.into.get(target.id) ?? [], options);
    records.push({
      id: recordId('trajectory', graph.conversationId, ...context.map((n) => n.id), target.id),
      type: 'trajectory',
      weight: relationWeight(relation, options) * timeDecay(target.createdAt, options.referenceDate, options.decayDays),
      source: { conversationId: graph.conversationId, nodeIds: [...context.map((n) => n.id), target.id] },
      split: 'train',
      context: context.map(turnOf),
      next: turnOf(target),
      relation,
      ageDays: ageDays(target.createdAt, options.referenceDate),
    });
  }
  return records;
}

// ---------------------------------------------------------------------------------------------
// Weights across the dataset: normalisation and the distribution the report shows.

/** The records whose weight comes from the rule above (relation × decay): the conversation records SFT trains on. */
export const WEIGHTED_TYPES: readonly DatasetRecord['type'][] = ['trajectory', 'chat', 'qa', 'knowledge'];
const isWeighted = (r: RecordHead) => WEIGHTED_TYPES.includes(r.type);

/**
 * `mean`: the weights of the conversation records are scaled so that their mean is 1.0 (the
 * relative weights, which are all a trainer that normalises per step sees, stay as they are; the
 * scale stops depending on how old the history is, and the records stand beside the memory
 * records, whose weight is 1.0). `none`: the rule's weights as they are.
 */
export type WeightNormalisation = 'mean' | 'none';
export const WEIGHT_NORMALISATIONS: readonly WeightNormalisation[] = ['mean', 'none'];

/**
 * Applies the normalisation to the conversation records (in place) and returns the factor
 * applied: a record's rule weight is its weight divided by it (the manifest records it).
 */
export function normaliseWeights(records: readonly RecordHead[], mode: WeightNormalisation): number {
  const weighted = records.filter(isWeighted);
  const mean = weighted.reduce((sum, r) => sum + r.weight, 0) / (weighted.length || 1);
  if (mode === 'none' || !(mean > 0)) return 1;
  const scale = 1 / mean;
  for (const r of weighted) r.weight *= scale;
  return scale;
}

export interface WeightRow {
  name: string;
  records: number;
  mean: number;
  min: number;
  max: number;
  /** Share of these records above the mean weight of all weighted records, in percent. */
  aboveMeanPercent: number;
}

export interface WeightDistribution {
  /** Trajectory records by their relation; the other conversation records by their type. */
  byRelation: WeightRow[];
  /** By the year of the record's target (`unknown` without a time). */
  byYear: WeightRow[];
  /** Records per weight range, for a text histogram. */
  histogram: { name: string; count: number; percent: number }[];
  /** Mean weight of the conversation records, and the share above it, in percent. */
  mean: number;
  aboveMeanPercent: number;
}

/** Upper bounds of the histogram's ranges, around a mean of 1.0. */
const HISTOGRAM_BOUNDS = [0.25, 0.5, 0.75, 1, 1.5, 2, 3];

/**
 * The weights of the conversation records: by relation, by year of the target (`yearOf`) and
 * as a histogram, with the share above the mean.
 */
export function weightDistribution<T extends RecordHead>(records: readonly T[], yearOf: (record: T) => string): WeightDistribution {
  const weighted = records.filter(isWeighted);
  const mean = weighted.reduce((sum, r) => sum + r.weight, 0) / (weighted.length || 1);
  const above = (rs: readonly T[]) => (rs.length > 0 ? (100 * rs.filter((r) => r.weight > mean * (1 + 1e-9)).length) / rs.length : 0);
  const rows = (key: (r: T) => string) => {
    const groups = new Map<string, T[]>();
    // Appended in place and folded without spreading: in a 1,122-conversation history a group holds
    // 10⁵ records, past the engine's argument limit, and copying the group on each record is quadratic.
    for (const r of weighted) {
      const group = groups.get(key(r));
      if (group) group.push(r);
      else groups.set(key(r), [r]);
    }
    return [...groups].map(([name, rs]) => ({
      name,
      records: rs.length,
      mean: rs.reduce((sum, r) => sum + r.weight, 0) / rs.length,
      min: rs.reduce((least, r) => Math.min(least, r.weight), Number.POSITIVE_INFINITY),
      max: rs.reduce((most, r) => Math.max(most, r.weight), Number.NEGATIVE_INFINITY),
      aboveMeanPercent: above(rs),
    }));
  };
  const byRelation = rows((r) => (r.type === 'trajectory' ? `trajectory: ${r.relation}` : r.type)).sort(
    (a, b) => b.records - a.records || a.name.localeCompare(b.name),
  );
  const byYear = rows(yearOf).sort((a, b) => a.name.localeCompare(b.name));
  const counts = new Array<number>(HISTOGRAM_BOUNDS.length + 1).fill(0);
  for (const r of weighted) {
    const i = HISTOGRAM_BOUNDS.findIndex((bound) => r.weight < bound);
    const bucket = i === -1 ? HISTOGRAM_BOUNDS.length : i;
    counts[bucket] = (counts[bucket] ?? 0) + 1;
  }
  const histogram = counts.map((count, i) => ({
    name:
      i === 0
        ? `< ${HISTOGRAM_BOUNDS[0]}`
        : i === HISTOGRAM_BOUNDS.length
          ? `≥ ${HISTOGRAM_BOUNDS[i - 1]}`
          : `${HISTOGRAM_BOUNDS[i - 1]}–${HISTOGRAM_BOUNDS[i]}`,
    count,
    percent: weighted.length > 0 ? (100 * count) / weighted.length : 0,
  }));
  return { byRelation, byYear, histogram, mean, aboveMeanPercent: above(weighted) };
}
