// Small numeric helpers for the traffic simulation: log-normal latencies, histogram bins,
// quantiles from bins, and random counts (Poisson, binomial). Pure apart from Math.random.

/** erf by Abramowitz & Stegun 7.1.26 (error < 1.5e-7). */
export function erf(x: number): number {
  const s = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

/** P(latency ≤ x) for a log-normal with median `medianMs` and shape `sigma`. */
export function lognormalCdf(xMs: number, medianMs: number, sigma: number): number {
  if (xMs <= 0) return 0;
  return 0.5 * (1 + erf(Math.log(xMs / medianMs) / (sigma * Math.SQRT2)));
}

/** Upper edges (ms) of the fine histogram the direct metrics API computes quantiles from. */
export const FINE_EDGES_MS: number[] = (() => {
  const n = 96;
  const lo = 1;
  const hi = 60_000;
  return Array.from({ length: n }, (_, i) => lo * (hi / lo) ** (i / (n - 1)));
})();

/** Share of requests in each fine bin (the last bin also takes everything above it). */
export function fineShares(medianMs: number, sigma: number): Float64Array {
  const out = new Float64Array(FINE_EDGES_MS.length);
  let prev = 0;
  for (let i = 0; i < FINE_EDGES_MS.length; i++) {
    const c = i === FINE_EDGES_MS.length - 1 ? 1 : lognormalCdf(FINE_EDGES_MS[i]!, medianMs, sigma);
    out[i] = c - prev;
    prev = c;
  }
  return out;
}

/** Quantile (ms) from fine-bin counts, interpolating geometrically inside the bin. */
export function quantileFromFine(bins: ArrayLike<number>, q: number): number {
  let total = 0;
  for (let i = 0; i < bins.length; i++) total += bins[i]!;
  if (total <= 0) return 0;
  const target = q * total;
  let acc = 0;
  for (let i = 0; i < bins.length; i++) {
    const c = bins[i]!;
    if (acc + c >= target && c > 0) {
      const lo = i === 0 ? FINE_EDGES_MS[0]! / (FINE_EDGES_MS[1]! / FINE_EDGES_MS[0]!) : FINE_EDGES_MS[i - 1]!;
      const hi = FINE_EDGES_MS[i]!;
      const f = (target - acc) / c;
      return lo * (hi / lo) ** f;
    }
    acc += c;
  }
  return FINE_EDGES_MS[FINE_EDGES_MS.length - 1]!;
}

/** Prometheus `le` bounds (seconds) of http_request_duration_seconds. */
export const PROM_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 2.5, 5, 10];

export function normal(): number {
  let u = 0;
  while (u === 0) u = Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
}

export function poisson(lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda < 30) {
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= Math.random();
    } while (p > l);
    return k - 1;
  }
  return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal()));
}

export function binomial(n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  // Count the rarer outcome: the Poisson approximation below is for small p.
  if (p > 0.5) return n - binomial(n, 1 - p);
  const mean = n * p;
  if (mean < 30) return Math.min(n, poisson(mean));
  return Math.min(n, Math.max(0, Math.round(mean + Math.sqrt(mean * (1 - p)) * normal())));
}

/** How many of the fine-bin counts lie below `xMs`, interpolating geometrically inside its bin (as quantileFromFine does). */
export function countBelow(bins: ArrayLike<number>, xMs: number): number {
  let acc = 0;
  for (let i = 0; i < bins.length; i++) {
    const hi = FINE_EDGES_MS[i]!;
    const lo = i === 0 ? FINE_EDGES_MS[0]! / (FINE_EDGES_MS[1]! / FINE_EDGES_MS[0]!) : FINE_EDGES_MS[i - 1]!;
    if (xMs >= hi) {
      acc += bins[i]!;
      continue;
    }
    if (xMs > lo) acc += bins[i]! * (Math.log(xMs / lo) / Math.log(hi / lo));
    break;
  }
  return acc;
}
