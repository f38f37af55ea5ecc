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
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
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
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
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

/** Up to this many values in all, Mann-Whitney's p-value is exact (its permutation distribution). */
export const MW_EXACT_MAX = 40;

/**
 * Mann-Whitney U test of `x` against `y`. `greater`: x tends to be larger than y; the statistic is
 * U of x. Exact for small samples (up to MW_EXACT_MAX values): the permutation distribution of
 * x's rank sum, with tied values at their average rank, which is the exact conditional test
 * (as scipy.stats.permutation_test over every split). 8 samples wholly below 5 then give
 * p = 1/1287, where the normal approximation says 0.002. Beyond, the normal approximation.
 */
export function mannWhitneyU(x: readonly number[], y: readonly number[], alternative: Alternative = 'two-sided'): TestResult {
  if (x.length + y.length > MW_EXACT_MAX) return mannWhitneyAsymptotic(x, y, alternative);
  const r = ranked(x, y);
  if (!r) return { statistic: NaN, z: NaN, pValue: NaN };
  if (!(r.variance > 0)) return { statistic: r.u, z: 0, pValue: 1 }; // every value equal: no evidence either way
  const { atLeast, atMost } = exactTails(r.doubled, x.length, r.doubledSum);
  const p = alternative === 'greater' ? atLeast : alternative === 'less' ? atMost : Math.min(1, 2 * Math.min(atLeast, atMost));
  const z = (r.u - (x.length * y.length) / 2) / Math.sqrt(r.variance);
  return { statistic: r.u, z, pValue: Math.max(0, Math.min(1, p)) };
}

/**
 * The smallest one-sided p-value the test can give for these sample sizes (every value of one
 * side beyond every value of the other): below a significance level, more samples cannot help.
 */
export function mannWhitneyBestP(n1: number, n2: number): number {
  if (n1 + n2 > MW_EXACT_MAX) return 0;
  let c = 1; // C(n1 + n2, n1), built up term by term
  for (let i = 1; i <= n1; i++) c = (c * (n2 + i)) / i;
  return 1 / c;
}

/**
 * The normal approximation with tie and continuity correction (as
 * scipy.stats.mannwhitneyu(method='asymptotic')).
 */
export function mannWhitneyAsymptotic(x: readonly number[], y: readonly number[], alternative: Alternative = 'two-sided'): TestResult {
  const r = ranked(x, y);
  if (!r) return { statistic: NaN, z: NaN, pValue: NaN };
  const { u, variance } = r;
  const mean = (x.length * y.length) / 2;
  if (!(variance > 0)) return { statistic: u, z: 0, pValue: 1 };
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

/** Ranks (ties at their average), doubled so they are whole; x's U, and U's variance under the null. */
function ranked(x: readonly number[], y: readonly number[]) {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) return undefined;
  const all = [...x.map((v) => ({ v, g: 0 })), ...y.map((v) => ({ v, g: 1 }))].sort((a, b) => a.v - b.v);
  const n = n1 + n2;
  const doubled: number[] = [];
  let doubledSum = 0;
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1]!.v === all[i]!.v) j++;
    const rank2 = i + j + 2; // twice the average rank of the tie group (1-based)
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    for (let k = i; k <= j; k++) {
      doubled.push(rank2);
      if (all[k]!.g === 0) doubledSum += rank2;
    }
    i = j + 1;
  }
  const u = doubledSum / 2 - (n1 * (n1 + 1)) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  return { u, variance, doubled, doubledSum };
}

/**
 * P(S ≥ s) and P(S ≤ s) for S the sum of k values drawn without replacement from `values`
 * (whole numbers), every k-subset equally likely: counted by dynamic programming over subsets'
 * sizes and sums. Counts stay below C(40, 20) ≈ 1.4e11, exact in doubles.
 */
function exactTails(values: readonly number[], k: number, s: number): { atLeast: number; atMost: number } {
  const max = values.reduce((a, b) => a + b, 0);
  // ways[j][t]: subsets of the values seen so far with j members summing to t.
  const ways = Array.from({ length: k + 1 }, () => new Float64Array(max + 1));
  ways[0]![0] = 1;
  for (const v of values) {
    for (let j = k; j >= 1; j--) {
      const from = ways[j - 1]!;
      const to = ways[j]!;
      for (let t = max; t >= v; t--) if (from[t - v]) to[t]! += from[t - v]!;
    }
  }
  const dist = ways[k]!;
  let total = 0;
  let atLeast = 0;
  let atMost = 0;
  for (let t = 0; t <= max; t++) {
    const w = dist[t]!;
    if (!w) continue;
    total += w;
    if (t >= s) atLeast += w;
    if (t <= s) atMost += w;
  }
  return { atLeast: atLeast / total, atMost: atMost / total };
}

/** Counts at or above this are refused: doubles no longer hold every integer there. */
export const MAX_COUNT = Number.MAX_SAFE_INTEGER;

/** A whole, non-negative, exactly representable count. */
export function isCount(x: number): boolean {
  return Number.isInteger(x) && x >= 0 && x <= MAX_COUNT;
}

/** P(Z > z) for a standard normal Z, accurate in the far tail too (no 1 − Φ cancellation). */
export function normalUpper(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * Above this standard deviation a tail is taken from the normal approximation (continuity
 * corrected). For the binomial the Berry–Esseen bound gives an absolute error of at most
 * 0.4748·(p² + q²)/σ ≤ 1e-5 here, far below the α the judge uses (≥ 1e-4); the hypergeometric
 * tail is at least as close to normal as the binomial with the same mean and a larger variance.
 * Below it the tail is summed exactly.
 */
export const NORMAL_TAIL_SD = 50_000;

/** A log term falls this far below the running sum before the rest of a tail is dropped (e^-40 ≈ 4e-18). */
const TAIL_CUTOFF = 40;

/**
 * log Σ exp(term) from `from` stepping by `dir` while within [lo, hi], where `first` is the log
 * term at `from` and `ratio(i)` is term(i + dir) / term(i) in plain numbers. Summed relative to
 * the first term (a product of ratios, no logarithm per step), so even the ~9σ steps of a tail
 * at σ = 50,000 take about a millisecond; it stops once the terms no longer matter.
 */
function logTailSum(from: number, lo: number, hi: number, dir: 1 | -1, first: number, ratio: (i: number) => number): number {
  const cutoff = Math.exp(-TAIL_CUTOFF);
  let sum = 0;
  let u = 1;
  for (let i = from; i >= lo && i <= hi; i += dir) {
    sum += u;
    u *= ratio(i);
    if (!(u >= sum * cutoff)) break;
  }
  return first + Math.log(sum);
}

/**
 * One-sided Fisher exact test that the failure rate of group 1 (x1 of n1) is greater than
 * that of group 2 (x2 of n2). Exact, so it stays honest with few failures at low traffic
 * where a normal approximation would cry wolf. Equals scipy.stats.fisher_exact(
 * [[x1, n1-x1], [x2, n2-x2]], alternative='greater').pvalue. Bounded time for any counts:
 * NaN for counts that are not whole, non-negative and below 2^53 (or x > n).
 */
export function fisherGreater(x1: number, n1: number, x2: number, n2: number): number {
  if (![x1, n1, x2, n2].every(isCount) || x1 > n1 || x2 > n2 || n1 + n2 > MAX_COUNT) return NaN;
  if (n1 <= 0 || n2 <= 0) return NaN;
  const k = x1 + x2; // failures in total
  const n = n1 + n2;
  // X ~ Hypergeometric(population n, successes k, draws n1); P(X >= x1).
  const lo = Math.max(0, n1 - (n - k));
  const hi = Math.min(k, n1);
  if (x1 <= lo) return 1;
  if (x1 > hi) return 0;
  const mean = (n1 * k) / n;
  const sd = Math.sqrt(((n1 * k) / n) * (1 - k / n) * ((n - n1) / (n - 1)));
  if (sd > NORMAL_TAIL_SD) return normalUpper((x1 - 0.5 - mean) / sd);
  const base = lnChoose(n, n1);
  const term = (i: number) => lnChoose(k, i) + lnChoose(n - k, n1 - i) - base;
  const up = (i: number) => ((k - i) * (n1 - i)) / ((i + 1) * (n - k - n1 + i + 1));
  const down = (i: number) => (i * (n - k - n1 + i)) / ((k - i + 1) * (n1 - i + 1));
  if (x1 > mean) return Math.min(1, Math.exp(logTailSum(x1, lo, hi, 1, term(x1), up)));
  return Math.max(0, Math.min(1, 1 - Math.exp(logTailSum(x1 - 1, lo, hi, -1, term(x1 - 1), down))));
}

/**
 * P(X >= k) for X ~ Binomial(n, p), exact (summed in log space from the side that is the tail),
 * normal beyond NORMAL_TAIL_SD. NaN for counts that are not whole, non-negative and below 2^53.
 */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (!isCount(n) || !Number.isInteger(k) || !(p >= 0 && p <= 1)) return NaN;
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const mean = n * p;
  const sd = Math.sqrt(n * p * (1 - p));
  if (sd > NORMAL_TAIL_SD) return normalUpper((k - 0.5 - mean) / sd);
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  const term = (i: number) => lnChoose(n, i) + i * lp + (n - i) * lq;
  const odds = p / (1 - p);
  const up = (i: number) => ((n - i) / (i + 1)) * odds;
  const down = (i: number) => i / (n - i + 1) / odds;
  if (k > mean) return Math.min(1, Math.exp(logTailSum(k, 0, n, 1, term(k), up)));
  return Math.max(0, Math.min(1, 1 - Math.exp(logTailSum(k - 1, 0, n, -1, term(k - 1), down))));
}
