import { hostname } from 'node:os';
import {
  type Context,
  context,
  type Meter,
  metrics,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { type Logger, pino } from 'pino';
import { OtlpHttpMetricExporter } from './metrics.js';

export { type Context, context, type Logger, type Meter, type Span, SpanKind, SpanStatusCode, trace };

export interface TelemetryOptions {
  serviceName: string;
  /** OTLP/HTTP base endpoint (OTEL_EXPORTER_OTLP_ENDPOINT); without it spans and metrics are not exported. */
  otlpEndpoint?: string | undefined;
  /** How often metrics are exported (OTEL_METRIC_EXPORT_INTERVAL, ms); the SDK's 60 s by default. */
  metricExportIntervalMs?: number | undefined;
  logLevel?: string;
}

export interface Telemetry {
  logger: Logger;
  serviceName: string;
  shutdown(): Promise<void>;
}

/**
 * The span attribute naming the conversation a span works on (ingestion's publish, the
 * segmentation and graph deliveries): `trajectory trace CONVERSATION_ID` selects spans by it.
 */
export const ATTR_CONVERSATION_ID = 'trajectory.conversation.id';

let current: Telemetry | undefined;

/**
 * Sets up tracing, metrics and logging once per process. Trace context is W3C `traceparent`, so
 * it survives hops through NATS headers and gRPC metadata (see inject/extract below). Spans and
 * metrics go to the same OTLP/HTTP endpoint (JSON), under the same service name.
 */
export function initTelemetry(options: TelemetryOptions): Telemetry {
  if (current) return current;
  const endpoint = options.otlpEndpoint?.replace(/\/$/, '');
  // The instance tells replicas apart (their metrics would otherwise add up as one): the host name
  // is the container's id under Docker.
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: options.serviceName,
    'service.instance.id': `${hostname()}-${process.pid}`,
  });
  const spanProcessors: SpanProcessor[] = [];
  if (endpoint) {
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }), { scheduledDelayMillis: 500 }));
  }
  const provider = new NodeTracerProvider({ resource, spanProcessors });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  const meterProvider = new MeterProvider({
    resource,
    readers: endpoint
      ? [
          new PeriodicExportingMetricReader({
            exporter: new OtlpHttpMetricExporter(`${endpoint}/v1/metrics`),
            ...(options.metricExportIntervalMs ? { exportIntervalMillis: options.metricExportIntervalMs } : {}),
          }),
        ]
      : [],
  });
  metrics.setGlobalMeterProvider(meterProvider);

  const logger = pino({
    name: options.serviceName,
    level: options.logLevel ?? 'info',
    base: { service: options.serviceName, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Every log line written inside a span carries its ids, so logs and traces join up.
    mixin() {
      const spanContext = trace.getActiveSpan()?.spanContext();
      return spanContext ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
    },
  });

  current = {
    logger,
    serviceName: options.serviceName,
    async shutdown() {
      // Shutting the meter provider down exports the metrics once more: the last counts arrive.
      await Promise.all([
        provider
          .forceFlush()
          .then(() => provider.shutdown())
          .catch(() => undefined),
        meterProvider.shutdown().catch(() => undefined),
      ]);
    },
  };
  return current;
}

/** The process logger; a quiet default before initTelemetry (libraries, unit tests). */
export function getLogger(): Logger {
  return current?.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'silent' });
}

export function tracer() {
  return trace.getTracer('trajectory');
}

/**
 * The meter of every Trajectory instrument. Instruments made before initTelemetry stay no-ops
 * (the metrics API has no proxy, unlike tracing's), so make them when a worker or server starts.
 */
export function meter(): Meter {
  return metrics.getMeter('trajectory');
}

/**
 * Histogram buckets for durations in seconds: OpenTelemetry's for RPC and messaging, and beyond
 * them the minutes that an upload or a long conversation's segmentation can take.
 */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Runs `fn` inside a new active span, recording failures on it. */
export async function withSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Record<string, string | number | boolean>; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {} },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** Writes the active trace context into a carrier through `set` (NATS headers, gRPC metadata). */
export function injectTraceContext<C>(carrier: C, setter: TextMapSetter<C>, ctx: Context = context.active()): void {
  propagation.inject(ctx, carrier, setter);
}

/** Reads a trace context from a carrier; the result parents the spans of the receiving side. */
export function extractTraceContext<C>(carrier: C, getter: TextMapGetter<C>): Context {
  return propagation.extract(context.active(), carrier, getter);
}

export function currentTraceId(): string | undefined {
  return trace.getActiveSpan()?.spanContext().traceId;
}
