// Watching a rollout: sample the candidate and the baseline on an interval over a window, check
// infrastructure signals on every tick, and hand the numbers to src/domain/judge.ts, which
// decides. The runner (src/runner/analysis.ts) calls these two functions and never knows which
// metric source it has; the real-Prometheus suite and the analysis bench drive the same code.
import type { Clock } from '../clock.js';
import type { TrackRef } from '../domain/types.js';
import { judgeCanary, judgeInfra, usable, type Finding, type JudgeRules } from '../domain/judge.js';
import type { Whole } from '../domain/judge-core.js';
import { median } from '../domain/stats.js';
import type { Decision, DeployPlan, InfraSignal, MetricSample } from '../domain/types.js';
import type { SmokeCheck } from '../config.js';
import { runSmokeChecks, type SmokeOptions, type SmokeResult } from './smoke.js';
import type { MetricFailure, MetricOutcome, MetricSource } from './types.js';

export interface MonitorTick {
  /** Clock time of this tick (ms). */
  at: number;
  index: number;
  candidate: MetricOutcome;
  baseline?: MetricOutcome;
  signals: InfraSignal[];
  /** The judgment of this early look (acted on only when it is a ROLLBACK). */
  interim?: Decision;
  /** The candidate's samples so far, and the baseline samples it is judged against. */
  candidateSamples: readonly MetricSample[];
  baselineSamples: readonly MetricSample[];
  /** The whole-window readings so far that the judge uses beside them. */
  whole: Whole;
}

export interface MonitorOptions {
  source: MetricSource;
  /** The new version's pods, and the stable ones to compare with (omit when the baseline serves no traffic, e.g. canary 100%). */
  tracks: { candidate: TrackRef; baseline?: TrackRef };
  /** Samples captured before traffic moved: used when there is no live baseline track, or it has too little data. */
  baselineSamples?: readonly MetricSample[];
  plan: Pick<DeployPlan, 'slo'>;
  rules: JudgeRules;
  clock: Clock;
  /** How long to watch (clock seconds): windowSec / intervalSec samples. */
  windowSec: number;
  /** Sampling interval (clock seconds); each sample covers the time since the one before. */
  intervalSec: number;
  /** Share of traffic the candidate gets now (0..100), to compare throughput per share. Default 100. */
  trafficPct?: number;
  /** Infrastructure signals of the candidate's pods (RolloutDriver.signals). */
  signals?: () => Promise<InfraSignal[]>;
  /** The service's firing alerts, judged (domain/judge-alerts.ts): a ROLLBACK ends the window at once, one that asks makes it unclear. */
  alerts?: () => Promise<Finding[]>;
  /** Aborting rejects with the abort reason (the runner was told to stop). */
  abort?: AbortSignal;
  /** Resolves when a person presses Promote: the rest of the window is skipped. */
  skip?: Promise<void>;
  onSample?: (tick: MonitorTick) => void;
  /** Act on a ROLLBACK from an early look inside the window (at 1/10 of the significance levels). Default true. */
  earlyRollback?: boolean;
  candidateLabel?: string;
  /** Name of a live baseline in explanations (default `baseline`); a captured one is the `pre-deploy baseline`. */
  baselineLabel?: string;
}

/** What one window showed: the decision, the samples of each side, and the whole-window readings the judge used. */
export interface WindowResult extends Decision {
  candidate: MetricSample[];
  baseline: MetricSample[];
  /** Each side's whole-window reading where the judge used one (the source has `sampleWhole`; a live baseline only). */
  whole: Whole;
  /** Metric queries that failed, in order (timeouts, HTTP errors, query errors, no data). */
  failures: MetricFailure[];
  /** Whether the window was cut short by a ROLLBACK. */
  endedEarly: boolean;
  /** Clock seconds actually watched. */
  watchedSec: number;
}

/**
 * Watches one window and returns the decision. Infra signals are checked before the first sample
 * and on every tick: a fatal one ends the window at once with ROLLBACK. A clear metric ROLLBACK
 * on an early look also ends it; anything else waits for the window's end.
 *
 * A window is a number of samples, not a deadline: when sampling itself takes clock time (a fast
 * clock, a slow metric source) the window stretches instead of ending with too few samples to
 * judge, and a failed candidate sample is retried on the next tick (at most once per planned
 * sample), so one slow answer under load is not "too little data".
 */
export async function monitorWindow(o: MonitorOptions): Promise<WindowResult> {
  const started = o.clock.now();
  // Never fewer samples than the judge needs: a short window is stretched, not judged on too little.
  const planned = Math.max(o.rules.minSamples, 1, Math.round(o.windowSec / Math.max(1, o.intervalSec)));
  const intervalMs = Math.max(1, o.intervalSec) * 1000;
  const candidate: MetricSample[] = [];
  const liveBaseline: MetricSample[] = [];
  const failures: MetricFailure[] = [];
  const signalErrors: string[] = [];
  let ticks = 0;
  let skipped = false;
  void o.skip?.then(() => (skipped = true));
  const pct = o.trafficPct ?? 100;
  const pickBaseline = (): MetricSample[] => {
    // At 100% the old version serves nothing by design (after a blue-green switch, a canary at
    // 100%): its samples are only the tail of rate ranges that reach back before the change, and
    // it has no share to divide by. The baseline captured before traffic moved is the comparison
    // (none captured: no baseline, never a made-up share).
    if (pct >= 100) return [...(o.baselineSamples ?? [])];
    const enough = liveBaseline.filter((s) => s.requests > 0).length >= o.rules.minSamples;
    return !o.tracks.baseline || (!enough && o.baselineSamples?.length) ? [...(o.baselineSamples ?? [])] : liveBaseline;
  };
  const result = (d: Decision, endedEarly: boolean): WindowResult => ({
    ...d,
    candidate,
    baseline: pickBaseline(),
    whole: judgedWhole(),
    failures,
    endedEarly,
    watchedSec: (o.clock.now() - started) / 1000,
  });
  // Where interval samples overlap, each track is read once more over the whole window so far:
  // the pooled counts the judge tests.
  const whole: { candidate?: MetricSample; baseline?: MetricSample } = {};
  const readWhole = (t: TrackRef | undefined, elapsedSec: number) =>
    t && o.source.sampleWhole ? o.source.sampleWhole(t, elapsedSec) : Promise.resolve(undefined);
  // A captured baseline has no whole reading: it was sampled before the rollout, and its
  // steady traffic is what the sum of its samples stands for.
  const judgedWhole = (): Whole => ({
    ...(whole.candidate ? { candidate: whole.candidate } : {}),
    ...(whole.baseline && pickBaseline() === liveBaseline ? { baseline: whole.baseline } : {}),
  });
  const judgeNow = (earlyLook: boolean): Decision => {
    const base = pickBaseline();
    const live = base === liveBaseline;
    return judgeCanary(base, candidate, o.plan, o.rules, {
      whole: judgedWhole(),
      candidateShare: pct / 100,
      // A captured baseline saw all the traffic; a live one sees what the candidate does not.
      baselineShare: live ? Math.max(0.01, 1 - pct / 100) : 1,
      candidateLabel: o.candidateLabel,
      baselineLabel: live ? (o.baselineLabel ?? 'baseline') : 'pre-deploy baseline',
      earlyLook,
    });
  };
  const readSignals = async (): Promise<InfraSignal[]> => {
    if (!o.signals) return [];
    try {
      return await o.signals();
    } catch (err) {
      signalErrors.push((err as Error).message);
      return [];
    }
  };

  // The alerts as last read; a source that cannot be read is said, and is never a pass.
  let alertFindings: Finding[] = [];
  let alertErrors = 0;
  let lastAlertError = '';
  const readAlerts = async (): Promise<Finding[]> => {
    if (!o.alerts) return [];
    try {
      return (alertFindings = await o.alerts());
    } catch (err) {
      alertErrors++;
      lastAlertError = (err as Error).message;
      return alertFindings;
    }
  };
  const alertRollback = (found: Finding[]): Decision | undefined => {
    const fired = found.filter((f) => f.verdict === 'ROLLBACK');
    return fired.length ? { verdict: 'ROLLBACK', explanation: fired.map((f) => f.detail).join('; '), findings: found } : undefined;
  };

  const first = judgeInfra(await readSignals(), o.rules);
  if (first.verdict === 'ROLLBACK') return result(first, true);

  let retries = 0;
  // Samples whose rate range reaches back before this stage began (Prometheus rates over at least
  // 4 scrapes) mix the traffic before the change (a prepare, a switch, a promote) with the traffic
  // after it: a new colour read 30 s after the switch shows a quarter of its rate. They are left
  // out and the window stretched by as many (at most doubled).
  let settling = 0;
  let settlingRangeSec = 0;
  const reachesBack = (x: MetricSample) => x.at - (x.rangeSec ?? x.windowSec) * 1000 < started;
  const keep = (x: MetricSample, into: MetricSample[]): boolean => {
    if (settling < planned && reachesBack(x)) return false;
    into.push(x);
    return true;
  };
  let lastTick = started;
  const never = new Promise<void>(() => {});
  while (ticks < planned + retries + settling && !skipped) {
    await Promise.race([o.clock.sleep(intervalMs, o.abort), o.skip ?? never]);
    if (skipped) break;
    const now = o.clock.now();
    const windowSec = Math.max(1, (now - lastTick) / 1000);
    lastTick = now;
    const elapsedSec = Math.max(1, (now - started) / 1000);
    const [cand, base, signals, wholeCand, wholeBase] = await Promise.all([
      o.source.sample(o.tracks.candidate, windowSec),
      o.tracks.baseline ? o.source.sample(o.tracks.baseline, windowSec) : Promise.resolve(undefined),
      readSignals(),
      readWhole(o.tracks.candidate, elapsedSec),
      readWhole(o.tracks.baseline, elapsedSec),
    ]);
    // A failed whole read leaves the judge the sum of the samples, never nothing.
    whole.candidate = wholeCand?.ok ? wholeCand.sample : undefined;
    whole.baseline = wholeBase?.ok ? wholeBase.sample : undefined;
    if (o.abort?.aborted) throw o.abort.reason ?? new Error('monitoring aborted');
    ticks++;
    if (cand.ok) {
      if (!keep(cand.sample, candidate)) {
        settling++;
        settlingRangeSec = Math.max(settlingRangeSec, cand.sample.rangeSec ?? cand.sample.windowSec);
      }
    } else {
      failures.push(cand);
      if (retries < planned) retries++;
    }
    if (base?.ok) keep(base.sample, liveBaseline);
    else if (base) failures.push(base);
    const tick: MonitorTick = {
      at: now,
      index: ticks,
      candidate: cand,
      baseline: base,
      signals,
      candidateSamples: candidate,
      baselineSamples: pickBaseline(),
      whole: judgedWhole(),
    };
    const infra = judgeInfra(signals, o.rules);
    if (infra.verdict === 'ROLLBACK') {
      o.onSample?.(tick);
      return result(infra, true);
    }
    const alerted = alertRollback(await readAlerts());
    if (alerted) {
      o.onSample?.(tick);
      return result(alerted, true);
    }
    if (o.earlyRollback !== false) {
      tick.interim = judgeNow(true);
      if (tick.interim.verdict === 'ROLLBACK') {
        o.onSample?.(tick);
        return result(tick.interim, true);
      }
    }
    o.onSample?.(tick);
  }

  const final = judgeNow(false);
  const extra: Finding[] = [];
  const hardFailures = failures.filter((f) => f.kind !== 'no-data');
  if (hardFailures.length > 0) {
    const last = hardFailures[hardFailures.length - 1]!;
    extra.push({
      rule: 'metrics-source',
      verdict: final.verdict === 'CONTINUE' ? 'CONTINUE' : 'INCONCLUSIVE',
      detail: `${o.source.name}: ${hardFailures.length} of ${ticks * (o.tracks.baseline ? 2 : 1)} queries failed (${last.kind}: ${last.message})`,
    });
  }
  if (settling > 0)
    extra.push({
      rule: 'settling',
      verdict: 'CONTINUE',
      detail: `${settling === 1 ? '1 sample' : `${settling} samples`} left out, their ${Math.round(settlingRangeSec)} s rate range reaching back before traffic moved; the window was stretched by as many`,
    });
  extra.push(...alertFindings);
  if (alertErrors > 0)
    extra.push({
      rule: 'alerts',
      verdict: alertErrors >= ticks ? 'INCONCLUSIVE' : 'CONTINUE',
      detail: `reading the firing alerts failed ${alertErrors} of ${ticks} times: ${lastAlertError}`,
    });
  if (signalErrors.length > 0) {
    extra.push({
      rule: 'infra-signals',
      verdict: 'CONTINUE',
      detail: `reading pod health failed ${signalErrors.length} times: ${signalErrors[signalErrors.length - 1]}`,
    });
  }
  // Promote is a person taking responsibility for "not enough data yet"; a breach still rolls back.
  if (skipped && final.verdict === 'INCONCLUSIVE') {
    return result(
      {
        verdict: 'CONTINUE',
        explanation: `monitoring window cut short by Promote (${final.explanation})`,
        findings: [
          ...final.findings,
          ...extra,
          { rule: 'promote', verdict: 'CONTINUE', detail: 'a person promoted before the window ended' },
        ],
      },
      false,
    );
  }
  // When data is missing because the source failed, say so first: that is what a person must fix.
  const sourceFirst =
    final.verdict === 'INCONCLUSIVE' &&
    hardFailures.length > 0 &&
    final.findings.some((f) => f.rule === 'data' && f.verdict === 'INCONCLUSIVE');
  // An alert that asks (or alerts that could not be read at all) makes a passing window a question.
  const askingAlerts = extra.filter((f) => f.rule === 'alerts' && f.verdict === 'INCONCLUSIVE');
  if (final.verdict === 'CONTINUE' && askingAlerts.length)
    return result(
      { verdict: 'INCONCLUSIVE', explanation: askingAlerts.map((f) => f.detail).join('; '), findings: [...final.findings, ...extra] },
      false,
    );
  return result(
    {
      verdict: final.verdict,
      explanation: sourceFirst ? `${extra[0]!.detail} — ${final.explanation}` : final.explanation,
      findings: [...final.findings, ...extra],
    },
    false,
  );
}

export interface BaselineOptions {
  source: MetricSource;
  track: TrackRef;
  clock: Clock;
  /** How many samples (default rules.minSamples or 5). */
  samples?: number;
  intervalSec: number;
  abort?: AbortSignal;
  /** Also run the smoke checks once against the live version, for their pass rate. */
  smoke?: { checks: readonly SmokeCheck[]; baseUrl: string; vars?: Record<string, string>; options?: SmokeOptions };
}

export interface Baseline {
  samples: MetricSample[];
  failures: MetricFailure[];
  /** Medians over the samples; NaN when there were none. */
  summary: { requests: number; errorRate: number; p50Ms: number; p95Ms: number; p99Ms: number; throughputRps: number };
  smoke?: { passRate: number; results: SmokeResult[] };
  /** Whether the samples came from the source's history (at once) rather than waiting. */
  fromHistory: boolean;
}

/**
 * Captures the baseline before any traffic moves. A source with history (Prometheus) answers
 * for the past windows at once; otherwise it samples on the interval, which takes
 * (samples − 1) × intervalSec of clock time.
 */
export async function captureBaseline(o: BaselineOptions): Promise<Baseline> {
  const n = Math.max(1, o.samples ?? 5);
  const samples: MetricSample[] = [];
  const failures: MetricFailure[] = [];
  const smokeRun = o.smoke ? runSmokeChecks(o.smoke.checks, o.smoke.baseUrl, o.smoke.vars, o.smoke.options) : undefined;
  let fromHistory = false;
  if (o.source.sampleAt) {
    const now = o.clock.now();
    const outs = await Promise.all(
      Array.from({ length: n }, (_, i) => o.source.sampleAt!(o.track, o.intervalSec, now - (n - 1 - i) * o.intervalSec * 1000)),
    );
    for (const r of outs) {
      if (r.ok) samples.push(r.sample);
      else failures.push(r);
    }
    fromHistory = usable(samples).length === n;
  }
  if (!fromHistory) {
    samples.length = 0;
    // The live version's last interval is there already; then one more per interval until n
    // samples saw traffic, at most 2n attempts, so one failed answer does not shorten the baseline.
    // Where the source can say so, only whole windows count (a series' first ones are partial).
    for (let i = 0; i < 2 * n && usable(samples).length < n; i++) {
      if (i > 0) await o.clock.sleep(o.intervalSec * 1000, o.abort);
      const r = o.source.sampleAt
        ? await o.source.sampleAt(o.track, o.intervalSec, o.clock.now())
        : await o.source.sample(o.track, o.intervalSec);
      if (r.ok) samples.push(r.sample);
      else failures.push(r);
    }
  }
  const med = (f: (s: MetricSample) => number) => median(samples.map(f).filter(Number.isFinite));
  const total = samples.reduce((a, s) => a + s.requests, 0);
  const errors = samples.reduce((a, s) => a + s.errorRate * s.requests, 0);
  const results = smokeRun ? await smokeRun : undefined;
  return {
    samples,
    failures,
    summary: {
      requests: total,
      errorRate: total > 0 ? errors / total : NaN,
      p50Ms: med((s) => s.p50Ms),
      p95Ms: med((s) => s.p95Ms),
      p99Ms: med((s) => s.p99Ms),
      throughputRps: med((s) => s.throughputRps),
    },
    smoke: results ? { passRate: results.length ? results.filter((r) => r.ok).length / results.length : 1, results } : undefined,
    fromHistory,
  };
}
