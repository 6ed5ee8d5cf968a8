// The near-duplicates the gate of that name counts (gates.ts). buildDataset has dropped every
// record that repeats the training signal of a better one (dedupe.ts); what is looked for here is
// what is left: records whose target repeats another record's target of the type (Jaccard ≥ 0.9 of
// character 5-gram shingles), the mark of a generator that repeats records. A real history repeats
// some targets ("Please continue", a slide pasted into two conversations, the same code block given
// twice), so each type has its own allowance. Memory answers repeat by design (one value answers
// every phrasing): a memory record counts only when it repeats another exactly. The search itself is
// dedupe.ts's findRepeats (MinHash and LSH in minhash.ts), with the signals below.

import { findRepeats, TRAINING_SIGNALS, type TrainingSignal } from './dedupe.js';
import { type DatasetRecord, type LoadRecord, RECORD_TYPES, type RecordHead, type RecordType } from './records.js';

export interface NearDuplicateLimit {
  /** What is compared (default: the target; memory: the whole record, exactly). */
  signal: Partial<TrainingSignal>;
  /** Most share of the type's records that may repeat another's target. */
  maxShare: number;
}

const TARGET_SIMILARITY = 0.9;
const target = (fields: TrainingSignal['fields'], keep: number): Partial<TrainingSignal> => ({
  fields: (r) => fields(r).slice(0, keep),
  threshold: TARGET_SIMILARITY,
  exact: false,
});

/**
 * Per type, what the gate compares and how much of it may repeat: trajectory targets 10 % (short
 * user turns such as "yes" or "Please continue" recur; 3.7 % at most on the real exports), chat,
 * qa and knowledge targets 5 % (0.8 % at most), preference pairs (chosen and rejected together:
 * one chosen answer may beat several regenerations) 5 %, memory 0 (no exact repeats).
 */
export const NEAR_DUPLICATE_LIMITS: Readonly<Record<RecordType, NearDuplicateLimit>> = {
  trajectory: { signal: target(TRAINING_SIGNALS.trajectory.fields, 1), maxShare: 0.1 },
  chat: { signal: target(TRAINING_SIGNALS.chat.fields, 1), maxShare: 0.05 },
  qa: { signal: target(TRAINING_SIGNALS.qa.fields, 1), maxShare: 0.05 },
  preference: { signal: target(TRAINING_SIGNALS.preference.fields, 2), maxShare: 0.05 },
  knowledge: { signal: target(TRAINING_SIGNALS.knowledge.fields, 1), maxShare: 0.05 },
  memory: { signal: {}, maxShare: 0 },
};

export interface NearDuplicatePair {
  type: RecordType;
  a: string;
  b: string;
  jaccard: number;
}

export interface NearDuplicateOptions {
  /** Per type, overrides of what is compared and how much may repeat. */
  limits?: Partial<Record<RecordType, Partial<NearDuplicateLimit>>>;
  /** Record types not checked. Default none. */
  exemptTypes?: readonly RecordType[];
  /** Pairs listed in the result (all are counted). Default 1000. */
  maxPairs?: number;
}

export interface NearDuplicateReport {
  /** Records checked (those of exempt types are not). */
  considered: number;
  /** Records that repeat another (the better-weighted of two is not counted). */
  duplicated: number;
  share: number;
  /** Pairs found: each repeating record with the record it repeats. */
  pairCount: number;
  pairs: NearDuplicatePair[];
  byType: Partial<Record<RecordType, { considered: number; duplicated: number; maxShare: number }>>;
}

const limitsOf = (options: NearDuplicateOptions) =>
  Object.fromEntries(
    RECORD_TYPES.map((type) => [
      type,
      {
        ...NEAR_DUPLICATE_LIMITS[type],
        ...options.limits?.[type],
        signal: { ...NEAR_DUPLICATE_LIMITS[type].signal, ...options.limits?.[type]?.signal },
      },
    ]),
  ) as Record<RecordType, NearDuplicateLimit>;

/** Records that repeat another record's target of the same type (see `NEAR_DUPLICATE_LIMITS`). */
export function nearDuplicates<T extends RecordHead = DatasetRecord>(
  records: readonly T[],
  options: NearDuplicateOptions & { load?: LoadRecord<T> } = {},
): NearDuplicateReport {
  const limits = limitsOf(options);
  const found = findRepeats(records, {
    signals: Object.fromEntries(RECORD_TYPES.map((type) => [type, limits[type].signal])),
    ...(options.exemptTypes ? { exemptTypes: options.exemptTypes } : {}),
    ...(options.load ? { load: options.load } : {}),
  });
  const maxPairs = options.maxPairs ?? 1000;
  const byType: NearDuplicateReport['byType'] = {};
  for (const [type, considered] of Object.entries(found.considered) as [RecordType, number][]) {
    byType[type] = { considered, duplicated: 0, maxShare: limits[type].maxShare };
  }
  for (const repeat of found.repeats) {
    const row = byType[repeat.type];
    if (row) row.duplicated += 1;
  }
  const considered = Object.values(found.considered).reduce((sum, n) => sum + n, 0);
  return {
    considered,
    duplicated: found.repeats.length,
    share: considered === 0 ? 0 : found.repeats.length / considered,
    pairCount: found.repeats.length,
    pairs: found.repeats.slice(0, maxPairs).map((r) => ({ type: r.type, a: r.of, b: r.id, jaccard: r.similarity })),
    byType,
  };
}
