// What every rule of the judge shares: its thresholds, the formatting of its findings, combining
// findings into one decision, the boundary check of samples, pooling, and the data rule (no data or
// too little traffic is INCONCLUSIVE, never a pass).
import type { Defaults } from './config-schema.js';
import type { Decision, MetricSample, Verdict } from './types.js';
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
  whole?: Whole;
}

/**
 * Each side read once over the whole window so far (Prometheus: increase() over the exact
 * elapsed range). Where usable, its counts are the pooled counts of the error, SLO and
 * request-latency tests: summing the samples' counts is exact only when their ranges do not
 * overlap, and a Prometheus range is never shorter than 4 scrapes. The samples still give the
 * sample-to-sample spread and the per-sample rules.
 */
export interface Whole {
  candidate?: MetricSample | undefined;
  baseline?: MetricSample | undefined;
}

// ---------------------------------------------------------------------------------------------
// Formatting: one line a person can read in Slack.

export function fmtPct(fraction: number): string {
  const p = fraction * 100;
  if (!Number.isFinite(p)) return 'n/a';
  return `${p === 0 ? '0' : Math.abs(p) < 0.1 ? p.toFixed(2) : p.toFixed(1)}%`;
}
export function fmtPts(points: number): string {
  return `${points >= 0 ? '+' : ''}${points.toFixed(1)} pts`;
}
export function fmtMs(ms: number): string {
  return Number.isFinite(ms) ? `${ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)} ms` : 'n/a';
}
export function fmtP(p: number): string {
  return p < 0.001 ? 'p<0.001' : `p=${p.toFixed(3)}`;
}
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------------------------------------
// Combining findings

export const SEVERITY: Record<Verdict, number> = { CONTINUE: 0, INCONCLUSIVE: 1, ROLLBACK: 2 };

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

/** Believable samples that saw traffic (sample-check.ts); a window with no requests carries no evidence. */
export function usable(samples: readonly MetricSample[]): MetricSample[] {
  return withTraffic(checkSamples(samples, '').samples);
}

export const withTraffic = (samples: MetricSample[]) => samples.filter((s) => s.requests > 0);

/** The usable samples of both sides, and why any others were left out. */
export function checked(
  base: readonly MetricSample[],
  cand: readonly MetricSample[],
  bl: string,
  cl: string,
): { base: MetricSample[]; cand: MetricSample[]; rejected: string[] } {
  const b = checkSamples(base, bl);
  const c = checkSamples(cand, cl);
  return { base: withTraffic(b.samples), cand: withTraffic(c.samples), rejected: [...c.rejected, ...b.rejected] };
}

export interface Pooled {
  samples: number;
  requests: number;
  errors: number;
  rate: number;
}
export function pool(samples: readonly MetricSample[]): Pooled {
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

/** A whole-window reading the judge may use: one that passes the same boundary check as a sample. */
export function usableWhole(whole: MetricSample | undefined): MetricSample | undefined {
  return whole && usable([whole])[0];
}

/** A side's pooled counts: its whole-window reading when usable, else the sum of its samples. */
export function poolSide(samples: readonly MetricSample[], whole?: MetricSample): Pooled {
  const w = usableWhole(whole);
  return w ? { ...pool([w]), samples: samples.length } : pool(samples);
}

/**
 * Standard error of a pooled error rate: the binomial one, or the spread between samples when
 * that is larger (real error rates wander more than coin flips do).
 */
export function rateStdError(samples: readonly MetricSample[], p: Pooled): number {
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

export function latencySamples(samples: readonly MetricSample[]): number[] {
  return samples.map((s) => s.p99Ms).filter((v) => Number.isFinite(v));
}
