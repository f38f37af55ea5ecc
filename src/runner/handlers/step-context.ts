// What every step handler gets (StepContext) and the small helpers they share: smoke checks of
// the live version, pass counts, recording a decision, and the rule from verdict to outcome.
import type { ServiceConfig, ShipbotConfig } from '../../config.js';
import type { DriverTarget, RolloutDriver, RolloutState, WorkloadRef } from '../../cluster/types.js';
import type { Clock } from '../../clock.js';
import { versionOf } from '../../domain/image-ref.js';
import type { Decision, Environment, Strategy } from '../../domain/types.js';
import { ownTarget, type RunRecord, type SmokeRecord, type TargetData, targetIn } from '../../store/records.js';
import type { Store } from '../../store/run-store.js';
import type { WindowVerdict, RunAnalysis } from '../analysis.js';
import type { Migrate } from './migration-step.js';
import type { GitopsActions } from '../../gitops/actions.js';
import type { RunChange } from '../model/reduce.js';
import { rollbackTarget, type StepOutcome } from '../model/steps.js';

/**
 * What a step handler gets. It reads the run and changes it only through `commit`: the loop
 * applies the change (run-change.ts) and saves it before the handler goes on.
 */
export interface StepContext {
  /** The run as it is now: each change committed replaces it, so read it again after an await rather than keep a copy. */
  readonly run: Readonly<RunRecord>;
  config: ShipbotConfig;
  service: ServiceConfig;
  ref: WorkloadRef;
  stagingRef?: WorkloadRef;
  driver: RolloutDriver;
  drivers: (strategy: Strategy, at?: DriverTarget) => RolloutDriver;
  analysis: RunAnalysis;
  store: Store;
  clock: Clock;
  signal: AbortSignal;
  /** Resolves when a person presses Promote during this step. */
  skip: Promise<void>;
  /** Applies a change to the run and saves it now (e.g. after the rollout state changed), so a crash loses nothing. */
  commit: (change: RunChange) => void;
  /** Updates the step's detail line while it runs (not persisted on its own). */
  progress: (line: string) => void;
  /** An entry in the run's audit trail, by Shipbot. */
  audit: (action: string, detail: string) => void;
  migrate: Migrate;
  /** The reconciler and Git, for environments with `gitops`. */
  gitops?: GitopsActions;
}

/** One environment a run changes, with what the runner keeps about it. */
export interface Target {
  environment: Environment;
  ref: WorkloadRef;
  driver: RolloutDriver;
  /** What the run keeps about it, as it is now (each read sees what the step committed since). */
  readonly data: TargetData;
}

/** The run's own environment, where the release goes, with its strategy's driver. */
export function releaseTarget(ctx: StepContext): Target {
  return {
    environment: ctx.run.environment,
    ref: ctx.ref,
    driver: ctx.driver,
    get data() {
      return ownTarget(ctx.run);
    },
  };
}

/** Staging before a production release: always a rolling update, a rehearsal, not a traffic experiment. */
export function stagingTarget(ctx: StepContext): Target | undefined {
  const ref = ctx.stagingRef;
  return (
    ref && {
      environment: 'staging',
      ref,
      driver: ctx.drivers('rolling', ref),
      get data() {
        return targetIn(ctx.run, 'staging') ?? { environment: 'staging' };
      },
    }
  );
}

/** The target a rollback restores: the run's own once it changed, else the rehearsal if it did. */
export function restoredTarget(ctx: StepContext): Target | undefined {
  const env = rollbackTarget(ctx.run)?.environment;
  return env === undefined ? undefined : env === ctx.run.environment ? releaseTarget(ctx) : stagingTarget(ctx);
}

export function state(t: Target): RolloutState {
  if (!t.data.rollout) throw new Error('the rollout state is missing: the prepare step did not finish');
  return t.data.rollout;
}

/** The service's smoke checks against the version users reach now; undefined when it has none. */
export function liveSmoke(ctx: StepContext, t: Target = releaseTarget(ctx)): Promise<SmokeRecord[] | undefined> {
  const checks = ctx.service.smoke;
  return checks.length ? ctx.analysis.smoke(t.driver.liveBaseUrl(t.ref), checks, ctx.signal) : Promise.resolve(undefined);
}

export function testCounts(checks: readonly SmokeRecord[]): { passed: number; total: number } {
  return { passed: checks.filter((c) => c.ok).length, total: checks.length };
}

export function passCount(checks: readonly SmokeRecord[]): string {
  const { passed, total } = testCounts(checks);
  return `${passed}/${total} passed`;
}

/** Adds a decision about `target`'s version, with the numbers behind it (a monitoring result, or a gate's verdict). */
export function record(
  ctx: StepContext,
  environment: Environment,
  step: string,
  res: Pick<WindowVerdict, 'decision'> & Partial<Pick<WindowVerdict, 'watchedSec' | 'candidate' | 'baseline' | 'gates' | 'resources'>>,
): void {
  ctx.commit({
    decisions: {
      environment,
      add: [
        {
          step,
          at: ctx.clock.now(),
          decision: res.decision,
          ...(res.watchedSec !== undefined ? { watchedSec: res.watchedSec } : {}),
          ...(res.candidate ? { candidate: res.candidate } : {}),
          ...(res.baseline ? { baseline: res.baseline } : {}),
          ...(res.gates?.length ? { gates: res.gates } : {}),
          ...(res.resources?.length ? { resources: res.resources } : {}),
        },
      ],
    },
  });
}

/**
 * Critical smoke checks that failed: a failure, unless every one is unclear (no answer while
 * Shipbot itself was too busy to hear it), which asks a person instead of rolling back.
 */
export function smokeFailed(critical: readonly SmokeRecord[], what: string): StepOutcome {
  const why = `${what} failed: ${critical.map((c) => `${c.name} (${c.detail})`).join(', ')}`;
  if (!critical.every((c) => c.unclear)) return { status: 'failed', detail: why, result: { kind: 'failed', reason: why } };
  const explanation = `${what} got no answer while Shipbot itself was busy: ${critical.map((c) => `${c.name} (${c.detail})`).join(', ')}. Check the service, then Accept or Rollback`;
  return { status: 'warning', detail: why, result: askPerson('smoke', explanation) };
}

/** A question for a person (next-move.ts asks it): unclear, with one finding under `rule`. */
export function askPerson(rule: string, explanation: string, detail = explanation): StepOutcome['result'] {
  return { kind: 'ask', decision: { verdict: 'INCONCLUSIVE', explanation, findings: [{ rule, verdict: 'INCONCLUSIVE', detail }] } };
}

/** A judgment of the new version, with the line shown when it passes: next-move.ts decides what follows. */
export function judged(line: string, decision: Decision): StepOutcome {
  return { status: 'done', detail: line, result: { kind: 'verdict', decision } };
}

/** The version an image runs (one parser for every image reference: domain/image-ref.ts). */
export const tagOf = versionOf;
