// The spot-check (docs/datasets.md#spot-check): before a dataset version is trained on, a person
// looks at a seeded random draw of its records, stratified by record type, and accepts or rejects
// each. The draw and the verdicts are stored in the version's manifest (DatasetManifest.spot_check),
// so the samples service (which shows and records them) and the training service (which refuses
// an unchecked version) read one stored state through the functions here. Pure: no I/O.
import { createHash } from 'node:crypto';
import {
  type DatasetManifest,
  type SpotCheck,
  type SpotCheckContext,
  type SpotCheckDraw,
  type SpotCheckItem,
  type SpotCheckStatus,
  SpotCheckVerdict,
} from '@trajectory/contracts';
import type { DatasetRecord } from './records.js';
import { DECAY_DAYS, relationWeight } from './trajectories.js';

/** Records a draw holds unless asked otherwise: the dataset plan's "100 random records". */
export const SPOT_CHECK_SIZE = 100;
/** The accept rate a spot-check needs (SAMPLES_SPOT_CHECK_THRESHOLD). */
export const SPOT_CHECK_THRESHOLD = 0.9;
/** The seed of a first draw when none is given. */
export const SPOT_CHECK_SEED = 1;

/** A request the spot-check cannot take: a verdict on a record not drawn, a rejection without reason. */
export class SpotCheckError extends Error {
  override name = 'SpotCheckError';
}

/** What the draw needs of a record. */
export interface DrawCandidate {
  id: string;
  type: string;
}

/** A record's place in the seed's random order: the same seed and id always give the same place. */
const drawKey = (seed: number, id: string) => createHash('sha256').update(`${seed}\u0000${id}`).digest('hex');

/**
 * How many records of each type a draw of `size` takes: proportional to the type's count
 * (largest remainders), at least one of each type present, never more than a type has. With
 * fewer records than `size` every record is drawn; with more types than `size` each type still
 * gets one (the draw is then larger than asked).
 */
export function allocateStrata(counts: ReadonlyMap<string, number>, size: number): Map<string, number> {
  const types = [...counts].filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b));
  const total = types.reduce((sum, [, n]) => sum + n, 0);
  const out = new Map<string, number>();
  if (total <= size) {
    for (const [type, n] of types) out.set(type, n);
    return out;
  }
  const quota = new Map(types.map(([type, n]) => [type, (size * n) / total]));
  for (const [type, n] of types) out.set(type, Math.min(n, Math.max(1, Math.floor(quota.get(type) ?? 0))));
  const sum = () => [...out.values()].reduce((a, b) => a + b, 0);
  const remainder = (type: string) => (quota.get(type) ?? 0) - (out.get(type) ?? 0);
  // Too few: one more to the types furthest below their quota (ties: the larger type, then the name).
  while (sum() < size) {
    const open = types.filter(([type, n]) => (out.get(type) ?? 0) < n);
    if (open.length === 0) break;
    open.sort(([a, na], [b, nb]) => remainder(b) - remainder(a) || nb - na || a.localeCompare(b));
    const [type] = open[0] as [string, number];
    out.set(type, (out.get(type) ?? 0) + 1);
  }
  // Too many (the one-of-each minimum pushed it over): one less from the types furthest above theirs.
  while (sum() > size) {
    const over = types.filter(([type]) => (out.get(type) ?? 0) > 1);
    if (over.length === 0) break;
    over.sort(([a, na], [b, nb]) => remainder(a) - remainder(b) || nb - na || a.localeCompare(b));
    const [type] = over[0] as [string, number];
    out.set(type, (out.get(type) ?? 0) - 1);
  }
  return out;
}

/**
 * A seeded draw of `size` records stratified by type (allocateStrata): within each type the
 * records first in the seed's order (sha256 of seed and id), so the draw does not depend on the
 * file's order; the drawn records are shown in that order too, types mixed.
 */
export function stratifiedDraw<T extends DrawCandidate>(records: readonly T[], size: number, seed: number): T[] {
  const byType = new Map<string, { record: T; key: string }[]>();
  for (const record of records) {
    const list = byType.get(record.type) ?? [];
    list.push({ record, key: drawKey(seed, record.id) });
    byType.set(record.type, list);
  }
  const allocation = allocateStrata(new Map([...byType].map(([type, list]) => [type, list.length])), size);
  const drawn: { record: T; key: string }[] = [];
  for (const [type, list] of byType) {
    list.sort((a, b) => a.key.localeCompare(b.key) || a.record.id.localeCompare(b.record.id));
    drawn.push(...list.slice(0, allocation.get(type) ?? 0));
  }
  return drawn.sort((a, b) => a.key.localeCompare(b.key) || a.record.id.localeCompare(b.record.id)).map((d) => d.record);
}

export interface DrawOptions {
  size: number;
  seed: number;
  threshold: number;
  now: Date;
  /** The stored spot-check: verdicts on records drawn again are kept. */
  previous?: SpotCheck | undefined;
}

/** A new draw as stored: the drawn records unjudged, except those the previous draw judged too. */
export function newSpotCheck(records: readonly DrawCandidate[], options: DrawOptions): SpotCheck {
  const judged = new Map((options.previous?.items ?? []).map((item) => [item.recordId, item]));
  return {
    seed: options.seed,
    size: options.size,
    drawnAt: options.now,
    threshold: options.threshold,
    items: stratifiedDraw(records, options.size, options.seed).map(
      (r) =>
        judged.get(r.id) ?? { recordId: r.id, recordType: r.type, verdict: SpotCheckVerdict.SPOT_CHECK_VERDICT_UNSPECIFIED, reason: '' },
    ),
  };
}

/**
 * Whether a stored draw answers a request: no seed and no size asked for, or the same ones. A
 * page reloaded, or a second person, sees the draw the verdicts belong to.
 */
export function drawAnswers(stored: SpotCheck | undefined, request: { size: number; seed?: number | undefined }): boolean {
  if (!stored || stored.items.length === 0) return false;
  return (request.size === 0 || request.size === stored.size) && (request.seed === undefined || request.seed === stored.seed);
}

/**
 * The size and seed of the draw a request asks for: its own, else the stored draw's, else the
 * defaults (SPOT_CHECK_SIZE, SPOT_CHECK_SEED).
 */
export function drawSettings(
  request: { size: number; seed?: number | undefined },
  stored: SpotCheck | undefined,
): { size: number; seed: number } {
  return { size: request.size || stored?.size || SPOT_CHECK_SIZE, seed: request.seed ?? stored?.seed ?? SPOT_CHECK_SEED };
}

/**
 * The draw as the person sees it: each drawn record (its JSON and what it was made from, from
 * `found`, the drawn records read back from the version's file; a record not found there comes
 * without them), its verdict, and the spot-check's status.
 */
export function spotCheckDraw(manifest: DatasetManifest, found: ReadonlyMap<string, DatasetRecord>, threshold: number): SpotCheckDraw {
  const spotCheck = manifest.spotCheck;
  const items = spotCheck?.items ?? [];
  return {
    datasetId: manifest.datasetId,
    version: manifest.version,
    seed: spotCheck?.seed ?? 0,
    size: spotCheck?.size ?? 0,
    drawnAt: spotCheck?.drawnAt,
    records: items.map((item) => {
      const record = found.get(item.recordId);
      return {
        recordId: item.recordId,
        recordType: item.recordType,
        recordJson: record ? JSON.stringify(record) : '',
        context: record ? spotCheckContext(record, manifest) : undefined,
        verdict: item.verdict,
        reason: item.reason,
        judgedAt: item.judgedAt,
      };
    }),
    status: spotCheckStatus(manifest.datasetId, spotCheck, threshold),
  };
}

/**
 * The spot-check with one verdict recorded (a new object). Judging a record again replaces its
 * verdict; UNSPECIFIED takes it back. A rejection needs a reason: it is what the report shows.
 */
export function recordVerdict(
  spotCheck: SpotCheck | undefined,
  verdict: { recordId: string; verdict: SpotCheckVerdict; reason: string },
  now: Date,
  threshold: number,
): SpotCheck {
  if (!spotCheck || spotCheck.items.length === 0) throw new SpotCheckError('nothing drawn yet: draw the spot-check first (DrawSpotCheck)');
  const known = [
    SpotCheckVerdict.SPOT_CHECK_VERDICT_UNSPECIFIED,
    SpotCheckVerdict.SPOT_CHECK_VERDICT_ACCEPTED,
    SpotCheckVerdict.SPOT_CHECK_VERDICT_REJECTED,
  ];
  if (!known.includes(verdict.verdict)) throw new SpotCheckError(`unknown verdict ${verdict.verdict}`);
  const reason = verdict.reason.trim();
  if (verdict.verdict === SpotCheckVerdict.SPOT_CHECK_VERDICT_REJECTED && !reason) {
    throw new SpotCheckError(`a rejection needs a reason (record ${verdict.recordId})`);
  }
  if (!spotCheck.items.some((item) => item.recordId === verdict.recordId)) {
    throw new SpotCheckError(`record ${verdict.recordId} is not in the spot-check's draw`);
  }
  const undone = verdict.verdict === SpotCheckVerdict.SPOT_CHECK_VERDICT_UNSPECIFIED;
  return {
    ...spotCheck,
    threshold,
    items: spotCheck.items.map((item): SpotCheckItem => {
      if (item.recordId !== verdict.recordId) return item;
      const { judgedAt: _, ...rest } = item;
      return undone ? { ...rest, verdict: verdict.verdict, reason: '' } : { ...rest, verdict: verdict.verdict, reason, judgedAt: now };
    }),
  };
}

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * The spot-check's status: it passes when every drawn record is judged and the accept rate
 * (accepted / judged) is at least the threshold stored with it (`threshold` when none is stored).
 */
export function spotCheckStatus(
  datasetId: string,
  spotCheck: SpotCheck | undefined,
  threshold: number = SPOT_CHECK_THRESHOLD,
): SpotCheckStatus {
  const items = spotCheck?.items ?? [];
  const limit = spotCheck?.threshold || threshold;
  const accepted = items.filter((i) => i.verdict === SpotCheckVerdict.SPOT_CHECK_VERDICT_ACCEPTED).length;
  const rejections = items.filter((i) => i.verdict === SpotCheckVerdict.SPOT_CHECK_VERDICT_REJECTED);
  const judged = accepted + rejections.length;
  const acceptRate = judged > 0 ? accepted / judged : 0;
  const passed = items.length > 0 && judged === items.length && acceptRate >= limit;
  const summary =
    items.length === 0
      ? 'spot-check not drawn yet (0 judged)'
      : judged < items.length
        ? `spot-check ${judged}/${items.length} judged${judged > 0 ? ` (${accepted} accepted, ${rejections.length} rejected)` : ''}`
        : `spot-check ${passed ? 'passed' : 'FAILED'}: ${accepted} of ${items.length} accepted (${percent(acceptRate)} ${passed ? '>=' : '<'} ${percent(limit)})`;
  return {
    datasetId,
    drawn: items.length,
    judged,
    accepted,
    rejected: rejections.length,
    acceptRate,
    threshold: limit,
    passed,
    rejections,
    summary,
    seed: spotCheck?.seed ?? 0,
  };
}

/** The report's spot-check lines: the status, then each rejected record with its reason. */
export function spotCheckBlock(manifest: DatasetManifest): string[] {
  const status = spotCheckStatus(manifest.datasetId, manifest.spotCheck);
  return [
    `  ${status.passed ? 'ok  ' : status.judged === status.drawn && status.drawn > 0 ? 'FAIL' : 'WAIT'} spot-check: ${status.summary}`,
    ...status.rejections.map((r) => `      rejected ${r.recordType} ${r.recordId}: ${r.reason}`),
  ];
}

/**
 * What a record was made from, for the person judging it: for a trajectory record the preceding
 * nodes with their times, the relation and how its weight came about (relation weight x decay x
 * the manifest's scale); for every record its weight, split, tags and lineage.
 */
export function spotCheckContext(
  record: DatasetRecord,
  manifest: Pick<DatasetManifest, 'relationWeights' | 'decayDays' | 'weightScale'>,
): SpotCheckContext {
  const source = record.source;
  const context: SpotCheckContext = {
    turns: [],
    relation: '',
    relationWeight: 0,
    ageDays: 0,
    decay: 0,
    weightScale: manifest.weightScale || 1,
    weight: record.weight,
    split: record.split,
    tags: [...(record.tags ?? [])],
    conversationId: 'conversationId' in source ? source.conversationId : '',
    factId: 'factId' in source ? source.factId : '',
  };
  if (record.type !== 'trajectory') return context;
  const turn = (t: (typeof record.context)[number]) => ({
    role: t.role,
    text: t.text,
    nodeId: t.nodeId,
    ...(t.createdAt ? { createdAt: new Date(t.createdAt) } : {}),
  });
  return {
    ...context,
    turns: record.context.map(turn),
    target: turn(record.next),
    relation: record.relation,
    relationWeight: relationWeight(record.relation, manifest),
    ageDays: record.ageDays,
    decay: Math.exp(-record.ageDays / (manifest.decayDays || DECAY_DAYS)),
  };
}
