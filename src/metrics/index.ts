// Picks the metric source: Prometheus when PROMETHEUS_URL is set, else the sandbox's own API.
// The runner gets a MetricSource and never knows which one it has.
import type { Clock } from '../clock.js';
import type { MetricQueries, ShipbotConfig } from '../config.js';
import type { TrackRef } from '../domain/types.js';
import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import { PrometheusSource, type PrometheusOptions } from './prometheus.js';
import { SandboxMetricSource } from './sandbox.js';
import { AlertmanagerSource, type AlertSource, PrometheusAlertSource } from './alerts.js';
import type { MetricOutcome, MetricSource, QueryOutcome } from './types.js';

export { PrometheusSource, renderQuery } from './prometheus.js';
export { SandboxMetricSource } from './sandbox.js';
export { AlertmanagerSource, PrometheusAlertSource, type AlertSource } from './alerts.js';
export { runSmokeChecks, type SmokeResult } from './smoke.js';
export { monitorWindow, captureBaseline, type MonitorOptions, type WindowResult, type Baseline } from './monitor.js';
export type * from './types.js';

/** The conventional http_requests_total / http_request_duration_seconds queries, for services without `metrics`. */
export const DEFAULT_QUERIES: MetricQueries = {
  errorRate:
    'sum(rate(http_requests_total{service="{{service}}",namespace="{{namespace}}",track="{{track}}",code=~"5.."}[{{window}}])) / sum(rate(http_requests_total{service="{{service}}",namespace="{{namespace}}",track="{{track}}"}[{{window}}]))',
  p50Ms:
    '1000 * histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{service="{{service}}",namespace="{{namespace}}",track="{{track}}"}[{{window}}])))',
  p95Ms:
    '1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="{{service}}",namespace="{{namespace}}",track="{{track}}"}[{{window}}])))',
  p99Ms:
    '1000 * histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="{{service}}",namespace="{{namespace}}",track="{{track}}"}[{{window}}])))',
  throughputRps: 'sum(rate(http_requests_total{service="{{service}}",namespace="{{namespace}}",track="{{track}}"}[{{window}}]))',
  requests: 'sum(increase(http_requests_total{service="{{service}}",namespace="{{namespace}}",track="{{track}}"}[{{window}}]))',
};

export type PrometheusAccess = Omit<PrometheusOptions, 'baseUrl' | 'queries'>;

/**
 * How to reach a Prometheus that wants credentials: `PROMETHEUS_BEARER_TOKEN` as a bearer
 * header, `PROMETHEUS_CA_FILE` as the CA its certificate is signed by.
 */
export function prometheusAccess(env: {
  PROMETHEUS_BEARER_TOKEN?: string;
  PROMETHEUS_CA_FILE?: string;
}): Pick<PrometheusOptions, 'headers' | 'fetch'> {
  const out: Pick<PrometheusOptions, 'headers' | 'fetch'> = {};
  if (env.PROMETHEUS_BEARER_TOKEN) out.headers = { authorization: `Bearer ${env.PROMETHEUS_BEARER_TOKEN}` };
  if (env.PROMETHEUS_CA_FILE) {
    const dispatcher = new Agent({ connect: { ca: readFileSync(env.PROMETHEUS_CA_FILE, 'utf8') } });
    out.fetch = ((input: string | URL | Request, init?: RequestInit) =>
      undiciFetch(input as string, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
  }
  return out;
}

/** Where firing alerts are read: Alertmanager when ALERTMANAGER_URL is set, else Prometheus's ALERTS; none without either. */
export function alertSourceFor(env: {
  ALERTMANAGER_URL?: string;
  PROMETHEUS_URL?: string;
  PROMETHEUS_BEARER_TOKEN?: string;
  PROMETHEUS_CA_FILE?: string;
}): AlertSource | undefined {
  if (env.ALERTMANAGER_URL) return new AlertmanagerSource(env.ALERTMANAGER_URL);
  if (!env.PROMETHEUS_URL) return undefined;
  const access = prometheusAccess(env);
  const base = access.fetch ?? fetch;
  const withHeaders: typeof fetch = (input, init) => base(input, { ...init, headers: { ...access.headers, ...(init?.headers as object) } });
  return new PrometheusAlertSource(env.PROMETHEUS_URL, withHeaders);
}

/** Prometheus with each service's own PromQL templates (chosen by the track's service). */
export class CataloguePrometheus implements MetricSource {
  readonly name = 'prometheus';
  private readonly byService = new Map<string, PrometheusSource>();
  private readonly queries = new Map<string, MetricQueries>();
  private readonly fallback: PrometheusSource;

  constructor(
    baseUrl: string,
    config: Pick<ShipbotConfig, 'services'> & { prometheus?: ShipbotConfig['prometheus'] },
    opts: PrometheusAccess = {},
  ) {
    const all = { ...opts, ...(config.prometheus?.scrapeIntervalSec ? { scrapeIntervalSec: config.prometheus.scrapeIntervalSec } : {}) };
    this.fallback = new PrometheusSource({ baseUrl, queries: DEFAULT_QUERIES, ...all });
    for (const s of config.services)
      if (s.metrics) {
        this.byService.set(s.name, new PrometheusSource({ baseUrl, queries: s.metrics, ...all }));
        this.queries.set(s.name, s.metrics);
      }
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

  sampleWhole(track: TrackRef, elapsedSec: number): Promise<MetricOutcome> {
    return this.pick(track).sampleWhole(track, elapsedSec);
  }

  readQuery(template: string, track: TrackRef, windowSec: number, atMs?: number): Promise<QueryOutcome> {
    return this.pick(track).readQuery(template, track, windowSec, atMs);
  }

  queriesFor(service: string): Readonly<Record<string, string>> {
    return this.queries.get(service) ?? DEFAULT_QUERIES;
  }
}

export interface MetricSourceInput {
  /** PROMETHEUS_URL; wins when set. */
  prometheusUrl?: string;
  /** Credentials and CA for that Prometheus (prometheusAccess). */
  prometheusAccess?: PrometheusAccess;
  /** The in-process sandbox (local mode): its URL and a fetch that carries its credentials. */
  sandbox?: { url: string; fetch: typeof fetch };
  config: Pick<ShipbotConfig, 'services'> & { prometheus?: ShipbotConfig['prometheus'] };
  clock?: Clock;
}

export function createMetricSource(o: MetricSourceInput): MetricSource {
  if (o.prometheusUrl)
    return new CataloguePrometheus(o.prometheusUrl, o.config, { ...o.prometheusAccess, ...(o.clock ? { clock: o.clock } : {}) });
  if (o.sandbox) return new SandboxMetricSource(o.sandbox.url, { fetch: o.sandbox.fetch });
  throw new Error('No metric source: set PROMETHEUS_URL, or run with --sandbox to use the sandbox metrics.');
}
