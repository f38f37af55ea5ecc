// The regression gates: staging against production's live version, production after the deploy
// against before it, and the smoke checks. A regression above the threshold blocks or rolls back;
// no data is INCONCLUSIVE.
import type { Decision, DeployPlan, MetricSample } from './types.js';
import { fisherGreater, mannWhitneyU, median } from './stats.js';
import { regressionGate, regressionRate, type TestCounts } from './regression.js';
import { compareSlowShare, poolHistograms } from './latency-histogram.js';
import {
  DEFAULT_ALPHA,
  DEFAULT_SAMPLE_ALPHA,
  type Finding,
  type JudgeRules,
  checked,
  combine,
  dataRule,
  fmtMs,
  fmtP,
  fmtPct,
  fmtPts,
  latencySamples,
  plural,
  pool,
} from './judge-core.js';

/**
 * How much worse `after` is than `before`, per metric: error rate in percentage points, p99 and
 * throughput in percent. Each counts only when statistically significant (alpha), so noise is 0.
 */
export interface MetricRegression {
  metric: 'error-rate' | 'p99' | 'throughput';
  /** Percentage points (error rate) or percent (p99, throughput); 0 when not significant. */
  regressionPct: number;
  observedPct: number;
  pValue: number;
  detail: string;
}

export function metricRegressions(
  before: readonly MetricSample[],
  after: readonly MetricSample[],
  opts: {
    alpha?: number;
    sampleAlpha?: number;
    skipThroughput?: boolean;
    afterLabel?: string;
    beforeLabel?: string;
    minSamples?: number;
  } = {},
): MetricRegression[] {
  const al = opts.afterLabel ?? 'after';
  const bl = opts.beforeLabel ?? 'before';
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const sampleAlpha = opts.sampleAlpha ?? DEFAULT_SAMPLE_ALPHA;
  const out: MetricRegression[] = [];
  const b = pool(before);
  const a = pool(after);
  if (a.requests > 0 && b.requests > 0) {
    const pts = (a.rate - b.rate) * 100;
    const p = fisherGreater(a.errors, a.requests, b.errors, b.requests);
    out.push({
      metric: 'error-rate',
      observedPct: pts,
      pValue: p,
      regressionPct: p < alpha ? Math.max(0, pts) : 0,
      detail: `error rate ${fmtPct(a.rate)} ${al} vs ${fmtPct(b.rate)} ${bl} (${fmtPts(pts)}, ${fmtP(p)})`,
    });
  }
  const byRequests = requestP99(before, after, al, bl);
  const la = latencySamples(after);
  const lb = latencySamples(before);
  const need = opts.minSamples ?? 1;
  if (byRequests) {
    out.push({ ...byRequests, regressionPct: byRequests.pValue < alpha ? Math.max(0, byRequests.observedPct) : 0 });
  } else if (la.length >= need && lb.length >= need) {
    const ma = median(la);
    const mb = median(lb);
    const pct = mb > 0 ? ((ma - mb) / mb) * 100 : 0;
    const p = mannWhitneyU(la, lb, 'greater').pValue;
    out.push({
      metric: 'p99',
      observedPct: pct,
      pValue: p,
      regressionPct: p < sampleAlpha ? Math.max(0, pct) : 0,
      detail: `p99 ${fmtMs(ma)} ${al} vs ${fmtMs(mb)} ${bl} (${pct >= 0 ? '+' : ''}${pct.toFixed(0)}%, ${fmtP(p)})`,
    });
  }
  if (!opts.skipThroughput) {
    const ta = after.map((s) => s.throughputRps).filter(Number.isFinite);
    const tb = before.map((s) => s.throughputRps).filter(Number.isFinite);
    if (ta.length >= need && tb.length >= need) {
      const ma = median(ta);
      const mb = median(tb);
      const pct = regressionRate(mb, ma) ?? 0;
      const p = mannWhitneyU(ta, tb, 'less').pValue;
      out.push({
        metric: 'throughput',
        observedPct: pct,
        pValue: p,
        regressionPct: p < sampleAlpha ? Math.max(0, pct) : 0,
        detail: `throughput ${ma.toFixed(1)} rps ${al} vs ${mb.toFixed(1)} rps ${bl} (${pct >= 0 ? '-' : '+'}${Math.abs(pct).toFixed(0)}%, ${fmtP(p)})`,
      });
    }
  }
  return out;
}

/**
 * p99 at the request level where both sides have histograms (every request of both periods,
 * the canary judge's test); undefined otherwise, and the per-sample comparison is used.
 */
function requestP99(
  before: readonly MetricSample[],
  after: readonly MetricSample[],
  al: string,
  bl: string,
): Omit<MetricRegression, 'regressionPct'> | undefined {
  const hb = poolHistograms(before);
  const ha = poolHistograms(after);
  const cmp = hb && ha && hb.total > 0 && ha.total > 0 ? compareSlowShare(before, after, hb, ha, 0.99) : undefined;
  if (!cmp) return undefined;
  const { slower } = cmp;
  return {
    metric: 'p99',
    observedPct: cmp.incPct,
    pValue: cmp.pValue,
    detail: `p99 ${fmtMs(cmp.after)} ${al} vs ${fmtMs(cmp.before)} ${bl} (${cmp.incPct >= 0 ? '+' : ''}${cmp.incPct.toFixed(0)}%; ${slower.after} of ${slower.afterTotal} requests slower than ${fmtMs(cmp.boundMs)} vs ${fmtPct(slower.before / slower.beforeTotal)} ${bl}, ${fmtP(cmp.pValue)})`,
  };
}

interface GateInput {
  before: readonly MetricSample[];
  after: readonly MetricSample[];
  thresholdPct: number;
  rules: JudgeRules;
  afterLabel: string;
  beforeLabel: string;
  skipThroughput: boolean;
  tests?: GateTests;
}

/** Test (smoke) results before and after, for the test regression rate of src/domain/regression.ts. */
export interface GateTests {
  before: TestCounts;
  after: TestCounts;
}

/** Data minimums, then every significant regression above the threshold is a finding. */
function gateFindings(g: GateInput): { findings: Finding[]; regressed: MetricRegression[]; enough: boolean } {
  const { base: before, cand: after, rejected } = checked(g.before, g.after, g.beforeLabel, g.afterLabel);
  const data = dataRule(before, after, g.rules, g.afterLabel, g.beforeLabel, rejected);
  if (data.verdict !== 'CONTINUE') return { findings: [data], regressed: [], enough: false };
  const regs = metricRegressions(before, after, {
    minSamples: g.rules.minSamples,
    alpha: g.rules.alpha,
    sampleAlpha: g.rules.sampleAlpha,
    skipThroughput: g.skipThroughput,
    afterLabel: g.afterLabel,
    beforeLabel: g.beforeLabel,
  });
  // Traffic rises and falls on its own over a deploy, so throughput only counts beyond the breach
  // rule; so does latency: a p99 2% slower is measurable on a busy service but no regression a
  // person would roll back for, and the canary judge already allows the breach rule's increase.
  // The regression threshold holds for tests and error points.
  const limit = (r: MetricRegression) =>
    r.metric === 'throughput'
      ? Math.max(g.thresholdPct, g.rules.throughputDropPct)
      : r.metric === 'p99'
        ? Math.max(g.thresholdPct, g.rules.p99IncreasePct)
        : g.thresholdPct;
  const regressed = regs.filter((r) => Number.isFinite(r.pValue) && r.regressionPct > limit(r));
  const findings: Finding[] = [data];
  if (g.tests) {
    const t = regressionGate(g.tests.before, g.tests.after, g.thresholdPct);
    findings.push({
      rule: 'regression-tests',
      verdict: t.verdict === 'fail' ? 'ROLLBACK' : t.verdict === 'inconclusive' ? 'INCONCLUSIVE' : 'CONTINUE',
      detail: t.explanation,
    });
  }
  // A metric the gate cannot compare is missing evidence, never a pass.
  const expected: MetricRegression['metric'][] = g.skipThroughput ? ['error-rate', 'p99'] : ['error-rate', 'p99', 'throughput'];
  for (const m of expected) {
    const r = regs.find((x) => x.metric === m);
    if (!r || !Number.isFinite(r.pValue)) {
      findings.push({
        rule: `regression-${m}`,
        verdict: 'INCONCLUSIVE',
        detail: r ? `${r.detail}: cannot be tested` : `no usable ${m} data ${g.afterLabel} or ${g.beforeLabel} to compare`,
      });
    }
  }
  for (const r of regs) {
    if (!Number.isFinite(r.pValue)) continue;
    const over = r.regressionPct > limit(r);
    const unit = r.metric === 'error-rate' ? ' pts' : '%';
    findings.push({
      rule: `regression-${r.metric}`,
      verdict: over ? 'ROLLBACK' : 'CONTINUE',
      detail: `${r.detail}: regression ${r.regressionPct.toFixed(1)}${unit} ${over ? '>' : '≤'} ${limit(r)}${unit} allowed`,
    });
  }
  return { findings, regressed, enough: true };
}

/**
 * Staging gate: staging after the deploy against the production baseline. ROLLBACK means "block
 * promotion to production". Throughput is not compared (staging traffic differs).
 */
export function stagingGate(
  stagingPost: readonly MetricSample[],
  prodBaseline: readonly MetricSample[],
  plan: Pick<DeployPlan, 'regressionThresholdPct'>,
  rules: JudgeRules,
  tests?: GateTests,
): Decision {
  const { findings, enough } = gateFindings({
    tests,
    before: prodBaseline,
    after: stagingPost,
    thresholdPct: plan.regressionThresholdPct,
    rules,
    afterLabel: 'on staging',
    beforeLabel: 'production baseline',
    skipThroughput: true,
  });
  const d = combine(findings, `staging shows no regression above ${plan.regressionThresholdPct}% against the production baseline`);
  if (!enough) return d;
  if (d.verdict === 'ROLLBACK') return { ...d, explanation: `promotion blocked: ${d.explanation}` };
  return d;
}

/**
 * Production gate: post-deploy against pre-deploy. A regression above the threshold rolls back,
 * or — with rollback-on-regression off — asks a person (Rollback / Accept / Investigate).
 */
export function productionGate(
  pre: readonly MetricSample[],
  post: readonly MetricSample[],
  plan: Pick<DeployPlan, 'regressionThresholdPct' | 'rollbackOnRegression'>,
  rules: JudgeRules,
  tests?: GateTests,
): Decision {
  const { findings, enough } = gateFindings({
    tests,
    before: pre,
    after: post,
    thresholdPct: plan.regressionThresholdPct,
    rules,
    afterLabel: 'after the deploy',
    beforeLabel: 'before',
    skipThroughput: false,
  });
  const d = combine(findings, `no regression above ${plan.regressionThresholdPct}% after the deploy`);
  if (!enough || d.verdict !== 'ROLLBACK') return d;
  if (plan.rollbackOnRegression) return d;
  return {
    verdict: 'INCONCLUSIVE',
    explanation: `${d.explanation} — rollback on regression is off: Rollback, Accept or Investigate?`,
    findings: d.findings.map((f) => (f.verdict === 'ROLLBACK' ? { ...f, verdict: 'INCONCLUSIVE' as const } : f)),
  };
}

/** Smoke results (from src/metrics/smoke.ts): a failing critical check rolls back, others warn. */
export function judgeSmoke(
  results: ReadonlyArray<{ name: string; ok: boolean; critical: boolean; reason?: string; latencyMs: number; unclear?: boolean }>,
): Decision {
  const findings: Finding[] = results.map((r) => ({
    rule: `smoke-${r.name}`,
    // Unclear: no answer while Shipbot itself was too busy to tell; a person decides.
    verdict: r.ok || !r.critical ? 'CONTINUE' : r.unclear ? 'INCONCLUSIVE' : 'ROLLBACK',
    detail: r.ok
      ? `${r.name} passed in ${r.latencyMs.toFixed(0)} ms`
      : `smoke check ${r.name} failed${r.critical ? '' : ' (not critical)'}: ${r.reason ?? 'no reason given'}`,
  }));
  if (results.length === 0) return { verdict: 'CONTINUE', explanation: 'no smoke checks configured', findings };
  const passed = results.filter((r) => r.ok).length;
  return combine(findings, `${passed} of ${plural(results.length, 'smoke check')} passed`);
}
