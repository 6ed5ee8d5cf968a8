// Quality gates a dataset must pass before it may be used for training: schema,
// uniqueness of outputs per record type, near-duplicates (what de-duplication left), type balance
// (a warning), an eval split with hard cases, and the share of real records (a warning below 50 %,
// a failure below 35 %). Pure functions over records; a failed gate says why in `reason`.

import { createHash } from 'node:crypto';
import { normaliseText } from './dedupe.js';
import { MIN_REAL_SHARE, realShare, WARN_REAL_SHARE } from './mix.js';
import { type NearDuplicateOptions, nearDuplicates } from './near-duplicates.js';
import { type DatasetRecord, type LoadRecord, RECORD_TYPES, type RecordHead, type RecordType } from './records.js';
import { type ValidationResult, validateRecord } from './validate.js';

export interface GateResult {
  name: string;
  passed: boolean;
  /** Why the gate failed, or a warning when it passed. */
  reason?: string;
  details: Record<string, unknown>;
}

export interface GatesOutcome {
  /** True when every gate passed; a dataset that fails must not be trained on. */
  passed: boolean;
  gates: GateResult[];
  /** Reasons of gates that passed with a warning (type balance). */
  warnings: string[];
}

/** The field a record teaches the model to produce. */
export function outputText(record: DatasetRecord): string {
  switch (record.type) {
    case 'chat':
      return record.output ?? '';
    case 'qa':
      return record.answer ?? '';
    case 'preference':
      return record.chosen ?? '';
    case 'knowledge':
      return record.content ?? '';
    case 'memory':
      return record.answer ?? '';
    case 'trajectory':
      return record.next?.text ?? '';
  }
}

/** The text a record conditions on (the memory system prompt is the same for all and left out). */
export function inputText(record: DatasetRecord): string {
  switch (record.type) {
    case 'chat':
      return `${record.instruction ?? ''}\n${record.input ?? ''}`;
    case 'qa':
      return record.question ?? '';
    case 'preference':
      return `${record.prompt ?? ''}\n${record.rejected ?? ''}`;
    case 'knowledge':
      return record.topic ?? '';
    case 'memory':
      return record.question ?? '';
    case 'trajectory':
      return (record.context ?? []).map((t) => t.text).join('\n');
  }
}

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;

// ---------------------------------------------------------------------------------------------
// Schema

/** Passes when every record matched its schema (and there is at least one record). */
export function schemaGate(results: ValidationResult): GateResult {
  const details = { valid: results.valid, invalid: results.invalid, errors: results.errors.slice(0, 20) };
  if (results.invalid > 0 || results.errors.length > 0) {
    const first = results.errors
      .slice(0, 3)
      .map((e) => e.message)
      .join('; ');
    return {
      name: 'schema',
      passed: false,
      reason: `${results.invalid} of ${results.valid + results.invalid} records fail their schema: ${first}`,
      details,
    };
  }
  if (results.valid === 0) return { name: 'schema', passed: false, reason: 'the dataset has no records', details };
  return { name: 'schema', passed: true, details };
}

/** Validates records in memory the way `validateRecords` checks a file (line = position + 1). */
export function validateAll(records: Iterable<unknown>, maxErrors = 1000): ValidationResult {
  const result: ValidationResult = { valid: 0, invalid: 0, errors: [], truncated: false };
  let i = 0;
  for (const record of records) {
    i += 1;
    const check = validateRecord(record);
    if (check.valid) {
      result.valid += 1;
      continue;
    }
    result.invalid += 1;
    for (const message of check.errors) {
      if (result.errors.length >= maxErrors) result.truncated = true;
      else result.errors.push({ line: i, message: `line ${i}: ${message}` });
    }
  }
  return result;
}

/** The records of heads, read one at a time (the heads themselves when there is no `load`). */
export function* loadEach<T extends RecordHead>(records: readonly T[], load?: LoadRecord<T>): Generator<DatasetRecord> {
  for (const record of records) yield load ? load(record) : (record as unknown as DatasetRecord);
}

// ---------------------------------------------------------------------------------------------
// Uniqueness

export interface UniquenessRow {
  total: number;
  distinct: number;
  ratio: number;
}

/**
 * Distinct/total of the normalised output per record type (types without records are left out).
 * Outputs are told apart by a hash of the normalised text, so no copy of the texts is kept.
 */
export function outputUniqueness(records: Iterable<DatasetRecord>): Partial<Record<RecordType, UniquenessRow>> {
  const seen = new Map<RecordType, { total: number; outputs: Set<string> }>();
  for (const record of records) {
    const entry = seen.get(record.type) ?? { total: 0, outputs: new Set<string>() };
    entry.total += 1;
    entry.outputs.add(
      createHash('sha256')
        .update(normaliseText(outputText(record)))
        .digest('base64'),
    );
    seen.set(record.type, entry);
  }
  const out: Partial<Record<RecordType, UniquenessRow>> = {};
  for (const type of RECORD_TYPES) {
    const entry = seen.get(type);
    if (entry) out[type] = { total: entry.total, distinct: entry.outputs.size, ratio: entry.outputs.size / entry.total };
  }
  return out;
}

export interface UniquenessOptions {
  /** Least distinct/total per type. Default 0.25. */
  threshold?: number;
}

/** Gates of heads whose texts are elsewhere (the build's spool) read each record with `load`. */
export interface GateInput<T extends RecordHead> {
  load?: LoadRecord<T>;
}

/** Fails when a record type's outputs repeat too much: distinct/total < threshold. */
export function uniquenessGate<T extends RecordHead = DatasetRecord>(
  records: readonly T[],
  options: UniquenessOptions & GateInput<T> = {},
): GateResult {
  const threshold = options.threshold ?? 0.25;
  const byType = outputUniqueness(loadEach(records, options.load));
  const failing = Object.entries(byType).filter(([, row]) => row.ratio < threshold);
  const details = { threshold, byType };
  if (failing.length === 0) return { name: 'uniqueness', passed: true, details };
  const reason = failing
    .map(
      ([type, row]) =>
        `uniqueness ${row.ratio.toFixed(2)} < ${threshold} for type ${type} (${row.distinct} distinct of ${row.total} outputs)`,
    )
    .join('; ');
  return { name: 'uniqueness', passed: false, reason, details };
}

// ---------------------------------------------------------------------------------------------
// Near-duplicates (what is counted: near-duplicates.ts)

/** A type fails only when at least this many of its records repeat: two repeats in a small history are no generator bug. */
export const NEAR_DUPLICATE_MIN_COUNT = 3;

export type NearDuplicateGateOptions = NearDuplicateOptions;

/** Fails when, for some type, more than its allowance of records repeat another's target (and at least NEAR_DUPLICATE_MIN_COUNT do). */
export function nearDuplicateGate<T extends RecordHead = DatasetRecord>(
  records: readonly T[],
  options: NearDuplicateGateOptions & GateInput<T> = {},
): GateResult {
  const found = nearDuplicates(records, options);
  const details = { ...found, pairs: found.pairs.slice(0, 20), minCount: NEAR_DUPLICATE_MIN_COUNT };
  const failing = (Object.entries(found.byType) as [RecordType, { considered: number; duplicated: number; maxShare: number }][]).filter(
    ([, row]) => row.duplicated >= NEAR_DUPLICATE_MIN_COUNT && row.duplicated > row.maxShare * row.considered,
  );
  if (failing.length === 0) return { name: 'near-duplicates', passed: true, details };
  const reason = failing
    .map(
      ([type, row]) =>
        `${row.duplicated} of ${row.considered} ${type} records (${pct(row.duplicated / row.considered)}) repeat another's ${type === 'memory' ? 'record' : 'target'}, more than ${pct(row.maxShare)}`,
    )
    .join('; ');
  return { name: 'near-duplicates', passed: false, reason, details };
}

// ---------------------------------------------------------------------------------------------
// Type balance

export interface TypeBalanceOptions {
  /** Warn when one type is more than this share of the records. Default 0.8. */
  warnShare?: number;
}

/** Counts and shares per record type; passes always, with a warning when one type dominates. */
export function typeBalance(records: readonly RecordHead[], options: TypeBalanceOptions = {}): GateResult {
  const warnShare = options.warnShare ?? 0.8;
  const counts: Partial<Record<RecordType, number>> = {};
  for (const record of records) counts[record.type] = (counts[record.type] ?? 0) + 1;
  const total = records.length;
  const shares: Partial<Record<RecordType, number>> = {};
  for (const [type, count] of Object.entries(counts) as [RecordType, number][]) shares[type] = count / total;
  const dominant = (Object.entries(shares) as [RecordType, number][]).filter(([, share]) => share > warnShare);
  const details = { total, counts, shares, warnShare };
  if (dominant.length === 0) return { name: 'type-balance', passed: true, details };
  const reason = dominant.map(([type, share]) => `type ${type} is ${pct(share)} of records (more than ${pct(warnShare)})`).join('; ');
  return { name: 'type-balance', passed: true, reason, details };
}

// ---------------------------------------------------------------------------------------------
// Eval split

export const HARD_CASE_TAGS = ['ambiguity', 'conflicting-priorities', 'follow-up'] as const;

export interface EvalSplitOptions {
  /** Splits that count as evaluation data. Default eval and heldout (neither is trained on). */
  splits?: readonly string[];
  /** The eval split passes with this share of the records ... Default 0.01. */
  minShare?: number;
  /** ... or with this many records. Default 5. */
  minCount?: number;
  /** Tags of which the eval split needs one record each when the dataset has chat or trajectory records. */
  hardCaseTags?: readonly string[];
}

/**
 * The eval split must exist (≥ minShare of the records or ≥ minCount records) and, when the
 * dataset has chat or trajectory records, hold at least one record of each hard case.
 */
export function evalSplitGate(records: readonly RecordHead[], options: EvalSplitOptions = {}): GateResult {
  const splits = new Set(options.splits ?? ['eval', 'heldout']);
  const minShare = options.minShare ?? 0.01;
  const minCount = options.minCount ?? 5;
  const hardCaseTags = options.hardCaseTags ?? HARD_CASE_TAGS;
  const evalRecords = records.filter((r) => splits.has(r.split));
  const needed = Math.max(1, Math.min(minCount, Math.ceil(minShare * records.length)));
  const needsHardCases = records.some((r) => r.type === 'chat' || r.type === 'trajectory');
  const hardCases: Record<string, number> = {};
  for (const tag of needsHardCases ? hardCaseTags : []) hardCases[tag] = evalRecords.filter((r) => r.tags?.includes(tag)).length;
  // A kind the data has nowhere cannot be in the eval split: that is a warning about the data,
  // not a failure of the split. A kind the data has but the split lacks fails.
  const absent = Object.keys(hardCases).filter((tag) => !records.some((r) => r.tags?.includes(tag)));
  const missing = Object.entries(hardCases)
    .filter(([tag, n]) => n === 0 && !absent.includes(tag))
    .map(([tag]) => tag);
  const details = { evalRecords: evalRecords.length, total: records.length, needed, splits: [...splits], hardCases, absent };

  // The split is drawn by whole conversations (split.ts): a history of one conversation has none to
  // give without its turns also being in training. That is a warning about the data, not a failure.
  const conversations = new Set(records.flatMap((r) => ('conversationId' in r.source ? [r.source.conversationId] : [])));
  if (conversations.size === 1 && evalRecords.every((r) => !('conversationId' in r.source))) {
    return {
      name: 'eval-split',
      passed: true,
      reason:
        'the history has one conversation: no eval split can be drawn by conversation without sharing its turns with training, so nothing of it is held out',
      details: { ...details, conversations: conversations.size },
    };
  }
  const reasons: string[] = [];
  if (evalRecords.length < needed) {
    reasons.push(
      `the eval split has ${evalRecords.length} records; it needs ${needed} (${minCount} records or ${pct(minShare)} of ${records.length})`,
    );
  }
  if (missing.length > 0) reasons.push(`the eval split has no hard cases tagged ${missing.join(', ')}`);
  if (reasons.length > 0) return { name: 'eval-split', passed: false, reason: reasons.join('; '), details };
  return absent.length > 0
    ? { name: 'eval-split', passed: true, reason: `the data has no hard cases tagged ${absent.join(', ')}`, details }
    : { name: 'eval-split', passed: true, details };
}

// ---------------------------------------------------------------------------------------------
// Real versus synthetic

export interface RealShareOptions {
  /** Fail below this share of real records among those a trainer sees. Default MIN_REAL_SHARE (0.35). */
  minShare?: number;
  /** Warn below this share. Default WARN_REAL_SHARE (0.5). */
  warnShare?: number;
}

/**
 * The share of records from conversations among the records a trainer sees (train and eval; the
 * held-out fact phrasings are the recall eval): fails below `minShare`, warns below `warnShare`.
 */
export function realShareGate(records: readonly RecordHead[], options: RealShareOptions = {}): GateResult {
  const minShare = options.minShare ?? MIN_REAL_SHARE;
  const warnShare = options.warnShare ?? WARN_REAL_SHARE;
  const found = realShare(records);
  const details = { ...found, minShare, warnShare };
  const what = `${pct(found.share)} of the training records are from conversations (${found.real} real, ${found.synthetic} synthetic memory records)`;
  if (found.share < minShare) return { name: 'real-share', passed: false, reason: `${what}, less than ${pct(minShare)}`, details };
  if (found.share < warnShare) return { name: 'real-share', passed: true, reason: `${what}, less than ${pct(warnShare)}`, details };
  return { name: 'real-share', passed: true, details };
}

// ---------------------------------------------------------------------------------------------

export interface GateOptions {
  /** Schema results of the records file; without them the records are validated here. */
  schema?: ValidationResult;
  uniqueness?: UniquenessOptions;
  nearDuplicates?: NearDuplicateGateOptions;
  balance?: TypeBalanceOptions;
  evalSplit?: EvalSplitOptions;
  realShare?: RealShareOptions;
}

/** Runs every gate; the dataset passes only when all do. */
export function runGates<T extends RecordHead = DatasetRecord>(
  records: readonly T[],
  options: GateOptions & GateInput<T> = {},
): GatesOutcome {
  const load = options.load ? { load: options.load } : {};
  const gates = [
    schemaGate(options.schema ?? validateAll(loadEach(records, options.load))),
    uniquenessGate(records, { ...options.uniqueness, ...load }),
    nearDuplicateGate(records, { ...options.nearDuplicates, ...load }),
    typeBalance(records, options.balance),
    evalSplitGate(records, options.evalSplit),
    realShareGate(records, options.realShare),
  ];
  return {
    passed: gates.every((g) => g.passed),
    gates,
    warnings: gates.filter((g) => g.passed && g.reason).map((g) => `${g.name}: ${g.reason}`),
  };
}
