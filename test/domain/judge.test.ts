// The rollback rules, on synthetic series shaped like the sandbox's: ~200 rps in total, a 5%
// canary (~10 rps), 30 s samples. Seeded, so every run sees the same numbers.
import { describe, expect, it } from 'vitest';
import { judgeCanary, judgeInfra, judgeSmoke, productionGate, rulesFromDefaults, stagingGate } from '../../src/domain/judge.js';
import type { Decision, MetricSample } from '../../src/domain/types.js';
import { flat, series, type SeriesSpec } from '../metrics/series.js';

const rules = rulesFromDefaults({
  breach: { errorRatePts: 2, p99IncreasePct: 20, throughputDropPct: 30, restartsIn5Min: 3, failingHealthPct: 50 },
  minSamples: 5,
  minRequests: 50,
});
const plan = { slo: { errorRatePct: 1, p99Ms: 400, availabilityPct: 99.9 } };
const canary5 = { candidateShare: 0.05, baselineShare: 0.95 };

const base = (seed: number, n = 10, extra: Partial<SeriesSpec> = {}) =>
  series({ samples: n, rps: 190, errorRate: 0.002, p99Ms: 200, seed: seed * 7919 + 1, ...extra });
const cand = (seed: number, extra: Partial<SeriesSpec> = {}, n = 10) =>
  series({ samples: n, rps: 10, errorRate: 0.002, p99Ms: 200, seed, ...extra });

function tally(trials: number, judge: (seed: number) => Decision): Record<string, number> {
  const t: Record<string, number> = { CONTINUE: 0, ROLLBACK: 0, INCONCLUSIVE: 0 };
  for (let s = 1; s <= trials; s++) t[judge(s).verdict]!++;
  return t;
}

describe('judgeCanary: pooled counts from a whole-window reading', () => {
  // The samples are what Prometheus answers per interval over a range of 4 scrapes, so their
  // counts lag: a fault that began late in the window shows in them only in part.
  const lagging = () => flat(10, { requests: 300, errorRate: 0.004, p99Ms: 200 });
  const baseline = () => flat(10, { requests: 5700, errorRate: 0.002, p99Ms: 200 });
  const wholeOf = (errorRate: number): MetricSample => ({ ...flat(1, { requests: 3000, errorRate, p99Ms: 200 })[0]!, windowSec: 300 });

  it('tests the errors counted over the exact elapsed range, not the sum of the lagging samples', () => {
    expect(judgeCanary(baseline(), lagging(), plan, rules, canary5).verdict).toBe('CONTINUE');
    const d = judgeCanary(baseline(), lagging(), plan, rules, { ...canary5, whole: { candidate: wholeOf(0.06) } });
    expect(d.verdict).toBe('ROLLBACK');
    // The counts are the whole window's; the sample count is still the samples'.
    expect(d.findings.find((f) => f.rule === 'error-rate')?.detail).toMatch(
      /^error rate 6\.0% on canary vs 0\.2% baseline .* over 10 samples/,
    );
  });

  it('an impossible whole reading is left out, and the samples decide: never a pass on bad data', () => {
    const bad = { ...wholeOf(0.06), errorRate: -1 };
    expect(judgeCanary(baseline(), lagging(), plan, rules, { ...canary5, whole: { candidate: bad } }).verdict).toBe('CONTINUE');
    const failing = flat(10, { requests: 300, errorRate: 0.08, p99Ms: 200 });
    const nan = { ...wholeOf(0), requests: Number.NaN };
    expect(judgeCanary(baseline(), failing, plan, rules, { ...canary5, whole: { candidate: nan } }).verdict).toBe('ROLLBACK');
  });
});

describe('judgeCanary: canary against the stable baseline', () => {
  it('a healthy canary continues, with a readable summary', () => {
    const d = judgeCanary(base(1), cand(1), plan, rules, canary5);
    expect(d.verdict).toBe('CONTINUE');
    expect(d.explanation).toMatch(/^canary healthy: error rate 0\.\d+% vs 0\.\d+% baseline, p99 \d+ ms vs \d+ ms over 10 samples$/);
    expect(tally(100, (s) => judgeCanary(base(s), cand(s), plan, rules, canary5))).toEqual({ CONTINUE: 100, ROLLBACK: 0, INCONCLUSIVE: 0 });
  });

  it('an -errors canary (~8% 5xx) is rolled back, and the explanation says by how much', () => {
    const d = judgeCanary(base(2), cand(2, { errorRate: 0.08 }), plan, rules, canary5);
    expect(d.verdict).toBe('ROLLBACK');
    expect(d.explanation).toMatch(/^error rate \d\.\d% on canary vs 0\.\d+% baseline \(\+\d\.\d pts > 2 pts allowed\) over 10 samples/);
    expect(d.findings.find((f) => f.rule === 'error-rate')?.verdict).toBe('ROLLBACK');
    expect(tally(50, (s) => judgeCanary(base(s), cand(s, { errorRate: 0.08 }), plan, rules, canary5)).ROLLBACK).toBe(50);
  });

  it('a -slow canary (p99 about twice the baseline) is rolled back on p99', () => {
    const d = judgeCanary(base(3), cand(3, { p99Ms: 400, p99Sigma: 0.2 }), plan, rules, canary5);
    expect(d.verdict).toBe('ROLLBACK');
    expect(d.findings.find((f) => f.rule === 'p99')).toMatchObject({
      verdict: 'ROLLBACK',
      detail: expect.stringMatching(/% > 20% allowed/),
    });
    expect(
      tally(50, (s) => judgeCanary(base(s), cand(s, { p99Ms: 400, p99Sigma: 0.2 }), plan, rules, canary5)).ROLLBACK,
    ).toBeGreaterThanOrEqual(48);
  });

  it('a slow canary under the SLO still rolls back on the relative rule', () => {
    const d = judgeCanary(base(4, 10, { p99Ms: 100 }), cand(4, { p99Ms: 180 }), plan, rules, canary5);
    expect(d.verdict).toBe('ROLLBACK');
    expect(d.findings.find((f) => f.rule === 'slo-p99')?.verdict).toBe('CONTINUE');
  });

  it("at low per-sample traffic, compares a percentile the samples support (a small canary's p99 is biased up)", () => {
    // ~47 requests per sample: the canary's histogram p99 reads 35% high, its p50 is honest.
    const canary = series({ samples: 10, rps: 1.6, errorRate: 0.002, p99Ms: 160, seed: 5 }).map((s) => ({ ...s, p50Ms: 40 + (s.at % 3) }));
    const baseline = series({ samples: 10, rps: 30, errorRate: 0.002, p99Ms: 120, seed: 6 }).map((s) => ({
      ...s,
      p50Ms: 40 + (s.at % 5) / 2,
    }));
    const d = judgeCanary(baseline, canary, plan, rules, canary5);
    expect(d.findings.find((f) => f.rule === 'p99')).toMatchObject({
      verdict: 'CONTINUE',
      detail: expect.stringMatching(/^p50 .*too few for a reliable p99/),
    });
    const slow = canary.map((s) => ({ ...s, p50Ms: s.p50Ms * 2 }));
    expect(judgeCanary(baseline, slow, plan, rules, canary5).findings.find((f) => f.rule === 'p99')?.verdict).toBe('ROLLBACK');
  });

  it('no data is INCONCLUSIVE, never a pass', () => {
    const none = judgeCanary(base(5), [], plan, rules, canary5);
    expect(none.verdict).toBe('INCONCLUSIVE');
    expect(none.explanation).toMatch(/no data for canary/);
    const empty = flat(10, { requests: 0, errorRate: NaN, p99Ms: NaN });
    expect(judgeCanary(base(5), empty, plan, rules, canary5).verdict).toBe('INCONCLUSIVE');
    expect(judgeCanary([], cand(5), plan, rules, canary5).explanation).toMatch(/no data for baseline/);
  });

  it('too little traffic is INCONCLUSIVE (0.1 rps on the canary of a 2 rps service)', () => {
    const d = judgeCanary(base(6, 10, { rps: 1.9 }), cand(6, { rps: 0.1 }), plan, rules, canary5);
    expect(d.verdict).toBe('INCONCLUSIVE');
    expect(d.explanation).toMatch(/too little traffic on canary to judge: 10 samples with \d+ requests \(need 5 samples and 50 requests\)/);
  });

  it('fewer samples than the minimum is INCONCLUSIVE even when they look fine', () => {
    const d = judgeCanary(base(7, 3), cand(7, {}, 3), plan, rules, canary5);
    expect(d.verdict).toBe('INCONCLUSIVE');
  });

  it('a noisy but healthy canary is never rolled back (200 seeded trials)', () => {
    const noisy = { errorSpread: 1, p99Sigma: 0.3, rpsCv: 0.25 };
    for (const n of [5, 10]) {
      const t = tally(200, (s) =>
        judgeCanary(base(s, n, { errorSpread: 1, p99Sigma: 0.15, rpsCv: 0.25 }), cand(s, noisy, n), plan, rules, canary5),
      );
      expect(t.ROLLBACK).toBe(0);
      expect(t.CONTINUE).toBeGreaterThanOrEqual(180);
    }
  });

  it('a 2-point error regression at 5% canary traffic is caught', () => {
    // Exactly +2.0 points in every sample: at the limit, so it rolls back.
    const exact = judgeCanary(
      flat(10, { requests: 5700, errorRate: 0.002, p99Ms: 200 }),
      flat(5, { requests: 300, errorRate: 0.022, p99Ms: 200 }),
      plan,
      rules,
      canary5,
    );
    expect(exact.verdict).toBe('ROLLBACK');
    expect(exact.explanation).toMatch(/error rate 2\.\d% on canary vs 0\.2% baseline/);
    // Random samples around a true +2 points: caught nearly always over 5 and 10 samples.
    for (const n of [5, 10]) {
      const t = tally(200, (s) => judgeCanary(base(s, n), cand(s, { errorRate: 0.022 }, n), plan, rules, canary5));
      expect(t.ROLLBACK).toBeGreaterThanOrEqual(180);
    }
    // +2.5 points: nearly always over 5 samples (1,500 requests can show it as +1.5), always over 10.
    expect(
      tally(100, (s) => judgeCanary(base(s, 5), cand(s, { errorRate: 0.027 }, 5), plan, rules, canary5)).ROLLBACK,
    ).toBeGreaterThanOrEqual(98);
    expect(tally(100, (s) => judgeCanary(base(s), cand(s, { errorRate: 0.027 }), plan, rules, canary5)).ROLLBACK).toBe(100);
  });

  it('a few errors among few requests of a healthy low-traffic canary are not a rollback', () => {
    // Two 30 s samples of a 5% canary: 5 errors in 356 requests (1.4%) against 0.2%. Significant
    // against zero (Fisher p < 0.001), but far from showing a 2-point regression.
    const canary = [
      { ...flat(1, { requests: 178, errorRate: 2 / 178, p99Ms: 200 })[0]!, at: 30_000 },
      { ...flat(1, { requests: 178, errorRate: 3 / 178, p99Ms: 200 })[0]!, at: 60_000 },
    ];
    const baseline = flat(2, { requests: 5700, errorRate: 0.002, p99Ms: 200 });
    for (const earlyLook of [true, false]) {
      const f = judgeCanary(baseline, canary, plan, rules, { ...canary5, earlyLook }).findings.find((x) => x.rule === 'error-rate')!;
      expect(f.verdict).toBe('INCONCLUSIVE');
      expect(f.detail).toMatch(/^error rate 1\.4% on canary vs 0\.2% baseline \(\+1\.2 pts, at the 2 pts limit .*too few to be sure/);
    }
    // A healthy canary over a whole window of such samples continues.
    const window = judgeCanary(base(3), cand(3, { errorRate: 0.002 }), plan, rules, canary5);
    expect(window.verdict).toBe('CONTINUE');
    // Healthy canaries at every window length, early looks included: never rolled back.
    for (const n of [2, 3, 5, 10]) {
      for (const earlyLook of [true, false]) {
        expect(tally(400, (s) => judgeCanary(base(s, n), cand(s, {}, n), plan, rules, { ...canary5, earlyLook })).ROLLBACK).toBe(0);
      }
    }
  });

  it('a 0.5-point error increase is within the rule and continues', () => {
    expect(tally(100, (s) => judgeCanary(base(s), cand(s, { errorRate: 0.007 }), plan, rules, canary5)).CONTINUE).toBe(100);
  });

  it('throughput is compared per traffic share: a 5% canary serving 5% is fine, one serving 2% is not', () => {
    expect(judgeCanary(base(8), cand(8), plan, rules, canary5).findings.find((f) => f.rule === 'throughput')?.verdict).toBe('CONTINUE');
    const starved = judgeCanary(base(8), cand(8, { rps: 4 }), plan, rules, canary5);
    expect(starved.verdict).toBe('ROLLBACK');
    expect(starved.explanation).toMatch(/^throughput per traffic share .* > 30% drop allowed/);
  });

  it('an absolute SLO breach the baseline does not share rolls back; one it shares is only reported', () => {
    const strict = { slo: { errorRatePct: 1, p99Ms: 400, availabilityPct: 99 } };
    const d = judgeCanary(base(9), cand(9, { errorRate: 0.018 }), strict, rules, canary5);
    expect(d.findings.find((f) => f.rule === 'slo-errors')).toMatchObject({
      verdict: 'ROLLBACK',
      detail: expect.stringMatching(/error-rate SLO 1%/),
    });
    const both = judgeCanary(base(9, 10, { errorRate: 0.02 }), cand(9, { errorRate: 0.021 }), strict, rules, canary5);
    expect(both.verdict).toBe('CONTINUE');
    expect(both.findings.find((f) => f.rule === 'slo-errors')?.detail).toMatch(/baseline breaches it too/);
  });
});

describe('judgeInfra: infrastructure signals roll back at once', () => {
  const r = { restartsIn5Min: 3, failingHealthPct: 50 };
  it('continues with no signals, or harmless ones', () => {
    expect(judgeInfra([], r).verdict).toBe('CONTINUE');
    expect(
      judgeInfra(
        [
          { kind: 'restarts', pod: 'p', restarts: 3, windowSec: 300 },
          { kind: 'readiness', failing: 1, total: 4 },
        ],
        r,
      ).verdict,
    ).toBe('CONTINUE');
  });
  it.each([
    [{ kind: 'oom-killed', pod: 'checkout-canary-1', container: 'app' } as const, /OOMKilled/],
    [{ kind: 'crash-loop', pod: 'p', container: 'app' } as const, /CrashLoopBackOff/],
    [{ kind: 'image-pull', pod: 'p', container: 'app', message: 'manifest unknown' } as const, /cannot pull its image: manifest unknown/],
    [{ kind: 'progress-deadline', deployment: 'checkout-canary', message: 'ProgressDeadlineExceeded' } as const, /progress deadline/],
    [{ kind: 'restarts', pod: 'p', restarts: 4, windowSec: 240 } as const, /restarted 4 times in 240 s \(more than 3 in 5 min allowed\)/],
    [{ kind: 'readiness', failing: 3, total: 4 } as const, /3 of 4 pods failing health checks \(75%, more than 50% allowed\)/],
  ])('%o rolls back', (signal, text) => {
    const d = judgeInfra([signal], r);
    expect(d.verdict).toBe('ROLLBACK');
    expect(d.explanation).toMatch(text);
  });
  it('scales restarts counted over a longer window to 5 minutes', () => {
    expect(judgeInfra([{ kind: 'restarts', pod: 'p', restarts: 6, windowSec: 900 }], r).verdict).toBe('CONTINUE');
    expect(judgeInfra([{ kind: 'restarts', pod: 'p', restarts: 15, windowSec: 900 }], r).verdict).toBe('ROLLBACK');
  });
});

describe('regression gates', () => {
  const pre = (seed: number, extra: Partial<SeriesSpec> = {}) =>
    series({ samples: 10, rps: 200, errorRate: 0.002, p99Ms: 200, seed, ...extra });
  const post = (seed: number, extra: Partial<SeriesSpec> = {}) =>
    series({ samples: 10, rps: 200, errorRate: 0.002, p99Ms: 200, seed: seed + 1000, ...extra });
  const medium = { regressionThresholdPct: 2, rollbackOnRegression: true };

  it('production gate passes an unchanged service', () => {
    const d = productionGate(pre(1), post(1), medium, rules);
    expect(d.verdict).toBe('CONTINUE');
    expect(d.explanation).toBe('no regression above 2% after the deploy');
  });
  it('production gate rolls back on a regression above the threshold', () => {
    const d = productionGate(pre(2), post(2, { errorRate: 0.05 }), medium, rules);
    expect(d.verdict).toBe('ROLLBACK');
    expect(d.explanation).toMatch(
      /^error rate [45]\.\d% after the deploy vs 0\.\d+% before \(\+[45]\.\d pts, p<0\.001\): regression [45]\.\d pts > 2 pts allowed$/,
    );
    expect(productionGate(pre(3), post(3, { p99Ms: 300 }), medium, rules).verdict).toBe('ROLLBACK');
  });
  it('latency counts as a regression beyond the breach rule (+20%), as at the canary: +10% passes, +40% rolls back', () => {
    const slower = (f: number) => productionGate(pre(5), post(5, { p99Ms: 200 * f }), medium, rules);
    const mild = slower(1.1);
    expect(mild.verdict).toBe('CONTINUE');
    expect(mild.findings.find((f) => f.rule === 'regression-p99')?.detail).toMatch(/regression \d+\.\d% ≤ 20% allowed$/);
    const bad = slower(1.4);
    expect(bad.verdict).toBe('ROLLBACK');
    expect(bad.explanation).toMatch(/regression \d+\.\d% > 20% allowed/);
  });
  it('production gate asks a person when rollback on regression is off', () => {
    const d = productionGate(pre(2), post(2, { errorRate: 0.05 }), { regressionThresholdPct: 2, rollbackOnRegression: false }, rules);
    expect(d.verdict).toBe('INCONCLUSIVE');
    expect(d.explanation).toMatch(/rollback on regression is off: Rollback, Accept or Investigate\?$/);
  });
  it('a zero threshold (high risk) still ignores noise', () => {
    expect(
      productionGate(
        pre(4, { p99Sigma: 0.2 }),
        post(4, { p99Sigma: 0.2 }),
        { regressionThresholdPct: 0, rollbackOnRegression: true },
        rules,
      ).verdict,
    ).toBe('CONTINUE');
  });
  it('gates include the test regression rate of the smoke checks (regression.ts)', () => {
    const worse = productionGate(pre(7), post(7), medium, rules, { before: { passed: 10, total: 10 }, after: { passed: 9, total: 10 } });
    expect(worse.verdict).toBe('ROLLBACK');
    expect(worse.explanation).toMatch(/Regression gate failed: 10% regression/);
    const same = stagingGate(post(7), pre(7), medium, rules, { before: { passed: 2, total: 2 }, after: { passed: 2, total: 2 } });
    expect(same.verdict).toBe('CONTINUE');
    expect(same.findings.find((f) => f.rule === 'regression-tests')?.verdict).toBe('CONTINUE');
  });
  it('gates without data are INCONCLUSIVE', () => {
    expect(productionGate(pre(5), [], medium, rules).verdict).toBe('INCONCLUSIVE');
    expect(stagingGate([], pre(5), medium, rules).verdict).toBe('INCONCLUSIVE');
  });
  it('staging gate blocks promotion on a regression against the production baseline, ignoring throughput', () => {
    const staging = (extra: Partial<SeriesSpec> = {}) => series({ samples: 10, rps: 20, errorRate: 0.002, p99Ms: 200, seed: 77, ...extra });
    const ok = stagingGate(staging(), pre(6), medium, rules);
    expect(ok.verdict).toBe('CONTINUE');
    expect(ok.findings.some((f) => f.rule === 'regression-throughput')).toBe(false);
    const bad = stagingGate(staging({ errorRate: 0.08 }), pre(6), medium, rules);
    expect(bad.verdict).toBe('ROLLBACK');
    expect(bad.explanation).toMatch(/^promotion blocked: error rate \d\.\d% on staging vs 0\.\d+% production baseline/);
  });
});

describe('judgeSmoke', () => {
  it('a failing critical check rolls back; a failing optional check only warns', () => {
    const ok = { name: 'health', ok: true, critical: true, latencyMs: 12 };
    expect(judgeSmoke([ok]).verdict).toBe('CONTINUE');
    expect(judgeSmoke([ok, { name: 'extra', ok: false, critical: false, latencyMs: 5, reason: 'status 500' }]).verdict).toBe('CONTINUE');
    const d = judgeSmoke([ok, { name: 'critical-path', ok: false, critical: true, latencyMs: 8, reason: 'expected status 200, got 500' }]);
    expect(d.verdict).toBe('ROLLBACK');
    expect(d.explanation).toBe('smoke check critical-path failed: expected status 200, got 500');
  });
});

// Types are exercised, not only values: a MetricSample built by hand is accepted.
const _typed: MetricSample[] = flat(1, { requests: 1, errorRate: 0, p99Ms: 1 });
void _typed;
