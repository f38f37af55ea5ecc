// The runner's view of analysis: baseline, one monitoring window, smoke checks, regression gate.
// An adapter over src/metrics and src/domain/judge (wired in `createAnalysis`), so the runner's
// step logic does not depend on how samples are taken or judged.
import type { SmokeCheck } from '../config.js';
import type { InfraSignal, Decision, DeployPlan, MetricSample } from '../domain/types.js';
import type { TrackRef } from '../domain/types.js';
import type { SmokeRecord } from '../store/records.js';
import { runSmokeChecks, serviceProxyVars } from '../metrics/smoke.js';

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
  /** Firing alerts count during the window (the service's `alerts`): which, how, and since when the release is to blame. */
  alerts?: { labels: Record<string, string>; policy: AlertPolicy; since: number };
  /** The team's gates (`services[].gates`), read at the window's end; `since` (run clock) is "before the rollout". */
  teamGates?: { gates: TeamGateConfig[]; since: number };
  /** Resource use of the new pods against the previous version's (`services[].resources`), read at the window's end. */
  resources?: { config: ResourcesConfig; pods: () => Promise<{ candidate: string[]; baseline: string[] }> };
}

export interface WindowVerdict {
  decision: Decision;
  candidateSamples: MetricSample[];
  candidate?: MetricSample;
  baseline?: MetricSample;
  /** One line for the step detail, e.g. `error 0.3% vs 0.2% baseline, p99 120 ms vs 118 ms`. */
  line: string;
  /** Clock seconds watched before this decision (shorter than the window when it rolled back early). */
  watchedSec?: number;
  /** What each team gate read, when the window got as far as reading them. */
  gates?: TeamGateReading[];
  /** CPU and memory per pod, graded, when the service asks for them. */
  resources?: ResourceReading[];
}

export interface RunAnalysis {
  /** Enough samples of `track` to judge against: from the source's history (Prometheus) at once, else one per monitoring interval. */
  baseline(
    plan: DeployPlan,
    track: TrackRef,
    signal?: AbortSignal,
  ): Promise<{ samples: MetricSample[]; sample?: MetricSample; detail: string }>;
  monitor(input: MonitorInput): Promise<WindowVerdict>;
  smoke(baseUrl: string, checks: SmokeCheck[], signal?: AbortSignal): Promise<SmokeRecord[]>;
  /** The templates behind a service's numbers, when the source has them (Prometheus), for the report. */
  queriesFor?(service: string): Readonly<Record<string, string>> | undefined;
  /** The regression gate: samples (and smoke results) after the deploy against those before, with the plan's threshold. */
  gate(plan: DeployPlan, before: MetricSample[], after: MetricSample[], where: 'staging' | 'production', tests?: GateTests): Decision;
}

// ---------------------------------------------------------------------------------------------
// The adapter over a MetricSource and the rules in src/domain/judge.ts.

import { type Clock, wallTime } from '../clock.js';
import type { Defaults } from '../config.js';
import type { MetricFailure, MetricSource, QueryOutcome } from '../metrics/types.js';
import type { ResourcesConfig, TeamGateConfig } from '../domain/config-schema.js';
import { type GateCounts, judgeTeamGate, selectsTrack, type TeamGateReading } from '../domain/judge-team.js';
import { judgeResource, resourceQuery, type ResourceName, type ResourceReading } from '../domain/judge-resources.js';
import type { Finding } from '../domain/judge-core.js';
import { type JudgeRules, productionGate, rulesFromDefaults, stagingGate, usable, type GateTests } from '../domain/judge.js';
import { captureBaseline, monitorWindow } from '../metrics/monitor.js';
import { windowReading } from '../domain/reading.js';
import { fmtMs, fmtPct } from '../domain/judge-core.js';
import { type AlertPolicy, judgeAlerts } from '../domain/judge-alerts.js';
import type { AlertSource } from '../metrics/alerts.js';
import { slackDate } from '../domain/text.js';

export interface AnalysisDeps {
  metrics: MetricSource;
  clock: Clock;
  defaults: Defaults;
  /** Smoke checks over HTTP: the clusters' fetch, which carries each cluster's credentials (default: global fetch). */
  fetch?: typeof fetch;
  /** Where firing alerts are read (Alertmanager or Prometheus); without it the alerts gate is off. */
  alerts?: AlertSource;
}

function line(c?: MetricSample, b?: MetricSample): string {
  if (!c) return 'no traffic measured yet';
  return b
    ? `error ${fmtPct(c.errorRate)} vs ${fmtPct(b.errorRate)} baseline, p99 ${fmtMs(c.p99Ms)} vs ${fmtMs(b.p99Ms)}`
    : `error ${fmtPct(c.errorRate)}, p99 ${fmtMs(c.p99Ms)}`;
}

export function createAnalysis(deps: AnalysisDeps): RunAnalysis {
  const { metrics, clock, defaults } = deps;
  const rules = rulesFromDefaults(defaults);
  const doFetch = deps.fetch ?? fetch;
  const readTeamGates = (input: MonitorInput) => readTeamGatesWith(metrics, clock, rules, input);
  const readResources = (input: MonitorInput) => readResourcesWith(metrics, input);

  return {
    async baseline(plan, track, signal) {
      const b = await captureBaseline({
        source: metrics,
        track,
        clock,
        samples: defaults.minSamples,
        intervalSec: plan.monitoringIntervalSec,
        ...(signal ? { abort: signal } : {}),
      });
      const agg = windowReading(b.samples);
      const detail = agg
        ? `${usable(b.samples).length} samples of ${trackName(track.track)}${b.fromHistory ? ' from history' : ''}: ${line(agg)}, ${agg.throughputRps.toFixed(1)} rps`
        : `no baseline traffic measured (${b.failures.at(-1)?.message ?? 'no samples'})`;
      return { samples: b.samples, ...(agg ? { sample: agg } : {}), detail };
    },

    async monitor(input) {
      // The same track is the same series to a metric query that does not tell versions apart
      // (the shipped templates do not): after a promotion or during a rolling update the "live
      // baseline" would be the new version itself, at a share of 0. Such a window is judged
      // against the baseline captured before traffic moved, where shares are real.
      const sameTrack = input.candidate.track === input.baseline.track;
      const live = !sameTrack;
      const res = await monitorWindow({
        source: metrics,
        clock,
        rules,
        plan: input.plan,
        tracks: { candidate: input.candidate, ...(live ? { baseline: input.baseline } : {}) },
        ...(input.baselineSamples ? { baselineSamples: input.baselineSamples } : {}),
        windowSec: input.windowSec,
        intervalSec: input.plan.monitoringIntervalSec,
        ...(input.trafficPct !== undefined ? { trafficPct: input.trafficPct } : {}),
        signals: input.signals,
        ...(deps.alerts && input.alerts ? { alerts: alertsFor(deps.alerts, input.alerts) } : {}),
        abort: input.signal,
        ...(input.skip ? { skip: input.skip } : {}),
        candidateLabel: sameTrack ? 'new version' : trackName(input.candidate.track),
        baselineLabel: trackName(input.baseline.track),
        onSample: (t) =>
          input.onSample?.(line(windowReading(t.candidateSamples, t.whole.candidate), windowReading(t.baselineSamples, t.whole.baseline))),
      });
      const { candidate: candidateSamples, baseline: baselineSamples } = res;
      // The readings the judge tested: the line, the stored decision and the report show these.
      const c = windowReading(candidateSamples, res.whole.candidate);
      const b = windowReading(baselineSamples, res.whole.baseline);
      // The team's gates and resource use, once the window has run its course (a rollback already decided needs none).
      const judging = res.verdict !== 'ROLLBACK';
      const [team, used] = await Promise.all([
        input.teamGates?.gates.length && judging ? readTeamGates(input) : undefined,
        input.resources && judging ? readResources(input) : undefined,
      ]);
      const extra = [...(team ?? []), ...(used ?? [])].map((j) => j.finding);
      const decision = extra.length
        ? withGates(res, extra)
        : { verdict: res.verdict, explanation: res.explanation, findings: res.findings };
      return {
        decision,
        ...(team ? { gates: team.map((j) => j.reading) } : {}),
        ...(used ? { resources: used.map((j) => j.reading) } : {}),
        candidateSamples,
        line: line(c, b),
        watchedSec: res.watchedSec,
        ...(c ? { candidate: c } : {}),
        ...(b ? { baseline: b } : {}),
      };
    },

    async smoke(baseUrl, checks, signal) {
      // The checks run in parallel, each with its own timeout; an abort (Rollback) wins afterwards.
      const results = await runSmokeChecks(checks, baseUrl, serviceProxyVars(baseUrl), { fetch: doFetch });
      signal?.throwIfAborted();
      return results.map((r) => ({
        name: r.name,
        critical: r.critical,
        ok: r.ok,
        ...(r.unclear ? { unclear: true } : {}),
        detail: r.ok ? `HTTP ${r.status} in ${Math.round(r.latencyMs)} ms` : (r.reason ?? 'failed'),
      }));
    },

    queriesFor: (service) => metrics.queriesFor?.(service),

    gate(plan, before, after, where, tests) {
      // Staging is judged against production's baseline (before = production reference samples).
      return where === 'staging' ? stagingGate(after, before, plan, rules, tests) : productionGate(before, after, plan, rules, tests);
    },
  };
}

/**
 * Reads every team gate: per track (the new version's against the live one) when the query tells
 * tracks apart and both serve, else the service before the rollout against now.
 */
async function readTeamGatesWith(metrics: MetricSource, clock: Clock, rules: JudgeRules, input: MonitorInput) {
  const { gates, since } = input.teamGates!;
  const pct = input.trafficPct ?? 100;
  const sameTrack = input.candidate.track === input.baseline.track;
  const read = promql(metrics);
  return Promise.all(
    gates.map(async (g) => {
      const perTrack = selectsTrack(g.query) && !sameTrack && pct < 100;
      const windowSec = g.windowMin * 60;
      const baseAt = perTrack ? undefined : wallTime(clock, since);
      // A ratio's counts, read beside it on each side, for its significance.
      const countsOf = async (track: TrackRef, at?: number): Promise<GateCounts | undefined> => {
        if (!g.counts) return undefined;
        const [s, t] = await Promise.all([read(g.counts.successes, track, windowSec, at), read(g.counts.trials, track, windowSec, at)]);
        return s.ok && t.ok ? { successes: s.value, trials: t.value } : undefined;
      };
      const [cand, base, candCounts, baseCounts] = await Promise.all([
        read(g.query, input.candidate, windowSec),
        read(g.query, input.baseline, windowSec, baseAt),
        countsOf(input.candidate),
        countsOf(input.baseline, baseAt),
      ]);
      const failure = [cand, base].find((o) => !o.ok) as (MetricFailure & { query: string }) | undefined;
      return judgeTeamGate(
        g,
        {
          query: cand.query,
          mode: perTrack ? 'track' : 'before-after',
          ...(cand.ok ? { candidate: cand.value } : {}),
          ...(base.ok ? { baseline: base.value } : {}),
          ...(failure ? { failure: `${failure.kind}: ${failure.message}` } : {}),
          ...(g.counts
            ? { counts: { ...(candCounts ? { candidate: candCounts } : {}), ...(baseCounts ? { baseline: baseCounts } : {}) } }
            : {}),
        },
        perTrack ? { candidate: pct / 100, baseline: 1 - pct / 100 } : undefined,
        rules.alpha,
      );
    }),
  );
}

/** CPU and memory per pod of the new version's pods now, against the previous version's pods now (cAdvisor). */
async function readResourcesWith(metrics: MetricSource, input: MonitorInput) {
  const { config, pods } = input.resources!;
  const names = await pods().catch(() => ({ candidate: [], baseline: [] }));
  const windowSec = input.plan.monitoringIntervalSec * 4;
  const query = promql(metrics);
  const read = (resource: ResourceName, which: string[]): Promise<QueryOutcome | undefined> =>
    which.length ? query(resourceQuery(resource, which), input.candidate, windowSec) : Promise.resolve(undefined);
  return Promise.all(
    (['cpu', 'memory'] as const).map(async (resource) => {
      const [cand, base] = await Promise.all([read(resource, names.candidate), read(resource, names.baseline)]);
      return judgeResource(
        resource,
        {
          query: cand?.query ?? resourceQuery(resource, names.candidate),
          ...(cand?.ok ? { candidate: cand.value } : {}),
          ...(base?.ok ? { baseline: base.value } : {}),
          ...(cand && !cand.ok
            ? { failure: `${cand.kind}: ${cand.message}` }
            : !cand
              ? { failure: 'no pod of the new version is running' }
              : {}),
        },
        config,
      );
    }),
  );
}

/** The source's PromQL reader; a source without PromQL (the sandbox's own API) says so, and that is never a pass. */
function promql(metrics: MetricSource): NonNullable<MetricSource['readQuery']> {
  return (template, track, windowSec, atMs) =>
    metrics.readQuery
      ? metrics.readQuery(template, track, windowSec, atMs)
      : Promise.resolve({
          ok: false,
          kind: 'query-error',
          message: `team gates and resource use are PromQL, read from Prometheus: set PROMETHEUS_URL (the ${metrics.name} source has none)`,
          query: template,
        });
}

/** The window's decision with the gates' findings beside it: a gate's rollback wins, a gate that asks makes a pass a question. */
function withGates(res: Decision, extra: Finding[]): Decision {
  const findings = [...res.findings, ...extra];
  const rollback = extra.filter((f) => f.verdict === 'ROLLBACK').map((f) => f.detail);
  if (rollback.length) return { verdict: 'ROLLBACK', explanation: rollback.join('; '), findings };
  const asking = extra.filter((f) => f.verdict === 'INCONCLUSIVE').map((f) => f.detail);
  if (asking.length && res.verdict === 'CONTINUE') return { verdict: 'INCONCLUSIVE', explanation: asking.join('; '), findings };
  return { verdict: res.verdict, explanation: res.explanation, findings };
}

/** A track as a person reads it: pods without a track label are the team's own, the live version. */
function trackName(track: string): string {
  return track || 'live version';
}

/** The alerts gate of one window: the source read with the service's labels, judged against when the rollout began. */
function alertsFor(source: AlertSource, a: NonNullable<MonitorInput['alerts']>) {
  return async () => judgeAlerts(await source.firing(a.labels), a.since, a.policy, slackDate);
}
