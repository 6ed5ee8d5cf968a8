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
// The names and settings live in topology.json because the Python trainer (trainer-gpu/) reads the
// same file: a rename there reaches both sides at once. tsc copies it next to this module in dist/.
import topology from './topology.json' with { type: 'json' };

/** Every subject the pipeline publishes on. Documented in the README. */
export const SUBJECTS = {
  conversationIngested: topology.subjects.conversationIngested,
  conversationSegmented: topology.subjects.conversationSegmented,
  graphStored: topology.subjects.graphStored,
  datasetBuilt: topology.subjects.datasetBuilt,
  /** trajectory.training.<state>: queued, running, progress, succeeded, failed, cancelled */
  training: (state: string) => topology.subjects.training.replace('{state}', state),
  adapterPublished: topology.subjects.adapterPublished,
  deadLetter: (consumer: string) => topology.subjects.deadLetter.replace('{consumer}', consumer),
} as const;

const DAY_MS = 24 * 60 * 60 * 1000;

type StreamSpec = (typeof topology.streams)[keyof typeof topology.streams];

/** The value of one of @nats-io/jetstream's enum objects that the file names, checked at load. */
function member<T extends Record<string, string>>(values: T, value: string, what: string): T[keyof T] {
  const found = Object.values(values).find((v) => v === value);
  if (found === undefined) throw new Error(`topology.json: ${what} '${value}' is none of ${Object.values(values).join(', ')}`);
  return found as T[keyof T];
}

function streamConfig(spec: StreamSpec) {
  return {
    name: spec.name,
    subjects: spec.subjects,
    retention: member(RetentionPolicy, spec.retention, `${spec.name} retention`),
    storage: member(StorageType, spec.storage, `${spec.name} storage`),
    discard: member(DiscardPolicy, spec.discard, `${spec.name} discard`),
    max_age: nanos(spec.maxAgeDays * DAY_MS),
    // 10 minutes in the file: long enough to swallow a re-upload of the same export and every redelivery burst.
    duplicate_window: nanos(spec.duplicateWindowMs),
    num_replicas: spec.replicas,
  } satisfies Partial<StreamConfig> & { name: string; subjects: string[] };
}

export const STREAMS = {
  events: streamConfig(topology.streams.events),
  deadLetters: streamConfig(topology.streams.deadLetters),
};

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
 * Durable pull consumers. Every worker of a service binds to the same durable, so JetStream
 * hands each message to one of them: scaling out is starting another process.
 *
 * - segmentation, graph, trainingRegistry: served by startWorker, whose ack window is short
 *   (10 s) because a live worker renews it with heartbeats during long work, and it is all that a
 *   killed worker's messages wait before they are redelivered.
 * - trainer: training jobs for GPU trainers (trainer-gpu/, Python), one job per trainer at a time.
 *   A trainer marks its job in progress at least every ackWait; a trainer that dies stops doing
 *   so, and the job is redelivered to the next trainer, which resumes from the job's last
 *   checkpoint.
 * - trainingRegistry: the training service folds the trainers' events into the job registry.
 */
export const WORK_QUEUES = topology.workQueues satisfies Record<string, WorkQueueSpec>;

/**
 * JetStream KV buckets and object stores: those shared between services (and the Python trainer),
 * ingestion's own, and the claim checks of events larger than max_payload. The NATS users'
 * permissions (permissions.ts) name them.
 */
export const BUCKETS = Object.freeze(topology.buckets);

/** Events larger than max_payload travel as a ClaimCheck under this header (events.ts). */
export const CLAIM_CHECK_HEADER = topology.claimCheckHeader;

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
