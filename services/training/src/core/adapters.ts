import { Adapter, type DatasetManifest, type TrainingJob } from '@trajectory/contracts';

/** FetchAdapter sends files in chunks of at most this many bytes. */
export const ADAPTER_CHUNK_BYTES = 256 * 1024;

/** An adapter the registry cannot accept: its listing or its files do not check out. */
export class AdapterRejected extends Error {
  override name = 'AdapterRejected';
}

// KV keys allow [-/_=.a-zA-Z0-9]; an adapter id is also the folder of its files, so no '/'.
const ADAPTER_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.=-]{0,199}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** The object of an adapter file in the object store: `<adapterId>/<name>`. */
export function adapterObjectName(adapterId: string, fileName: string): string {
  return `${adapterId}/${fileName}`;
}

/** Where AdapterPublished says the adapter lies: `nats://<bucket>/<adapterId>/`. */
export function adapterUri(bucket: string, adapterId: string): string {
  return `nats://${bucket}/${adapterId}/`;
}

/** A relative path with no empty, '.' or '..' segment (merged/model.safetensors is fine). */
export function isSafeFileName(name: string): boolean {
  if (!name || name.startsWith('/') || name.includes('\\') || name.includes('\u0000')) return false;
  return name.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/**
 * Checks what a trainer says it uploaded before any byte is read: an id, at least one file, safe
 * and distinct names, sha256 digests, sizes, and the adapter's digest matching its weights file.
 */
export function checkAdapterListing(adapter: Adapter | undefined): asserts adapter is Adapter {
  if (!adapter) throw new AdapterRejected('the succeeded event carries no adapter');
  if (!ADAPTER_ID.test(adapter.adapterId)) throw new AdapterRejected(`invalid adapter id ${JSON.stringify(adapter.adapterId)}`);
  if (adapter.files.length === 0) throw new AdapterRejected(`adapter ${adapter.adapterId} lists no files`);
  const seen = new Set<string>();
  for (const file of adapter.files) {
    if (!isSafeFileName(file.name)) throw new AdapterRejected(`adapter file name ${JSON.stringify(file.name)} is not a safe relative path`);
    if (seen.has(file.name)) throw new AdapterRejected(`adapter file ${file.name} is listed twice`);
    seen.add(file.name);
    if (!SHA256.test(file.sha256))
      throw new AdapterRejected(`adapter file ${file.name}: sha256 ${JSON.stringify(file.sha256)} is not a hex digest`);
    if (!(file.size >= 0)) throw new AdapterRejected(`adapter file ${file.name}: invalid size ${file.size}`);
  }
  const weights = adapter.files.find((f) => f.name === 'adapter_model.safetensors');
  if (adapter.sha256 && weights && adapter.sha256 !== weights.sha256) {
    throw new AdapterRejected(
      `adapter ${adapter.adapterId}: sha256 ${adapter.sha256} differs from adapter_model.safetensors's ${weights.sha256}`,
    );
  }
}

/** The adapter's metadata with what the trainer left out taken from its job and dataset. */
export function completeAdapter(adapter: Adapter, job: TrainingJob, manifest: DatasetManifest | undefined, now: Date): Adapter {
  const weights = adapter.files.find((f) => f.name === 'adapter_model.safetensors');
  return Adapter.fromPartial({
    ...adapter,
    jobId: adapter.jobId || job.jobId,
    baseModel: adapter.baseModel || job.baseModel,
    datasetId: adapter.datasetId || job.datasetId,
    datasetVersion: adapter.datasetVersion || job.datasetVersion || manifest?.version || 0,
    datasetObjects: adapter.datasetObjects.length > 0 ? adapter.datasetObjects : (manifest?.objects ?? []),
    hyperparameters: adapter.hyperparameters ?? job.hyperparameters,
    metrics: Object.keys(adapter.metrics).length > 0 ? adapter.metrics : job.metrics,
    recall: adapter.recall ?? job.recall,
    sha256: adapter.sha256 || weights?.sha256 || '',
    createdAt: adapter.createdAt ?? now,
  });
}

/** Re-cuts a byte stream into pieces of at most `max` bytes (the object store's chunks are its own). */
export async function* rechunk(source: AsyncIterable<Uint8Array>, max = ADAPTER_CHUNK_BYTES): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let size = 0;
  for await (const piece of source) {
    let rest = piece;
    while (rest.byteLength > 0) {
      const take = Math.min(max - size, rest.byteLength);
      pending.push(rest.subarray(0, take));
      size += take;
      rest = rest.subarray(take);
      if (size === max) {
        yield concat(pending, size);
        pending = [];
        size = 0;
      }
    }
  }
  if (size > 0) yield concat(pending, size);
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1 && parts[0]) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
