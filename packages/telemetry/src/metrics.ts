import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { JsonMetricsSerializer, MetricsExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';

/**
 * OTLP/HTTP JSON metric export, built the way @opentelemetry/exporter-trace-otlp-http builds the
 * trace exporter, from the same otlp-exporter-base and otlp-transformer releases. The
 * exporter-metrics-otlp-http package has no release beside ours (0.223.1): its 0.223.0 pins a
 * second copy of core, resources and sdk-metrics. Temporality is the SDK's default, cumulative.
 */
export class OtlpHttpMetricExporter extends OTLPExporterBase<ResourceMetrics> implements PushMetricExporter {
  constructor(url: string) {
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions({ url }, 'METRICS', 'v1/metrics', { 'Content-Type': 'application/json' }),
        JsonMetricsSerializer,
        'otlp_http_metric_exporter',
        MetricsExporterMetricsHelper,
        undefined,
      ),
    );
  }
}
