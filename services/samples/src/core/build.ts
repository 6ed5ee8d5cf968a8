import type { CognitiveNode, ConversationGraph } from '@trajectory/contracts';
import type { ChatRecord, DatasetRecord, KnowledgeRecord, PreferenceRecord, QaRecord } from './records.js';
import type { SampleSpan } from './report.js';
import {
  type NodeLinks,
  nodeLinks,
  recordId,
  relationWeight,
  strongestRelation,
  type TrajectoryOptions,
  timeDecay,
  trajectoryRecords,
} from './trajectories.js';

export interface RecordOptions extends TrajectoryOptions {
  /** The system prompt of chat records. */
  systemPrompt: string;
}

/** One message as the graph has it: the nodes of one message, joined, and the turn before it. */
export interface Turn {
  messageId: string;
  role: string;
  text: string;
  nodes: CognitiveNode[];
  previous?: Turn;
  onCurrentBranch: boolean;
}

/** A conversation's graph seen as turns: the node links, the messages (turns), and which turn holds each node. */
export interface ConversationTurns {
  links: NodeLinks;
  turns: Turn[];
  turnOfNode: Map<string, Turn>;
}

/** The graph's nodes regrouped into messages (turns), each linked to the turn it follows. */
export function conversationTurns(graph: ConversationGraph): ConversationTurns {
  const links = nodeLinks(graph);
  const byMessage = new Map<string, Turn>();
  const turns: Turn[] = [];
  for (const node of graph.nodes) {
    const messageId = node.messageIds[0] ?? node.id;
    let turn = byMessage.get(messageId);
    if (!turn) {
      turn = { messageId, role: node.role, text: '', nodes: [], onCurrentBranch: node.onCurrentBranch };
      byMessage.set(messageId, turn);
      turns.push(turn);
    }
    turn.nodes.push(node);
  }
  const turnOfNode = new Map<string, Turn>();
  for (const turn of turns) {
    turn.nodes.sort((a, b) => a.sentenceStart - b.sentenceStart);
    turn.text = turn.nodes.map((n) => n.text).join('\n\n');
    for (const n of turn.nodes) turnOfNode.set(n.id, turn);
  }
  for (const turn of turns) {
    const first = turn.nodes[0];
    const before = first ? links.predecessor.get(first.id) : undefined;
    const previous = before ? turnOfNode.get(before) : undefined;
    if (previous) turn.previous = previous;
  }
  return { links, turns, turnOfNode };
}

/**
 * The traditional segmentation, kept as the baseline of the report: every answer paired with the
 * user turn it answers, nothing before it.
 */
export function turnPairSpans(turns: readonly Turn[]): SampleSpan[] {
  return turns.flatMap((turn) =>
    turn.role === 'assistant' && turn.previous?.role === 'user' && turn.text.trim() && turn.previous.text.trim()
      ? [{ contextMessageIds: [turn.previous.messageId], targetMessageIds: [turn.messageId] }]
      : [],
  );
}

const previousTurns = (turn: Turn, count: number): Turn[] => {
  const list: Turn[] = [];
  for (let t = turn.previous; t && list.length < count; t = t.previous) list.unshift(t);
  return list;
};

const roleLabel = (role: string) =>
  role === 'user' ? 'User' : role === 'assistant' ? 'Assistant' : role.charAt(0).toUpperCase() + role.slice(1);
const firstLine = (text: string, max = 120) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  const sentence = flat.match(/^.*?[.?!](?=\s|$)/)?.[0] ?? flat;
  return sentence.length > max ? `${sentence.slice(0, max - 1)}…` : sentence;
};
const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

const TRADE_OFF =
  /\b(?:but|however|although|without|at the same time|trade-?off|budget|cheaper|faster|under \d|as long as|aber|jedoch|ohne|gleichzeitig)\b/iu;

/**
 * Hard cases for the eval split. ambiguity: a terse prompt, or an answer that asks back;
 * conflicting-priorities: a prompt with a trade-off, pushback or correction; follow-up: a prompt
 * that is not the conversation's first.
 */
function hardCaseTags(prompt: Turn | undefined, output: string, links: NodeLinks): string[] {
  if (!prompt) return [];
  const tags: string[] = [];
  const relationsIn = prompt.nodes.flatMap((n) => links.into.get(n.id) ?? []);
  if (words(prompt.text) < 6 || /\?/.test(output.slice(0, 200)) || relationsIn.includes('clarifies')) tags.push('ambiguity');
  if (TRADE_OFF.test(prompt.text) || relationsIn.includes('contrasts') || relationsIn.includes('refines'))
    tags.push('conflicting-priorities');
  if (previousTurns(prompt, 8).some((t) => t.role === 'user')) tags.push('follow-up');
  return tags;
}

/** Every record type the graph of one conversation yields (memory records come from the facts file). */
export function conversationRecords(
  graph: ConversationGraph,
  options: RecordOptions,
  { links, turns, turnOfNode }: ConversationTurns = conversationTurns(graph),
): DatasetRecord[] {
  const cid = graph.conversationId;
  const turnWeight = (turn: Turn) => {
    const relation = strongestRelation(
      turn.nodes.flatMap((n) => links.into.get(n.id) ?? []),
      options,
    );
    return relationWeight(relation, options) * timeDecay(turn.nodes[0]?.createdAt, options.referenceDate, options.decayDays);
  };
  const nodeIds = (...list: Turn[]) => list.flatMap((t) => t.nodes.map((n) => n.id));
  const records: DatasetRecord[] = [];

  const trajectories = trajectoryRecords(graph, options, links);
  for (const record of trajectories) {
    const turn = turnOfNode.get(record.next.nodeId);
    const prompt = turn?.role === 'user' ? turn : turn?.previous;
    record.tags = hardCaseTags(prompt, record.next.text, links);
  }
  records.push(...trajectories);

  for (const turn of turns) {
    const prompt = turn.previous;
    if (turn.role !== 'assistant' || prompt?.role !== 'user' || !turn.text.trim() || !prompt.text.trim()) continue;
    const context = previousTurns(turn, 3);
    const chat: ChatRecord = {
      id: recordId('chat', cid, ...nodeIds(...context, turn)),
      type: 'chat',
      weight: turnWeight(turn),
      source: { conversationId: cid, nodeIds: nodeIds(...context, turn) },
      split: 'train',
      tags: hardCaseTags(prompt, turn.text, links),
      instruction: options.systemPrompt,
      input: context.map((t) => `${roleLabel(t.role)}: ${t.text}`).join('\n'),
      output: turn.text,
    };
    records.push(chat);
    // A question that stands on its own (the conversation's opening, or a new topic) is also a QA pair.
    const standalone = !prompt.previous || prompt.nodes[0]?.tags.includes('topic-start');
    if (standalone && prompt.nodes.some((n) => n.tags.includes('question'))) {
      const qa: QaRecord = {
        id: recordId('qa', cid, ...nodeIds(prompt, turn)),
        type: 'qa',
        weight: turnWeight(turn),
        source: { conversationId: cid, nodeIds: nodeIds(prompt, turn) },
        split: 'train',
        tags: hardCaseTags(prompt, turn.text, links),
        question: prompt.text,
        answer: turn.text,
      };
      records.push(qa);
    }
  }

  records.push(...preferenceRecords(cid, turns));
  records.push(...knowledgeRecords(graph, turns, turnOfNode, options));
  return records;
}

/**
 * Preference pairs from real rewrites: sibling replies to the same turn (a regenerated or edited
 * answer). The chosen one is the sibling the user continued (on the path to the conversation's
 * current node), each other sibling a rejected one.
 */
export function preferenceRecords(conversationId: string, turns: readonly Turn[]): PreferenceRecord[] {
  const siblings = new Map<Turn, Turn[]>();
  for (const turn of turns) {
    if (!turn.previous || turn.role !== 'assistant' || !turn.text.trim()) continue;
    siblings.set(turn.previous, [...(siblings.get(turn.previous) ?? []), turn]);
  }
  const records: PreferenceRecord[] = [];
  for (const [prompt, replies] of siblings) {
    const chosen = replies.find((t) => t.onCurrentBranch);
    if (!chosen || replies.length < 2) continue;
    for (const rejected of replies) {
      if (rejected === chosen || rejected.text.trim() === chosen.text.trim()) continue;
      const ids = [...prompt.nodes, ...chosen.nodes, ...rejected.nodes].map((n) => n.id);
      records.push({
        id: recordId('preference', conversationId, ...ids),
        type: 'preference',
        weight: 1,
        source: { conversationId, nodeIds: ids },
        split: 'train',
        tags: ['regenerated'],
        prompt: prompt.text,
        chosen: chosen.text,
        rejected: rejected.text,
      });
    }
  }
  return records;
}

/**
 * What a refinement chain settled on: the answer to the restated question where there is one,
 * else the last revision.
 */
function knowledgeRecords(
  graph: ConversationGraph,
  turns: readonly Turn[],
  turnOfNode: ReadonlyMap<string, Turn>,
  options: RecordOptions,
): KnowledgeRecord[] {
  const records: KnowledgeRecord[] = [];
  const turnOf = (nodeId: string) => turnOfNode.get(nodeId);
  for (const chain of graph.chains) {
    const idea = graph.nodes.find((n) => n.id === chain.nodeIds[0]);
    const endTurn = turnOf(chain.nodeIds.at(-1) ?? '');
    if (!idea || !endTurn) continue;
    const revisions = chain.nodeIds.filter((_, i) => chain.steps[i] === 'revision');
    let settled: Turn | undefined;
    if (endTurn.role === 'user') settled = turns.find((t) => t.previous === endTurn && t.role === 'assistant');
    settled ??= turnOf(revisions.at(-1) ?? '');
    if (!settled?.text.trim()) continue;
    const ids = [...chain.nodeIds, ...settled.nodes.map((n) => n.id)];
    records.push({
      id: recordId('knowledge', graph.conversationId, chain.id, ...settled.nodes.map((n) => n.id)),
      type: 'knowledge',
      weight: relationWeight('iteration_final', options) * timeDecay(settled.nodes[0]?.createdAt, options.referenceDate, options.decayDays),
      source: { conversationId: graph.conversationId, nodeIds: [...new Set(ids)] },
      split: 'train',
      tags: [`chain:${chain.id}`],
      topic: firstLine(idea.text),
      content: settled.text,
    });
  }
  return records;
}
