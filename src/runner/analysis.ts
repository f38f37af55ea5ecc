// The runner's view of analysis: baseline, one monitoring window, smoke checks, regression gate.
// An adapter over src/metrics and src/domain/judge (wired in `createAnalysis`), so the runner's
// step logic does not depend on how samples are taken or judged.
import type { SmokeCheck } from '../config.js';
import type { InfraSignal, Decision, DeployPlan, MetricSample } from '../domain/types.js';
import type { TrackRef } from '../cluster/types.js';
import type { SmokeRecord } from '../store/records.js';
import { runSmokeChecks } from '../metrics/smoke.js';

export interface MonitorInput {
  plan: DeployPlan;
  candidate: TrackRef;
  baseline: TrackRef;
  /** Baseline samples captured before the rollout (used when the baseline track has no traffic now). */
  baselineSamples?: MetricSample[];
  /** Share of traffic the candidate gets at this stage (0..100), to normalise throughput. */
  trafficPct?: number;
  windowSec: number;
  /** Health signals of the new version's pods right now. */
  signals: () => Promise<InfraSignal[]>;
  /** Aborted on Rollback / Cancel: the window ends at once. */
  signal: AbortSignal;
  /** Resolves when a person presses Promote: the rest of the window is skipped. */
  skip?: Promise<void>;
  /** Called after each sample so front ends see the stage line move. */
  onSample?: (line: string) => void;
}

export interface MonitorResult {
  decision: Decision;
  candidateSamples: MetricSample[];
  baselineSamples: MetricSample[];
  candidate?: MetricSample;
  baseline?: MetricSample;
  /** One line for the step detail, e.g. `error 0.3% vs 0.2% baseline, p99 120 ms vs 118 ms`. */
  line: string;
}

export interface RunAnalysis {
  /** Samples `track` every monitoring interval until there are enough to judge against. */
  baseline(plan: DeployPlan, track: TrackRef, signal?: AbortSignal): Promise<{ samples: MetricSample[]; sample?: MetricSample; detail: string }>;
  monitor(input: MonitorInput): Promise<MonitorResult>;
  smoke(baseUrl: string, checks: SmokeCheck[], signal?: AbortSignal): Promise<SmokeRecord[]>;
  /** The regression gate: samples after the deploy against those before, with the plan's threshold. */
  gate(plan: DeployPlan, before: MetricSample[], after: MetricSample[], where: 'staging' | 'production'): Decision;
}

// ---------------------------------------------------------------------------------------------
// The adapter over a MetricSource and the rules in src/domain/judge.ts.

import type { Clock } from '../clock.js';
import type { Defaults } from '../config.js';
import type { MetricSource } from '../metrics/types.js';
import { judgeCanary, judgeInfra, productionGate, rulesFromDefaults, stagingGate, usable } from '../domain/judge.js';

export interface AnalysisDeps {
  metrics: MetricSource;
  clock: Clock;
  defaults: Defaults;
  /** Smoke checks over HTTP; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** Pools samples into one (request-weighted error rate, median latencies) for reports. */
export function pooled(samples: MetricSample[]): MetricSample | undefined {
  const u = usable(samples);
  if (!u.length) return undefined;
  const requests = u.reduce((n, s) => n + s.requests, 0);
  const med = (xs: number[]) => {
    const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
    return v.length ? v[Math.floor((v.length - 1) / 2)]! : NaN;
  };
  return {
    at: u.at(-1)!.at,
    windowSec: u.reduce((n, s) => n + s.windowSec, 0),
    requests,
    errorRate: u.reduce((n, s) => n + s.errorRate * s.requests, 0) / requests,
    p50Ms: med(u.map((s) => s.p50Ms)),
    p95Ms: med(u.map((s) => s.p95Ms)),
    p99Ms: med(u.map((s) => s.p99Ms)),
    throughputRps: u.reduce((n, s) => n + s.throughputRps, 0) / u.length,
  };
}

function line(c?: MetricSample, b?: MetricSample): string {
  if (!c) return 'no traffic measured yet';
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  return b
    ? `error ${pct(c.errorRate)} vs ${pct(b.errorRate)} baseline, p99 ${c.p99Ms.toFixed(0)} ms vs ${b.p99Ms.toFixed(0)} ms`
    : `error ${pct(c.errorRate)}, p99 ${c.p99Ms.toFixed(0)} ms`;
}

export function createAnalysis(deps: AnalysisDeps): RunAnalysis {
  const { metrics, clock, defaults } = deps;
  const rules = rulesFromDefaults(defaults);
  const doFetch = deps.fetch ?? fetch;

  async function take(track: TrackRef, windowSec: number): Promise<MetricSample | undefined> {
    const out = await metrics.sample(track, windowSec);
    return out.ok ? out.sample : undefined;
  }

  return {
    async baseline(plan, track, signal) {
      const samples: MetricSample[] = [];
      const interval = plan.monitoringIntervalSec;
      let lastError = '';
      // Enough samples for the judge's minimum, at most twice that many attempts.
      for (let i = 0; i < defaults.minSamples * 2 && usable(samples).length < defaults.minSamples; i++) {
        if (i > 0) await clock.sleep(interval * 1000, signal);
        const out = await metrics.sample(track, interval);
        if (out.ok) samples.push(out.sample);
        else lastError = out.message;
      }
      const agg = pooled(samples);
      const detail = agg
        ? `${usable(samples).length} samples of ${track.track}: ${line(agg)}, ${agg.throughputRps.toFixed(1)} rps`
        : `no baseline traffic measured (${lastError || 'no samples'})`;
      return { samples, ...(agg ? { sample: agg } : {}), detail };
    },

    async monitor(input) {
      const { plan, signal } = input;
      const interval = plan.monitoringIntervalSec * 1000;
      // A window is a number of sampling intervals, not a deadline: when sampling itself takes
      // clock time (a fast clock, a slow metric source), the window stretches instead of
      // ending with too few samples to judge.
      const ticks = Math.max(1, Math.round(input.windowSec / plan.monitoringIntervalSec));
      const cand: MetricSample[] = [];
      const base: MetricSample[] = [];
      let skipped = false;
      input.skip?.then(() => (skipped = true));
      const share = (input.trafficPct ?? 100) / 100;
      const judge = (early: boolean) => {
        const concurrent = usable(base).length >= defaults.minSamples;
        const against = concurrent ? base : input.baselineSamples ?? [];
        return judgeCanary(against, cand, plan, rules, {
          earlyLook: early,
          candidateShare: concurrent ? share : 1,
          baselineShare: concurrent ? 1 - share : 1,
          candidateLabel: input.candidate.track === input.baseline.track ? 'new version' : input.candidate.track,
          baselineLabel: concurrent ? input.baseline.track : 'pre-deploy baseline',
        });
      };
      const result = (decision: Decision): MonitorResult => {
        const c = pooled(cand);
        const b = pooled(usable(base).length ? base : input.baselineSamples ?? []);
        return { decision, candidateSamples: cand, baselineSamples: base, line: line(c, b), ...(c ? { candidate: c } : {}), ...(b ? { baseline: b } : {}) };
      };
      // A sample that failed (timeout, no data) is retried once per tick, at most `ticks` times,
      // so one slow answer under load does not turn a healthy window into "too little data".
      let retries = 0;
      for (let tick = 0; tick < ticks + retries && !skipped; tick++) {
        await Promise.race([clock.sleep(interval, signal), input.skip ?? new Promise(() => {})]);
        if (skipped) break;
        const [c, b, signals] = await Promise.all([
          take(input.candidate, plan.monitoringIntervalSec),
          input.candidate.track === input.baseline.track && input.candidate.version === input.baseline.version
            ? Promise.resolve(undefined)
            : take(input.baseline, plan.monitoringIntervalSec),
          input.signals().catch(() => []),
        ]);
        signal.throwIfAborted();
        if (c) cand.push(c);
        else if (retries < ticks) retries++;
        if (b) base.push(b);
        const infra = judgeInfra(signals, rules);
        if (infra.verdict === 'ROLLBACK') return result(infra);
        const early = judge(true);
        if (early.verdict === 'ROLLBACK') return result(early);
        input.onSample?.(line(pooled(cand), pooled(usable(base).length ? base : input.baselineSamples ?? [])));
      }
      const final = judge(false);
      // Promote is a person taking responsibility for "not enough data yet"; a breach still rolls back.
      if (skipped && final.verdict === 'INCONCLUSIVE') {
        return result({
          verdict: 'CONTINUE',
          explanation: `monitoring window cut short by Promote (${final.explanation})`,
          findings: [...final.findings, { rule: 'promote', verdict: 'CONTINUE', detail: 'a person promoted before the window ended' }],
        });
      }
      return result(final);
    },

    async smoke(baseUrl, checks, signal) {
      // The checks run in parallel, each with its own timeout; an abort (Rollback) wins afterwards.
      const results = await runSmokeChecks(checks, baseUrl, {}, { fetch: doFetch });
      signal?.throwIfAborted();
      return results.map((r) => ({
        name: r.name,
        critical: r.critical,
        ok: r.ok,
        detail: r.ok ? `HTTP ${r.status} in ${Math.round(r.latencyMs)} ms` : (r.reason ?? 'failed'),
      }));
    },

    gate(plan, before, after, where) {
      // Staging is judged against production's baseline (before = production reference samples).
      return where === 'staging' ? stagingGate(after, before, plan, rules) : productionGate(before, after, plan, rules);
    },
  };
}
