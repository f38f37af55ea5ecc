// Small, dependency-free statistics for canary analysis. Pure functions, no I/O.
// Checked against scipy.stats in test/domain/stats.test.ts.

export type Alternative = 'greater' | 'less' | 'two-sided';

/** Complementary error function (Numerical Recipes `erfcc`, fractional error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(Z <= z) for a standard normal Z. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9): accurate to ~1e-13 relative. */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const xx = x - 1;
  let a = c[0]!;
  const t = xx + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (xx + i);
  return 0.5 * Math.log(2 * Math.PI) + (xx + 0.5) * Math.log(t) - t + Math.log(a);
}

function lnChoose(n: number, k: number): number {
  return lnGamma(n + 1) - lnGamma(k + 1) - lnGamma(n - k + 1);
}

/** log(exp(a) + exp(b)) without overflow. */
function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Linear-interpolated quantile (numpy's default), NaN for an empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export interface TestResult {
  /** The test statistic (U for Mann-Whitney). */
  statistic: number;
  /** Standardised statistic, where a normal approximation is used. */
  z: number;
  pValue: number;
}

/**
 * Mann-Whitney U test of `x` against `y`, normal approximation with tie correction and
 * continuity correction (as scipy.stats.mannwhitneyu(method='asymptotic')).
 * `greater`: x tends to be larger than y. The statistic is U of x.
 */
export function mannWhitneyU(x: readonly number[], y: readonly number[], alternative: Alternative = 'two-sided'): TestResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) return { statistic: NaN, z: NaN, pValue: NaN };
  const all = [...x.map((v) => ({ v, g: 0 })), ...y.map((v) => ({ v, g: 1 }))].sort((a, b) => a.v - b.v);
  const n = n1 + n2;
  let r1 = 0;
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1]!.v === all[i]!.v) j++;
    const rank = (i + j) / 2 + 1; // average rank of the tie group (1-based)
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    for (let k = i; k <= j; k++) if (all[k]!.g === 0) r1 += rank;
    i = j + 1;
  }
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) return { statistic: u, z: 0, pValue: 1 }; // every value equal: no evidence either way
  const sd = Math.sqrt(variance);
  let z: number;
  let p: number;
  if (alternative === 'greater') {
    z = (u - mean - 0.5) / sd;
    p = 1 - normalCdf(z);
  } else if (alternative === 'less') {
    z = (u - mean + 0.5) / sd;
    p = normalCdf(z);
  } else {
    z = (Math.abs(u - mean) - 0.5) / sd;
    p = Math.min(1, 2 * (1 - normalCdf(z)));
  }
  return { statistic: u, z: u > mean ? Math.abs(z) : -Math.abs(z), pValue: Math.max(0, Math.min(1, p)) };
}

/**
 * One-sided Fisher exact test that the failure rate of group 1 (x1 of n1) is greater than
 * that of group 2 (x2 of n2). Exact, so it stays honest with few failures at low traffic
 * where a normal approximation would cry wolf. Equals scipy.stats.fisher_exact(
 * [[x1, n1-x1], [x2, n2-x2]], alternative='greater').pvalue.
 */
export function fisherGreater(x1: number, n1: number, x2: number, n2: number): number {
  if (n1 <= 0 || n2 <= 0) return NaN;
  const k = x1 + x2; // failures in total
  const n = n1 + n2;
  const hi = Math.min(k, n1);
  // P(X >= x1), X ~ Hypergeometric(population n, successes k, draws n1)
  const base = lnChoose(n, n1);
  let logP = -Infinity;
  for (let i = x1; i <= hi; i++) logP = logAdd(logP, lnChoose(k, i) + lnChoose(n - k, n1 - i) - base);
  return Math.min(1, Math.exp(logP));
}

/** P(X >= k) for X ~ Binomial(n, p), exact (summed in log space). */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  let logP = -Infinity;
  for (let i = k; i <= n; i++) {
    const term = lnChoose(n, i) + i * lp + (n - i) * lq;
    logP = logAdd(logP, term);
    if (i > n * p && term - logP < -40) break; // the remaining terms no longer matter
  }
  return Math.min(1, Math.exp(logP));
}
