import {
  type Context,
  context,
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
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { type Logger, pino } from 'pino';

export { type Context, context, type Logger, type Span, SpanKind, SpanStatusCode, trace };

export interface TelemetryOptions {
  serviceName: string;
  /** OTLP/HTTP base endpoint (OTEL_EXPORTER_OTLP_ENDPOINT); without it spans are not exported. */
  otlpEndpoint?: string | undefined;
  logLevel?: string;
}

export interface Telemetry {
  logger: Logger;
  serviceName: string;
  shutdown(): Promise<void>;
}

let current: Telemetry | undefined;

/**
 * Sets up tracing and logging once per process. Trace context is W3C `traceparent`, so it
 * survives hops through NATS headers and gRPC metadata (see inject/extract below).
 */
export function initTelemetry(options: TelemetryOptions): Telemetry {
  if (current) return current;
  const spanProcessors: SpanProcessor[] = [];
  if (options.otlpEndpoint) {
    const url = `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces`;
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 500 }));
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
    spanProcessors,
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });

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
      await provider.forceFlush().catch(() => undefined);
      await provider.shutdown().catch(() => undefined);
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
