import { DURATION_BUCKETS_S, type Meter, meter as trajectoryMeter } from '@trajectory/telemetry';

/** Which consumer a worker serves; every metric of the worker carries it. */
const CONSUMER = 'messaging.consumer.group.name';

export interface WorkerMetrics {
  /** A message handled and acked, after `seconds` in its handler. */
  processed(seconds: number): void;
  /** A handler that threw: the message goes back for a retry, or to the dead letters. */
  failed(seconds: number, error: Error, deadLettered: boolean): void;
  /** Stops reporting the queue depth (the worker stopped). */
  close(): void;
}

/**
 * The metrics of one work queue consumer in this process (the service is the resource's
 * service.name): messages processed and failed, the handler's duration, and the consumer's
 * pending messages, read from JetStream at each export by `pending` (a reading that fails is
 * skipped, so the last one stands, rather than reported as an empty queue).
 */
export function workerMetrics(consumer: string, pending: () => Promise<number>, meter: Meter = trajectoryMeter()): WorkerMetrics {
  const attributes = { [CONSUMER]: consumer };
  const processed = meter.createCounter('trajectory.worker.processed', {
    unit: '{message}',
    description: 'Messages a work queue consumer handled and acked',
  });
  const failed = meter.createCounter('trajectory.worker.failed', {
    unit: '{message}',
    description: 'Deliveries whose handler failed (retried later, or dead-lettered when trajectory.dead_lettered)',
  });
  const duration = meter.createHistogram('messaging.process.duration', {
    unit: 's',
    description: 'Time in the handler per delivery, successful or not',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
  });
  const depth = meter.createObservableGauge('trajectory.worker.queue_depth', {
    unit: '{message}',
    description: "Messages of the consumer's work queue not yet delivered to any worker (num_pending)",
  });
  const observe = async (result: { observe(value: number, attributes: Record<string, string>): void }) => {
    const value = await pending().catch(() => undefined);
    if (value !== undefined) result.observe(value, attributes);
  };
  depth.addCallback(observe);
  return {
    processed(seconds) {
      processed.add(1, attributes);
      duration.record(seconds, attributes);
    },
    failed(seconds, error, deadLettered) {
      const withError = { ...attributes, 'error.type': error.name || 'Error' };
      failed.add(1, { ...withError, 'trajectory.dead_lettered': deadLettered });
      duration.record(seconds, withError);
    },
    close() {
      depth.removeCallback(observe);
    },
  };
}
