// The runner's view of analysis: baseline, one monitoring window, smoke checks, regression gate.
// An adapter over src/metrics and src/domain/judge (wired in `createAnalysis`), so the runner's
// step logic does not depend on how samples are taken or judged.
import type { SmokeCheck } from '../config.js';
import type { InfraSignal, Decision, DeployPlan, MetricSample } from '../domain/types.js';
import type { TrackRef } from '../cluster/types.js';
import type { SmokeRecord } from '../store/records.js';

export interface MonitorInput {
  plan: DeployPlan;
  candidate: TrackRef;
  baseline: TrackRef;
  /** Baseline captured before the rollout, when there was traffic to measure. */
  baselineSample?: MetricSample;
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
  candidate?: MetricSample;
  baseline?: MetricSample;
  /** One line for the step detail, e.g. `error 0.3% vs 0.2% baseline, p99 120 ms vs 118 ms`. */
  line: string;
}

export interface RunAnalysis {
  baseline(plan: DeployPlan, track: TrackRef): Promise<{ sample?: MetricSample; detail: string }>;
  monitor(input: MonitorInput): Promise<MonitorResult>;
  smoke(baseUrl: string, checks: SmokeCheck[], signal?: AbortSignal): Promise<SmokeRecord[]>;
  /** The regression gate: the new version after observation against the baseline, with the plan's threshold. */
  gate(plan: DeployPlan, baseline: MetricSample | undefined, after: MetricSample | undefined): Decision;
}
