// Writes a dataset's export files (exports.ts says what goes into each): every row through an
// atomic file, so a trainer reading the folder never sees half a file, then dataset_info.json and
// the manifest, exports.json.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { datasetInfoFile, type ExportManifest, type ExportOptions, ExportRows, exportFiles, exportTargets } from '../exports.js';
import type { DatasetRecord } from '../records.js';
import { AtomicFile, writeJsonAtomic } from './atomic-file.js';

/**
 * Writes the export files of `records` into `dir` in one pass (see exports.ts) and returns the
 * manifest, also written as `exports.json`. Files with no rows are not written.
 */
export async function exportDataset(
  records: Iterable<DatasetRecord> | AsyncIterable<DatasetRecord>,
  dir: string,
  options: ExportOptions = {},
): Promise<ExportManifest> {
  await mkdir(dir, { recursive: true });
  const targets = exportTargets();
  const writers = new Map<string, AtomicFile>();
  for (const [target, { spec }] of targets) writers.set(target, new AtomicFile(join(dir, spec.name), { dropEmpty: true }));
  const rows = new ExportRows(options);
  try {
    for await (const record of records) {
      for (const { target, line } of rows.lines(record)) await (writers.get(target) as AtomicFile).write(line);
    }
    for (const writer of writers.values()) await writer.commit();
  } catch (err) {
    await Promise.all([...writers.values()].map((writer) => writer.abort()));
    throw err;
  }

  const { files, datasetInfo } = exportFiles(targets, (target) => writers.get(target)?.writes ?? 0);
  const infoPath = join(dir, 'dataset_info.json');
  if (Object.keys(datasetInfo).length > 0) {
    await writeJsonAtomic(infoPath, datasetInfo);
    files.push(datasetInfoFile(datasetInfo));
  } else {
    await rm(infoPath, { force: true });
  }
  const manifest = rows.manifest(files);
  await writeJsonAtomic(join(dir, 'exports.json'), manifest);
  return manifest;
}
