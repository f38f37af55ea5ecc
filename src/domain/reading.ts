// The one reading of a monitoring window per side: what the judge tests, and every number a
// person reads or the run stores of it. Where interval samples overlap (Prometheus rate ranges
// longer than the interval), the whole-window reading is the truth and the samples only its
// spread; summing them would count requests twice. Pure.
import { poolSide, usable, usableWhole } from './judge-core.js';
import { histogramQuantile, poolHistograms } from './latency-histogram.js';
import { median } from './stats.js';
import type { MetricSample } from './types.js';

/**
 * Requests and error rate as the judge pools them (`poolSide`), percentiles from the pooled
 * histogram the latency rule reads (else the median of the samples' own, as its per-sample
 * rule does). Undefined when neither a usable sample nor a usable whole reading exists.
 */
export function windowReading(samples: readonly MetricSample[], whole?: MetricSample): MetricSample | undefined {
  const u = usable(samples);
  const w = usableWhole(whole);
  if (!u.length && !w) return undefined;
  const p = poolSide(u, w);
  const h = (w && poolHistograms([w])) ?? poolHistograms(u);
  const quantile = (key: 'p50Ms' | 'p95Ms' | 'p99Ms', q: number): number => {
    if (h && h.total > 0) return histogramQuantile(h, q);
    const v = u.map((s) => s[key]).filter(Number.isFinite);
    return v.length ? median(v) : (w?.[key] ?? Number.NaN);
  };
  const windowSec = w ? w.windowSec : u.reduce((n, s) => n + s.windowSec, 0);
  return {
    at: w?.at ?? u.at(-1)!.at,
    windowSec,
    requests: p.requests,
    errorRate: p.requests > 0 ? p.rate : 0,
    p50Ms: quantile('p50Ms', 0.5),
    p95Ms: quantile('p95Ms', 0.95),
    p99Ms: quantile('p99Ms', 0.99),
    // The judges compare throughput per sample, by its median.
    throughputRps: u.length ? median(u.map((s) => s.throughputRps)) : w!.throughputRps,
  };
}
