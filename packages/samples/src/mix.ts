// Real versus synthetic records. Records from conversations (trajectory, chat, qa, preference,
// knowledge) are real; memory records, phrased from the facts file, are synthetic. The share of
// real records among those a trainer sees (every split but `heldout`) is gated (gates.ts), and the
// facts file's phrasings are capped so that they do not swamp a small history. Pure functions.
import { createHash } from 'node:crypto';
import type { MemoryRecord, RecordHead } from './records.js';

/** Below this share of real records the dataset fails the real-share gate. */
export const MIN_REAL_SHARE = 0.35;
/** Below this share the real-share gate warns; memory records are capped to keep the share at least this. */
export const WARN_REAL_SHARE = 0.5;
/** Memory records per fact that training keeps however small the history (phrasings, a negative, an unknown). */
export const MIN_MEMORY_PER_FACT = 6;

export const isSynthetic = (record: Pick<RecordHead, 'type'>): boolean => record.type === 'memory';

export interface RealShare {
  /** Records from conversations that a trainer sees (train and eval). */
  real: number;
  /** Synthetic (memory) records that a trainer sees; held-out phrasings are the recall eval and not counted. */
  synthetic: number;
  /** real / (real + synthetic); 0 when there are none. */
  share: number;
}

export function realShare(records: readonly Pick<RecordHead, 'type' | 'split'>[]): RealShare {
  let real = 0;
  let synthetic = 0;
  for (const r of records) {
    if (r.split === 'heldout') continue;
    if (isSynthetic(r)) synthetic += 1;
    else real += 1;
  }
  return { real, synthetic, share: real + synthetic > 0 ? real / (real + synthetic) : 0 };
}

export interface MemoryCapOptions {
  /** The real share the cap keeps (default WARN_REAL_SHARE); 0 or less: no cap. */
  realShare?: number;
  /** Memory records per fact kept whatever the history (default MIN_MEMORY_PER_FACT). */
  minPerFact?: number;
}

export interface MemoryCap<T extends RecordHead = RecordHead> {
  records: T[];
  /** Memory records a trainer would see before the cap (held-out phrasings are never capped). */
  generated: number;
  kept: number;
  /** The most memory records the history has room for: max(real × (1 − share) / share, minPerFact × facts). */
  budget: number;
}

const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');
const factOf = (r: MemoryRecord) => ('factId' in r.source ? r.source.factId : '');

/**
 * One fact's memory records in the order the cap takes them: phrasings, negatives and unknowns
 * interleaved (two phrasings, a negative, a phrasing, an unknown, ...), each kind in a fixed
 * pseudo-random order (sha256 of the id) so that the kept phrasings spread over templates,
 * formality, swaps, punctuation and typos rather than taking the first template's variants.
 */
function capOrder(records: readonly MemoryRecord[]): MemoryRecord[] {
  const queue = (kind: MemoryRecord['kind']) =>
    records
      .filter((r) => r.kind === kind)
      .map((r) => ({ r, h: hashOf(r.id) }))
      .sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0))
      .map((x) => x.r);
  const queues = { fact: queue('fact'), negative: queue('negative'), unknown: queue('unknown') };
  const pattern: MemoryRecord['kind'][] = ['fact', 'fact', 'negative', 'fact', 'unknown'];
  const out: MemoryRecord[] = [];
  for (let i = 0; out.length < records.length; i++) {
    const wanted = pattern[i % pattern.length] as MemoryRecord['kind'];
    const next = queues[wanted].shift() ?? queues.fact.shift() ?? queues.negative.shift() ?? queues.unknown.shift();
    if (next) out.push(next);
  }
  return out;
}

/**
 * Caps the memory records a trainer sees so that the facts file's phrasings do not swamp a small
 * history: at most real × (1 − share) / share of them (the real records then make at least
 * `share` of what a trainer sees), but never fewer than `minPerFact` per fact, taken round robin
 * over the facts in `capOrder`. Held-out phrasings all stay: they are the recall eval, not
 * training. Returns the records in their order, without the memory records the cap drops.
 */
export function capMemory<T extends RecordHead>(records: readonly T[], options: MemoryCapOptions = {}): MemoryCap<T> {
  const share = options.realShare ?? WARN_REAL_SHARE;
  const minPerFact = options.minPerFact ?? MIN_MEMORY_PER_FACT;
  const { real } = realShare(records);
  // Memory records are few (a facts file's phrasings) and kept whole: a head of type memory is its record.
  const memory = records.filter((r): r is T & MemoryRecord => r.type === 'memory' && r.split !== 'heldout');
  const byFact = new Map<string, MemoryRecord[]>();
  for (const r of memory) byFact.set(factOf(r), [...(byFact.get(factOf(r)) ?? []), r]);
  const budget =
    share <= 0 ? Number.POSITIVE_INFINITY : Math.max(Math.floor((real * (1 - share)) / Math.min(share, 1)), minPerFact * byFact.size);
  if (memory.length <= budget) return { records: [...records], generated: memory.length, kept: memory.length, budget };

  const queues = [...byFact.keys()].sort().map((fact) => capOrder(byFact.get(fact) ?? []));
  const kept = new Set<RecordHead>();
  for (let round = 0; kept.size < budget && queues.some((q) => q.length > round); round++) {
    for (const q of queues) {
      const next = q[round];
      if (next && kept.size < budget) kept.add(next);
    }
  }
  return {
    records: records.filter((r) => r.type !== 'memory' || r.split === 'heldout' || kept.has(r)),
    generated: memory.length,
    kept: kept.size,
    budget,
  };
}
