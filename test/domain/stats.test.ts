// Known values computed with scipy.stats 1.17 (see the comment on each case).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  binomialUpperTail,
  fisherGreater,
  lnGamma,
  mannWhitneyAsymptotic,
  mannWhitneyBestP,
  mannWhitneyU,
  MW_EXACT_MAX,
  median,
  normalCdf,
  quantile,
} from '../../src/domain/stats.js';

describe('normalCdf', () => {
  it('matches scipy.stats.norm.cdf', () => {
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 6);
    expect(normalCdf(-3.1)).toBeCloseTo(0.0009676032132183563, 6);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
  });
});

describe('lnGamma', () => {
  it('gives log factorials', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 10);
    expect(lnGamma(6)).toBeCloseTo(Math.log(120), 10);
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 10);
  });
});

describe('mannWhitneyAsymptotic (normal approximation, tie and continuity correction)', () => {
  // mannwhitneyu(x, y, alternative=…, method='asymptotic', use_continuity=True)
  const x = [1.1, 2.2, 3.3, 4.4, 5.5, 6.6];
  const y = [2.2, 2.2, 0.5, 1.0, 3.3];
  it('matches scipy with ties, for every alternative', () => {
    const g = mannWhitneyAsymptotic(x, y, 'greater');
    expect(g.statistic).toBe(24.5);
    expect(g.pValue).toBeCloseTo(0.04823990175447919, 6);
    expect(mannWhitneyAsymptotic(x, y, 'less').pValue).toBeCloseTo(0.9676155151505562, 6);
    expect(mannWhitneyAsymptotic(x, y, 'two-sided').pValue).toBeCloseTo(0.09647980350895838, 6);
  });
  it('matches scipy without ties', () => {
    const r = mannWhitneyAsymptotic([19, 22, 16, 29, 24], [20, 11, 17, 12], 'greater');
    expect(r.statistic).toBe(17);
    expect(r.pValue).toBeCloseTo(0.055673443266570206, 6);
  });
});

describe('mannWhitneyU (exact for small samples, ties at average ranks)', () => {
  const ref = JSON.parse(readFileSync(new URL('./fixtures/stats-reference.json', import.meta.url), 'utf8')) as {
    mannWhitneyExact: Array<{ x: number[]; y: number[]; greater: number; less: number; 'two-sided': number }>;
  };
  it('matches scipy.stats.permutation_test over every split, with and without ties, for every alternative', () => {
    expect(ref.mannWhitneyExact.length).toBeGreaterThanOrEqual(6);
    for (const r of ref.mannWhitneyExact) {
      for (const alt of ['greater', 'less', 'two-sided'] as const) {
        const p = mannWhitneyU(r.x, r.y, alt).pValue;
        expect(Math.abs(p - r[alt]), `${JSON.stringify(r.x)} vs ${JSON.stringify(r.y)} ${alt}: ${p}`).toBeLessThan(1e-9);
      }
    }
  });
  it('knows the smallest p-value sample sizes allow: 5 against 5 can never reach 0.001, 8 against 5 can', () => {
    expect(mannWhitneyBestP(5, 5)).toBeCloseTo(1 / 252, 12);
    expect(mannWhitneyBestP(8, 5)).toBeCloseTo(1 / 1287, 12);
    expect(mannWhitneyBestP(8, 5)).toBeCloseTo(mannWhitneyU([1, 2, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13], 'less').pValue, 12);
    expect(mannWhitneyBestP(30, 30)).toBe(0);
  });
  it('is the normal approximation beyond the exact range, and the two agree near its edge', () => {
    const x = Array.from({ length: 25 }, (_, i) => 10 + ((i * 7) % 13) + i / 10);
    const y = Array.from({ length: 25 }, (_, i) => 8 + ((i * 5) % 11) + i / 10);
    expect(x.length + y.length).toBeGreaterThan(MW_EXACT_MAX);
    expect(mannWhitneyU(x, y, 'greater')).toEqual(mannWhitneyAsymptotic(x, y, 'greater'));
    const xs = x.slice(0, 20);
    const ys = y.slice(0, 20);
    expect(mannWhitneyU(xs, ys, 'greater').pValue / mannWhitneyAsymptotic(xs, ys, 'greater').pValue).toBeCloseTo(1, 1);
  });
  it('gives no evidence when every value is equal, and NaN for an empty group', () => {
    expect(mannWhitneyU([1, 1, 1], [1, 1], 'greater').pValue).toBe(1);
    expect(mannWhitneyU([], [1, 2], 'greater').pValue).toBeNaN();
  });
  it('separates two clearly different groups', () => {
    const r = mannWhitneyU([10, 11, 12, 13, 14, 15, 16, 17], [1, 2, 3, 4, 5, 6, 7, 8], 'greater');
    expect(r.pValue).toBeLessThan(0.001);
    expect(r.z).toBeGreaterThan(3);
  });
});

describe('fisherGreater (one-sided Fisher exact)', () => {
  it('matches scipy.stats.fisher_exact(alternative="greater")', () => {
    expect(fisherGreater(3, 4, 1, 4)).toBeCloseTo(0.24285714285714283, 10); // the tea-tasting table
    expect(fisherGreater(2, 50, 2, 1000)).toBeCloseTo(0.012544738259043392, 8);
    const p = fisherGreater(35, 1500, 114, 57000);
    expect(p / 1.213007925360273e-23).toBeCloseTo(1, 4);
  });
  it('is 1 when group 1 has no failures', () => {
    expect(fisherGreater(0, 300, 10, 5000)).toBeCloseTo(1, 10);
  });
});

describe('binomialUpperTail', () => {
  it('matches scipy.stats.binom.sf(k-1, n, p)', () => {
    expect(binomialUpperTail(15, 1500, 0.01)).toBeCloseTo(0.5348614240056089, 8);
    expect(binomialUpperTail(1, 50, 0.01)).toBeCloseTo(0.39499393286246337, 8);
    expect(binomialUpperTail(30, 2000, 0.01)).toBeCloseTo(0.02125617140406531, 8);
    expect(binomialUpperTail(0, 10, 0.5)).toBe(1);
    expect(binomialUpperTail(11, 10, 0.5)).toBe(0);
  });
});

describe('median and quantile', () => {
  it('interpolate like numpy', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.9)).toBeCloseTo(4.6, 10);
    expect(median([])).toBeNaN();
  });
});

describe('bounded statistics for any count (reference: test/domain/fixtures/stats-reference.json, scipy)', () => {
  const ref = JSON.parse(readFileSync(new URL('./fixtures/stats-reference.json', import.meta.url), 'utf8')) as {
    binomialUpperTail: Array<{ k: number; n: number; p: number; value: number }>;
    fisherGreater: Array<{ x1: number; n1: number; x2: number; n2: number; value: number }>;
  };
  // Exact sums agree to 1e-6 relative; beyond NORMAL_TAIL_SD the normal approximation's error is bounded by 1e-5 absolute.
  const close = (got: number, want: number) => expect(Math.abs(got - want) <= Math.max(1e-5, 1e-6 * want), `${got} vs ${want}`).toBe(true);

  it.each(ref.binomialUpperTail)('binomialUpperTail($k, $n, $p) matches scipy binom.sf', ({ k, n, p, value }) =>
    close(binomialUpperTail(k, n, p), value),
  );
  it.each(ref.fisherGreater)('fisherGreater($x1, $n1, $x2, $n2) matches scipy fisher_exact(greater)', ({ x1, n1, x2, n2, value }) =>
    close(fisherGreater(x1, n1, x2, n2), value),
  );

  it('refuses counts that are not whole, are negative, infinite, NaN or at least 2^53, at once', () => {
    for (const bad of [Infinity, -1, NaN, 2 ** 53, 1.5]) {
      const t0 = performance.now();
      expect(fisherGreater(bad, 100, 1, 100)).toBeNaN();
      expect(fisherGreater(1, bad, 1, 100)).toBeNaN();
      expect(binomialUpperTail(5, bad, 0.01)).toBeNaN();
      expect(performance.now() - t0).toBeLessThan(50);
    }
    expect(binomialUpperTail(5, 100, NaN)).toBeNaN();
    expect(fisherGreater(101, 100, 1, 100)).toBeNaN(); // more errors than requests
  });

  it('returns within 50 ms for the largest counts it accepts (it used to take seconds to minutes)', () => {
    const cases: Array<() => number> = [
      () => fisherGreater(10_000_000, 100_000_000, 10_000_000, 100_000_000),
      () => fisherGreater(2 ** 50, 2 ** 51, 2 ** 49, 2 ** 51),
      () => binomialUpperTail(2_000_000_000, 1_000_000_000_000, 0.002),
      () => binomialUpperTail(2 ** 40, 2 ** 52, 0.5),
      () => binomialUpperTail(3, 1_000_000_000_000, 0.002),
      () => binomialUpperTail(2_400_000, 1_000_000_000, 0.002),
    ];
    // The fastest of three calls: one pause of a busy 2-core machine is not the function's time;
    // a function linear in the counts takes seconds every time.
    for (const run of cases) {
      const times = [0, 1, 2].map(() => {
        const t0 = performance.now();
        const p = run();
        expect(p >= 0 && p <= 1).toBe(true);
        return performance.now() - t0;
      });
      expect(Math.min(...times)).toBeLessThan(50);
    }
  });
});
