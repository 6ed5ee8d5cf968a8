// Near-duplicate records, decided per record type by what the record trains: the text the model
// sees and the text it must produce. Records that repeat the same training signal are dropped
// before the eval split and the gates, keeping the best-weighted one; the near-duplicates gate
// then looks at what is left (gates.ts). Pure functions over records.
//
// Similarity is the Jaccard similarity of character 5-gram shingles of the normalised text
// (lowercase, punctuation dropped, whitespace collapsed), found with MinHash and LSH banding,
// screened by each field's bottom-k sketch and confirmed exactly on each field (minhash.ts); memory
// records compare exactly (their punctuation and typo variants differ on purpose). Per record only
// fixed-size sketches are kept, never its shingles, so memory grows with the number of records
// and not with their length.
import { createHash } from 'node:crypto';
import { BANDS, bandKeys, jaccard, LshIndex, SketchStore, shingleSet, sketchSimilarity, sketchTexts, type TextSketch } from './minhash.js';
import { type DatasetRecord, type LoadRecord, RECORD_TYPES, type RecordHead, type RecordType } from './records.js';

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
// Shingles of the normalised text (the MinHash, sketches and LSH buckets are in minhash.ts)

/** In one LSH bucket, a record is compared with at most this many kept records. */
const BUCKET_PEERS = 32;
/**
 * A candidate whose field sketches put some field this far below the threshold is not compared
 * exactly: at Jaccard 0.9 the estimate falls 0.25 short with p < 10⁻¹⁰ (6.7 standard deviations).
 */
const ESTIMATE_MARGIN = 0.25;

export { jaccard };

/** The set of hashed character 5-grams of the normalised text (the whole text if shorter). */
export const shingles = (text: string): Set<number> => shingleSet(normaliseText(text));

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

export interface RepeatOptions<T extends RecordHead = DatasetRecord> {
  /** Per type, overrides of what counts as the same signal. */
  signals?: Partial<Record<RecordType, Partial<TrainingSignal>>>;
  /** Record types not looked at (all their records are kept). */
  exemptTypes?: readonly RecordType[];
  /**
   * The whole record of a head, when the items are heads whose texts are elsewhere (the build's
   * spool); without it the items are the records. Each item is loaded once, and a kept one again
   * only when a later item's sketches come near it.
   */
  load?: LoadRecord<T>;
}

export interface RepeatsFound<T extends RecordHead = DatasetRecord> {
  /** The records that repeat no other, in their input order. */
  kept: T[];
  repeats: Repeat[];
  /** Records looked at per type (exempt types left out). */
  considered: Partial<Record<RecordType, number>>;
}

const originOf = (a: RecordHead, b: RecordHead): RepeatOrigin => {
  if ('factId' in a.source || 'factId' in b.source) {
    return 'factId' in a.source && 'factId' in b.source && a.source.factId === b.source.factId ? 'same-fact' : 'other-fact';
  }
  return a.source.conversationId === b.source.conversationId ? 'same-conversation' : 'other-conversation';
};

/** Best first: the higher weight, then the lower id. */
const byRank = (a: RecordHead, b: RecordHead) => b.weight - a.weight || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Which records repeat the training signal of a better one: records are taken best first (the
 * higher weight, then the lower id) and one that is the same signal as a record already kept
 * repeats it. Every repeat names a kept record it is the same signal as, so dropping the repeats
 * never drops a signal; no two kept records are the same signal (up to MinHash's recall, > 0.999
 * at Jaccard 0.9).
 */
export function findRepeats<T extends RecordHead = DatasetRecord>(records: readonly T[], options: RepeatOptions<T> = {}): RepeatsFound<T> {
  const load = options.load ?? ((record: T) => record as unknown as DatasetRecord);
  const exempt = new Set(options.exemptTypes ?? []);
  const signals = Object.fromEntries(
    RECORD_TYPES.map((type) => [type, { ...TRAINING_SIGNALS[type], ...options.signals?.[type] }]),
  ) as Record<RecordType, TrainingSignal>;
  const repeats: Repeat[] = [];
  const repeated = new Set<T>();
  const considered: Partial<Record<RecordType, number>> = {};

  // What is kept of a record that no other repeats is fixed-size: its number, a hash of its
  // fields, its field sketches and its LSH band entries. Texts are compared exactly only for a
  // candidate pair whose sketches come near the threshold, and then only those two records'.
  const kept: T[] = [];
  const sketchAt: number[] = [];
  const sketches = new SketchStore();
  const exactKept = new Map<string, number>();
  const tables = new Map<RecordType, LshIndex[]>();
  const tablesOf = (type: RecordType) => {
    let t = tables.get(type);
    if (!t) {
      t = Array.from({ length: BANDS }, () => new LshIndex(BUCKET_PEERS));
      tables.set(type, t);
    }
    return t;
  };

  for (const record of [...records].sort(byRank)) {
    if (exempt.has(record.type)) continue;
    const signal = signals[record.type];
    considered[record.type] = (considered[record.type] ?? 0) + 1;
    const normalise = (text: string) => (signal.exact ? text.trim() : normaliseText(text));
    const fields = signal.fields(load(record)).map(normalise);
    // UTF-16 code units hashed as they are: two texts share a key only when they are equal.
    const key = createHash('sha256')
      .update(`${record.type}\u0000${fields.join('\u0001')}`, 'utf16le')
      .digest('base64');
    const same = exactKept.get(key);
    if (same !== undefined) {
      const of = kept[same] as T;
      repeats.push({ type: record.type, id: record.id, of: of.id, kind: 'identical', origin: originOf(record, of), similarity: 1 });
      repeated.add(record);
      continue;
    }
    let match: { kept: T; similarity: number } | undefined;
    let sketch: TextSketch | undefined;
    let keys: Uint32Array | undefined;
    if (!signal.exact && signal.threshold < 1) {
      sketch = sketchTexts(fields);
      keys = bandKeys(sketch.signature);
      const bands = tablesOf(record.type);
      const seen = new Set<number>();
      const mine: Set<number>[] = [];
      for (let band = 0; band < BANDS && !match; band++) {
        for (const candidate of (bands[band] as LshIndex).get(keys[band] as number)) {
          if (seen.has(candidate)) continue;
          seen.add(candidate);
          const at = sketchAt[candidate] as number;
          if (sketch.fields.some((f, i) => sketchSimilarity(f, sketches.field(at, i)) < signal.threshold - ESTIMATE_MARGIN)) continue;
          const other = kept[candidate] as T;
          let theirs: string[] | undefined;
          let similarity = 1;
          for (let f = 0; f < fields.length && similarity >= signal.threshold; f++) {
            mine[f] ??= shingleSet(fields[f] as string);
            theirs ??= signal.fields(load(other));
            similarity = Math.min(similarity, jaccard(mine[f] as Set<number>, shingleSet(normalise(theirs[f] ?? ''))));
          }
          if (similarity >= signal.threshold) {
            match = { kept: other, similarity };
            break;
          }
        }
      }
    }
    if (match) {
      repeats.push({
        type: record.type,
        id: record.id,
        of: match.kept.id,
        kind: 'near-identical',
        origin: originOf(record, match.kept),
        similarity: match.similarity,
      });
      repeated.add(record);
      continue;
    }
    const n = kept.push(record) - 1;
    exactKept.set(key, n);
    sketchAt.push(sketch ? sketches.add(sketch.fields) : -1);
    if (keys) {
      const bands = tablesOf(record.type);
      for (let band = 0; band < BANDS; band++) (bands[band] as LshIndex).put(keys[band] as number, n);
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

export interface Deduplicated<T extends RecordHead = DatasetRecord> {
  records: T[];
  dropped: Repeat[];
  byType: DedupeRow[];
}

/** The record types' order in reports. */
const typeOrder = (type: RecordType) => RECORD_TYPES.indexOf(type);

/**
 * Drops every record that repeats the training signal of a better-weighted one (see
 * `TRAINING_SIGNALS`), and says per type how many and why.
 */
export function dedupeRecords<T extends RecordHead = DatasetRecord>(
  records: readonly T[],
  options: RepeatOptions<T> = {},
): Deduplicated<T> {
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
