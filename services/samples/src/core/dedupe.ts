// Near-duplicate records, decided per record type by what the record trains: the text the model
// sees and the text it must produce. Records that repeat the same training signal are dropped
// before the eval split and the gates, keeping the best-weighted one; the near-duplicates gate
// then looks at what is left (gates.ts). Pure functions over records.
//
// Similarity is the Jaccard similarity of character 5-gram shingles of the normalised text
// (lowercase, punctuation dropped, whitespace collapsed), found with MinHash and LSH banding and
// confirmed exactly on each field; memory records compare exactly (their punctuation and typo
// variants differ on purpose).
import { type DatasetRecord, RECORD_TYPES, type RecordType } from './records.js';

/** Lowercase, punctuation dropped, whitespace collapsed: the form texts are compared in. */
export const normaliseText = (text: string): string =>
  text
    .toLowerCase()
    .replace(/\p{P}+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();

// ---------------------------------------------------------------------------------------------
// What a record trains, per type

export interface TrainingSignal {
  /** The texts that make the record's training signal: first the target, then what the model sees. */
  fields(record: DatasetRecord): string[];
  /** Every field must reach this Jaccard similarity for two records to be the same signal; 1: identical. */
  threshold: number;
  /** Compare the texts as they are (trimmed), not normalised: variants that differ in punctuation stay distinct. */
  exact: boolean;
  /** In words, for the report and the docs. */
  describe: string;
}

const turnsText = (turns: readonly { role: string; text: string }[]) => turns.map((t) => `${t.role}: ${t.text}`).join('\n');

/**
 * Per type, what "the same training signal" is. A trajectory window that overlaps the next one
 * has another target, so it is another signal (overlapping windows are the design); two records
 * are one signal only when the target and everything the model sees are near-identical.
 */
export const TRAINING_SIGNALS: Readonly<Record<RecordType, TrainingSignal>> = {
  trajectory: {
    fields: (r) => (r.type === 'trajectory' ? [`${r.next?.role}: ${r.next?.text ?? ''}`, turnsText(r.context ?? [])] : []),
    threshold: 0.9,
    exact: false,
    describe: 'the predicted node (with its role) and the context window',
  },
  chat: {
    fields: (r) => (r.type === 'chat' ? [r.output ?? '', `${r.instruction ?? ''}\n${r.input ?? ''}`] : []),
    threshold: 0.9,
    exact: false,
    describe: 'the answer and the turns before it (with the system prompt)',
  },
  qa: {
    fields: (r) => (r.type === 'qa' ? [r.answer ?? '', r.question ?? ''] : []),
    threshold: 0.9,
    exact: false,
    describe: 'the answer and the question',
  },
  preference: {
    fields: (r) => (r.type === 'preference' ? [r.chosen ?? '', r.rejected ?? '', r.prompt ?? ''] : []),
    threshold: 0.9,
    exact: false,
    describe: 'the chosen and the rejected answer and the prompt',
  },
  knowledge: {
    fields: (r) => (r.type === 'knowledge' ? [r.content ?? '', r.topic ?? ''] : []),
    threshold: 0.9,
    exact: false,
    describe: 'what the chain settled on and its topic',
  },
  memory: {
    fields: (r) => (r.type === 'memory' ? [r.answer ?? '', r.question ?? '', r.system ?? ''] : []),
    threshold: 1,
    exact: true,
    describe: 'the answer, the question and the system prompt, exactly (punctuation and typo variants are distinct on purpose)',
  },
};

// ---------------------------------------------------------------------------------------------
// MinHash over character 5-gram shingles

const SHINGLE = 5;
const PERMUTATIONS = 64; // bins of the one-permutation signature (a power of two)
const BANDS = 16; // 16 bands of 4 rows: a pair with Jaccard 0.8 becomes a candidate with p ≈ 1 − (1 − 0.8⁴)¹⁶ > 0.999
const ROWS = PERMUTATIONS / BANDS;
/** In one LSH bucket, a record is compared with at most this many kept records. */
const BUCKET_PEERS = 32;

/** FNV-1a, 32 bits, of text[start, end): the hash of one shingle. */
function fnv1a(text: string, start = 0, end = text.length, seed = 0x811c9dc5): number {
  let h = seed;
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

/** Calls `each` with the hash of every character 5-gram of a text (the whole text if shorter); `seed` keeps fields apart. */
function forEachShingle(text: string, each: (hash: number) => void, seed?: number): void {
  if (text.length === 0) return;
  if (text.length <= SHINGLE) each(fnv1a(text, 0, text.length, seed));
  for (let i = 0; i + SHINGLE <= text.length; i++) each(fnv1a(text, i, i + SHINGLE, seed));
}

/** The set of hashed character 5-grams of the normalised text (the whole text if shorter). */
export function shingles(text: string): Set<number> {
  const out = new Set<number>();
  forEachShingle(normaliseText(text), (h) => out.add(h));
  return out;
}

/** Exact Jaccard similarity |A ∩ B| / |A ∪ B| of two shingle sets. */
export function jaccard(a: ReadonlySet<number>, b: ReadonlySet<number>): number {
  if (a.size === 0 && b.size === 0) return 1;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const x of small) if (large.has(x)) shared += 1;
  return shared / (a.size + b.size - shared);
}

/**
 * The MinHash signature of the shingles of every field together (each field's shingles salted
 * apart), by one-permutation hashing: each shingle is hashed once, its hash picks one of the 64
 * bins and the bin keeps the least value; an empty bin (a short text) takes the value of the next
 * non-empty one, salted by the distance (densification). One hash per shingle instead of 64 keeps
 * long pasted texts cheap; the exact Jaccard of each candidate pair still decides.
 */
function minhash(fields: readonly string[]): Uint32Array {
  const signature = new Uint32Array(PERMUTATIONS).fill(0xffffffff);
  const filled = new Uint8Array(PERMUTATIONS);
  fields.forEach((text, f) => {
    forEachShingle(
      text,
      (shingle) => {
        const x = fmix32(shingle);
        const bin = x & (PERMUTATIONS - 1);
        const value = x >>> 6;
        if (value < (signature[bin] as number) || !filled[bin]) {
          signature[bin] = filled[bin] ? Math.min(value, signature[bin] as number) : value;
          filled[bin] = 1;
        }
      },
      fmix32(0x811c9dc5 + f),
    );
  });
  if (filled.includes(0) && filled.includes(1)) {
    const source = Uint32Array.from(signature);
    for (let i = 0; i < PERMUTATIONS; i++) {
      if (filled[i]) continue;
      let d = 1;
      while (!filled[(i + d) % PERMUTATIONS]) d += 1;
      signature[i] = fmix32((source[(i + d) % PERMUTATIONS] as number) + d * 0x9e3779b9);
    }
  }
  return signature;
}

// ---------------------------------------------------------------------------------------------
// Finding repeats

/** Why a record repeats another: its fields are identical after normalisation, or each near-identical. */
export type RepeatKind = 'identical' | 'near-identical';
/** Where the two come from: one conversation (a branch, a repeated message), two conversations, one fact. */
export type RepeatOrigin = 'same-conversation' | 'other-conversation' | 'same-fact' | 'other-fact';

export interface Repeat {
  type: RecordType;
  /** The record that repeats ... */
  id: string;
  /** ... this one, which is kept (the better weighted, then the lower id). */
  of: string;
  kind: RepeatKind;
  origin: RepeatOrigin;
  /** The least Jaccard similarity over the fields (1 when identical). */
  similarity: number;
}

export interface RepeatOptions {
  /** Per type, overrides of what counts as the same signal. */
  signals?: Partial<Record<RecordType, Partial<TrainingSignal>>>;
  /** Record types not looked at (all their records are kept). */
  exemptTypes?: readonly RecordType[];
}

export interface RepeatsFound {
  /** The records that repeat no other, in their input order. */
  kept: DatasetRecord[];
  repeats: Repeat[];
  /** Records looked at per type (exempt types left out). */
  considered: Partial<Record<RecordType, number>>;
}

const originOf = (a: DatasetRecord, b: DatasetRecord): RepeatOrigin => {
  if ('factId' in a.source || 'factId' in b.source) {
    return 'factId' in a.source && 'factId' in b.source && a.source.factId === b.source.factId ? 'same-fact' : 'other-fact';
  }
  return a.source.conversationId === b.source.conversationId ? 'same-conversation' : 'other-conversation';
};

/** Best first: the higher weight, then the lower id. */
const byRank = (a: DatasetRecord, b: DatasetRecord) => b.weight - a.weight || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Which records repeat the training signal of a better one: records are taken best first (the
 * higher weight, then the lower id) and one that is the same signal as a record already kept
 * repeats it. Every repeat names a kept record it is the same signal as, so dropping the repeats
 * never drops a signal; no two kept records are the same signal (up to MinHash's recall, > 0.999
 * at Jaccard 0.9).
 */
export function findRepeats(records: readonly DatasetRecord[], options: RepeatOptions = {}): RepeatsFound {
  const exempt = new Set(options.exemptTypes ?? []);
  const signals = Object.fromEntries(
    RECORD_TYPES.map((type) => [type, { ...TRAINING_SIGNALS[type], ...options.signals?.[type] }]),
  ) as Record<RecordType, TrainingSignal>;
  const repeats: Repeat[] = [];
  const repeated = new Set<DatasetRecord>();
  const considered: Partial<Record<RecordType, number>> = {};

  interface Kept {
    record: DatasetRecord;
    fields: string[];
    shingles?: Set<number>[];
  }
  const exactKept = new Map<string, Kept>();
  const buckets = new Map<string, Kept[]>();
  const shinglesOf = (k: Kept) => {
    k.shingles ??= k.fields.map((text) => {
      const set = new Set<number>();
      forEachShingle(text, (h) => set.add(h));
      return set;
    });
    return k.shingles;
  };

  for (const record of [...records].sort(byRank)) {
    if (exempt.has(record.type)) continue;
    const signal = signals[record.type];
    considered[record.type] = (considered[record.type] ?? 0) + 1;
    const fields = signal.fields(record).map((text) => (signal.exact ? text.trim() : normaliseText(text)));
    const current: Kept = { record, fields };
    const key = `${record.type}\u0000${fields.join('\u0001')}`;
    const same = exactKept.get(key);
    if (same) {
      repeats.push({
        type: record.type,
        id: record.id,
        of: same.record.id,
        kind: 'identical',
        origin: originOf(record, same.record),
        similarity: 1,
      });
      repeated.add(record);
      continue;
    }
    let match: { kept: Kept; similarity: number } | undefined;
    const bandKeys: string[] = [];
    if (!signal.exact && signal.threshold < 1) {
      const signature = minhash(fields);
      const seen = new Set<Kept>();
      for (let band = 0; band < BANDS; band++) {
        let h = band;
        for (let r = band * ROWS; r < (band + 1) * ROWS; r++) h = fmix32(Math.imul(h, 0x01000193) ^ (signature[r] as number));
        const bandKey = `${record.type}:${band}:${h}`;
        bandKeys.push(bandKey);
        if (match) continue;
        for (const candidate of (buckets.get(bandKey) ?? []).slice(0, BUCKET_PEERS)) {
          if (seen.has(candidate)) continue;
          seen.add(candidate);
          const mine = shinglesOf(current);
          const theirs = shinglesOf(candidate);
          let similarity = 1;
          for (let f = 0; f < mine.length && similarity >= signal.threshold; f++) {
            similarity = Math.min(similarity, jaccard(mine[f] as Set<number>, theirs[f] as Set<number>));
          }
          if (similarity >= signal.threshold) {
            match = { kept: candidate, similarity };
            break;
          }
        }
      }
    }
    if (match) {
      repeats.push({
        type: record.type,
        id: record.id,
        of: match.kept.record.id,
        kind: 'near-identical',
        origin: originOf(record, match.kept.record),
        similarity: match.similarity,
      });
      repeated.add(record);
      continue;
    }
    exactKept.set(key, current);
    for (const bandKey of bandKeys) {
      const bucket = buckets.get(bandKey);
      if (bucket) bucket.push(current);
      else buckets.set(bandKey, [current]);
    }
  }
  return { kept: records.filter((r) => !repeated.has(r)), repeats, considered };
}

// ---------------------------------------------------------------------------------------------
// De-duplication before the split and the gates

export interface DedupeRow {
  type: RecordType;
  before: number;
  after: number;
  dropped: number;
  /** Dropped records by why: `identical` / `near-identical` and where from, e.g. `near-identical, same-conversation`. */
  reasons: Record<string, number>;
}

export interface Deduplicated {
  records: DatasetRecord[];
  dropped: Repeat[];
  byType: DedupeRow[];
}

/** The record types' order in reports. */
const typeOrder = (type: RecordType) => RECORD_TYPES.indexOf(type);

/**
 * Drops every record that repeats the training signal of a better-weighted one (see
 * `TRAINING_SIGNALS`), and says per type how many and why.
 */
export function dedupeRecords(records: readonly DatasetRecord[], options: RepeatOptions = {}): Deduplicated {
  const found = findRepeats(records, options);
  const rows = new Map<RecordType, DedupeRow>();
  for (const record of records) {
    const row = rows.get(record.type) ?? { type: record.type, before: 0, after: 0, dropped: 0, reasons: {} };
    row.before += 1;
    rows.set(record.type, row);
  }
  for (const repeat of found.repeats) {
    const row = rows.get(repeat.type);
    if (!row) continue;
    row.dropped += 1;
    const why = `${repeat.kind}, ${repeat.origin}`;
    row.reasons[why] = (row.reasons[why] ?? 0) + 1;
  }
  for (const row of rows.values()) row.after = row.before - row.dropped;
  return {
    records: found.kept,
    dropped: found.repeats,
    byType: [...rows.values()].sort((a, b) => typeOrder(a.type) - typeOrder(b.type)),
  };
}
