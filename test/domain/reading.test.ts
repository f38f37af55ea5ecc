// One reading per window: the numbers shown and stored are the ones the judge tested, also where
// interval samples overlap and only the whole-window reading counts each request once.
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config.js';
import { fmtMs, fmtPct, rulesFromDefaults } from '../../src/domain/judge-core.js';
import { judgeCanary } from '../../src/domain/judge.js';
import { windowReading } from '../../src/domain/reading.js';
import type { MetricSample } from '../../src/domain/types.js';

const rules = rulesFromDefaults(loadConfigFile('data/shipbot.yml').defaults);
const plan = { slo: { errorRatePct: 5, p99Ms: 800, availabilityPct: 95 } };

const sample = (i: number, errorRate: number, p99Ms: number, requests = 600): MetricSample => ({
  at: 1_000_000 + i * 15_000,
  windowSec: 15,
  requests,
  errorRate,
  p50Ms: p99Ms / 4,
  p95Ms: p99Ms / 2,
  p99Ms,
  throughputRps: requests / 15,
});

describe('windowReading', () => {
  it('is the whole-window reading the judge tested, not the sum of overlapping samples', () => {
    // Each sample is a 60 s rate range read every 15 s: an early error burst is smeared over four.
    const cand = [0.02, 0.02, 0.02, 0.02, 0.004, 0.004].map((r, i) => sample(i, r, 200));
    const base = [0.003, 0.003, 0.003, 0.003, 0.003, 0.003].map((r, i) => sample(i, r, 190, 5000));
    const whole = { ...sample(6, 0.008, 200, 3600), windowSec: 90 };
    const reading = windowReading(cand, whole)!;
    expect(reading.requests).toBe(3600);
    expect(reading.errorRate).toBeCloseTo(0.008, 3);
    const summed = windowReading(cand)!;
    expect(fmtPct(summed.errorRate)).not.toBe(fmtPct(reading.errorRate)); // the case this guards
    const d = judgeCanary(base, cand, plan, rules, { whole: { candidate: whole }, candidateLabel: 'canary' });
    const finding = d.findings.find((f) => f.rule === 'error-rate')!.detail;
    expect(finding).toContain(`error rate ${fmtPct(reading.errorRate)} on canary vs ${fmtPct(windowReading(base)!.errorRate)} baseline`);
  });

  it('reads latency from the pooled histogram the latency rule uses, and the median of samples without one', () => {
    const withHist = (i: number): MetricSample => ({
      ...sample(i, 0.001, 999),
      slowerThan: [
        [100, 300],
        [250, 30],
        [500, 3],
        [1000, 0],
      ],
    });
    const hist = windowReading([0, 1, 2, 3, 4].map(withHist))!;
    expect(hist.p99Ms).toBeGreaterThan(250);
    expect(hist.p99Ms).toBeLessThan(500);
    expect(fmtMs(windowReading([180, 200, 900].map((p, i) => sample(i, 0, p)))!.p99Ms)).toBe('200 ms');
  });

  it('is nothing at all without a usable sample or reading: no made-up zero', () => {
    expect(windowReading([])).toBeUndefined();
    expect(windowReading([sample(0, 0, 100, 0)])).toBeUndefined();
  });
});
