// Quality gates a dataset must pass before it may be used for training (issue 6, part 6): schema,
// uniqueness of outputs per record type, near-duplicates, type balance (a warning), and an eval
// split with hard cases. Pure functions over records; a failed gate says why in `reason`.
import { type DatasetRecord, RECORD_TYPES, type RecordType } from './records.js';
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

/** Lowercase, punctuation dropped, whitespace collapsed: the form outputs are compared in. */
export const normaliseText = (text: string): string =>
  text
    .toLowerCase()
    .replace(/\p{P}+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();

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
export function validateAll(records: readonly unknown[], maxErrors = 1000): ValidationResult {
  const result: ValidationResult = { valid: 0, invalid: 0, errors: [], truncated: false };
  records.forEach((record, i) => {
    const check = validateRecord(record);
    if (check.valid) {
      result.valid += 1;
      return;
    }
    result.invalid += 1;
    for (const message of check.errors) {
      if (result.errors.length >= maxErrors) result.truncated = true;
      else result.errors.push({ line: i + 1, message: `line ${i + 1}: ${message}` });
    }
  });
  return result;
}

// ---------------------------------------------------------------------------------------------
// Uniqueness

export interface UniquenessRow {
  total: number;
  distinct: number;
  ratio: number;
}

/** Distinct/total of the normalised output per record type (types without records are left out). */
export function outputUniqueness(records: readonly DatasetRecord[]): Partial<Record<RecordType, UniquenessRow>> {
  const seen = new Map<RecordType, { total: number; outputs: Set<string> }>();
  for (const record of records) {
    const entry = seen.get(record.type) ?? { total: 0, outputs: new Set<string>() };
    entry.total += 1;
    entry.outputs.add(normaliseText(outputText(record)));
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

/** Fails when a record type's outputs repeat too much: distinct/total < threshold. */
export function uniquenessGate(records: readonly DatasetRecord[], options: UniquenessOptions = {}): GateResult {
  const threshold = options.threshold ?? 0.25;
  const byType = outputUniqueness(records);
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
// Near-duplicates: MinHash over character 5-gram shingles with LSH banding, then the exact
// Jaccard similarity of the shingle sets for each candidate pair.

const SHINGLE = 5;
const PERMUTATIONS = 64;
const BANDS = 16; // 16 bands of 4 rows: a pair with Jaccard 0.9 becomes a candidate with p ≈ 1 − (1 − 0.9⁴)¹⁶ > 0.999
const ROWS = PERMUTATIONS / BANDS;
/** In a bucket, each text is compared with at most this many texts before it. */
const BUCKET_PEERS = 32;

/** FNV-1a, 32 bits, of text[start, end): the hash of one shingle. */
function fnv1a(text: string, start = 0, end = text.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finaliser: a good 32-bit mix. */
function fmix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The 64 hash functions ("permutations") are h_i(x) = (a_i·x + b_i) mod 2³² over the mixed shingle
 * hash x, with odd a_i; the coefficients are fixed, so signatures are stable across runs.
 */
const [MUL, ADD] = (() => {
  const mul = new Uint32Array(PERMUTATIONS);
  const add = new Uint32Array(PERMUTATIONS);
  for (let i = 0; i < PERMUTATIONS; i++) {
    mul[i] = fmix32(0x9e3779b9 + 2 * i) | 1;
    add[i] = fmix32(0x7f4a7c15 + 2 * i + 1);
  }
  return [mul, add];
})();

/** Calls `each` with the hash of every character 5-gram of a normalised text (the whole text if shorter). */
function forEachShingle(text: string, each: (hash: number) => void): void {
  if (text.length === 0) return;
  if (text.length <= SHINGLE) each(fnv1a(text));
  for (let i = 0; i + SHINGLE <= text.length; i++) each(fnv1a(text, i, i + SHINGLE));
}

/** The set of hashed character 5-grams of the normalised text (the whole text if shorter). */
export function shingles(text: string): Set<number> {
  const out = new Set<number>();
  forEachShingle(normaliseText(text), (h) => out.add(h));
  return out;
}

/** The MinHash signature of a normalised text: per hash function, the least value over its shingles. */
function minhash(text: string): Uint32Array {
  const signature = new Uint32Array(PERMUTATIONS).fill(0xffffffff);
  forEachShingle(text, (shingle) => {
    const x = fmix32(shingle);
    for (let i = 0; i < PERMUTATIONS; i++) {
      const h = (Math.imul(MUL[i] as number, x) + (ADD[i] as number)) >>> 0;
      if (h < (signature[i] as number)) signature[i] = h;
    }
  });
  return signature;
}

/** Exact Jaccard similarity |A ∩ B| / |A ∪ B| of two shingle sets. */
export function jaccard(a: ReadonlySet<number>, b: ReadonlySet<number>): number {
  if (a.size === 0 && b.size === 0) return 1;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const x of small) if (large.has(x)) shared += 1;
  return shared / (a.size + b.size - shared);
}

export interface NearDuplicatePair {
  type: RecordType;
  a: string;
  b: string;
  jaccard: number;
}

export interface NearDuplicateOptions {
  /** Jaccard similarity from which two records are near-duplicates. Default 0.9. */
  threshold?: number;
  /** Record types not checked. Default none. */
  exemptTypes?: readonly RecordType[];
  /** Pairs listed in the result (all are counted). Default 1000. */
  maxPairs?: number;
}

export interface NearDuplicateReport {
  threshold: number;
  /** Records checked (those of exempt types and with empty text are not). */
  considered: number;
  /** Records in at least one near-duplicate pair. */
  duplicated: number;
  share: number;
  /** Near-duplicate pairs found: identical texts and the links that joined texts into clusters (not every pair of a cluster). */
  pairCount: number;
  pairs: NearDuplicatePair[];
  byType: Partial<Record<RecordType, { considered: number; duplicated: number }>>;
}

/**
 * Near-duplicate records of the same type, on their input and output text. Identical normalised
 * texts are grouped first; MinHash signatures of the distinct texts are bucketed by LSH band, and
 * each candidate pair's exact Jaccard similarity decides.
 */
export function nearDuplicates(records: readonly DatasetRecord[], options: NearDuplicateOptions = {}): NearDuplicateReport {
  const threshold = options.threshold ?? 0.9;
  const maxPairs = options.maxPairs ?? 1000;
  const exempt = new Set(options.exemptTypes ?? []);
  const report: NearDuplicateReport = { threshold, considered: 0, duplicated: 0, share: 0, pairCount: 0, pairs: [], byType: {} };

  // Group records by type and identical normalised text.
  const groups: { type: RecordType; text: string; ids: string[] }[] = [];
  const groupOf = new Map<string, number>();
  for (const record of records) {
    if (exempt.has(record.type)) continue;
    const text = normaliseText(`${inputText(record)}\n${outputText(record)}`);
    if (text === '') continue;
    report.considered += 1;
    const row = report.byType[record.type] ?? { considered: 0, duplicated: 0 };
    row.considered += 1;
    report.byType[record.type] = row;
    const key = `${record.type}\u0000${text}`;
    const index = groupOf.get(key);
    if (index === undefined) {
      groupOf.set(key, groups.length);
      groups.push({ type: record.type, text, ids: [record.id] });
    } else groups[index]?.ids.push(record.id);
  }

  const duplicated = new Set<number>(); // group indexes
  const addPair = (type: RecordType, a: string, b: string, similarity: number) => {
    report.pairCount += 1;
    if (report.pairs.length < maxPairs) report.pairs.push({ type, a, b, jaccard: similarity });
  };
  groups.forEach((group, g) => {
    if (group.ids.length < 2) return;
    duplicated.add(g);
    for (let i = 1; i < group.ids.length; i++) addPair(group.type, group.ids[0] as string, group.ids[i] as string, 1);
  });

  // LSH over the distinct texts: texts that agree on all rows of some band share a bucket and are
  // candidates. Candidates join one cluster (union-find) when their exact Jaccard reaches the
  // threshold; two texts already in one cluster are not compared again, and a large bucket compares
  // each member with its first BUCKET_PEERS members only, so the work stays near-linear.
  const shingleCache = new Map<number, Set<number>>();
  const shinglesOf = (g: number) => {
    let set = shingleCache.get(g);
    if (!set) {
      set = new Set<number>();
      forEachShingle(groups[g]?.text ?? '', (h) => set?.add(h));
      if (shingleCache.size > 1000) shingleCache.clear();
      shingleCache.set(g, set);
    }
    return set;
  };
  const signatures = groups.map((group) => minhash(group.text));
  // One bucket map per type and band, keyed by a hash of the band's rows (a collision only adds a candidate).
  const buckets = new Map<string, Map<number, number[]>>();
  groups.forEach((group, g) => {
    const signature = signatures[g] as Uint32Array;
    for (let band = 0; band < BANDS; band++) {
      let key = band;
      for (let r = band * ROWS; r < (band + 1) * ROWS; r++) key = fmix32(Math.imul(key, 0x01000193) ^ (signature[r] as number));
      const mapKey = `${group.type}:${band}`;
      const map = buckets.get(mapKey) ?? new Map<number, number[]>();
      buckets.set(mapKey, map);
      const bucket = map.get(key);
      if (bucket) bucket.push(g);
      else map.set(key, [g]);
    }
  });
  const parent = groups.map((_, g) => g);
  const find = (g: number): number => {
    let root = g;
    while (parent[root] !== root) root = parent[root] as number;
    for (let x = g; parent[x] !== root; ) [x, parent[x]] = [parent[x] as number, root];
    return root;
  };
  // MinHash estimate first (share of equal signature rows); the exact Jaccard only when it is close.
  const estimate = (x: number, y: number) => {
    const a = signatures[x] as Uint32Array;
    const b = signatures[y] as Uint32Array;
    let same = 0;
    for (let i = 0; i < PERMUTATIONS; i++) if (a[i] === b[i]) same += 1;
    return same / PERMUTATIONS;
  };
  for (const bucket of [...buckets.values()].flatMap((map) => [...map.values()].filter((b) => b.length > 1))) {
    for (let i = 1; i < bucket.length; i++) {
      for (let j = 0; j < Math.min(i, BUCKET_PEERS); j++) {
        const x = bucket[j] as number;
        const y = bucket[i] as number;
        if (find(x) === find(y) || estimate(x, y) < threshold - 0.2) continue;
        const similarity = jaccard(shinglesOf(x), shinglesOf(y));
        if (similarity < threshold) continue;
        parent[find(y)] = find(x);
        duplicated.add(x);
        duplicated.add(y);
        const gx = groups[x];
        const gy = groups[y];
        if (gx && gy) addPair(gx.type, gx.ids[0] as string, gy.ids[0] as string, similarity);
      }
    }
  }

  for (const g of duplicated) {
    const group = groups[g];
    if (!group) continue;
    report.duplicated += group.ids.length;
    const row = report.byType[group.type];
    if (row) row.duplicated += group.ids.length;
  }
  report.share = report.considered === 0 ? 0 : report.duplicated / report.considered;
  return report;
}

export interface NearDuplicateGateOptions extends NearDuplicateOptions {
  /** Most share of records that may be near-duplicates. Default 0.1. */
  maxShare?: number;
}

/** Fails when more than `maxShare` of the records are near-duplicates of another record. */
export function nearDuplicateGate(records: readonly DatasetRecord[], options: NearDuplicateGateOptions = {}): GateResult {
  const maxShare = options.maxShare ?? 0.1;
  const found = nearDuplicates(records, options);
  const details = { ...found, maxShare, pairs: found.pairs.slice(0, 20) };
  if (found.share <= maxShare) return { name: 'near-duplicates', passed: true, details };
  const worst = Object.entries(found.byType)
    .filter(([, row]) => row.duplicated > 0)
    .map(([type, row]) => `${type} ${row.duplicated}/${row.considered}`)
    .join(', ');
  return {
    name: 'near-duplicates',
    passed: false,
    reason: `${pct(found.share)} of records are near-duplicates (Jaccard ≥ ${found.threshold}), more than ${pct(maxShare)}: ${worst}`,
    details,
  };
}

// ---------------------------------------------------------------------------------------------
// Type balance

export interface TypeBalanceOptions {
  /** Warn when one type is more than this share of the records. Default 0.8. */
  warnShare?: number;
}

/** Counts and shares per record type; passes always, with a warning when one type dominates. */
export function typeBalance(records: readonly DatasetRecord[], options: TypeBalanceOptions = {}): GateResult {
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
export function evalSplitGate(records: readonly DatasetRecord[], options: EvalSplitOptions = {}): GateResult {
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

export interface GateOptions {
  /** Schema results of the records file; without them the records are validated here. */
  schema?: ValidationResult;
  uniqueness?: UniquenessOptions;
  nearDuplicates?: NearDuplicateGateOptions;
  balance?: TypeBalanceOptions;
  evalSplit?: EvalSplitOptions;
}

/** Runs every gate; the dataset passes only when all do. */
export function runGates(records: readonly DatasetRecord[], options: GateOptions = {}): GatesOutcome {
  const gates = [
    schemaGate(options.schema ?? validateAll(records)),
    uniquenessGate(records, options.uniqueness),
    nearDuplicateGate(records, options.nearDuplicates),
    typeBalance(records, options.balance),
    evalSplitGate(records, options.evalSplit),
  ];
  return {
    passed: gates.every((g) => g.passed),
    gates,
    warnings: gates.filter((g) => g.passed && g.reason).map((g) => `${g.name}: ${g.reason}`),
  };
}
