import { createHash } from 'node:crypto';
import type { CognitiveNode, ConversationGraph, SampleTurn, TrajectorySample } from '@trajectory/contracts';
import { defaultRelationWeights } from '@trajectory/relations';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Time constant of the age decay: a node two years old weighs e^-1 of a new one. */
export const DECAY_DAYS = 730;

/** How much a prediction along each relation is worth: the relation vocabulary's weights. */
export const RELATION_WEIGHTS: Record<string, number> = defaultRelationWeights();

export function timeDecay(createdAt: Date | undefined, asOf: Date): number {
  if (!createdAt) return 1;
  const ageDays = Math.max(0, (asOf.getTime() - createdAt.getTime()) / DAY_MS);
  return Math.exp(-ageDays / DECAY_DAYS);
}

export interface BuildOptions {
  asOf: Date;
  /** Context nodes before the predicted one. */
  contextSize: number;
}

function turn(node: CognitiveNode): SampleTurn {
  return { nodeId: node.id, role: node.role, text: node.text, createdAt: node.createdAt };
}

/**
 * Trajectory samples [n(t-k) .. n(t)] -> n(t+1) of one conversation. Every node with a
 * predecessor is a target; its context is its chain of FOLLOWS predecessors (a branch sees
 * only its own past). The weight is the strongest relation into the target times e^(-age/730).
 */
export function trajectorySamples(graph: ConversationGraph, options: BuildOptions): TrajectorySample[] {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const predecessor = new Map<string, string>();
  const relations = new Map<string, string[]>();
  for (const edge of graph.edges) {
    if (edge.relation === 'follows') predecessor.set(edge.fromId, edge.toId);
    relations.set(edge.fromId, [...(relations.get(edge.fromId) ?? []), edge.relation]);
  }
  const samples: TrajectorySample[] = [];
  for (const target of graph.nodes) {
    const context: CognitiveNode[] = [];
    for (let id = predecessor.get(target.id); id && context.length < options.contextSize; id = predecessor.get(id)) {
      const node = nodes.get(id);
      if (!node) break;
      context.unshift(node);
    }
    if (context.length === 0) continue;
    const into = relations.get(target.id) ?? ['follows'];
    // The heaviest relation names the sample; on a tie the specific one beats the bare sequence.
    const strongest = into.reduce((best, r) => {
      const [wr, wb] = [RELATION_WEIGHTS[r] ?? 0, RELATION_WEIGHTS[best] ?? 0];
      return wr > wb || (wr === wb && best === 'follows') ? r : best;
    });
    const decay = timeDecay(target.createdAt, options.asOf);
    const ageDays = target.createdAt ? Math.max(0, (options.asOf.getTime() - target.createdAt.getTime()) / DAY_MS) : 0;
    const id = createHash('sha256')
      .update([graph.conversationId, ...context.map((n) => n.id), target.id].join('\u0000'))
      .digest('hex')
      .slice(0, 32);
    samples.push({
      id,
      conversationId: graph.conversationId,
      context: context.map(turn),
      next: turn(target),
      relation: strongest,
      weight: (RELATION_WEIGHTS[strongest] ?? 0.5) * decay,
      ageDays,
      messages: [...context, target].map((n) => ({ role: n.role, content: n.text })),
    });
  }
  return samples;
}
