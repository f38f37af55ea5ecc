// Latency judged at the request level from histograms: a 5% canary (~10 rps beside ~190) with
// 30 s samples, seeded. The per-sample rule needed 8+ samples a side for a 2× slowdown; counting
// requests catches it in 2, and still passes healthy, noisy and within-threshold versions.
import { describe, expect, it } from 'vitest';
import { histogramQuantile, quantileBucket, poolHistograms } from '../../src/domain/latency-histogram.js';
import { judgeCanary, latencyRule, productionGate, rulesFromDefaults } from '../../src/domain/judge.js';
import type { Decision, MetricSample } from '../../src/domain/types.js';
import { series } from '../metrics/series.js';

const rules = rulesFromDefaults({
  breach: { errorRatePts: 2, p99IncreasePct: 20, throughputDropPct: 30, restartsIn5Min: 3, failingHealthPct: 50 },
  minSamples: 5,
  minRequests: 50,
});
const plan = { slo: { errorRatePct: 1, p99Ms: 400, availabilityPct: 99.9 } };
const canary5 = { candidateShare: 0.05, baselineShare: 0.95, earlyLook: true };

const base = (seed: number, n = 10) =>
  series({ samples: n, rps: 190, errorRate: 0.002, p99Ms: 120, seed: seed * 7919 + 1, histogram: true });
const cand = (seed: number, p99Ms: number, n: number, extra = {}) =>
  series({ samples: n, rps: 10, errorRate: 0.002, p99Ms, seed, histogram: true, ...extra });

function tally(trials: number, judge: (seed: number) => Decision): Record<string, number> {
  const t: Record<string, number> = { CONTINUE: 0, ROLLBACK: 0, INCONCLUSIVE: 0 };
  for (let s = 1; s <= trials; s++) t[judge(s).verdict]!++;
  return t;
}

describe('pooled histograms', () => {
  it('read the p99 of all requests within a bucket of the truth, and its bucket', () => {
    const h = poolHistograms(base(1))!;
    expect(h.total).toBeGreaterThan(50_000);
    expect(histogramQuantile(h, 0.99)).toBeGreaterThan(110);
    // Linear inside the (100, 150] bucket, as histogram_quantile reads it: a little high for a falling density.
    expect(histogramQuantile(h, 0.99)).toBeLessThan(145);
    expect(h.bounds[quantileBucket(h)!]).toBe(150);
  });

  it('are left out when a sample has none or the bounds differ (the per-sample rule judges then)', () => {
    const [a, b] = base(2, 2) as [MetricSample, MetricSample];
    expect(poolHistograms([a, { ...b, slowerThan: undefined }])).toBeUndefined();
    expect(poolHistograms([a, { ...b, slowerThan: b.slowerThan!.slice(1) }])).toBeUndefined();
    expect(poolHistograms([])).toBeUndefined();
  });
});

describe('p99 at the request level', () => {
  it('a 2× slower 5% canary is rolled back after 2 samples, by counting its slow requests', () => {
    const d = latencyRule(base(3), cand(3, 240, 2), rules, 0.0001, 'canary', 'baseline', 0.001);
    expect(d.verdict).toBe('ROLLBACK');
    expect(d.detail).toMatch(
      /^p99 2\d\d ms on canary vs 1[1-4]\d ms baseline \(\+\d+% > 20% allowed\): \d+ of \d+ requests \(\d+\.\d+%\) slower than 150 ms vs 0\.\d+% of baseline's \(p[<=]/,
    );
    // Through the whole judge, in its early look (stricter alpha, and the spread of two samples is
    // a rough guess): rolled back in 2 intervals for nearly every seed, in 3 for every one.
    expect(tally(30, (s) => judgeCanary(base(s), cand(s, 240, 2), plan, rules, canary5)).ROLLBACK).toBeGreaterThanOrEqual(28);
    expect(tally(30, (s) => judgeCanary(base(s), cand(s, 240, 3), plan, rules, canary5)).ROLLBACK).toBe(30);
  });

  it('+45% is caught within a 5-minute stage (10 samples)', () => {
    expect(tally(30, (s) => judgeCanary(base(s), cand(s, 174, 10), plan, rules, { ...canary5, earlyLook: false })).ROLLBACK).toBe(30);
  });

  it('bursts of slow requests in a few samples (a noisy, healthy version) are not a slowdown', () => {
    // Three of ten samples 2.5x slower, the rest as the baseline: the pooled p99 rises, every sample's does not.
    const bursty = (s: number) => [...cand(s, 120, 7), ...cand(s + 500, 300, 3)].map((x, i) => ({ ...x, at: (i + 1) * 30_000 }));
    const t = tally(30, (s) => judgeCanary(base(s), bursty(s), plan, rules, { ...canary5, earlyLook: false }));
    expect(t.ROLLBACK).toBe(0);
  });

  it('healthy, +10% and noisy canaries are not rolled back', () => {
    for (const [p99, extra] of [
      [120, {}],
      [132, {}],
      [120, { p99Sigma: 0.15, rpsCv: 0.3 }],
    ] as const) {
      const t = tally(50, (s) => judgeCanary(base(s), cand(s, p99, 10, extra), plan, rules, { ...canary5, earlyLook: false }));
      expect(t.ROLLBACK, `p99 ${p99} ${JSON.stringify(extra)}`).toBe(0);
    }
  });

  it('a canary with too few requests for a p99 (150 in all) is judged at p95 too: 1.5× slower rolls back, healthy does not', () => {
    const small = (s: number, p99Ms: number) => cand(s, p99Ms, 10, { rps: 0.5 });
    const whole = { candidateShare: 0.5 / 190.5, baselineShare: 190 / 190.5 };
    const slow = judgeCanary(base(6), small(6, 180), plan, rules, whole);
    expect(slow.verdict).toBe('ROLLBACK');
    expect(slow.explanation).toMatch(/^p95 .* \(p95: 1\d\d requests are too few to see a p99 move\)/);
    expect(tally(30, (s) => judgeCanary(base(s), small(s, 180), plan, rules, whole)).ROLLBACK).toBeGreaterThanOrEqual(27);
    expect(tally(50, (s) => judgeCanary(base(s), small(s, 120), plan, rules, whole)).ROLLBACK).toBe(0);
  });

  it('an impossible histogram (more slow requests than requests, rising counts, NaN) is dropped at the boundary, never counted', () => {
    const broken = (xs: MetricSample[], f: (h: Array<[number, number]>) => Array<[number, number]>) =>
      xs.map((x) => ({ ...x, slowerThan: f(x.slowerThan!) }));
    for (const f of [
      (h: Array<[number, number]>) => h.map(([ms, n]) => [ms, n + 1e6] as [number, number]),
      (h: Array<[number, number]>) => [...h].reverse(),
      (h: Array<[number, number]>) => h.map(([ms]) => [ms, Number.NaN] as [number, number]),
    ]) {
      const d = judgeCanary(base(5), broken(cand(5, 240, 2), f), plan, rules, canary5);
      expect(d.findings.find((x) => x.rule === 'p99')?.detail).toMatch(/not enough latency samples yet/);
    }
  });

  it('without histograms the per-sample rule still judges (and needs more samples)', () => {
    const strip = (xs: MetricSample[]) => xs.map(({ slowerThan: _s, ...x }) => x);
    const d = latencyRule(strip(base(4)), strip(cand(4, 240, 2)), rules, 0.001, 'canary', 'baseline');
    expect(d.verdict).toBe('INCONCLUSIVE');
    expect(d.detail).toMatch(/not enough latency samples yet/);
  });
});

describe('the production gate judges p99 at the request level where histograms exist', () => {
  const gatePlan = { regressionThresholdPct: 2, rollbackOnRegression: true };
  const released = (seed: number, p99Ms: number, extra = {}) =>
    series({ samples: 5, rps: 200, errorRate: 0.002, p99Ms, seed: seed + 900, histogram: true, ...extra });
  const p99Finding = (d: Decision) => d.findings.find((f) => f.rule === 'regression-p99')!;

  it('rolls back a 1.5× slower release on 5 samples after, counting requests', () => {
    const d = productionGate(base(7, 5), released(7, 180), gatePlan, rules);
    expect(d.verdict).toBe('ROLLBACK');
    expect(p99Finding(d).detail).toMatch(
      /^p99 1\d\d ms after the deploy vs 1[1-4]\d ms before \(\+\d+%; \d+ of \d+ requests slower than 150 ms vs 0\.\d+% before, p[<=]/,
    );
  });

  it('passes healthy, +10% and bursty releases in 30 seeds each', () => {
    const bursty = (s: number) => [...released(s, 120).slice(0, 3), ...released(s + 50, 300).slice(0, 2)];
    for (const make of [(s: number) => released(s, 120), (s: number) => released(s, 132), bursty]) {
      const t = tally(30, (s) => productionGate(base(s, 5), make(s), gatePlan, rules));
      expect(t.ROLLBACK).toBe(0);
    }
  });
});
