import { JetStreamApiError } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { DatasetManifest } from '@trajectory/contracts';
import type { Bus } from './connection.js';
import { BUCKETS } from './topology.js';

const encode = (manifest: DatasetManifest) => JSON.stringify(DatasetManifest.toJSON(manifest));

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
      await manifests.put(manifest.datasetId, encode(manifest));
    },
    /**
     * Changes a stored manifest (the spot-check's verdicts): `change` sees the manifest as it is
     * now and returns the next one, written only if nobody wrote in between (the entry's
     * revision), else run again on the newer one. Undefined when there is no such dataset.
     */
    async update(datasetId: string, change: (manifest: DatasetManifest) => DatasetManifest, maxAttempts = 50) {
      for (let attempt = 1; ; attempt++) {
        const entry = await manifests.get(datasetId);
        if (!entry || entry.operation !== 'PUT') return undefined;
        const next = change(DatasetManifest.fromJSON(entry.json()));
        try {
          await manifests.update(datasetId, encode(next), entry.revision);
          return next;
        } catch (err) {
          const conflict = err instanceof JetStreamApiError && (err.code === 10071 || err.code === 10164);
          if (!conflict || attempt >= maxAttempts) throw err;
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 5 * attempt)));
        }
      }
    },
    /** Every stored version, newest first. */
    async list(): Promise<DatasetManifest[]> {
      const all: DatasetManifest[] = [];
      for await (const key of await manifests.keys()) {
        const manifest = await this.get(key);
        if (manifest) all.push(manifest);
      }
      return all.sort((a, b) => b.version - a.version || (b.builtAt?.getTime() ?? 0) - (a.builtAt?.getTime() ?? 0));
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
