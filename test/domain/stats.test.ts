// Known values computed with scipy.stats 1.17 (see the comment on each case).
import { describe, expect, it } from 'vitest';
import { binomialUpperTail, fisherGreater, lnGamma, mannWhitneyU, median, normalCdf, quantile } from '../../src/domain/stats.js';

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

describe('mannWhitneyU (normal approximation, tie and continuity correction)', () => {
  // mannwhitneyu(x, y, alternative=…, method='asymptotic', use_continuity=True)
  const x = [1.1, 2.2, 3.3, 4.4, 5.5, 6.6];
  const y = [2.2, 2.2, 0.5, 1.0, 3.3];
  it('matches scipy with ties, for every alternative', () => {
    const g = mannWhitneyU(x, y, 'greater');
    expect(g.statistic).toBe(24.5);
    expect(g.pValue).toBeCloseTo(0.04823990175447919, 6);
    expect(mannWhitneyU(x, y, 'less').pValue).toBeCloseTo(0.9676155151505562, 6);
    expect(mannWhitneyU(x, y, 'two-sided').pValue).toBeCloseTo(0.09647980350895838, 6);
  });
  it('matches scipy without ties', () => {
    const r = mannWhitneyU([19, 22, 16, 29, 24], [20, 11, 17, 12], 'greater');
    expect(r.statistic).toBe(17);
    expect(r.pValue).toBeCloseTo(0.055673443266570206, 6);
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
