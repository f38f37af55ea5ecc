// CPU and memory of the new version's pods against the previous version's, as the runbook's
// production report grades them: GOOD, WARNING (20% more, or 80% of a limit), CRITICAL (50% more,
// or over a limit). Only a limit makes it a gate; without one it is reported. Pure.
import type { ResourcesConfig } from './config-schema.js';
import type { Finding } from './judge-core.js';

export type ResourceName = 'cpu' | 'memory';

export interface ResourceReading {
  resource: ResourceName;
  /** Per pod: cores (cpu), bytes (memory). */
  candidate?: number;
  baseline?: number;
  changePct?: number;
  status: 'GOOD' | 'WARNING' | 'CRITICAL' | 'NO DATA';
  /** Why it is not GOOD, or why there is no number. */
  why?: string;
  query: string;
}

const WARN_RISE_PCT = 20;
const CRITICAL_RISE_PCT = 50;
const WARN_OF_LIMIT = 0.8;

export function fmtResource(r: ResourceName, v: number): string {
  return r === 'cpu' ? `${(v * 1000).toFixed(0)}m CPU` : `${(v / 1024 / 1024).toFixed(0)} MiB`;
}

/** Grades one resource; the finding rolls back only over a configured limit, and asks when a limited one cannot be read. */
export function judgeResource(
  resource: ResourceName,
  read: { query: string; candidate?: number; baseline?: number; failure?: string },
  cfg: ResourcesConfig,
): { reading: ResourceReading; finding: Finding } {
  const limit = resource === 'cpu' ? cfg.cpuLimitCores : cfg.memoryLimitMiB !== undefined ? cfg.memoryLimitMiB * 1024 * 1024 : undefined;
  const rule = `resources ${resource}`;
  const name = resource === 'cpu' ? 'CPU' : 'memory';
  if (read.candidate === undefined) {
    const why = read.failure ?? "the new version's pods reported nothing";
    return {
      reading: { resource, status: 'NO DATA', why, query: read.query, ...(read.baseline !== undefined ? { baseline: read.baseline } : {}) },
      // Unread with a limit is never a pass; without one there is nothing to gate on.
      finding: { rule, verdict: limit === undefined ? 'CONTINUE' : 'INCONCLUSIVE', detail: `${name} per pod: no data (${why})` },
    };
  }
  const c = read.candidate;
  const changePct = read.baseline && read.baseline > 0 ? ((c - read.baseline) / read.baseline) * 100 : undefined;
  let status: ResourceReading['status'] = 'GOOD';
  let why: string | undefined;
  if (limit !== undefined && c > limit) [status, why] = ['CRITICAL', `over the ${fmtResource(resource, limit)} limit`];
  else if (changePct !== undefined && changePct > CRITICAL_RISE_PCT)
    [status, why] = ['CRITICAL', `${changePct.toFixed(0)}% more than the previous version`];
  else if (limit !== undefined && c > WARN_OF_LIMIT * limit)
    [status, why] = ['WARNING', `above ${WARN_OF_LIMIT * 100}% of the ${fmtResource(resource, limit)} limit`];
  else if (changePct !== undefined && changePct > WARN_RISE_PCT)
    [status, why] = ['WARNING', `${changePct.toFixed(0)}% more than the previous version`];
  const against = read.baseline !== undefined ? ` vs ${fmtResource(resource, read.baseline)} previous version` : '';
  const detail = `${name} ${fmtResource(resource, c)} per pod${against}: ${status}${why ? ` (${why})` : ''}`;
  return {
    reading: {
      resource,
      candidate: c,
      status,
      query: read.query,
      ...(read.baseline !== undefined ? { baseline: read.baseline } : {}),
      ...(changePct !== undefined ? { changePct } : {}),
      ...(why ? { why } : {}),
    },
    finding: { rule, verdict: status === 'CRITICAL' && limit !== undefined && c > limit ? 'ROLLBACK' : 'CONTINUE', detail },
  };
}

/** cAdvisor's per-pod use of `pods` (their names), as PromQL templates with {{namespace}} and {{window}}. */
export function resourceQuery(resource: ResourceName, pods: string[]): string {
  const sel = `namespace="{{namespace}}",pod=~"${pods.map((p) => p.replace(/[.]/g, '\\\\.')).join('|')}",container!="",container!="POD"`;
  return resource === 'cpu'
    ? `avg(sum by (pod) (rate(container_cpu_usage_seconds_total{${sel}}[{{window}}])))`
    : `max(sum by (pod) (container_memory_working_set_bytes{${sel}}))`;
}
