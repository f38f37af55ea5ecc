// The test-regression gate: rate, threshold, and inconclusive (never pass) without a baseline.
import { describe, expect, it } from 'vitest';
import { regressionGate, regressionRate } from '../../src/domain/regression.js';

describe('regressionRate', () => {
  it('is (baseline − candidate) / baseline × 100', () => {
    expect(regressionRate(100, 98)).toBeCloseTo(2);
    expect(regressionRate(200, 150)).toBeCloseTo(25);
    expect(regressionRate(50, 55)).toBeCloseTo(-10);
  });
  it('is undefined when the baseline passed nothing', () => {
    expect(regressionRate(0, 10)).toBeUndefined();
  });
});

describe('regressionGate', () => {
  it.each([
    // baseline, candidate, threshold, verdict
    [{ passed: 100 }, { passed: 100 }, 0, 'pass'],
    [{ passed: 100 }, { passed: 99 }, 0, 'fail'],
    [{ passed: 100 }, { passed: 98 }, 2, 'pass'],
    [{ passed: 100 }, { passed: 97 }, 2, 'fail'],
    [{ passed: 100 }, { passed: 95 }, 5, 'pass'],
    [{ passed: 100 }, { passed: 94 }, 5, 'fail'],
    [{ passed: 100 }, { passed: 110 }, 0, 'pass'],
    [{ passed: 49, total: 50 }, { passed: 98, total: 100 }, 0, 'pass'],
    [{ passed: 50, total: 50 }, { passed: 98, total: 100 }, 0, 'fail'],
    [{ passed: 300 }, { passed: 294 }, 2, 'pass'],
  ] as const)('%o vs %o at %d%% → %s', (baseline, candidate, threshold, verdict) => {
    const r = regressionGate(baseline, candidate, threshold);
    expect(r.verdict).toBe(verdict);
    expect(r.explanation.split('\n')).toHaveLength(1);
    expect(r.explanation).toMatch(verdict === 'pass' ? /passed/ : /failed/);
  });

  it('explains the rate and the threshold', () => {
    const r = regressionGate({ passed: 100, total: 100 }, { passed: 97, total: 100 }, 2);
    expect(r.ratePct).toBeCloseTo(3);
    expect(r.explanation).toBe(
      'Regression gate failed: 3% regression (97/100 passed vs 100/100 on the baseline) exceeds the 2% threshold.',
    );
  });

  it.each([
    [undefined, { passed: 10 }, /no baseline/],
    [null, { passed: 10 }, /no baseline/],
    [{ passed: 0 }, { passed: 0 }, /baseline passed no tests/],
    [{ passed: 0, total: 20 }, { passed: 5, total: 20 }, /baseline passed no tests/],
    [{ passed: 10 }, undefined, /no test results for the new version/],
    [{ passed: 10, total: 10 }, { passed: 0, total: 0 }, /ran no tests/],
    [{ passed: Number.NaN }, { passed: 3 }, /no baseline/],
    [{ passed: 5, total: 3 }, { passed: 3 }, /no baseline/],
  ])('inconclusive, never pass: %o vs %o', (baseline, candidate, why) => {
    const r = regressionGate(baseline, candidate, 100);
    expect(r.verdict).toBe('inconclusive');
    expect(r.ratePct).toBeUndefined();
    expect(r.explanation).toMatch(why);
  });
});
