import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { type ConversationGraph, TrajectorySample } from '@trajectory/contracts';
import { type BuildOptions, trajectorySamples } from './trajectories.js';

export interface DatasetFile {
  datasetId: string;
  path: string;
  recordCount: number;
}

/**
 * Writes one JSONL record per sample as graphs arrive, hashing as it goes; the file is named
 * by its content hash, so the same graph and options give the same dataset id and file.
 */
export async function writeDataset(graphs: AsyncIterable<ConversationGraph>, dir: string, options: BuildOptions): Promise<DatasetFile> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.building-${process.pid}-${Date.now()}.jsonl`);
  const out = createWriteStream(tmp);
  const hash = createHash('sha256');
  let recordCount = 0;
  try {
    for await (const graph of graphs) {
      for (const sample of trajectorySamples(graph, options)) {
        const line = `${JSON.stringify(TrajectorySample.toJSON(sample))}\n`;
        hash.update(line);
        recordCount += 1;
        if (!out.write(line)) await once(out, 'drain');
      }
    }
    out.end();
    await finished(out);
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
  const datasetId = hash.digest('hex').slice(0, 16);
  const path = join(dir, `trajectory-${datasetId}.jsonl`);
  await rename(tmp, path);
  return { datasetId, path, recordCount };
}
