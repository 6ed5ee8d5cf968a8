import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { DeadLetter, type JsonCodec } from '@trajectory/contracts';
import { getLogger, type Span, SpanKind, withSpan } from '@trajectory/telemetry';
import type { Bus } from './connection.js';
import { decodeEvent, PoisonMessageError, publishEvent, traceContextOf } from './events.js';
import { workerMetrics } from './metrics.js';
import { ensureWorkQueue, SUBJECTS, type WorkQueueSpec } from './topology.js';

export interface WorkerOptions<T> {
  bus: Bus;
  queue: WorkQueueSpec;
  codec: JsonCodec<T>;
  handle: (event: T, meta: { subject: string; deliveries: number; streamSequence: number }) => Promise<void>;
  /**
   * Attributes of the delivery's span taken from the decoded event, such as the conversation it
   * is about (ATTR_CONVERSATION_ID), so that a trace can be searched by it; undefined ones are left out.
   */
  spanAttributes?: (event: T) => Record<string, string | number | boolean | undefined>;
  /** Messages in progress at once in this process; small so that several workers share a backlog evenly. */
  batch?: number;
  /**
   * How long stop() lets in-flight messages finish before it hands them back (nak: redelivered
   * at once), so that a process asked to stop never keeps a message for a whole ack window.
   */
  stopGraceMs?: number;
}

export interface Worker {
  /**
   * Stops pulling, gives in-flight messages stopGraceMs to finish (acked or nak'ed as usual),
   * hands back those still running, then resolves.
   */
  stop(): Promise<void>;
  /** Resolves when the loop ends. */
  done: Promise<void>;
}

const DEFAULT_STOP_GRACE_MS = 5_000;
/** How long one pull waits for messages before the next is sent. */
const PULL_EXPIRES_MS = 5_000;
/** Pause before a pull that failed (NATS restarting, the consumer being recreated) is sent again. */
const PULL_RETRY_MS = 1_000;

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The at-least-once worker loop shared by every consumer: ack on success, nak with backoff
 * on failure, and after max_deliver attempts (or at once for a poison message) publish a
 * DeadLetter on trajectory.dlq.<durable> and terminate the message so the queue moves on.
 *
 * It pulls only as many messages as it can start: a pulled message is either in progress (and
 * kept ours by heartbeats) or handed back, never waiting in a buffer while its ack window runs
 * out, which would redeliver it to a busy worker and spend its deliveries during a long outage.
 */
export async function startWorker<T>(options: WorkerOptions<T>): Promise<Worker> {
  const { bus, queue, codec, handle } = options;
  const capacity = options.batch ?? 4;
  const log = getLogger().child({ consumer: queue.durable });
  await ensureWorkQueue(bus.jsm, queue);
  const consumer = await bus.js.consumers.get(queue.stream, queue.durable);
  const metrics = workerMetrics(queue.durable, async () => (await consumer.info()).num_pending);

  let stopping = false;
  let pulling: ConsumerMessages | undefined;
  /** In-flight messages, each with how to hand it back should stop() run out of patience. */
  const inFlight = new Map<Promise<void>, () => void>();

  /** One message in progress: the heartbeats that keep it ours, until it is handed back. */
  interface Lease {
    heartbeat: NodeJS.Timeout;
    handedBack: boolean;
  }

  const processOne = async (msg: JsMsg, lease: Lease) => {
    const deliveries = msg.info.deliveryCount;
    const meta = { subject: msg.subject, deliveries, streamSequence: msg.info.streamSequence };
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      await withSpan(
        `${queue.durable} process`,
        {
          kind: SpanKind.CONSUMER,
          parent: traceContextOf(msg.headers),
          attributes: { 'messaging.destination.name': msg.subject, 'messaging.consumer.group.name': queue.durable, deliveries },
        },
        async (span) => {
          const event = await decodeEvent(bus, codec, msg.data, msg.headers);
          if (options.spanAttributes) setDefined(span, options.spanAttributes(event));
          await handle(event, meta);
        },
      );
      if (!lease.handedBack) {
        msg.ack();
        metrics.processed(seconds());
      }
    } catch (err) {
      if (lease.handedBack) return;
      const error = err as Error;
      const poison = error instanceof PoisonMessageError;
      metrics.failed(seconds(), error, poison || deliveries >= queue.maxDeliver);
      if (poison || deliveries >= queue.maxDeliver) {
        log.error({ err: error, ...meta }, poison ? 'poison message: dead-lettered' : 'retries exhausted: dead-lettered');
        try {
          await deadLetter(bus, queue, msg, error);
          // No reason after +TERM: a server before 2.10 (Debian's 2.9) takes "+TERM <reason>" for
          // no ack at all and redelivers; the reason is in the dead letter.
          msg.term();
        } catch (dlqErr) {
          // Without a dead letter on record the message must not be dropped: let it come back.
          log.error({ err: dlqErr }, 'dead-letter publish failed; message will be redelivered');
          msg.nak(queue.backoffMs.at(-1));
        }
      } else {
        const delay = queue.backoffMs[Math.min(deliveries - 1, queue.backoffMs.length - 1)] ?? 1_000;
        log.warn({ err: error, ...meta, retryInMs: delay }, 'handler failed: will retry');
        msg.nak(delay);
      }
    } finally {
      clearInterval(lease.heartbeat);
    }
  };

  const begin = (msg: JsMsg) => {
    // Keep the message ours while a slow handler runs: the ack window is short, so that a killed
    // worker's messages come back in seconds, and these heartbeats are what keep a live one's.
    const lease: Lease = { heartbeat: setInterval(() => msg.working(), Math.max(1_000, queue.ackWaitMs / 3)), handedBack: false };
    const p = processOne(msg, lease).finally(() => inFlight.delete(p));
    inFlight.set(p, () => {
      // Nothing more is said about a message handed back: it may already be another worker's.
      lease.handedBack = true;
      clearInterval(lease.heartbeat);
      msg.nak();
    });
  };

  const done = (async () => {
    while (!stopping) {
      if (inFlight.size >= capacity) {
        await Promise.race(inFlight.keys());
        continue;
      }
      try {
        pulling = await consumer.fetch({ max_messages: capacity - inFlight.size, expires: PULL_EXPIRES_MS });
        for await (const msg of pulling) {
          // Delivered after stop() began: another worker (or this one, restarted) can have it now.
          if (stopping) msg.nak();
          else begin(msg);
        }
      } catch (err) {
        if (stopping) break;
        log.warn({ err }, 'pull failed: retrying');
        await new Promise((r) => setTimeout(r, PULL_RETRY_MS));
      } finally {
        pulling = undefined;
      }
    }
    await Promise.allSettled(inFlight.keys());
  })().finally(() => metrics.close());

  return {
    done,
    async stop() {
      stopping = true;
      void pulling?.close().catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'grace over'>((resolve) => {
        timer = setTimeout(resolve, options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS, 'grace over');
      });
      const outcome = await Promise.race([done, grace]);
      clearTimeout(timer);
      if (outcome === 'grace over') {
        log.warn({ messages: inFlight.size }, 'in-flight messages handed back unfinished at stop');
        for (const handBack of inFlight.values()) handBack();
        inFlight.clear();
      }
    },
  };
}

function setDefined(span: Span, attributes: Record<string, string | number | boolean | undefined>): void {
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) span.setAttribute(key, value);
}

async function deadLetter(bus: Bus, queue: WorkQueueSpec, msg: JsMsg, error: Error): Promise<void> {
  let payload: string;
  let payloadBase64 = false;
  try {
    payload = textDecoder.decode(msg.data);
  } catch {
    payload = Buffer.from(msg.data).toString('base64');
    payloadBase64 = true;
  }
  const letter: DeadLetter = {
    originalSubject: msg.subject,
    stream: msg.info.stream,
    consumer: queue.durable,
    streamSequence: msg.info.streamSequence,
    deliveries: msg.info.deliveryCount,
    error: error.message,
    payload,
    payloadBase64,
    failedAt: new Date(),
  };
  await publishEvent(
    bus,
    SUBJECTS.deadLetter(queue.durable),
    DeadLetter,
    letter,
    `dlq:${msg.info.stream}:${queue.durable}:${msg.info.streamSequence}`,
  );
}
