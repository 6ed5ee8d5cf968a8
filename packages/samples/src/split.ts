// The eval split, drawn by conversation. A record's context and target are turns of one
// conversation, and records of one conversation share turns with each other (the context of one
// is the target of the next), so a split by record puts the same turns on both sides. Here whole
// conversations go to eval — and conversations that share a turn's text with each other (the
// same question pasted into two conversations, a conversation exported twice) go together — so
// no eval record shares a turn with a training record.
//
// The draw is deterministic: conversations in the order of sha256(seed, conversation id). First,
// for each hard-case kind the data has (and for preference pairs, when two or more groups hold
// them), the first group in that order that holds it and fits the budget; then groups in that
// order while they fit. The budget is min(evalMaxRecords, evalShare × the conversation records).
// Training always keeps at least one group, and the last group with preference pairs, so a
// dataset of one conversation has no eval split from its conversation (the eval-split gate says
// so). Memory records are never drawn (their held-out phrasings are the recall eval).
import { createHash } from 'node:crypto';
import { parseTurns } from './exports.js';
import type { DatasetRecord, LoadRecord, RecordHead } from './records.js';

export const HARD_CASES = ['ambiguity', 'conflicting-priorities', 'follow-up'] as const;

/** The share of conversation records the eval split aims at unless set. */
export const DEFAULT_EVAL_SHARE = 0.1;

/** The default cap of the eval split: enough for a stable eval loss, small enough to leave the data to training. */
export const EVAL_MAX_RECORDS = 200;

/** Turn texts shorter than this (after normalising) join no groups: "Thanks!" or "continue" are not a leak. */
export const SHARED_TEXT_MIN_CHARS = 24;

export interface SplitOptions {
  /** Share of the conversation records the eval split aims at, before the cap. 0: no eval split. */
  evalShare: number;
  /** The most records the eval split takes (a hard case the data has may still bring one group more). */
  evalMaxRecords?: number;
  /** Tags of which the eval split takes a record of each, where the data has one. */
  hardCases?: readonly string[];
  /** Salt of the draw; the same seed gives the same split. */
  seed?: string;
}

/** With heads whose texts are elsewhere (the build's spool): how to read each one's record. */
export interface SplitInput<T extends RecordHead> {
  load?: LoadRecord<T>;
}

export interface SplitSummary {
  /** How the split was drawn, in words (the report prints it). */
  method: string;
  /** Conversations with records that may be drawn, and groups of them (conversations that share a turn's text). */
  conversations: number;
  groups: number;
  evalConversations: number;
  evalRecords: number;
  /** The record budget: min(evalMaxRecords, evalShare × conversation records). */
  target: number;
  /** Eval records per hard-case kind (and `preference`). */
  kinds: Record<string, number>;
  /** Eval records that share a turn (node) with a training record: 0 by construction, counted as a check. */
  sharedTurns: number;
}

const normalise = (text: string) => text.toLowerCase().replace(/\s+/g, ' ').trim();

/** The turn texts of a record (context and target), each a unit that two conversations may share. */
export function turnTexts(record: DatasetRecord): string[] {
  switch (record.type) {
    case 'trajectory':
      return [...record.context.map((t) => t.text), record.next.text];
    case 'chat':
      return [...parseTurns(record.input).map((t) => t.content), record.output];
    case 'qa':
      return [record.question, record.answer];
    case 'knowledge':
      return [record.content];
    case 'preference':
      return [record.prompt, record.chosen, record.rejected];
    case 'memory':
      return [];
  }
}

const conversationOf = (r: RecordHead) => ('conversationId' in r.source ? r.source.conversationId : undefined);
const drawKey = (seed: string, id: string) => createHash('sha256').update(`${seed}\u0000${id}`).digest('hex');

interface Group<T extends RecordHead> {
  key: string;
  conversations: string[];
  records: T[];
  kinds: Set<string>;
}

/** Two texts share a key when their normalised forms are equal; a hash, so the texts are not kept. */
const textKey = (normalised: string) => createHash('sha256').update(normalised).digest('base64');

/** Conversations joined when they share a turn text (union-find), with their records. */
function groupConversations<T extends RecordHead>(candidates: readonly T[], seed: string, load: LoadRecord<T>): Group<T>[] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root) as string;
    for (let y = x; y !== root; ) {
      const next = parent.get(y) as string;
      parent.set(y, root);
      y = next;
    }
    return root;
  };
  const owner = new Map<string, string>();
  for (const r of candidates) {
    const cid = conversationOf(r) as string;
    if (!parent.has(cid)) parent.set(cid, cid);
    for (const text of turnTexts(load(r))) {
      const normalised = normalise(text);
      if (normalised.length < SHARED_TEXT_MIN_CHARS) continue;
      const key = textKey(normalised);
      const other = owner.get(key);
      if (other === undefined) owner.set(key, cid);
      else if (find(other) !== find(cid)) parent.set(find(cid), find(other));
    }
  }
  const groups = new Map<string, Group<T>>();
  for (const r of candidates) {
    const cid = conversationOf(r) as string;
    const root = find(cid);
    let group = groups.get(root);
    if (!group) {
      group = { key: '', conversations: [], records: [], kinds: new Set() };
      groups.set(root, group);
    }
    if (!group.conversations.includes(cid)) group.conversations.push(cid);
    group.records.push(r);
    for (const tag of r.tags ?? []) group.kinds.add(tag);
    if (r.type === 'preference') group.kinds.add('preference');
  }
  for (const g of groups.values()) {
    g.conversations.sort();
    // A group draws by its smallest key, so adding a conversation to a group moves no other group.
    g.key = g.conversations.map((c) => drawKey(seed, c)).sort()[0] as string;
  }
  return [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Moves whole conversations into the eval split (see the file comment) and says how. Records
 * already in eval or heldout stay where they are; memory records are never drawn.
 */
export function assignEvalSplit<T extends RecordHead = DatasetRecord>(records: T[], options: SplitOptions & SplitInput<T>): SplitSummary {
  const load = options.load ?? ((record: T) => record as unknown as DatasetRecord);
  const hardCases = options.hardCases ?? HARD_CASES;
  const maxRecords = options.evalMaxRecords ?? EVAL_MAX_RECORDS;
  const candidates = records.filter((r) => r.split === 'train' && r.type !== 'memory' && conversationOf(r) !== undefined);
  const groups = groupConversations(candidates, options.seed ?? '', load);
  const target = options.evalShare > 0 ? Math.max(1, Math.min(maxRecords, Math.round(options.evalShare * candidates.length))) : 0;

  const chosen = new Set<Group<T>>();
  let count = 0;
  const left = (kind?: string) => groups.filter((g) => !chosen.has(g) && (kind === undefined || g.kinds.has(kind))).length;
  // Training keeps at least one group, and the last one with preference pairs.
  const mayTake = (g: Group<T>) => left() > 1 && !(g.kinds.has('preference') && left('preference') <= 1);
  const take = (g: Group<T>) => {
    chosen.add(g);
    count += g.records.length;
  };
  if (target > 0) {
    const wanted = [...hardCases, ...(groups.filter((g) => g.kinds.has('preference')).length >= 2 ? ['preference'] : [])];
    for (const kind of wanted) {
      if ([...chosen].some((g) => g.kinds.has(kind))) continue;
      const holders = groups.filter((g) => !chosen.has(g) && g.kinds.has(kind) && mayTake(g));
      // The first in draw order that fits the budget, else the smallest (a kind the data has is worth one group more).
      const pick =
        holders.find((g) => count + g.records.length <= target) ??
        holders.reduce<Group<T> | undefined>((a, b) => (a && a.records.length <= b.records.length ? a : b), undefined);
      if (pick) take(pick);
    }
    for (const g of groups) {
      if (count >= target) break;
      if (!chosen.has(g) && count + g.records.length <= target && mayTake(g)) take(g);
    }
  }

  const evalNodes = new Set<string>();
  for (const g of chosen) {
    for (const r of g.records) {
      r.split = 'eval';
      if ('nodeIds' in r.source) for (const n of r.source.nodeIds) evalNodes.add(n);
    }
  }
  const sharedTurns = records.filter(
    (r) => r.split === 'train' && 'nodeIds' in r.source && r.source.nodeIds.some((n) => evalNodes.has(n)),
  ).length;
  const evalRecords = [...chosen].flatMap((g) => g.records);
  const kinds: Record<string, number> = {};
  for (const kind of [...hardCases, 'preference'])
    kinds[kind] = evalRecords.filter((r) => (kind === 'preference' ? r.type === 'preference' : r.tags?.includes(kind))).length;
  const conversations = groups.reduce((n, g) => n + g.conversations.length, 0);
  const evalConversations = [...chosen].reduce((n, g) => n + g.conversations.length, 0);
  const method =
    target === 0
      ? 'no eval split (eval share 0)'
      : `by conversation: ${evalConversations} of ${conversations} conversations (${groups.length} groups of conversations that share a turn), ` +
        `drawn in sha256 order of their ids${options.seed ? ` with seed "${options.seed}"` : ''}; ` +
        `${count} records against a budget of ${target} (min(${maxRecords}, ${options.evalShare} × ${candidates.length})); ` +
        `each hard-case kind the data has first, training keeps at least one conversation and the last one with preference pairs`;
  return { method, conversations, groups: groups.length, evalConversations, evalRecords: count, target, kinds, sharedTurns };
}
