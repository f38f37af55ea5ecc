// What every step handler gets (StepContext) and the small helpers they share: smoke checks of
// the live version, pass counts, recording a decision, and the rule from verdict to outcome.
import type { ServiceConfig, ShipbotConfig } from '../config.js';
import type { RolloutDriver, RolloutState, WorkloadRef } from '../cluster/types.js';
import type { Clock } from '../clock.js';
import { versionOf } from '../domain/image-ref.js';
import type { Decision, Strategy } from '../domain/types.js';
import type { RunRecord, SmokeRecord } from '../store/records.js';
import type { Store } from '../store/store.js';
import type { MonitorResult, RunAnalysis } from './analysis.js';
import type { Migrate } from './migration-step.js';
import type { StepOutcome } from './steps.js';

export interface StepContext {
  run: RunRecord;
  config: ShipbotConfig;
  service: ServiceConfig;
  ref: WorkloadRef;
  stagingRef?: WorkloadRef;
  driver: RolloutDriver;
  drivers: (strategy: Strategy, context?: string) => RolloutDriver;
  analysis: RunAnalysis;
  store: Store;
  clock: Clock;
  signal: AbortSignal;
  /** Resolves when a person presses Promote during this step. */
  skip: Promise<void>;
  /** Persists the run now (after the rollout state changed), so a crash loses nothing. */
  save: () => void;
  /** Updates the step's detail line while it runs (not persisted on its own). */
  progress: (line: string) => void;
  writeIncident: () => Promise<string | undefined>;
  migrate: Migrate;
}

export function state(ctx: StepContext): RolloutState {
  if (!ctx.run.rolloutState) throw new Error('the rollout state is missing: the prepare step did not finish');
  return ctx.run.rolloutState;
}

/** The service's smoke checks against the version users reach now; undefined when it has none. */
export function liveSmoke(ctx: StepContext): Promise<SmokeRecord[] | undefined> {
  const checks = ctx.service.smoke;
  return checks.length ? ctx.analysis.smoke(ctx.driver.liveBaseUrl(ctx.ref), checks, ctx.signal) : Promise.resolve(undefined);
}

export function testCounts(checks: readonly SmokeRecord[]): { passed: number; total: number } {
  return { passed: checks.filter((c) => c.ok).length, total: checks.length };
}

export function passCount(checks: readonly SmokeRecord[]): string {
  const { passed, total } = testCounts(checks);
  return `${passed}/${total} passed`;
}

export function record(ctx: StepContext, step: string, res: MonitorResult): void {
  (ctx.run.data.decisions ??= []).push({
    step,
    at: ctx.clock.now(),
    decision: res.decision,
    ...(res.watchedSec !== undefined ? { watchedSec: res.watchedSec } : {}),
    ...(res.candidate ? { candidate: res.candidate } : {}),
    ...(res.baseline ? { baseline: res.baseline } : {}),
  });
}

/** The rule: breaches roll back by themselves unless the plan says a person decides; unclear results always ask. */
export function judged(run: RunRecord, line: string, d: Decision): StepOutcome {
  if (d.verdict === 'CONTINUE') return { status: 'done', detail: line };
  if (d.verdict === 'ROLLBACK' && run.plan.rollbackOnRegression) {
    return { status: 'failed', detail: d.explanation, next: { kind: 'rollback', reason: d.explanation } };
  }
  return { status: 'warning', detail: d.explanation, next: { kind: 'ask', decision: d } };
}

/** The version an image runs (one parser for every image reference: domain/image-ref.ts). */
export const tagOf = versionOf;
