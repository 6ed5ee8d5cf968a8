import { createHash } from 'node:crypto';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { type ObjectStore, Objm } from '@nats-io/obj';
import { BUCKETS } from '@trajectory/bus';
import { Adapter } from '@trajectory/contracts';
import { ServiceError } from '@trajectory/runtime';
import { AdapterRejected, adapterObjectName, checkAdapterListing } from '../core/adapters.js';

export const ADAPTER_REGISTRY_BUCKET = BUCKETS.adapterRegistry;
export const ADAPTER_OBJECTS_BUCKET = BUCKETS.adapterObjects;

/** An adapter id the registry does not know, or a file it does not list: NOT_FOUND to a client. */
export class AdapterNotFound extends ServiceError {
  override name = 'AdapterNotFound';

  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** The bytes of an object store entry as they arrive (the store checks its own digest at the end). */
async function* objectBytes(store: ObjectStore, name: string): AsyncGenerator<Uint8Array> {
  const result = await store.get(name);
  if (!result) throw new AdapterNotFound(`object ${name} is not in ${ADAPTER_OBJECTS_BUCKET}`);
  const reader = result.data.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value && value.byteLength > 0) yield value;
    }
  } finally {
    reader.releaseLock();
  }
  const error = await result.error;
  if (error) throw error;
}

/**
 * Adapters: metadata (Adapter as proto3 JSON) in the KV bucket trajectory_adapter_registry by
 * adapter id, files in the object store trajectory_adapters as `<adapterId>/<name>`. The trainer
 * uploads the files; the training service checks them and records the metadata.
 */
export class AdapterRegistry {
  private constructor(
    readonly kv: KV,
    readonly objects: ObjectStore,
  ) {}

  static async open(nc: NatsConnection): Promise<AdapterRegistry> {
    const kv = await new Kvm(nc).create(ADAPTER_REGISTRY_BUCKET, { history: 1 });
    const objects = await new Objm(nc).create(ADAPTER_OBJECTS_BUCKET);
    return new AdapterRegistry(kv, objects);
  }

  /**
   * Reads every listed file back from the object store and checks its size and sha256; throws
   * AdapterRejected naming the first file that is missing or differs.
   */
  async verify(adapter: Adapter | undefined): Promise<void> {
    checkAdapterListing(adapter);
    for (const file of adapter.files) {
      const name = adapterObjectName(adapter.adapterId, file.name);
      const hash = createHash('sha256');
      let size = 0;
      try {
        for await (const chunk of objectBytes(this.objects, name)) {
          hash.update(chunk);
          size += chunk.byteLength;
        }
      } catch (err) {
        if (err instanceof AdapterNotFound) {
          throw new AdapterRejected(`adapter file ${file.name} is missing: no object ${name} in ${ADAPTER_OBJECTS_BUCKET}`);
        }
        throw new AdapterRejected(`adapter file ${file.name} cannot be read from ${ADAPTER_OBJECTS_BUCKET}: ${(err as Error).message}`);
      }
      const digest = hash.digest('hex');
      if (size !== Number(file.size)) {
        throw new AdapterRejected(`adapter file ${file.name}: ${size} bytes in ${ADAPTER_OBJECTS_BUCKET}, ${file.size} listed`);
      }
      if (digest !== file.sha256) {
        throw new AdapterRejected(`adapter file ${file.name}: sha256 ${digest} in ${ADAPTER_OBJECTS_BUCKET}, ${file.sha256} listed`);
      }
    }
  }

  async put(adapter: Adapter): Promise<void> {
    await this.kv.put(adapter.adapterId, JSON.stringify(Adapter.toJSON(adapter)));
  }

  async get(adapterId: string): Promise<Adapter | undefined> {
    let entry: Awaited<ReturnType<KV['get']>>;
    try {
      entry = await this.kv.get(adapterId);
    } catch {
      return undefined; // not a valid key: no such adapter
    }
    return entry && entry.operation === 'PUT' ? Adapter.fromJSON(entry.json()) : undefined;
  }

  /** All adapters, oldest first; only those of one dataset when `datasetId` is given. */
  async list(datasetId = ''): Promise<Adapter[]> {
    const adapters: Adapter[] = [];
    for await (const key of await this.kv.keys()) {
      const adapter = await this.get(key);
      if (adapter && (!datasetId || adapter.datasetId === datasetId)) adapters.push(adapter);
    }
    adapters.sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0) || a.adapterId.localeCompare(b.adapterId));
    return adapters;
  }

  /** The bytes of one listed file of an adapter. */
  file(adapter: Adapter, fileName: string): AsyncGenerator<Uint8Array> {
    if (!adapter.files.some((f) => f.name === fileName)) throw new AdapterNotFound(`adapter ${adapter.adapterId} has no file ${fileName}`);
    return objectBytes(this.objects, adapterObjectName(adapter.adapterId, fileName));
  }
}
