// Latency judged at the request level, where the metric source gives a histogram (Prometheus'
// `_bucket` series, the sandbox's own): every request of the stage so far is counted, instead
// of one percentile per sample. The p99 of each side is read from its pooled histogram, and the
// question "is the new version slower?" becomes a proportion test: how many of its requests are
// slower than the baseline's p99 bucket, against how many of the baseline's are (Fisher).
// Thousands of requests decide, not ten noisy percentiles. Pure.
import { fisherGreater, normalCdf } from './stats.js';
import type { MetricSample } from './types.js';

/** Requests slower than each bound (ms), pooled over samples; bounds ascending. */
export interface PooledHistogram {
  total: number;
  bounds: number[];
  slower: number[];
}

/**
 * The samples' histograms added up, or undefined when a sample has none or their bounds differ
 * (then the per-sample rule judges). Counts were checked at the judge's boundary.
 */
export function poolHistograms(samples: readonly MetricSample[]): PooledHistogram | undefined {
  if (samples.length === 0 || samples.some((s) => !s.slowerThan?.length)) return undefined;
  const bounds = samples[0]!.slowerThan!.map(([ms]) => ms);
  const slower = bounds.map(() => 0);
  let total = 0;
  for (const s of samples) {
    const h = s.slowerThan!;
    if (h.length !== bounds.length || h.some(([ms], i) => ms !== bounds[i])) return undefined;
    h.forEach(([, n], i) => (slower[i]! += n));
    total += s.requests;
  }
  // Counts from increase() are extrapolated, not whole: the tests count whole requests.
  return { total: Math.floor(total), bounds, slower };
}

/**
 * The q-quantile from a pooled histogram, as Prometheus' histogram_quantile reads one: linear
 * inside the bucket that holds it. Above the highest bound it is that bound (a lower limit).
 */
export function histogramQuantile(h: PooledHistogram, q: number): number {
  if (!(h.total > 0)) return NaN;
  const target = q * h.total;
  let prevBound = 0;
  let prevBelow = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    const below = h.total - h.slower[i]!;
    if (below >= target) {
      const inBucket = below - prevBelow;
      return inBucket > 0 ? prevBound + ((h.bounds[i]! - prevBound) * (target - prevBelow)) / inBucket : h.bounds[i]!;
    }
    prevBound = h.bounds[i]!;
    prevBelow = below;
  }
  return h.bounds.at(-1)!;
}

/** The index of the baseline's q-quantile bucket: the lowest bound at most (1 − q) of its requests are slower than. */
export function quantileBucket(h: PooledHistogram, q = 0.99): number | undefined {
  const i = h.slower.findIndex((n) => n <= (1 - q) * h.total);
  return i < 0 ? undefined : i;
}

/**
 * The standard error of the share of requests slower than bound `k`, pooled over `samples`:
 * binomial, or the spread of the per-sample shares when that is larger. Bursty latency (a noisy
 * but healthy version) puts its slow requests in a few samples; a slower version, in every one.
 */
export function slowShareStdError(samples: readonly MetricSample[], k: number, pooled: PooledHistogram): number {
  const share = pooled.total > 0 ? pooled.slower[k]! / pooled.total : Number.NaN;
  const binomial = Math.sqrt((share * (1 - share)) / pooled.total);
  const shares = samples.filter((s) => s.requests > 0 && s.slowerThan).map((s) => s.slowerThan![k]![1] / s.requests);
  if (shares.length < 2) return binomial;
  const mean = shares.reduce((a, b) => a + b, 0) / shares.length;
  const variance = shares.reduce((a, b) => a + (b - mean) ** 2, 0) / (shares.length - 1);
  return Math.max(binomial, Math.sqrt(variance / shares.length));
}

/** One percentile compared at the request level: both sides' values, and how sure the new side is slower. */
export interface SlowShareComparison {
  /** The baseline's bucket of that percentile: the bound the requests are counted above. */
  boundMs: number;
  before: number;
  after: number;
  incPct: number;
  slower: { after: number; afterTotal: number; before: number; beforeTotal: number };
  /** Sure against the counts (Fisher) and against the spread between samples: the larger p. */
  pValue: number;
}

/**
 * The q-quantile of `after` against `before` at the request level; undefined when the baseline
 * has no bound that quantile falls under, or the counts are ones Fisher refuses.
 */
export function compareSlowShare(
  before: readonly MetricSample[],
  after: readonly MetricSample[],
  hb: PooledHistogram,
  ha: PooledHistogram,
  q: number,
): SlowShareComparison | undefined {
  const k = quantileBucket(hb, q);
  if (k === undefined) return undefined;
  const pb = histogramQuantile(hb, q);
  const pa = histogramQuantile(ha, q);
  const pFisher = fisherGreater(ha.slower[k]!, ha.total, hb.slower[k]!, hb.total);
  if (Number.isNaN(pFisher)) return undefined;
  // As for error rates: bursts of slow requests in a few samples (a noisy, healthy version) are no slowdown.
  const shift = ha.slower[k]! / ha.total - hb.slower[k]! / hb.total;
  const se = Math.hypot(slowShareStdError(after, k, ha), slowShareStdError(before, k, hb));
  const pSpread = se > 0 ? normalCdf(-shift / se) : shift > 0 ? 0 : 1;
  return {
    boundMs: hb.bounds[k]!,
    before: pb,
    after: pa,
    incPct: pb > 0 ? ((pa - pb) / pb) * 100 : pa > 0 ? Infinity : 0,
    slower: { after: ha.slower[k]!, afterTotal: ha.total, before: hb.slower[k]!, beforeTotal: hb.total },
    pValue: Math.max(pFisher, pSpread),
  };
}
