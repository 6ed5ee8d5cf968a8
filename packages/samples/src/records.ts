/**
 * The records of a dataset, one JSON object per line. `schemas/<type>.schema.json` is the
 * contract for files and the source of these types: scripts/generate-types.mjs writes them into
 * src/gen at build time (named after each schema's title), and this module names them for the code.
 */
import type { ChatRecord, KnowledgeRecord, MemoryRecord, PreferenceRecord, QaRecord, TrajectoryRecord } from './gen/records.js';

export type { ChatRecord, KnowledgeRecord, MemoryRecord, PreferenceRecord, QaRecord, TrajectoryRecord };

export type DatasetRecord = ChatRecord | QaRecord | PreferenceRecord | KnowledgeRecord | MemoryRecord | TrajectoryRecord;

export type RecordType = DatasetRecord['type'];
// An object rather than a list so that the compiler holds it to the schemas: a type missing here, or
// one no schema has, is an error. Its order is the order messages list the types in.
const TYPES = { chat: true, qa: true, preference: true, knowledge: true, memory: true, trajectory: true } satisfies Record<
  RecordType,
  true
>;
export const RECORD_TYPES: readonly RecordType[] = Object.keys(TYPES) as RecordType[];

export type Split = DatasetRecord['split'];

/** Lineage: which conversation and nodes a record came from, or which personal fact. */
export type RecordSource = DatasetRecord['source'];

/** One node of a trajectory record's context, or its next node. */
export type TrajectoryTurn = TrajectoryRecord['next'];

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
