// A dataset version's files go to the object store, so a trainer anywhere on the bus can fetch them.
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { DatasetRegistry } from '@trajectory/bus';
import { versionObjectName } from '@trajectory/samples';

/**
 * Puts every file of the version folder `dir` under `<datasetId>/<file>` and returns the names, in
 * file-name order. Streamed in chunks: a seed-sized history's records.jsonl alone is about 1 GB.
 */
export async function uploadVersion(objects: DatasetRegistry['objects'], datasetId: string, dir: string): Promise<string[]> {
  const names: string[] = [];
  for (const file of (await readdir(dir)).sort()) {
    const name = versionObjectName(datasetId, file);
    await objects.put({ name }, Readable.toWeb(createReadStream(join(dir, file))) as ReadableStream<Uint8Array>);
    names.push(name);
  }
  return names;
}
