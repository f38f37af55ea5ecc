// The judge's boundary: every kind of bad or missing input gives INCONCLUSIVE (or a refusal),
// never CONTINUE, and every call returns within 50 ms. Each case below passed (or hung) before.
import { describe, expect, it } from 'vitest';
import { judgeCanary, judgeInfra, productionGate, rulesFromDefaults, stagingGate } from '../../src/domain/judge.js';
import { checkSamples } from '../../src/domain/sample-check.js';
import type { Decision, MetricSample } from '../../src/domain/types.js';
import { shippedConfig } from './helpers.js';

const rules = rulesFromDefaults(shippedConfig.defaults);
const plan = { slo: { errorRatePct: 1, p99Ms: 500, availabilityPct: 99.5 }, regressionThresholdPct: 2, rollbackOnRegression: true };

function samples(n: number, over: Partial<MetricSample> = {}, at = 0): MetricSample[] {
  return Array.from({ length: n }, (_, i) => ({
    at: at + i * 30_000,
    windowSec: 30,
    requests: 6000,
    errorRate: 0.002,
    p50Ms: 40,
    p95Ms: 90,
    p99Ms: 120,
    throughputRps: 200,
    ...over,
  }));
}
const healthy = samples(10);

/** Runs `judge` and checks it returned in time and did not pass. */
function neverPasses(judge: () => Decision): Decision {
  const t0 = performance.now();
  const d = judge();
  expect(performance.now() - t0).toBeLessThan(50);
  expect(d.verdict, d.explanation).not.toBe('CONTINUE');
  return d;
}

const gates = {
  canary: (base: MetricSample[], cand: MetricSample[]) => judgeCanary(base, cand, plan, rules),
  production: (pre: MetricSample[], post: MetricSample[]) => productionGate(pre, post, plan, rules),
  staging: (prod: MetricSample[], staging: MetricSample[]) => stagingGate(staging, prod, plan, rules),
};

describe('missing data is never a pass', () => {
  for (const [name, judge] of Object.entries(gates)) {
    it(`${name}: all-NaN p99 after the deploy, on a real 2× slowdown`, () => {
      neverPasses(() => judge(healthy, samples(10, { p50Ms: NaN, p95Ms: NaN, p99Ms: NaN })));
    });
    it(`${name}: NaN p99 before the deploy`, () => {
      neverPasses(() => judge(samples(10, { p50Ms: NaN, p95Ms: NaN, p99Ms: NaN }), samples(10, { p99Ms: 240 })));
    });
    it(`${name}: empty sides`, () => {
      neverPasses(() => judge([], healthy));
      neverPasses(() => judge(healthy, []));
      neverPasses(() => judge([], []));
    });
  }
  for (const name of ['canary', 'production'] as const) {
    it(`${name}: throughput all NaN, or half NaN, on a real 70% drop`, () => {
      neverPasses(() => gates[name](healthy, samples(10, { throughputRps: NaN })));
      neverPasses(() => gates[name](healthy, [...samples(5, { throughputRps: NaN }), ...samples(5, { throughputRps: 60 })]));
    });
  }
});

describe('impossible values are not believed', () => {
  it('a negative error rate is not pooled: a 10%-error canary with one sample at −5 does not pass', () => {
    neverPasses(() => gates.canary(healthy, [...samples(9, { errorRate: 0.1 }), ...samples(1, { errorRate: -5 })]));
  });
  it('negative latencies are not evidence of speed', () => {
    neverPasses(() => gates.canary(healthy, samples(10, { p50Ms: -40, p95Ms: -90, p99Ms: -120 })));
  });
  it('an error rate above 1 or more errors than requests makes the sample unusable, with the reason named', () => {
    const checked = checkSamples([...samples(2), ...samples(1, { errorRate: 1.5 })], 'canary');
    expect(checked.samples).toHaveLength(2);
    expect(checked.rejected).toEqual(['a canary sample has error rate = 1.5 (must be 0..1)']);
  });
  for (const requests of [Infinity, -Infinity, NaN, -100, 2 ** 53, 2 ** 60]) {
    it(`requests = ${requests}: the sample is left out and the judge returns at once`, () => {
      for (const [name, judge] of Object.entries(gates)) {
        const t0 = performance.now();
        const base = [...samples(9), ...samples(1, { requests })];
        const withBadBase = judge(base, samples(10, { errorRate: 0.1 }));
        expect(withBadBase.verdict, `${name}: ${withBadBase.explanation}`).not.toBe('CONTINUE');
        const d = neverPasses(() => judge(healthy, samples(10, { requests })));
        expect(d.explanation, name).toMatch(/no data|too little/);
        expect(performance.now() - t0).toBeLessThan(100);
      }
    });
  }
  it('names what was left out', () => {
    const d = judgeCanary(healthy, samples(10, { requests: Infinity }), plan, rules);
    expect(d.findings.find((f) => f.rule === 'data')?.detail).toMatch(/left out as impossible: a canary sample has requests = Infinity/);
  });
});

describe('infrastructure signals that cannot be read are not healthy', () => {
  for (const signal of [
    { kind: 'readiness', failing: NaN, total: 3 },
    { kind: 'readiness', failing: 0, total: 0 },
    { kind: 'readiness', failing: 5, total: 3 },
    { kind: 'restarts', pod: 'web-1', restarts: NaN, windowSec: 300 },
    { kind: 'restarts', pod: 'web-1', restarts: 2, windowSec: NaN },
  ] as const) {
    it(JSON.stringify(signal), () => {
      neverPasses(() => judgeInfra([signal], rules));
    });
  }
  it('readable healthy signals still pass', () => {
    expect(judgeInfra([{ kind: 'readiness', failing: 0, total: 3 }], rules).verdict).toBe('CONTINUE');
  });
});

describe('clean data still passes', () => {
  it.each(Object.entries(gates))('%s: healthy against healthy continues', (_name, judge) => {
    expect(judge(healthy, samples(10, {}, 1)).verdict).toBe('CONTINUE');
  });
});

describe('wording a person can act on', () => {
  it('a slowdown not yet sure enough says how sure and what happens next, never "not significant" beside a small p', () => {
    const base = samples(4);
    // Slower in every sample, but too few samples for the 0.001 level.
    const cand = samples(4, { p99Ms: 300, p95Ms: 200, p50Ms: 80 }, 1);
    const d = judgeCanary(base, cand, plan, { ...rules, minSamples: 4 });
    const p99 = d.findings.find((f) => f.rule === 'p99')!;
    expect(p99.verdict).toBe('INCONCLUSIVE');
    expect(p99.detail).toMatch(
      /^p99 300 ms on canary vs 120 ms baseline \(\+150% > 20% allowed\) over 4 samples; slower than the baseline in 4 of 4 samples, not yet sure enough to roll back \(p=0\.\d+, needs below 0\.001\): 4 samples against 4 can never be surer than p=0\.014; it needs a longer window \(more samples\)$/,
    );
    expect(d.findings.map((f) => f.detail).join(' ')).not.toMatch(/not (yet )?significant/);
  });

  it('says "waiting for more data" only when more samples can make it sure', () => {
    // 7 against 7, slower in all but one: p above 0.001, though 7 against 7 can reach 1/3432.
    const base = samples(7);
    const cand = [...samples(6, { p99Ms: 300, p95Ms: 200, p50Ms: 80 }, 1), ...samples(1, {}, 2)];
    const p99 = judgeCanary(base, cand, plan, { ...rules, minSamples: 4 }).findings.find((f) => f.rule === 'p99')!;
    expect(p99.verdict).toBe('INCONCLUSIVE');
    expect(p99.detail).toMatch(/not yet sure enough to roll back \(p=0\.\d+, needs below 0\.001\): waiting for more data$/);
  });
});
