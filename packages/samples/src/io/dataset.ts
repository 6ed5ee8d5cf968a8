// Builds a dataset version on disk: the records go through the build's spool (spool.ts) while
// dataset.ts chooses, splits and gates them; records.jsonl, the exports and report.json are
// written in a folder beside the version's and renamed into place, so a reader never sees half a version.
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConversationGraph } from '@trajectory/contracts';
import { conversationRecords, conversationTurns } from '../build.js';
import {
  type BuiltDataset,
  CorpusTally,
  type DatasetSettings,
  datasetIdOf,
  datasetReport,
  dedupeMixFields,
  manifestSettingsOf,
  selectRecords,
  splitExportWeightFields,
} from '../dataset.js';
import { DEFAULT_MAX_TOKENS } from '../exports.js';
import { loadEach } from '../gates.js';
import type { DatasetRecord, MemoryRecord } from '../records.js';
import { writeAtomic } from './atomic-file.js';
import { exportDataset } from './exports.js';
import { RecordSpool, type SpooledHead } from './spool.js';

/** Writes the records as JSONL, whole or not at all, and returns the sha256 of the file. */
function writeJsonl(path: string, records: Iterable<DatasetRecord>): Promise<string> {
  return writeAtomic(path, async (file) => {
    const hash = createHash('sha256');
    for (const record of records) {
      const line = `${JSON.stringify(record)}\n`;
      hash.update(line);
      await file.write(line);
    }
    return hash.digest('hex');
  });
}

/**
 * Builds a dataset version: records of every type from the graphs (plus the memory records of the
 * facts file), the eval split, schema validation, the quality gates, the report and the trainer
 * exports, in `<rootDir>/<datasetId>/`. Records are ordered by type and id, so the same graph and
 * settings always give the same files and id.
 *
 * Each conversation's records go to the build's spool (spool.ts) as they are made; what stays in
 * memory is each record's head, the de-duplication and gate sketches, and the eval split's hashes
 * of turn texts, so the build's memory grows with the number of records and not with their texts.
 * The memory records (a facts file's, a few hundred) are kept whole.
 */
export async function buildDataset(
  graphs: AsyncIterable<ConversationGraph>,
  rootDir: string,
  settings: DatasetSettings,
  memory: readonly MemoryRecord[] = [],
): Promise<BuiltDataset> {
  await mkdir(rootDir, { recursive: true });
  const building = join(rootDir, `.building-${process.pid}-${Date.now()}`);
  await mkdir(building, { recursive: true });
  const spool = new RecordSpool(join(building, '.records.spool'));
  try {
    type Item = SpooledHead | MemoryRecord;
    const load = (item: Item): DatasetRecord => ('bytes' in item ? spool.read(item) : item);
    const tally = new CorpusTally();
    const items: Item[] = [];
    // The year of each record's target (its last node), for the weights by year.
    const years = new Map<string, string>();
    for await (const graph of graphs) {
      const turns = conversationTurns(graph);
      const own = conversationRecords(graph, settings, turns);
      tally.add(graph, own, turns);
      for (const r of own) {
        const last = 'nodeIds' in r.source ? r.source.nodeIds.at(-1) : undefined;
        const at = last ? turns.links.nodes.get(last)?.createdAt : undefined;
        years.set(r.id, at ? String(at.getUTCFullYear()) : 'unknown');
      }
      for (const head of spool.add(own)) items.push(head);
    }
    for (const r of memory) items.push(r);
    const selected = selectRecords(items, settings, load, (id) => years.get(id) ?? 'unknown');
    const { records, gates } = selected;

    const recordsHash = await writeJsonl(join(building, 'records.jsonl'), loadEach(records, load));
    const datasetId = datasetIdOf(settings, recordsHash);
    const exports = await exportDataset(loadEach(records, load), building, {
      systemPrompt: settings.systemPrompt,
      maxTokens: settings.maxTokens ?? DEFAULT_MAX_TOKENS,
      ...(settings.tokenCounter ? { tokenCounter: settings.tokenCounter } : {}),
    });
    const report = datasetReport(
      records,
      tally,
      gates,
      splitExportWeightFields(selected.split, exports, selected.weights),
      dedupeMixFields(records, selected.deduplicated, selected.memoryCap, selected.thresholds),
    );
    await writeFile(join(building, 'report.json'), `${JSON.stringify({ report, gates }, null, 2)}\n`);
    await spool.remove();
    const dir = join(rootDir, datasetId);
    await rm(dir, { recursive: true, force: true });
    await rename(building, dir);
    const manifestSettings = manifestSettingsOf(settings, exports, selected);
    return {
      datasetId,
      dir,
      recordsPath: join(dir, 'records.jsonl'),
      records,
      report,
      gates,
      exports,
      split: selected.split,
      manifestSettings,
    };
  } catch (err) {
    await spool.remove();
    await rm(building, { recursive: true, force: true });
    throw err;
  }
}
