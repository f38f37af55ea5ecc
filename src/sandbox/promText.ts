// Prometheus text exposition format (0.0.4) for one pod's counters. Pure.
import { PROM_BUCKETS_S } from './stats.js';
import type { PodCounters } from './traffic.js';

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function labels(pairs: Record<string, string>): string {
  return `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(',')}}`;
}

export const PROM_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function podMetricsText(
  c: PodCounters | undefined,
  identity: { namespace: string; service: string; track: string; version: string; podHash?: string | undefined },
): string {
  const base: Record<string, string> = { service: identity.service, namespace: identity.namespace, version: identity.version };
  if (identity.track) base.track = identity.track;
  // As a PodMonitor relabelling the pod's template-hash label would give it (Argo Rollouts' or the Deployment's).
  if (identity.podHash) base.pod_template_hash = identity.podHash;
  const ok = c?.ok ?? 0;
  const errors = c?.errors ?? 0;
  const lines = [
    '# HELP http_requests_total Total HTTP requests served, by status code.',
    '# TYPE http_requests_total counter',
    `http_requests_total${labels({ ...base, code: '200' })} ${ok}`,
    `http_requests_total${labels({ ...base, code: '500' })} ${errors}`,
    '# HELP http_request_duration_seconds Request latency.',
    '# TYPE http_request_duration_seconds histogram',
  ];
  PROM_BUCKETS_S.forEach((le, i) =>
    lines.push(`http_request_duration_seconds_bucket${labels({ ...base, le: String(le) })} ${c?.buckets[i] ?? 0}`),
  );
  lines.push(`http_request_duration_seconds_bucket${labels({ ...base, le: '+Inf' })} ${ok + errors}`);
  lines.push(`http_request_duration_seconds_sum${labels(base)} ${(c?.sumSeconds ?? 0).toFixed(6)}`);
  lines.push(`http_request_duration_seconds_count${labels(base)} ${ok + errors}`);
  return `${lines.join('\n')}\n`;
}
