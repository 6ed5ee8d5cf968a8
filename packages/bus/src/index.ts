export { type Bus, type BusOptions, connectBus } from './connection.js';
export { DATASET_MANIFESTS, DATASET_OBJECTS, type DatasetRegistry, openDatasetRegistry } from './datasets.js';
export {
  CLAIM_BUCKET,
  CLAIM_CHECK_HEADER,
  decodeEvent,
  PoisonMessageError,
  type PublishResult,
  publishEvent,
  sha256,
  traceContextOf,
} from './events.js';
export { BUCKETS, ensureStreams, ensureWorkQueue, STREAMS, SUBJECTS, WORK_QUEUES, type WorkQueueSpec } from './topology.js';
export { startWorker, type Worker, type WorkerOptions } from './worker.js';
