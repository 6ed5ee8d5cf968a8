import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { DeadLetter, type JsonCodec } from '@trajectory/contracts';
import { getLogger, SpanKind, withSpan } from '@trajectory/telemetry';
import type { Bus } from './connection.js';
import { decodeEvent, PoisonMessageError, publishEvent, traceContextOf } from './events.js';
import { ensureWorkQueue, SUBJECTS, type WorkQueueSpec } from './topology.js';

export interface WorkerOptions<T> {
  bus: Bus;
  queue: WorkQueueSpec;
  codec: JsonCodec<T>;
  handle: (event: T, meta: { subject: string; deliveries: number; streamSequence: number }) => Promise<void>;
  /** Messages pulled at once; small so that several workers share a backlog evenly. */
  batch?: number;
}

export interface Worker {
  /** Stops pulling, lets in-flight messages finish (they are acked or nak'ed), then resolves. */
  stop(): Promise<void>;
  /** Resolves when the loop ends. */
  done: Promise<void>;
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The at-least-once worker loop shared by every consumer: ack on success, nak with backoff
 * on failure, and after max_deliver attempts (or at once for a poison message) publish a
 * DeadLetter on trajectory.dlq.<durable> and terminate the message so the queue moves on.
 */
export async function startWorker<T>(options: WorkerOptions<T>): Promise<Worker> {
  const { bus, queue, codec, handle } = options;
  const log = getLogger().child({ consumer: queue.durable });
  await ensureWorkQueue(bus.jsm, queue);
  const consumer = await bus.js.consumers.get(queue.stream, queue.durable);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: options.batch ?? 4 });

  const processOne = async (msg: JsMsg) => {
    const deliveries = msg.info.deliveryCount;
    const meta = { subject: msg.subject, deliveries, streamSequence: msg.info.streamSequence };
    // Keep the message ours while a slow handler runs.
    const heartbeat = setInterval(() => msg.working(), Math.max(1_000, queue.ackWaitMs / 3));
    try {
      await withSpan(
        `${queue.durable} process`,
        {
          kind: SpanKind.CONSUMER,
          parent: traceContextOf(msg.headers),
          attributes: { 'messaging.destination.name': msg.subject, 'messaging.consumer.group.name': queue.durable, deliveries },
        },
        async () => {
          const event = await decodeEvent(bus, codec, msg.data, msg.headers);
          await handle(event, meta);
        },
      );
      msg.ack();
    } catch (err) {
      const error = err as Error;
      const poison = error instanceof PoisonMessageError;
      if (poison || deliveries >= queue.maxDeliver) {
        log.error({ err: error, ...meta }, poison ? 'poison message: dead-lettered' : 'retries exhausted: dead-lettered');
        try {
          await deadLetter(bus, queue, msg, error);
          msg.term(error.message.slice(0, 200));
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
      clearInterval(heartbeat);
    }
  };

  const inFlight = new Set<Promise<void>>();
  const done = (async () => {
    for await (const msg of messages) {
      const p = processOne(msg).finally(() => inFlight.delete(p));
      inFlight.add(p);
      // Bounded concurrency: at most `batch` messages in progress per process.
      if (inFlight.size >= (options.batch ?? 4)) await Promise.race(inFlight);
    }
    await Promise.allSettled(inFlight);
  })();

  return {
    done,
    async stop() {
      await messages.close().catch(() => undefined);
      await done;
    },
  };
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
