// Picks the metric source: Prometheus when PROMETHEUS_URL is set, else the sandbox's own API.
// The runner gets a MetricSource and never knows which one it has.
import type { Clock } from '../clock.js';
import type { MetricQueries, ShipbotConfig } from '../config.js';
import type { TrackRef } from '../cluster/types.js';
import { PrometheusSource } from './prometheus.js';
import { SandboxMetricSource } from './sandbox.js';
import type { MetricOutcome, MetricSource } from './types.js';

export { PrometheusSource, renderQuery } from './prometheus.js';
export { SandboxMetricSource } from './sandbox.js';
export { runSmokeChecks, type SmokeResult } from './smoke.js';
export { monitorWindow, captureBaseline, type MonitorOptions, type MonitorResult, type Baseline } from './monitor.js';
export type * from './types.js';

/** The conventional http_requests_total / http_request_duration_seconds queries, for services without `metrics`. */
export const DEFAULT_QUERIES: MetricQueries = {
  errorRate:
    'sum(rate(http_requests_total{service="{{service}}",namespace="{{namespace}}",track="{{track}}",code=~"5.."}[{{window}}])) / sum(rate(http_requests_total{service="{{service}}",namespace="{{namespace}}",track="{{track}}"}[{{window}}]))',
  p50Ms: '1000 * histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{service="{{service}}",namespace="{{namespace}}",track="{{track}}"}[{{window}}])))',
  p95Ms: '1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="{{service}}",namespace="{{namespace}}",track="{{track}}"}[{{window}}])))',
  p99Ms: '1000 * histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="{{service}}",namespace="{{namespace}}",track="{{track}}"}[{{window}}])))',
  throughputRps: 'sum(rate(http_requests_total{service="{{service}}",namespace="{{namespace}}",track="{{track}}"}[{{window}}]))',
  requests: 'sum(increase(http_requests_total{service="{{service}}",namespace="{{namespace}}",track="{{track}}"}[{{window}}]))',
};

/** Prometheus with each service's own PromQL templates (chosen by the track's service). */
export class CataloguePrometheus implements MetricSource {
  readonly name = 'prometheus';
  private readonly byService = new Map<string, PrometheusSource>();
  private readonly fallback: PrometheusSource;

  constructor(baseUrl: string, config: Pick<ShipbotConfig, 'services'>, opts: { clock?: Clock; timeoutMs?: number } = {}) {
    for (const s of config.services) if (s.metrics) this.byService.set(s.name, new PrometheusSource({ baseUrl, queries: s.metrics, ...opts }));
    this.fallback = new PrometheusSource({ baseUrl, queries: DEFAULT_QUERIES, ...opts });
  }

  private pick(track: TrackRef): PrometheusSource {
    return this.byService.get(track.service) ?? this.fallback;
  }

  sample(track: TrackRef, windowSec: number): Promise<MetricOutcome> {
    return this.pick(track).sample(track, windowSec);
  }

  sampleAt(track: TrackRef, windowSec: number, endAt: number): Promise<MetricOutcome> {
    return this.pick(track).sampleAt(track, windowSec, endAt);
  }
}

export interface MetricSourceInput {
  /** PROMETHEUS_URL; wins when set. */
  prometheusUrl?: string;
  /** The in-process sandbox (local mode): its URL and a fetch that carries its credentials. */
  sandbox?: { url: string; fetch: typeof fetch };
  config: Pick<ShipbotConfig, 'services'>;
  clock?: Clock;
}

export function createMetricSource(o: MetricSourceInput): MetricSource {
  if (o.prometheusUrl) return new CataloguePrometheus(o.prometheusUrl, o.config, { clock: o.clock });
  if (o.sandbox) return new SandboxMetricSource(o.sandbox.url, { fetch: o.sandbox.fetch });
  throw new Error('No metric source: set PROMETHEUS_URL, or run with --sandbox to use the sandbox metrics.');
}
