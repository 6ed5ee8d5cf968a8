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
export {
  type BucketAccess,
  NATS_USER_ACCESS,
  NATS_USER_NAMES,
  type NatsPermissions,
  type NatsUser,
  type NatsUserAccess,
  type NatsUserName,
  natsPasswordVariable,
  natsPermissions,
  natsUsers,
} from './permissions.js';
export { BUCKETS, ensureStreams, ensureWorkQueue, STREAMS, SUBJECTS, WORK_QUEUES, type WorkQueueSpec } from './topology.js';
export { startWorker, type Worker, type WorkerOptions } from './worker.js';
