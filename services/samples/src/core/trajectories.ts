import { createHash } from 'node:crypto';
import type { CognitiveNode, ConversationGraph } from '@trajectory/contracts';
import { defaultRelationWeights } from '@trajectory/relations';
import type { TrajectoryRecord } from './records.js';

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

export const relationWeight = (relation: string, options: WeightOptions) =>
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

/** The up to `size` nodes before `nodeId` along FOLLOWS (a branch sees only its own past), oldest first. */
export function contextOf(links: NodeLinks, nodeId: string, size: number): CognitiveNode[] {
  const context: CognitiveNode[] = [];
  for (let id = links.predecessor.get(nodeId); id && context.length < size; id = links.predecessor.get(id)) {
    const node = links.nodes.get(id);
    if (!node) break;
    context.unshift(node);
  }
  return context;
}

export const recordId = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);

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
export function trajectoryRecords(graph: ConversationGraph, options: TrajectoryOptions, links = nodeLinks(graph)): TrajectoryRecord[] {
  const records: TrajectoryRecord[] = [];
  for (const target of graph.nodes) {
    if (!options.targetRoles.includes(target.role) || !target.text.trim()) continue;
    const context = contextOf(links, target.id, options.contextSize);
    if (context.length === 0) continue;
    const relation = strongestRelation(links.into.get(target.id) ?? [], options);
    records.push({
      id: recordId('trajectory', graph.conversationId, ...context.map((n) => n.id), target.id),
      type: 'trajectory',
      weight: relationWeight(relation, options) * timeDecay(target.createdAt, options.referenceDate, options.decayDays),
      source: { conversationId: graph.conversationId, nodeIds: [...context.map((n) => n.id), target.id] },
      split: 'train',
      context: context.map((n) => ({ role: n.role, text: n.text, nodeId: n.id })),
      next: { role: target.role, text: target.text, nodeId: target.id },
      relation,
      ageDays: ageDays(target.createdAt, options.referenceDate),
    });
  }
  return records;
}
