import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';

/** Every subject the pipeline publishes on. Documented in the README. */
export const SUBJECTS = {
  conversationIngested: 'trajectory.conversation.ingested',
  conversationSegmented: 'trajectory.conversation.segmented',
  graphStored: 'trajectory.graph.stored',
  datasetBuilt: 'trajectory.dataset.built',
  /** trajectory.training.<state>: queued, running, progress, succeeded, failed, cancelled */
  training: (state: string) => `trajectory.training.${state}`,
  adapterPublished: 'trajectory.adapter.published',
  deadLetter: (consumer: string) => `trajectory.dlq.${consumer}`,
} as const;

const DAY_MS = 24 * 60 * 60 * 1000;

export const STREAMS = {
  events: {
    name: 'TRAJECTORY_EVENTS',
    subjects: ['trajectory.conversation.>', 'trajectory.graph.>', 'trajectory.dataset.>', 'trajectory.training.>', 'trajectory.adapter.>'],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(30 * DAY_MS),
    // Long enough to swallow a re-upload of the same export and every redelivery burst.
    duplicate_window: nanos(10 * 60 * 1000),
    num_replicas: 1,
  },
  deadLetters: {
    name: 'TRAJECTORY_DLQ',
    subjects: ['trajectory.dlq.>'],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(90 * DAY_MS),
    duplicate_window: nanos(10 * 60 * 1000),
    num_replicas: 1,
  },
} satisfies Record<string, Partial<StreamConfig> & { name: string; subjects: string[] }>;

export interface WorkQueueSpec {
  stream: string;
  durable: string;
  filterSubject: string;
  /** Deliveries before a message is dead-lettered. */
  maxDeliver: number;
  /** Delay before redelivery after the n-th failed attempt (last value repeats). */
  backoffMs: number[];
  /**
   * How long a delivered message may go without an ack or a heartbeat (startWorker sends one
   * every third of it) before it is redelivered: what a worker killed mid-message costs.
   */
  ackWaitMs: number;
  maxAckPending: number;
}

/**
 * The ack window of the consumers startWorker serves: short, because a live worker renews it with
 * heartbeats during long work, and it is all that a killed worker's messages wait before they
 * are redelivered.
 */
const WORKER_ACK_WAIT_MS = 10_000;

/**
 * Durable pull consumers. Every worker of a service binds to the same durable, so JetStream
 * hands each message to one of them: scaling out is starting another process.
 */
export const WORK_QUEUES = {
  segmentation: {
    stream: STREAMS.events.name,
    durable: 'segmentation',
    filterSubject: SUBJECTS.conversationIngested,
    maxDeliver: 5,
    backoffMs: [1_000, 5_000, 15_000, 30_000],
    ackWaitMs: WORKER_ACK_WAIT_MS,
    maxAckPending: 256,
  },
  graph: {
    stream: STREAMS.events.name,
    durable: 'graph-writer',
    filterSubject: SUBJECTS.conversationSegmented,
    maxDeliver: 5,
    backoffMs: [1_000, 5_000, 15_000, 30_000],
    ackWaitMs: WORKER_ACK_WAIT_MS,
    maxAckPending: 256,
  },
  /**
   * Training jobs for GPU trainers (trainer-gpu/, Python): one job per trainer at a time. A trainer
   * marks its job in progress at least every ackWait; a trainer that dies stops doing so, and the
   * job is redelivered to the next trainer, which resumes from the job's last checkpoint.
   */
  trainer: {
    stream: STREAMS.events.name,
    durable: 'trainer',
    filterSubject: SUBJECTS.training('queued'),
    maxDeliver: 5,
    backoffMs: [5_000, 30_000, 60_000],
    ackWaitMs: 60_000,
    maxAckPending: 16,
  },
  /** The training service folds the trainers' events into the job registry. */
  trainingRegistry: {
    stream: STREAMS.events.name,
    durable: 'training-registry',
    filterSubject: 'trajectory.training.>',
    maxDeliver: 10,
    backoffMs: [500, 2_000, 10_000],
    ackWaitMs: WORKER_ACK_WAIT_MS,
    maxAckPending: 256,
  },
} satisfies Record<string, WorkQueueSpec>;

/**
 * JetStream KV buckets and object stores: those shared between services (and the Python trainer),
 * ingestion's own, and the claim checks of events larger than max_payload. The NATS users'
 * permissions (permissions.ts) name them.
 */
export const BUCKETS = {
  trainingJobs: 'trajectory_training_jobs',
  adapterRegistry: 'trajectory_adapter_registry',
  adapterObjects: 'trajectory_adapters',
  datasetManifests: 'trajectory_dataset_manifests',
  datasetObjects: 'trajectory_datasets',
  ingestLedger: 'trajectory_ingest_ledger',
  ingestJobs: 'trajectory_ingest_jobs',
  ingestedConversations: 'trajectory_ingested_conversations',
  claims: 'trajectory_claims',
} as const;

function consumerConfig(spec: WorkQueueSpec): Partial<ConsumerConfig> {
  return {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: spec.filterSubject,
    max_deliver: spec.maxDeliver,
    ack_wait: nanos(spec.ackWaitMs),
    max_ack_pending: spec.maxAckPending,
  };
}

function isNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.status === 404;
}

/** Creates or updates the streams; safe to call from every process on every start. */
export async function ensureStreams(jsm: JetStreamManager): Promise<void> {
  for (const stream of Object.values(STREAMS)) {
    try {
      const info = await jsm.streams.info(stream.name);
      const same =
        JSON.stringify([...info.config.subjects].sort()) === JSON.stringify([...stream.subjects].sort()) &&
        info.config.max_age === stream.max_age &&
        info.config.duplicate_window === stream.duplicate_window;
      if (!same) await jsm.streams.update(stream.name, { ...info.config, ...stream });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await jsm.streams.add(stream);
      } catch (addErr) {
        // Another process created it between our info and add: that is the outcome we wanted.
        if (!(addErr instanceof JetStreamApiError && addErr.code === 10058)) throw addErr;
      }
    }
  }
}

/** Creates or updates a durable consumer; concurrent callers converge on the same config. */
export async function ensureWorkQueue(jsm: JetStreamManager, spec: WorkQueueSpec): Promise<void> {
  const config = consumerConfig(spec);
  try {
    await jsm.consumers.info(spec.stream, spec.durable);
    await jsm.consumers.update(spec.stream, spec.durable, config);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.consumers.add(spec.stream, config);
  }
}
