/**
 * The records of a dataset, one JSON object per line. `schemas/<type>.schema.json` is the
 * contract for files; these types mirror it for the code that builds and exports records.
 */
export type RecordType = 'chat' | 'qa' | 'preference' | 'knowledge' | 'memory' | 'trajectory';
export const RECORD_TYPES: readonly RecordType[] = ['chat', 'qa', 'preference', 'knowledge', 'memory', 'trajectory'];

export type Split = 'train' | 'eval' | 'heldout';

/** Lineage: which conversation and nodes a record came from, or which personal fact. */
export type RecordSource = { conversationId: string; nodeIds: string[] } | { factId: string };

interface RecordBase {
  id: string;
  weight: number;
  source: RecordSource;
  split: Split;
  tags?: string[];
}

export interface ChatRecord extends RecordBase {
  type: 'chat';
  /** The system prompt; may be empty. */
  instruction: string;
  /** One to three previous turns as `User: ...` / `Assistant: ...` lines. */
  input: string;
  /** The next assistant turn. */
  output: string;
}

export interface QaRecord extends RecordBase {
  type: 'qa';
  question: string;
  answer: string;
}

export interface PreferenceRecord extends RecordBase {
  type: 'preference';
  prompt: string;
  chosen: string;
  rejected: string;
}

export interface KnowledgeRecord extends RecordBase {
  type: 'knowledge';
  topic: string;
  content: string;
}

export interface MemoryRecord extends RecordBase {
  type: 'memory';
  subject: string;
  relation: string;
  value: string;
  question: string;
  answer: string;
  /** fact: asks for the fact; negative: a general question that must not trigger it; unknown: a fact never given. */
  kind: 'fact' | 'negative' | 'unknown';
  system: string;
}

export interface TrajectoryTurn {
  role: string;
  text: string;
  nodeId: string;
  /** When the node was said (ISO 8601), for the person spot-checking the record; absent where the source had no time. */
  createdAt?: string;
}

export interface TrajectoryRecord extends RecordBase {
  type: 'trajectory';
  context: TrajectoryTurn[];
  next: TrajectoryTurn;
  relation: string;
  ageDays: number;
}

export type DatasetRecord = ChatRecord | QaRecord | PreferenceRecord | KnowledgeRecord | MemoryRecord | TrajectoryRecord;

/**
 * What the build keeps of a record while its texts wait on disk (the build's spool): what
 * de-duplication's ranking, the eval split, the weights, the gates' counts and the report read.
 * A record is one; so is `{ id, type, weight, source, split, tags, relation }` of a spooled one.
 * Functions that need a record's texts take a head with a `load` that reads the record back.
 */
export interface RecordHead {
  id: string;
  type: RecordType;
  weight: number;
  source: RecordSource;
  split: Split;
  tags?: string[];
  /** A trajectory record's relation (the weights are reported by it). */
  relation?: string;
}

/** Reads a head's whole record (as it stands: the head's weight and split). */
export type LoadRecord<T extends RecordHead> = (head: T) => DatasetRecord;
