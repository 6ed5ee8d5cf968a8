import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { DatasetManifest } from '@trajectory/contracts';
import type { Bus } from './connection.js';
import { BUCKETS } from './topology.js';

/** Dataset files (records, report, exports), as `<datasetId>/<file>` objects. */
export const DATASET_OBJECTS = BUCKETS.datasetObjects;
/** One manifest per dataset version, by dataset id. */
export const DATASET_MANIFESTS = BUCKETS.datasetManifests;

/**
 * The dataset registry the samples service writes and the training service reads: manifests
 * (gates, report, settings) in a KV bucket, files in an object store. Both are created on first
 * use, so either service may start first.
 */
export async function openDatasetRegistry(bus: Bus) {
  const manifests = await new Kvm(bus.nc).create(DATASET_MANIFESTS, { history: 1 });
  const objects = await new Objm(bus.nc).create(DATASET_OBJECTS);
  return {
    manifests,
    objects,
    async get(datasetId: string): Promise<DatasetManifest | undefined> {
      const entry = await manifests.get(datasetId);
      return entry && entry.operation === 'PUT' ? DatasetManifest.fromJSON(entry.json()) : undefined;
    },
    async put(manifest: DatasetManifest): Promise<void> {
      await manifests.put(manifest.datasetId, JSON.stringify(DatasetManifest.toJSON(manifest)));
    },
    /** The next version number: one more than the newest manifest's. */
    async nextVersion(): Promise<number> {
      let newest = 0;
      for await (const key of await manifests.keys()) {
        const manifest = await this.get(key);
        newest = Math.max(newest, manifest?.version ?? 0);
      }
      return newest + 1;
    },
  };
}

export type DatasetRegistry = Awaited<ReturnType<typeof openDatasetRegistry>>;
