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
// Thresholds come from `cfg.defaults.breach` and the plan; nothing here does I/O. This file holds
// the canary rules; the shared parts, the infrastructure rules and the gates are in judge-core.ts,
// judge-infra.ts and gates.ts (re-exported below).
import type { Decision, DeployPlan, MetricSample } from './types.js';
import { binomialUpperTail, fisherGreater, mannWhitneyBestP, mannWhitneyU, median, normalCdf } from './stats.js';
import {
  type CompareOptions,
  DEFAULT_ALPHA,
  DEFAULT_SAMPLE_ALPHA,
  type Finding,
  type JudgeRules,
  LIMIT_MARGIN_Z,
  MIN_EFFECT_FRACTION,
  SEVERITY,
  SUSPICIOUS_P,
  checked,
  combine,
  dataRule,
  fmtMs,
  fmtP,
  fmtPct,
  fmtPts,
  latencySamples,
  plural,
  poolSide,
  rateStdError,
  usableWhole,
  type Whole,
} from './judge-core.js';
import { compareSlowShare, poolHistograms, type PooledHistogram } from './latency-histogram.js';
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
  whole: Whole = {},
): Finding {
  const c = poolSide(cand, whole.candidate);
  const b = poolSide(base, whole.baseline);
  // One sample can decide when it holds enough requests (a 5% canary's first interval at 200 rps
  // has ~300): its margin of error is then binomial, the spread between samples unknown yet.
  const enoughSamples = c.samples >= 2 || c.requests >= SINGLE_SAMPLE_FACTOR * rules.minRequests;
  if (!enoughSamples || c.requests < rules.minRequests || b.requests < rules.minRequests) {
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

/** A side's pooled histogram: from its whole-window reading when usable and bucketed, else from its samples. */
function histogramSide(samples: readonly MetricSample[], whole?: MetricSample): PooledHistogram | undefined {
  const w = usableWhole(whole);
  return (w && poolHistograms([w])) ?? poolHistograms(samples);
}

/** What a person should know when a per-sample test is not sure yet: whether more samples can make it so. */
function moreSamples(n: number, m: number, level: number): string {
  const best = mannWhitneyBestP(n, m);
  return best >= level
    ? `: ${n} samples against ${m} can never be surer than p=${best.toPrecision(2)}; it needs a longer window (more samples)`
    : ': waiting for more data';
}

/** A single sample is judged only with this many times the minimum requests. */
export const SINGLE_SAMPLE_FACTOR = 4;

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
  alpha = rules.alpha ?? DEFAULT_ALPHA,
  whole: Whole = {},
): Finding {
  const hc = histogramSide(cand, whole.candidate);
  const hb = histogramSide(base, whole.baseline);
  if (hc && hb && hc.total >= rules.minRequests && hb.total >= rules.minRequests) {
    // Too few of the new version's requests to see its p99 move (fewer than 500): its p99 is
    // still tested (a tail-only slowdown shows nowhere else), and so is the highest percentile
    // the requests do support (a slow version is slow there too), each at half the level. A
    // p99 of 150 requests passing "within noise" alone would be a pass on missing data.
    const [, q] = QUANTILES.find(([, q]) => hc.total * (1 - q) >= MIN_TAIL_REQUESTS) ?? QUANTILES.at(-1)!;
    const split = q === 0.99 ? 1 : 2;
    const tail = requestLatencyRule(base, cand, hb, hc, 0.99, rules, alpha / split, cl, bl);
    const body = split > 1 ? requestLatencyRule(base, cand, hb, hc, q, rules, alpha / split, cl, bl) : undefined;
    const worst = tail && body && SEVERITY[body.verdict] > SEVERITY[tail.verdict] ? body : (tail ?? body);
    if (worst) return worst;
  }
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
  // Sure that it is slower than the baseline by more than a quarter of the allowed increase, as the
  // error rule is: the new version's per-sample percentiles come from fewer requests, so they
  // spread wider than the baseline's, and "slower at all" is then too easy to show.
  const margin = 1 + (MIN_EFFECT_FRACTION * rules.p99IncreasePct) / 100;
  const { pValue } = mannWhitneyU(
    c,
    b.map((v) => v * margin),
    'greater',
  );
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
        detail: `${over}; slower than the baseline in ${seen} of ${c.length} samples, not yet sure enough to roll back (${fmtP(pValue)}, needs below ${sampleAlpha})${moreSamples(c.length, b.length, sampleAlpha)}`,
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
 * A percentile at the request level: each side's from its pooled histogram (the magnitude), and
 * whether more of the new version's requests are slower than the baseline's bucket of that
 * percentile than of the baseline's own (Fisher, one-sided: the certainty). Undefined when the
 * baseline's histogram has no bound that percentile falls under (every bound too low to tell).
 */
function requestLatencyRule(
  base: readonly MetricSample[],
  cand: readonly MetricSample[],
  hb: PooledHistogram,
  hc: PooledHistogram,
  q: number,
  rules: JudgeRules,
  alpha: number,
  cl: string,
  bl: string,
): Finding | undefined {
  const label = QUANTILES.find(([, x]) => x === q)![2];
  const cmp = compareSlowShare(base, cand, hb, hc, q);
  if (!cmp) return undefined; // the per-sample rule judges
  const { before: pb, after: pc, incPct, pValue, slower } = cmp;
  const tail = `${slower.after} of ${slower.afterTotal} requests (${fmtPct(slower.after / slower.afterTotal)}) slower than ${fmtMs(cmp.boundMs)} vs ${fmtPct(slower.before / slower.beforeTotal)} of ${bl}'s`;
  const why = q === 0.99 ? '' : ` (${label}: ${plural(hc.total, 'request')} are too few to see a p99 move)`;
  const line = `${label} ${fmtMs(pc)} on ${cl} vs ${fmtMs(pb)} ${bl} (${incPct >= 0 ? '+' : ''}${Number.isFinite(incPct) ? incPct.toFixed(0) : '∞'}%`;
  if (incPct > rules.p99IncreasePct) {
    const over = `${line} > ${rules.p99IncreasePct}% allowed): ${tail}${why}`;
    if (pValue < alpha) return { rule: 'p99', verdict: 'ROLLBACK', detail: `${over} (${fmtP(pValue)})` };
    if (pValue < SUSPICIOUS_P)
      return {
        rule: 'p99',
        verdict: 'INCONCLUSIVE',
        detail: `${over}; not yet sure enough to roll back (${fmtP(pValue)}, needs below ${alpha}): waiting for more requests`,
      };
    return { rule: 'p99', verdict: 'CONTINUE', detail: `${line}), but within request noise: ${tail} (${fmtP(pValue)})${why}` };
  }
  return { rule: 'p99', verdict: 'CONTINUE', detail: `${line}, ${rules.p99IncreasePct}% allowed): ${tail}${why}` };
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
        detail: `${over}; lower than the baseline in ${seen} of ${c.length} samples, not yet sure enough to roll back (${fmtP(pValue)}, needs below ${sampleAlpha})${moreSamples(c.length, b.length, sampleAlpha)}`,
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
  whole: Whole = {},
): Finding[] {
  const out: Finding[] = [];
  const c = poolSide(cand, whole.candidate);
  const b = poolSide(base, whole.baseline);
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
    errorRateRule(base, cand, rules, alpha, cl, bl, opts.whole),
    latencyRule(base, cand, rules, sampleAlpha, cl, bl, alpha, opts.whole),
  ];
  if (!opts.skipThroughput) {
    findings.push(
      throughputRule(base, cand, rules, sampleAlpha, { candidate: opts.candidateShare ?? 1, baseline: opts.baselineShare ?? 1 }, cl, bl),
    );
  }
  findings.push(...sloRules(base, cand, plan.slo, rules, alpha, cl, bl, opts.whole));
  const c = poolSide(cand, opts.whole?.candidate);
  const b = poolSide(base, opts.whole?.baseline);
  const p99c = median(latencySamples(cand));
  const p99b = median(latencySamples(base));
  const ok = `${cl} healthy: error rate ${fmtPct(c.rate)} vs ${fmtPct(b.rate)} ${bl}, p99 ${fmtMs(p99c)} vs ${fmtMs(p99b)} over ${plural(c.samples, 'sample')}`;
  return combine(findings, ok);
}

// ---------------------------------------------------------------------------------------------
// Regression gates

export * from './judge-core.js';
export * from './judge-infra.js';
export * from './gates.js';
