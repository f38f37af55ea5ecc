// Where it is decided to roll back. Pure functions that read like the runbook:
//
//   Roll back at once on an OOM kill, a crash loop, an image that cannot be pulled, a missed
//   progress deadline, more than 3 restarts in 5 minutes, or more than half the pods failing
//   their health checks.
//   Roll back a canary when, against the stable baseline, its error rate is more than 2 points
//   higher (or at the limit within its margin of error, and surely more than a quarter of the
//   limit higher: a handful of errors among few requests is not enough), its p99 more than 20% higher (p95 or
//   p50 when a sample has too few requests for a fair p99), or its share-normalised throughput
//   more than 30% lower — each only when the difference is also statistically significant
//   (Fisher exact for error counts, Mann-Whitney U over samples for latency and throughput, as
//   Kayenta does), so a noisy but healthy canary is not rolled back — or when it breaks the
//   plan's absolute SLOs while the baseline does not.
//   No data or too little traffic is INCONCLUSIVE (ask a person), never a pass.
//
// Thresholds come from `cfg.defaults.breach` and the plan; nothing here does I/O.
import type { Defaults } from './config-schema.js';
import type { Decision, DeployPlan, InfraSignal, MetricSample, Verdict } from './types.js';
import { binomialUpperTail, fisherGreater, mannWhitneyU, median, normalCdf } from './stats.js';
import { regressionGate, regressionRate, type TestCounts } from './regression.js';
import { checkSamples } from './sample-check.js';

export type Finding = Decision['findings'][number];

/** Breach thresholds and data minimums (cfg.defaults.breach + minSamples/minRequests). */
export interface JudgeRules {
  errorRatePts: number;
  p99IncreasePct: number;
  throughputDropPct: number;
  restartsIn5Min: number;
  failingHealthPct: number;
  minSamples: number;
  minRequests: number;
  /** Significance level for tests on pooled counts (error rates; default 0.01). */
  alpha?: number;
  /**
   * Significance level for tests over samples (p99, throughput; default 0.001). Stricter, because
   * per-sample percentiles of a small canary are noisier than the baseline's and Mann-Whitney is
   * then anti-conservative; with 10 samples a real 2× slowdown is still far below it.
   */
  sampleAlpha?: number;
}

export const DEFAULT_ALPHA = 0.01;
export const DEFAULT_SAMPLE_ALPHA = 0.001;
/** Below this p-value a practically large change is "suspicious": INCONCLUSIVE, not a pass. */
export const SUSPICIOUS_P = 0.05;
/** How many standard errors below the error-rate limit a significant regression still counts as reaching it. */
export const LIMIT_MARGIN_Z = 1.645;
/**
 * The share of the error-rate limit a rollback must be significantly above: a few errors among
 * few requests are significant against zero long before they show a regression of that size.
 */
export const MIN_EFFECT_FRACTION = 0.25;

export function rulesFromDefaults(d: Pick<Defaults, 'breach' | 'minSamples' | 'minRequests'>): JudgeRules {
  return { ...d.breach, minSamples: d.minSamples, minRequests: d.minRequests, alpha: DEFAULT_ALPHA, sampleAlpha: DEFAULT_SAMPLE_ALPHA };
}

export interface CompareOptions {
  /** Share of traffic the candidate is meant to get (0..1), to normalise throughput. Default 1. */
  candidateShare?: number;
  /** Share of traffic the baseline is meant to get (0..1). Default 1. */
  baselineShare?: number;
  /** Names used in explanations. */
  candidateLabel?: string;
  baselineLabel?: string;
  /**
   * An early look inside a window: both significance levels are divided by 10, so looking on
   * every tick does not inflate false rollbacks. Only a ROLLBACK of an early look is acted on.
   */
  earlyLook?: boolean;
  /** Skip the throughput rule (staging traffic is not comparable with production). */
  skipThroughput?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Formatting: one line a person can read in Slack.

export function fmtPct(fraction: number): string {
  const p = fraction * 100;
  if (!Number.isFinite(p)) return 'n/a';
  return `${p === 0 ? '0' : Math.abs(p) < 0.1 ? p.toFixed(2) : p.toFixed(1)}%`;
}
function fmtPts(points: number): string {
  return `${points >= 0 ? '+' : ''}${points.toFixed(1)} pts`;
}
function fmtMs(ms: number): string {
  return Number.isFinite(ms) ? `${ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)} ms` : 'n/a';
}
function fmtP(p: number): string {
  return p < 0.001 ? 'p<0.001' : `p=${p.toFixed(3)}`;
}
function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------------------------------------
// Combining findings

const SEVERITY: Record<Verdict, number> = { CONTINUE: 0, INCONCLUSIVE: 1, ROLLBACK: 2 };

/** The worst finding decides; its detail is the explanation (others are counted). */
export function combine(findings: Finding[], okSummary: string): Decision {
  let worst: Verdict = 'CONTINUE';
  for (const f of findings) if (SEVERITY[f.verdict] > SEVERITY[worst]) worst = f.verdict;
  if (worst === 'CONTINUE') return { verdict: worst, explanation: okSummary, findings };
  const hits = findings.filter((f) => f.verdict === worst);
  const more =
    hits.length > 1
      ? ` (and ${hits.length - 1} more: ${hits
          .slice(1)
          .map((f) => f.rule)
          .join(', ')})`
      : '';
  return { verdict: worst, explanation: hits[0]!.detail + more, findings };
}

// ---------------------------------------------------------------------------------------------
// Infrastructure signals: fatal ones roll back at once, without waiting for a window to end.

export function judgeInfra(signals: readonly InfraSignal[], rules: Pick<JudgeRules, 'restartsIn5Min' | 'failingHealthPct'>): Decision {
  const findings: Finding[] = [];
  for (const s of signals) {
    switch (s.kind) {
      case 'oom-killed':
        findings.push({ rule: 'oom', verdict: 'ROLLBACK', detail: `container ${s.container} of pod ${s.pod} was OOMKilled` });
        break;
      case 'crash-loop':
        findings.push({
          rule: 'crash-loop',
          verdict: 'ROLLBACK',
          detail: `container ${s.container} of pod ${s.pod} is in CrashLoopBackOff`,
        });
        break;
      case 'image-pull':
        findings.push({ rule: 'image-pull', verdict: 'ROLLBACK', detail: `pod ${s.pod} cannot pull its image: ${s.message}` });
        break;
      case 'progress-deadline':
        findings.push({
          rule: 'progress-deadline',
          verdict: 'ROLLBACK',
          detail: `deployment ${s.deployment} missed its progress deadline: ${s.message}`,
        });
        break;
      case 'restarts': {
        if (!(s.restarts >= 0) || !Number.isFinite(s.restarts) || !(s.windowSec > 0) || !Number.isFinite(s.windowSec)) {
          findings.push({
            rule: 'restarts',
            verdict: 'INCONCLUSIVE',
            detail: `pod ${s.pod}: restart count unreadable (${s.restarts} in ${s.windowSec} s)`,
          });
          break;
        }
        // "more than N restarts in 5 minutes": longer windows are scaled to a 5-minute rate.
        const per5Min = s.windowSec > 300 ? (s.restarts * 300) / s.windowSec : s.restarts;
        const over = per5Min > rules.restartsIn5Min;
        findings.push({
          rule: 'restarts',
          verdict: over ? 'ROLLBACK' : 'CONTINUE',
          detail: `pod ${s.pod} restarted ${plural(s.restarts, 'time')} in ${Math.round(s.windowSec)} s (${over ? 'more than' : 'within'} ${rules.restartsIn5Min} in 5 min allowed)`,
        });
        break;
      }
      case 'readiness': {
        if (!Number.isInteger(s.total) || !Number.isInteger(s.failing) || s.total <= 0 || s.failing < 0 || s.failing > s.total) {
          findings.push({
            rule: 'readiness',
            verdict: 'INCONCLUSIVE',
            detail: `pod health unreadable: ${s.failing} failing of ${s.total} pods`,
          });
          break;
        }
        const pct = (100 * s.failing) / s.total;
        const over = pct > rules.failingHealthPct;
        findings.push({
          rule: 'readiness',
          verdict: over ? 'ROLLBACK' : 'CONTINUE',
          detail: `${s.failing} of ${plural(s.total, 'pod')} failing health checks (${pct.toFixed(0)}%, ${over ? 'more than' : 'within'} ${rules.failingHealthPct}% allowed)`,
        });
        break;
      }
    }
  }
  return combine(findings, 'no infrastructure problems (restarts, OOM, image pull, readiness)');
}

export function isFatalInfra(signals: readonly InfraSignal[], rules: Pick<JudgeRules, 'restartsIn5Min' | 'failingHealthPct'>): boolean {
  return judgeInfra(signals, rules).verdict === 'ROLLBACK';
}

// ---------------------------------------------------------------------------------------------
// Metric comparison

/** Believable samples that saw traffic (sample-check.ts); a window with no requests carries no evidence. */
export function usable(samples: readonly MetricSample[]): MetricSample[] {
  return withTraffic(checkSamples(samples, '').samples);
}

const withTraffic = (samples: MetricSample[]) => samples.filter((s) => s.requests > 0);

/** The usable samples of both sides, and why any others were left out. */
function checked(
  base: readonly MetricSample[],
  cand: readonly MetricSample[],
  bl: string,
  cl: string,
): { base: MetricSample[]; cand: MetricSample[]; rejected: string[] } {
  const b = checkSamples(base, bl);
  const c = checkSamples(cand, cl);
  return { base: withTraffic(b.samples), cand: withTraffic(c.samples), rejected: [...c.rejected, ...b.rejected] };
}

interface Pooled {
  samples: number;
  requests: number;
  errors: number;
  rate: number;
}
function pool(samples: readonly MetricSample[]): Pooled {
  let requests = 0;
  let errors = 0;
  for (const s of samples) {
    // Prometheus increase() extrapolates, so counts may be fractional: round to whole requests.
    const n = Math.round(s.requests);
    requests += n;
    errors += Math.min(n, Math.round(s.errorRate * s.requests));
  }
  return { samples: samples.length, requests, errors, rate: requests > 0 ? errors / requests : NaN };
}

/**
 * Standard error of a pooled error rate: the binomial one, or the spread between samples when
 * that is larger (real error rates wander more than coin flips do).
 */
function rateStdError(samples: readonly MetricSample[], p: Pooled): number {
  if (p.requests === 0) return NaN;
  const binomial = Math.sqrt((p.rate * (1 - p.rate)) / p.requests);
  if (samples.length < 2) return binomial;
  const rates = samples.map((s) => s.errorRate);
  const mean = rates.reduce((x, y) => x + y, 0) / rates.length;
  const variance = rates.reduce((x, y) => x + (y - mean) ** 2, 0) / (rates.length - 1);
  return Math.max(binomial, Math.sqrt(variance / rates.length));
}

/** Enough samples and requests on both sides to say anything; otherwise INCONCLUSIVE. */
export function dataRule(
  base: readonly MetricSample[],
  cand: readonly MetricSample[],
  rules: JudgeRules,
  cl: string,
  bl: string,
  rejected: readonly string[] = [],
): Finding {
  const c = pool(cand);
  const b = pool(base);
  // Samples left out at the boundary are named, so a person sees why there is less data.
  const left = rejected.length
    ? `; left out as impossible: ${rejected.slice(0, 3).join('; ')}${rejected.length > 3 ? ` and ${rejected.length - 3} more` : ''}`
    : '';
  for (const [label, p] of [
    [cl, c],
    [bl, b],
  ] as const) {
    if (p.samples === 0) {
      return {
        rule: 'data',
        verdict: 'INCONCLUSIVE',
        detail: `no data for ${label}: no requests in any usable sample — check that it receives traffic and that the metric queries match its pods${left}`,
      };
    }
    if (p.requests < rules.minRequests) {
      return {
        rule: 'data',
        verdict: 'INCONCLUSIVE',
        detail: `too little traffic on ${label} to judge: ${plural(p.samples, 'sample')} with ${plural(p.requests, 'request')} (need ${rules.minSamples} samples and ${rules.minRequests} requests)${left}`,
      };
    }
    if (p.samples < rules.minSamples) {
      // Enough requests, too few looks at them: say that, not "too little traffic".
      return {
        rule: 'data',
        verdict: 'INCONCLUSIVE',
        detail: `too few samples of ${label} to judge: ${p.samples} of the ${rules.minSamples} needed (${plural(p.requests, 'request')})${left}`,
      };
    }
  }
  return {
    rule: 'data',
    verdict: 'CONTINUE',
    detail: `${plural(c.samples, 'sample')}, ${plural(c.requests, 'request')} on ${cl}; ${plural(b.samples, 'sample')}, ${plural(b.requests, 'request')} on ${bl}${left}`,
  };
}

/**
 * Error rate more than `errorRatePts` above the baseline, with the counts pooled over the samples.
 *
 * Two questions, both of which must be answered yes before a rollback:
 * - Does the canary reach the limit? Its excess counts when it is over the limit, or at it
 *   within its margin of error (one-sided 95%), so a true 2-point regression is caught ~95% of
 *   the time at 5% canary traffic rather than half the time.
 * - Is it sure to be a real regression, not a blip of a few requests? Its excess must be
 *   significantly above a quarter of the limit (a one-sided z-test whose standard error includes
 *   the sample-to-sample spread) and significantly above the baseline (Fisher exact). Testing
 *   against zero alone let 5 errors in 350 requests of a healthy low-traffic canary roll it back.
 * Reaching the limit without being sure is INCONCLUSIVE. May roll back before `minSamples` when
 * the evidence is overwhelming (at least two samples and `minRequests` requests).
 */
export function errorRateRule(
  base: readonly MetricSample[],
  cand: readonly MetricSample[],
  rules: JudgeRules,
  alpha: number,
  cl: string,
  bl: string,
): Finding {
  const c = pool(cand);
  const b = pool(base);
  if (c.samples < 2 || c.requests < rules.minRequests || b.requests < rules.minRequests) {
    return {
      rule: 'error-rate',
      verdict: 'INCONCLUSIVE',
      detail: `not enough requests yet to compare error rates (${c.requests} on ${cl}, ${b.requests} on ${bl})`,
    };
  }
  const limit = rules.errorRatePts;
  const deltaPts = (c.rate - b.rate) * 100;
  const sePts = 100 * Math.hypot(rateStdError(cand, c), rateStdError(base, b));
  const line = `error rate ${fmtPct(c.rate)} on ${cl} vs ${fmtPct(b.rate)} ${bl} (${fmtPts(deltaPts)}`;
  const reaches = deltaPts > 0 && (deltaPts > limit || deltaPts + LIMIT_MARGIN_Z * sePts >= limit);
  if (!reaches)
    return { rule: 'error-rate', verdict: 'CONTINUE', detail: `${line}, ${limit} allowed) over ${plural(c.samples, 'sample')}` };

  const over =
    deltaPts > limit
      ? `${line} > ${limit} pts allowed) over ${plural(c.samples, 'sample')}`
      : `${line}, at the ${limit} pts limit within its ±${sePts.toFixed(1)} pts margin of error) over ${plural(c.samples, 'sample')}`;
  const minEffect = MIN_EFFECT_FRACTION * limit;
  const pEffect = sePts > 0 ? normalCdf(-(deltaPts - minEffect) / sePts) : deltaPts > minEffect ? 0 : 1;
  const pFisher = fisherGreater(c.errors, c.requests, b.errors, b.requests);
  const p = Math.max(pEffect, pFisher);
  if (p < alpha) return { rule: 'error-rate', verdict: 'ROLLBACK', detail: over };
  return {
    rule: 'error-rate',
    verdict: 'INCONCLUSIVE',
    detail: `${over}, but ${plural(c.requests, 'request')} are too few to be sure (${fmtP(p)})`,
  };
}

function latencySamples(samples: readonly MetricSample[]): number[] {
  return samples.map((s) => s.p99Ms).filter((v) => Number.isFinite(v));
}

/** p99 more than `p99IncreasePct` above the baseline's (medians of the samples) and significantly higher (Mann-Whitney U). */
type LatencyKey = 'p99Ms' | 'p95Ms' | 'p50Ms';
const QUANTILES: Array<[key: LatencyKey, q: number, label: string]> = [
  ['p99Ms', 0.99, 'p99'],
  ['p95Ms', 0.95, 'p95'],
  ['p50Ms', 0.5, 'p50'],
];
/**
 * Requests a sample needs above a percentile before that percentile is trusted. With fewer, a
 * histogram percentile of a small canary is biased upwards (its rank lands in the last occupied
 * bucket) while the big baseline's is not: a healthy 5% canary would look slower.
 */
export const MIN_TAIL_REQUESTS = 5;

/** The highest percentile both sides' samples support (p99, else p95, else p50). */
export function comparableQuantile(
  base: readonly MetricSample[],
  cand: readonly MetricSample[],
): { key: LatencyKey; label: string; perSample: number } {
  const perSample = Math.min(median(cand.map((s) => s.requests)), median(base.map((s) => s.requests)));
  for (const [key, q, label] of QUANTILES) {
    const finite = [...base, ...cand].every((s) => Number.isFinite(s[key]));
    if (finite && perSample * (1 - q) >= MIN_TAIL_REQUESTS) return { key, label, perSample };
  }
  return { key: 'p50Ms', label: 'p50', perSample };
}

/**
 * Latency more than `p99IncreasePct` above the baseline's (medians of the samples) and
 * significantly higher (Mann-Whitney U). Compares p99 when each sample has the requests for it,
 * else the highest percentile that is trustworthy at this traffic (a slow version is slow there too).
 */
export function latencyRule(
  base: readonly MetricSample[],
  cand: readonly MetricSample[],
  rules: JudgeRules,
  sampleAlpha: number,
  cl: string,
  bl: string,
): Finding {
  const { key, label, perSample } = comparableQuantile(base, cand);
  const c = cand.map((s) => s[key]).filter((v) => Number.isFinite(v));
  const b = base.map((s) => s[key]).filter((v) => Number.isFinite(v));
  if (c.length < rules.minSamples || b.length < rules.minSamples) {
    return {
      rule: 'p99',
      verdict: 'INCONCLUSIVE',
      detail: `not enough latency samples yet (${c.length} on ${cl}, ${b.length} on ${bl}; need ${rules.minSamples})`,
    };
  }
  const mc = median(c);
  const mb = median(b);
  const incPct = mb > 0 ? ((mc - mb) / mb) * 100 : mc > 0 ? Infinity : 0;
  const { pValue } = mannWhitneyU(c, b, 'greater');
  const why = key === 'p99Ms' ? '' : ` (${label}: ${Math.round(perSample)} requests per sample are too few for a reliable p99)`;
  const line = `${label} ${fmtMs(mc)} on ${cl} vs ${fmtMs(mb)} ${bl} (${incPct >= 0 ? '+' : ''}${Number.isFinite(incPct) ? incPct.toFixed(0) : '∞'}%`;
  if (incPct > rules.p99IncreasePct) {
    const over = `${line} > ${rules.p99IncreasePct}% allowed) over ${plural(c.length, 'sample')}${why}`;
    if (pValue < sampleAlpha) return { rule: 'p99', verdict: 'ROLLBACK', detail: over };
    if (pValue < SUSPICIOUS_P) {
      // How sure, in words: never "not significant" beside a small p.
      const seen = c.filter((v) => v > mb).length;
      return {
        rule: 'p99',
        verdict: 'INCONCLUSIVE',
        detail: `${over}; slower than the baseline in ${seen} of ${c.length} samples, not yet sure enough to roll back (${fmtP(pValue)}, needs below ${sampleAlpha}): waiting for more data`,
      };
    }
    return {
      rule: 'p99',
      verdict: 'CONTINUE',
      detail: `${line}, but within sample noise: ${fmtP(pValue)}) over ${plural(c.length, 'sample')}${why}`,
    };
  }
  return {
    rule: 'p99',
    verdict: 'CONTINUE',
    detail: `${line}, ${rules.p99IncreasePct}% allowed) over ${plural(c.length, 'sample')}${why}`,
  };
}

/**
 * Throughput more than `throughputDropPct` below the baseline, per share of traffic (a 5% canary
 * naturally serves less), and significantly lower (Mann-Whitney U).
 */
export function throughputRule(
  base: readonly MetricSample[],
  cand: readonly MetricSample[],
  rules: JudgeRules,
  sampleAlpha: number,
  shares: { candidate: number; baseline: number },
  cl: string,
  bl: string,
): Finding {
  const c = cand.map((s) => s.throughputRps / shares.candidate).filter(Number.isFinite);
  const b = base.map((s) => s.throughputRps / shares.baseline).filter(Number.isFinite);
  if (c.length < rules.minSamples || b.length < rules.minSamples) {
    return {
      rule: 'throughput',
      verdict: 'INCONCLUSIVE',
      detail: `not enough throughput samples yet (${c.length} on ${cl}, ${b.length} on ${bl})`,
    };
  }
  const mc = median(c);
  const mb = median(b);
  const dropPct = mb > 0 ? ((mb - mc) / mb) * 100 : 0;
  const { pValue } = mannWhitneyU(c, b, 'less');
  const norm = shares.candidate !== 1 || shares.baseline !== 1 ? ' per traffic share' : '';
  const line = `throughput${norm} ${mc.toFixed(1)} rps on ${cl} vs ${mb.toFixed(1)} rps ${bl} (${dropPct >= 0 ? '-' : '+'}${Math.abs(dropPct).toFixed(0)}%`;
  if (dropPct > rules.throughputDropPct) {
    const over = `${line} > ${rules.throughputDropPct}% drop allowed) over ${plural(c.length, 'sample')}`;
    if (pValue < sampleAlpha) return { rule: 'throughput', verdict: 'ROLLBACK', detail: over };
    if (pValue < SUSPICIOUS_P) {
      const seen = c.filter((v) => v < mb).length;
      return {
        rule: 'throughput',
        verdict: 'INCONCLUSIVE',
        detail: `${over}; lower than the baseline in ${seen} of ${c.length} samples, not yet sure enough to roll back (${fmtP(pValue)}, needs below ${sampleAlpha}): waiting for more data`,
      };
    }
    return { rule: 'throughput', verdict: 'CONTINUE', detail: `${line}, but within sample noise: ${fmtP(pValue)})` };
  }
  return { rule: 'throughput', verdict: 'CONTINUE', detail: `${line}, ${rules.throughputDropPct}% drop allowed)` };
}

/** The error budget the plan allows: the stricter of the error-rate SLO and the availability SLO, as a fraction. */
export function allowedErrorFraction(slo: DeployPlan['slo']): { fraction: number; source: string } {
  const fromErrors = slo.errorRatePct / 100;
  const fromAvailability = (100 - slo.availabilityPct) / 100;
  return fromAvailability < fromErrors
    ? { fraction: fromAvailability, source: `availability SLO ${slo.availabilityPct}%` }
    : { fraction: fromErrors, source: `error-rate SLO ${slo.errorRatePct}%` };
}

/**
 * Absolute SLOs from the plan. A breach the candidate causes rolls back; a breach the baseline
 * shows too is not this version's doing, so it is reported (not rolled back) for a person to see.
 */
export function sloRules(
  base: readonly MetricSample[],
  cand: readonly MetricSample[],
  slo: DeployPlan['slo'],
  rules: JudgeRules,
  alpha: number,
  cl: string,
  bl: string,
): Finding[] {
  const out: Finding[] = [];
  const c = pool(cand);
  const b = pool(base);
  const { fraction, source } = allowedErrorFraction(slo);
  if (c.requests >= rules.minRequests && c.samples >= 2) {
    // One-sided exact binomial test: is the canary's error rate really above the budget? A fixed
    // target has no baseline to absorb sample-to-sample noise, so it uses the stricter level.
    const pc = binomialUpperTail(c.errors, c.requests, fraction);
    const cBreach = c.rate > fraction && pc < alpha / 10;
    // The breach was already there when the baseline is at the budget within its margin of error
    // (sample-to-sample spread included): then the new version is not what broke the SLO.
    const bBreach = b.requests > 0 && b.rate + LIMIT_MARGIN_Z * rateStdError(base, b) >= fraction;
    const line = `error rate ${fmtPct(c.rate)} on ${cl} against the ${source} (${fmtPct(fraction)} errors allowed)`;
    if (cBreach && !bBreach) out.push({ rule: 'slo-errors', verdict: 'ROLLBACK', detail: `${line} over ${plural(c.samples, 'sample')}` });
    else if (cBreach)
      out.push({
        rule: 'slo-errors',
        verdict: 'CONTINUE',
        detail: `${line}; ${bl} breaches it too (${fmtPct(b.rate)}), so it is not caused by this version`,
      });
    else if (c.rate > fraction)
      out.push({
        rule: 'slo-errors',
        verdict: 'CONTINUE',
        detail: `${line}: above it, but not significantly over ${plural(c.requests, 'request')}`,
      });
    else out.push({ rule: 'slo-errors', verdict: 'CONTINUE', detail: `${line}: within` });
  }
  const cl99 = latencySamples(cand);
  const bl99 = latencySamples(base);
  if (cl99.length >= rules.minSamples) {
    const mc = median(cl99);
    const cBreach = mc > slo.p99Ms;
    const bBreach = bl99.length > 0 && median(bl99) > slo.p99Ms;
    const line = `p99 ${fmtMs(mc)} on ${cl} against the p99 SLO of ${fmtMs(slo.p99Ms)}`;
    if (cBreach && !bBreach) out.push({ rule: 'slo-p99', verdict: 'ROLLBACK', detail: `${line} over ${plural(cl99.length, 'sample')}` });
    else if (cBreach)
      out.push({
        rule: 'slo-p99',
        verdict: 'CONTINUE',
        detail: `${line}; ${bl} breaches it too (${fmtMs(median(bl99))}), so it is not caused by this version`,
      });
    else out.push({ rule: 'slo-p99', verdict: 'CONTINUE', detail: `${line}: within` });
  }
  return out;
}

/**
 * Canary analysis: the candidate's samples against the stable baseline's, taken over the same
 * window. Breach rules need practical AND statistical significance; absolute SLOs; too little
 * data is INCONCLUSIVE.
 */
export function judgeCanary(
  baseline: readonly MetricSample[],
  candidate: readonly MetricSample[],
  plan: Pick<DeployPlan, 'slo'>,
  rules: JudgeRules,
  opts: CompareOptions = {},
): Decision {
  const cl = opts.candidateLabel ?? 'canary';
  const bl = opts.baselineLabel ?? 'baseline';
  const scale = opts.earlyLook ? 0.1 : 1;
  const alpha = (rules.alpha ?? DEFAULT_ALPHA) * scale;
  const sampleAlpha = (rules.sampleAlpha ?? DEFAULT_SAMPLE_ALPHA) * scale;
  const { base, cand, rejected } = checked(baseline, candidate, bl, cl);
  const findings: Finding[] = [
    dataRule(base, cand, rules, cl, bl, rejected),
    errorRateRule(base, cand, rules, alpha, cl, bl),
    latencyRule(base, cand, rules, sampleAlpha, cl, bl),
  ];
  if (!opts.skipThroughput) {
    findings.push(
      throughputRule(base, cand, rules, sampleAlpha, { candidate: opts.candidateShare ?? 1, baseline: opts.baselineShare ?? 1 }, cl, bl),
    );
  }
  findings.push(...sloRules(base, cand, plan.slo, rules, alpha, cl, bl));
  const c = pool(cand);
  const b = pool(base);
  const p99c = median(latencySamples(cand));
  const p99b = median(latencySamples(base));
  const ok = `${cl} healthy: error rate ${fmtPct(c.rate)} vs ${fmtPct(b.rate)} ${bl}, p99 ${fmtMs(p99c)} vs ${fmtMs(p99b)} over ${plural(c.samples, 'sample')}`;
  return combine(findings, ok);
}

// ---------------------------------------------------------------------------------------------
// Regression gates

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
  const la = latencySamples(after);
  const lb = latencySamples(before);
  const need = opts.minSamples ?? 1;
  if (la.length >= need && lb.length >= need) {
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
  results: ReadonlyArray<{ name: string; ok: boolean; critical: boolean; reason?: string; latencyMs: number }>,
): Decision {
  const findings: Finding[] = results.map((r) => ({
    rule: `smoke-${r.name}`,
    verdict: r.ok || !r.critical ? 'CONTINUE' : 'ROLLBACK',
    detail: r.ok
      ? `${r.name} passed in ${r.latencyMs.toFixed(0)} ms`
      : `smoke check ${r.name} failed${r.critical ? '' : ' (not critical)'}: ${r.reason ?? 'no reason given'}`,
  }));
  if (results.length === 0) return { verdict: 'CONTINUE', explanation: 'no smoke checks configured', findings };
  const passed = results.filter((r) => r.ok).length;
  return combine(findings, `${passed} of ${plural(results.length, 'smoke check')} passed`);
}
