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

/** The system prompt of chat and memory records unless the user sets one (SAMPLES_SYSTEM_PROMPT). */
export const DEFAULT_SYSTEM_PROMPT =
  'You are my personal assistant, trained on my own conversations: reason the way I do and answer as I would.';

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
  /** The turns that follow this one (more than one where a reply was regenerated or a prompt edited). */
  replies: Turn[];
  onCurrentBranch: boolean;
  /**
   * An assistant message answered by a tool (`open_url(...)`, code for the interpreter, a plugin
   * call): the assistant's work, not a reply the person read. Like tool output it is no chat
   * turn, no target and no side of a preference pair.
   */
  toolCall: boolean;
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
      turn = { messageId, role: node.role, text: '', nodes: [], replies: [], onCurrentBranch: node.onCurrentBranch, toolCall: false };
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
    if (previous) {
      turn.previous = previous;
      previous.replies.push(turn);
    }
  }
  for (const turn of turns) turn.toolCall = turn.role === 'assistant' && turn.replies.some((r) => r.role === 'tool');
  return { links, turns, turnOfNode };
}

/**
 * A turn of the conversation as the person and the assistant had it: a user or assistant message
 * with text that is not a tool call. Tool output, tool calls and system messages are not spoken
 * turns: chat records leave them out of their context (the answer that follows a tool's output is
 * the assistant's reply to the user's turn before the tool ran), and they are never a target.
 */
export const isSpoken = (turn: Turn): boolean =>
  (turn.role === 'user' || turn.role === 'assistant') && !turn.toolCall && turn.text.trim() !== '';

/** The nearest spoken turn before this one (skipping tool calls, tool output, system and empty messages). */
export function spokenBefore(turn: Turn): Turn | undefined {
  let t = turn.previous;
  while (t && !isSpoken(t)) t = t.previous;
  return t;
}

/**
 * The assistant's spoken reply that a turn leads to: the turn itself when it is one, else through
 * tool calls and tool output (the branch the user continued first) to the first spoken assistant
 * turn; undefined when a user turn comes first or the branch ends.
 */
export function spokenReply(turn: Turn | undefined): Turn | undefined {
  for (let t = turn, steps = 0; t && steps < 100; steps++) {
    if (isSpoken(t)) return t.role === 'assistant' ? t : undefined;
    if (t.role === 'user') return undefined;
    t = t.replies.find((r) => r.onCurrentBranch) ?? t.replies[0];
  }
  return undefined;
}

/** The assistant's spoken reply to a user turn (see `spokenReply`). */
const replyTo = (prompt: Turn): Turn | undefined => {
  const next = prompt.replies.find((r) => r.onCurrentBranch && r.role !== 'user') ?? prompt.replies.find((r) => r.role !== 'user');
  return spokenReply(next);
};

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

/** The up to `count` spoken turns before this one, oldest first. */
const previousTurns = (turn: Turn, count: number): Turn[] => {
  const list: Turn[] = [];
  for (let t = spokenBefore(turn); t && list.length < count; t = spokenBefore(t)) list.unshift(t);
  return list;
};

/**
 * A spoken turn as a line of a chat record's `input`: `User: ` or `Assistant: ` and its text. A
 * line of the text that itself starts with `User:` or `Assistant:` (a pasted transcript) is
 * indented by one space, so it stays inside its turn for the schema and for the exporters.
 */
export const chatLine = (turn: Pick<Turn, 'role' | 'text'>): string =>
  `${turn.role === 'user' ? 'User' : 'Assistant'}: ${turn.text.replace(/^(?=(?:User|Assistant):)/gm, ' ')}`;
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

  // A trajectory is the path of thought the person and the assistant spoke: tool calls and tool
  // output are neither a target nor context (what the tool returned reaches the model through the
  // answer that used it).
  const spokenNode = (node: CognitiveNode) => {
    const turn = turnOfNode.get(node.id);
    return turn ? isSpoken(turn) : false;
  };
  const trajectories = trajectoryRecords(graph, options, links, spokenNode);
  for (const record of trajectories) {
    const turn = turnOfNode.get(record.next.nodeId);
    const prompt = turn?.role === 'user' ? turn : turn?.previous;
    record.tags = hardCaseTags(prompt, record.next.text, links);
  }
  records.push(...trajectories);

  for (const turn of turns) {
    if (turn.role !== 'assistant' || !isSpoken(turn)) continue;
    const prompt = spokenBefore(turn);
    if (prompt?.role !== 'user') continue;
    const context = previousTurns(turn, 3);
    const chat: ChatRecord = {
      id: recordId('chat', cid, ...nodeIds(...context, turn)),
      type: 'chat',
      weight: turnWeight(turn),
      source: { conversationId: cid, nodeIds: nodeIds(...context, turn) },
      split: 'train',
      tags: hardCaseTags(prompt, turn.text, links),
      instruction: options.systemPrompt,
      input: context.map(chatLine).join('\n'),
      output: turn.text,
    };
    records.push(chat);
    // A question that stands on its own (the conversation's opening, or a new topic) is also a QA pair.
    const standalone = !spokenBefore(prompt) || prompt.nodes[0]?.tags.includes('topic-start');
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
  records.push(...revisionPairs(graph, turnOfNode));
  records.push(...knowledgeRecords(graph, turnOfNode, options));
  return records;
}

/**
 * Preference pairs from real rewrites: sibling replies to the same turn (a regenerated or edited
 * answer). The chosen one is the sibling the user continued (on the path to the conversation's
 * current node), each other sibling a rejected one; the prompt is the user turn they answer. A
 * regenerated tool call is no pair: the person read neither side.
 */
export function preferenceRecords(conversationId: string, turns: readonly Turn[]): PreferenceRecord[] {
  const records: PreferenceRecord[] = [];
  for (const parent of turns) {
    const replies = parent.replies.filter((t) => t.role === 'assistant' && isSpoken(t));
    const chosen = replies.find((t) => t.onCurrentBranch);
    const prompt = isSpoken(parent) ? parent : spokenBefore(parent);
    if (!chosen || replies.length < 2 || prompt?.role !== 'user') continue;
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

/** The preference pairs' sources, as tagged and reported. */
export const PREFERENCE_SOURCES = ['regenerated', 'revision'] as const;

/**
 * Preference pairs from refinement episodes: an answer the person challenged (pushback) or asked
 * to change (self-refinement), and the revision that replaced it (a `refines` edge tagged
 * `revision`). Rejected: the answer challenged; chosen: the revision (the assistant's spoken reply
 * to the challenge). The prompt is what both answer: the request the challenged answer answered,
 * then the challenge, as one user message in the person's own words (the challenge alone when the
 * answer had no request before it). A chain that converged on a restated question gives one more
 * pair: the restated question as the prompt, the answer to it as chosen, the chain's first answer
 * as rejected. Tags: `revision`, the episode's `after-pushback` / `after-self-refine` /
 * `acknowledged`, or `restated`.
 */
export function revisionPairs(graph: ConversationGraph, turnOfNode: ReadonlyMap<string, Turn>): PreferenceRecord[] {
  const cid = graph.conversationId;
  const records: PreferenceRecord[] = [];
  const seen = new Set<string>();
  const add = (asked: readonly Turn[], chosen: Turn, rejected: Turn, tags: string[]) => {
    const prompt = asked.map((t) => t.text.trim()).join('\n\n');
    if (chosen === rejected || chosen.text.trim() === rejected.text.trim() || prompt === '') return;
    const key = [...asked, chosen, rejected].map((t) => t.messageId).join('|');
    if (seen.has(key)) return;
    seen.add(key);
    const ids = [...new Set([...asked, chosen, rejected].flatMap((t) => t.nodes.map((n) => n.id)))];
    records.push({
      id: recordId('preference', cid, 'revision', ...ids),
      type: 'preference',
      weight: 1,
      source: { conversationId: cid, nodeIds: ids },
      split: 'train',
      tags,
      prompt,
      chosen: chosen.text,
      rejected: rejected.text,
    });
  };
  const isAnswer = (turn: Turn | undefined): turn is Turn => turn?.role === 'assistant' && isSpoken(turn);
  for (const edge of graph.edges) {
    if (edge.relation !== 'refines' || !edge.tags.includes('revision')) continue;
    const rejected = turnOfNode.get(edge.toId);
    const chosen = spokenReply(turnOfNode.get(edge.fromId));
    if (!isAnswer(rejected) || !isAnswer(chosen)) continue;
    const challenge = spokenBefore(chosen);
    if (challenge?.role !== 'user') continue;
    const request = spokenBefore(rejected);
    const asked = request?.role === 'user' && request !== challenge ? [request, challenge] : [challenge];
    const episode = edge.tags.filter((t) => t === 'after-pushback' || t === 'after-self-refine' || t === 'acknowledged');
    add(asked, chosen, rejected, ['revision', ...episode]);
  }
  for (const chain of graph.chains) {
    if (!chain.tags.includes('converged:restated')) continue;
    const restated = turnOfNode.get(chain.nodeIds[chain.steps.lastIndexOf('convergence')] ?? '');
    const first = turnOfNode.get(chain.nodeIds[chain.steps.indexOf('answer')] ?? '');
    const chosen = restated?.role === 'user' ? replyTo(restated) : undefined;
    if (!restated || !isAnswer(first) || !chosen) continue;
    add([restated], chosen, first, ['revision', 'restated']);
  }
  return records;
}

/**
 * What a refinement chain settled on: the answer to the restated question where there is one,
 * else the last revision.
 */
function knowledgeRecords(graph: ConversationGraph, turnOfNode: ReadonlyMap<string, Turn>, options: RecordOptions): KnowledgeRecord[] {
  const records: KnowledgeRecord[] = [];
  const turnOf = (nodeId: string) => turnOfNode.get(nodeId);
  for (const chain of graph.chains) {
    const idea = graph.nodes.find((n) => n.id === chain.nodeIds[0]);
    const endTurn = turnOf(chain.nodeIds.at(-1) ?? '');
    if (!idea || !endTurn) continue;
    const revisions = chain.nodeIds.filter((_, i) => chain.steps[i] === 'revision');
    let settled: Turn | undefined;
    if (endTurn.role === 'user') settled = replyTo(endTurn);
    settled ??= spokenReply(turnOf(revisions.at(-1) ?? ''));
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
