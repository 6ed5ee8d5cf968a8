import { BUCKETS, STREAMS, SUBJECTS, WORK_QUEUES, type WorkQueueSpec } from './topology.js';

/**
 * NATS users and what each may publish and subscribe to, derived from the topology: one user per
 * service, one for the GPU trainer, one for the CLI and a read-only observer. A client that tries
 * a subject outside its lists is refused by the server ("Permissions Violation").
 *
 * The lists were found by running every client against a nats-server that traces each message
 * (and then one with these permissions that logs each refusal): JetStream clients also publish
 * requests to its API ($JS.API.*), acks to $JS.ACK.<stream>.<consumer>.*, and KV or object store
 * writes to $KV.<bucket>.* and $O.<bucket>.*; replies come back on _INBOX.*.
 */

/** What a user may do with a KV bucket or an object store. */
export type BucketAccess =
  /** look up and read entries (kv.get, watch, keys; an object's chunks) */
  | 'read'
  /** read, and create the bucket when it is missing (a reader that may start first) */
  | 'create'
  /** create, read and write (put, delete, an object's overwrite purges its old chunks) */
  | 'write';

export interface NatsUserAccess {
  /** Its client library, whose JetStream calls differ: nats.js (the services) or nats-py (the trainer). */
  client: 'nats.js' | 'nats-py';
  /** Event subjects it publishes. */
  publishes: string[];
  /** Work queues it pulls from, acks, and dead-letters to trajectory.dlq.<durable>. */
  consumes: WorkQueueSpec[];
  /** Work queues it creates or updates at start (ensureWorkQueue). */
  declares: WorkQueueSpec[];
  /** Creates or updates the streams at start: every connectBus does (ensureStreams). */
  ensuresStreams: boolean;
  kv: Record<string, BucketAccess>;
  objects: Record<string, BucketAccess>;
  /** Subjects it subscribes to with a plain (core NATS) subscription. */
  subscribes: string[];
}

const none: NatsUserAccess = {
  client: 'nats.js',
  publishes: [],
  consumes: [],
  declares: [],
  ensuresStreams: false,
  kv: {},
  objects: {},
  subscribes: [],
};
/** Every event passes through the claim check store when it is larger than max_payload: publishers write it, consumers read it. */
const claims = { [BUCKETS.claims]: 'write' } as const;

/**
 * Who does what on the bus. The services connect with connectBus (so they ensure the streams) and
 * serve their work queues with startWorker (so they declare them); the trainer (trainer-gpu/,
 * Python) only binds to the queue the training service declares.
 */
export const NATS_USER_ACCESS = {
  ingestion: {
    ...none,
    publishes: [SUBJECTS.conversationIngested],
    ensuresStreams: true,
    kv: { [BUCKETS.ingestLedger]: 'write', [BUCKETS.ingestJobs]: 'write' },
    objects: { ...claims, [BUCKETS.ingestedConversations]: 'write' },
  },
  segmentation: {
    ...none,
    publishes: [SUBJECTS.conversationSegmented],
    consumes: [WORK_QUEUES.segmentation],
    declares: [WORK_QUEUES.segmentation],
    ensuresStreams: true,
    objects: claims,
  },
  graph: {
    ...none,
    publishes: [SUBJECTS.graphStored],
    consumes: [WORK_QUEUES.graph],
    declares: [WORK_QUEUES.graph],
    ensuresStreams: true,
    objects: claims,
  },
  samples: {
    ...none,
    publishes: [SUBJECTS.datasetBuilt],
    ensuresStreams: true,
    kv: { [BUCKETS.datasetManifests]: 'write' },
    objects: { ...claims, [BUCKETS.datasetObjects]: 'write' },
  },
  training: {
    ...none,
    publishes: [SUBJECTS.training('queued'), SUBJECTS.training('cancelled'), SUBJECTS.training('failed'), SUBJECTS.adapterPublished],
    consumes: [WORK_QUEUES.trainingRegistry],
    // The trainers' queue is the training service's to declare: jobs wait there for a trainer.
    declares: [WORK_QUEUES.trainingRegistry, WORK_QUEUES.trainer],
    ensuresStreams: true,
    kv: { [BUCKETS.trainingJobs]: 'write', [BUCKETS.adapterRegistry]: 'write', [BUCKETS.datasetManifests]: 'create' },
    objects: { ...claims, [BUCKETS.adapterObjects]: 'create', [BUCKETS.datasetObjects]: 'create' },
  },
  trainer: {
    ...none,
    client: 'nats-py',
    publishes: [SUBJECTS.training('running'), SUBJECTS.training('progress'), SUBJECTS.training('succeeded'), SUBJECTS.training('failed')],
    consumes: [WORK_QUEUES.trainer],
    kv: { [BUCKETS.trainingJobs]: 'read' },
    // It uploads adapters, creating the store when it starts before the training service has.
    objects: { [BUCKETS.claims]: 'read', [BUCKETS.datasetObjects]: 'read', [BUCKETS.adapterObjects]: 'write' },
  },
  /** `trajectory events`; everything else the CLI does goes through the services' gRPC APIs. */
  cli: { ...none, subscribes: ['trajectory.>'] },
  /** Any NATS client that watches the pipeline (`nats sub 'trajectory.>'`): reads events, publishes nothing. */
  observer: { ...none, subscribes: ['trajectory.>'] },
} satisfies Record<string, NatsUserAccess>;

export type NatsUserName = keyof typeof NATS_USER_ACCESS;
export const NATS_USER_NAMES = Object.keys(NATS_USER_ACCESS) as NatsUserName[];

/** nats-server's `permissions` of a user (the same shape in its config file as in JSON). */
export interface NatsPermissions {
  /** `allow` lists what it may publish; a user that may publish nothing has `deny: ['>']` (an empty allow list would allow everything). */
  publish: { allow: string[] } | { deny: string[] };
  subscribe: { allow: string[] };
}

export interface NatsUser {
  user: string;
  permissions: NatsPermissions;
}

const API = '$JS.API';

/**
 * The requests behind the ordered consumers that KV watch and keys and an object's chunks are read
 * with: nats.js names them, asks for a KV watcher's info and deletes one it resets; nats-py reads
 * KV entries by direct get only, and creates an object reader's consumer unnamed after looking up
 * the stream by subject.
 */
function orderedConsumers(kind: 'kv' | 'objects', stream: string, client: NatsUserAccess['client']): string[] {
  // Ordered consumers ask for flow control: on a large read (an object of many chunks, a claim
  // check of one of the long conversations of a 1,122-conversation history) the server waits for
  // the client's reply to $JS.FC.<stream>.…, and without it the read stalls and the work item is
  // never acked.
  const flowControl = `$JS.FC.${stream}.>`;
  if (client === 'nats-py') return kind === 'objects' ? [`${API}.CONSUMER.CREATE.${stream}`, `${API}.STREAM.NAMES`, flowControl] : [];
  const info = kind === 'kv' ? [`${API}.CONSUMER.INFO.${stream}.*`] : [];
  return [`${API}.CONSUMER.CREATE.${stream}.>`, ...info, `${API}.CONSUMER.DELETE.${stream}.*`, flowControl];
}

/**
 * The JetStream API requests a client sends for a KV bucket's stream (KV_<bucket>) or an object
 * store's (OBJ_<bucket>), and the subjects it writes to.
 */
function bucketSubjects(kind: 'kv' | 'objects', bucket: string, access: BucketAccess, client: NatsUserAccess['client']): string[] {
  const stream = kind === 'kv' ? `KV_${bucket}` : `OBJ_${bucket}`;
  const subjects = [
    `${API}.STREAM.INFO.${stream}`,
    // kv.get is a direct get by subject; an object's metadata is a stream message get
    kind === 'kv' ? `${API}.DIRECT.GET.${stream}.>` : `${API}.STREAM.MSG.GET.${stream}`,
    ...orderedConsumers(kind, stream, client),
  ];
  if (access !== 'read') subjects.push(`${API}.STREAM.CREATE.${stream}`);
  if (access === 'write') {
    subjects.push(kind === 'kv' ? `$KV.${bucket}.>` : `$O.${bucket}.>`);
    // putting an object under a name it already has purges the old chunks
    if (kind === 'objects') subjects.push(`${API}.STREAM.PURGE.${stream}`);
  }
  return subjects;
}

/** The permissions of one user, derived from its access. */
export function natsPermissions(access: NatsUserAccess): NatsPermissions {
  const publish = new Set<string>(access.publishes);
  const usesJetStream =
    access.ensuresStreams || access.consumes.length + access.declares.length + Object.keys({ ...access.kv, ...access.objects }).length > 0;
  // nats.js asks for the account's JetStream info when it opens JetStream.
  if (usesJetStream && access.client === 'nats.js') publish.add(`${API}.INFO`);
  if (access.ensuresStreams) {
    for (const stream of Object.values(STREAMS)) {
      for (const op of ['INFO', 'CREATE', 'UPDATE']) publish.add(`${API}.STREAM.${op}.${stream.name}`);
    }
  }
  for (const q of access.declares) {
    publish.add(`${API}.CONSUMER.INFO.${q.stream}.${q.durable}`);
    // create and update alike, with the filter subject in the request subject (servers since 2.9)
    publish.add(`${API}.CONSUMER.CREATE.${q.stream}.${q.durable}.>`);
  }
  for (const q of access.consumes) {
    publish.add(`${API}.CONSUMER.INFO.${q.stream}.${q.durable}`);
    publish.add(`${API}.CONSUMER.MSG.NEXT.${q.stream}.${q.durable}`);
    // ack, nak, +WPI and +TERM are replies to the delivery's subject
    publish.add(`$JS.ACK.${q.stream}.${q.durable}.>`);
    publish.add(SUBJECTS.deadLetter(q.durable));
  }
  for (const kind of ['kv', 'objects'] as const) {
    for (const [bucket, level] of Object.entries(access[kind])) {
      for (const s of bucketSubjects(kind, bucket, level, access.client)) publish.add(s);
    }
  }
  // Replies to its requests (JetStream's included) come to its inbox; deliveries of ordered
  // consumers too.
  const subscribe = new Set<string>(access.subscribes);
  if (usesJetStream || publish.size > 0) subscribe.add('_INBOX.>');
  return {
    publish: publish.size > 0 ? { allow: [...publish] } : { deny: ['>'] },
    subscribe: { allow: [...subscribe] },
  };
}

/** Every user a deployment has (the services, the trainer, the CLI, the observer), with its permissions. */
export function natsUsers(): NatsUser[] {
  return NATS_USER_NAMES.map((user) => ({ user, permissions: natsPermissions(NATS_USER_ACCESS[user]) }));
}

/** The environment variable a deployment keeps a user's password in: INGESTION_NATS_PASSWORD, ... */
export const natsPasswordVariable = (user: string) => `${user.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_NATS_PASSWORD`;
