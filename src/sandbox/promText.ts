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

/** The shop's business numbers: a share of requests are checkouts, a share of those convert. */
export const CHECKOUT_SHARE = 0.05;
export const CONVERSION_RATE = 0.3;

export function podMetricsText(
  c: PodCounters | undefined,
  identity: { namespace: string; service: string; track: string; version: string; podHash?: string | undefined },
  business: { conversionDrop: number; activeUsers: number } = { conversionDrop: 0, activeUsers: 0 },
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
  // What the runbook's business gates read (conversion rate, active users); `-convdropN` lowers orders.
  const checkouts = ok * CHECKOUT_SHARE;
  lines.push(
    '# HELP shop_checkouts_total Checkouts started.',
    '# TYPE shop_checkouts_total counter',
    // Fractional, as counters may be: whole numbers would round a young pod's ratio down.
    `shop_checkouts_total${labels(base)} ${checkouts.toFixed(3)}`,
    '# HELP shop_orders_total Checkouts that became orders.',
    '# TYPE shop_orders_total counter',
    `shop_orders_total${labels(base)} ${(checkouts * CONVERSION_RATE * (1 - business.conversionDrop)).toFixed(3)}`,
    '# HELP shop_active_users Users active in the last minute.',
    '# TYPE shop_active_users gauge',
    `shop_active_users${labels(base)} ${business.activeUsers}`,
  );
  return `${lines.join('\n')}\n`;
}

/** What cAdvisor reports of one running container (the kubelet's /metrics/cadvisor). */
export interface ContainerUsage {
  namespace: string;
  pod: string;
  container: string;
  image: string;
  cpuSeconds: number;
  memoryBytes: number;
}

/**
 * The kubelet's cAdvisor metrics for these containers, as Prometheus scrapes them with
 * `honor_labels: true`: a row per container and one for the pod's own cgroup (`container=""`),
 * which queries leave out with `container!=""`.
 */
export function cadvisorText(usage: ContainerUsage[]): string {
  const lines = [
    '# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.',
    '# TYPE container_cpu_usage_seconds_total counter',
  ];
  for (const u of usage) {
    lines.push(
      `container_cpu_usage_seconds_total${labels({ namespace: u.namespace, pod: u.pod, container: u.container, image: u.image, cpu: 'total' })} ${u.cpuSeconds.toFixed(3)}`,
    );
    lines.push(
      `container_cpu_usage_seconds_total${labels({ namespace: u.namespace, pod: u.pod, container: '', image: '', cpu: 'total' })} ${u.cpuSeconds.toFixed(3)}`,
    );
  }
  lines.push('# HELP container_memory_working_set_bytes Current working set in bytes.', '# TYPE container_memory_working_set_bytes gauge');
  for (const u of usage) {
    lines.push(
      `container_memory_working_set_bytes${labels({ namespace: u.namespace, pod: u.pod, container: u.container, image: u.image })} ${Math.round(u.memoryBytes)}`,
    );
    lines.push(
      `container_memory_working_set_bytes${labels({ namespace: u.namespace, pod: u.pod, container: '', image: '' })} ${Math.round(u.memoryBytes)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
