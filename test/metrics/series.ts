// Synthetic metric series for decision tests: seeded, so every run sees the same numbers.
import type { MetricSample } from '../../src/domain/types.js';

/** mulberry32: a tiny seeded PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** Binomial draw: exact for small n, normal approximation above. */
function binomial(r: () => number, n: number, p: number): number {
  if (n <= 2000) {
    let k = 0;
    for (let i = 0; i < n; i++) if (r() < p) k++;
    return k;
  }
  return Math.max(0, Math.min(n, Math.round(n * p + Math.sqrt(n * p * (1 - p)) * gaussian(r))));
}

export interface SeriesSpec {
  samples: number;
  rps: number;
  /** True error rate, 0..1. */
  errorRate: number;
  p99Ms: number;
  seed: number;
  windowSec?: number;
  /** Relative sample-to-sample spread of the true error rate (overdispersion), e.g. 0.8. */
  errorSpread?: number;
  /** Log-normal sigma of p99 per sample, e.g. 0.3 for a noisy service. */
  p99Sigma?: number;
  /** Relative spread of the request rate per sample, e.g. 0.2. */
  rpsCv?: number;
  startAt?: number;
  /**
   * Draw every request's latency (log-normal, the sandbox's shape, scaled so its p99 is the
   * sample's) and report the histogram as Prometheus' buckets would: `slowerThan` per bound.
   */
  histogram?: boolean;
}

/** The sandbox's Prometheus bounds, in ms. */
export const BOUNDS_MS = [5, 10, 25, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 2500, 5000, 10000];
const SIGMA = Math.log(3) / 2.326;

export function series(spec: SeriesSpec): MetricSample[] {
  const r = rng(spec.seed);
  const windowSec = spec.windowSec ?? 30;
  const out: MetricSample[] = [];
  for (let i = 0; i < spec.samples; i++) {
    const rps = Math.max(0, spec.rps * (1 + (spec.rpsCv ?? 0.05) * gaussian(r)));
    const requests = Math.round(rps * windowSec);
    const spread = spec.errorSpread ?? 0;
    const pTrue = Math.min(1, Math.max(0, spec.errorRate * (1 + spread * (2 * r() - 1))));
    const errors = binomial(r, requests, pTrue);
    const p99 = spec.p99Ms * Math.exp((spec.p99Sigma ?? 0.05) * gaussian(r));
    let slowerThan: Array<[number, number]> | undefined;
    if (spec.histogram) {
      const median = p99 / Math.exp(2.326 * SIGMA);
      const slower = BOUNDS_MS.map(() => 0);
      for (let j = 0; j < requests; j++) {
        const ms = median * Math.exp(SIGMA * gaussian(r));
        for (let b = 0; b < BOUNDS_MS.length && ms > BOUNDS_MS[b]!; b++) slower[b]!++;
      }
      slowerThan = BOUNDS_MS.map((ms, b) => [ms, slower[b]!]);
    }
    out.push({
      at: (spec.startAt ?? 0) + (i + 1) * windowSec * 1000,
      windowSec,
      requests,
      errorRate: requests > 0 ? errors / requests : NaN,
      p50Ms: p99 / 4,
      p95Ms: p99 / 1.6,
      p99Ms: requests > 0 ? p99 : NaN,
      throughputRps: requests / windowSec,
      ...(slowerThan ? { slowerThan } : {}),
    });
  }
  return out;
}

/** The same numbers in every sample: for exact-threshold cases. */
export function flat(samples: number, s: Partial<MetricSample> & { requests: number; errorRate: number; p99Ms: number }): MetricSample[] {
  const windowSec = s.windowSec ?? 30;
  return Array.from({ length: samples }, (_, i) => ({
    at: (i + 1) * windowSec * 1000,
    windowSec,
    p50Ms: s.p99Ms / 4,
    p95Ms: s.p99Ms / 1.6,
    throughputRps: s.requests / windowSec,
    ...s,
  }));
}
