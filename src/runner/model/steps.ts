// Pure decisions about a run's steps: which steps a plan goes through, which comes next, and
// how a step list changes on rollback. No I/O: the runner persists and executes what these say.
import type { Stage } from '../../cluster/types.js';
import type { Decision, DeployPlan, Environment } from '../../domain/types.js';
import type { StepStatus, StepView } from '../../domain/run.js';
import type { TargetData, Targets } from '../../store/records.js';

export const STEP = {
  confirm: 'confirm-strategy',
  validate: 'validate',
  stagingMigration: 'staging-migration',
  migration: 'migration',
  stagingDeploy: 'staging-deploy',
  stagingGate: 'staging-gate',
  baseline: 'baseline',
  prepare: 'prepare',
  smoke: 'smoke',
  gate: 'regression-gate',
  promote: 'promote',
  /** The team's HTTP checks before the release takes all the traffic (`checks.prePromotion`). */
  prePromotion: 'pre-promotion-checks',
  /** GitOps: pause the team's reconciler before the rollout, write the release to Git, resume it. */
  suspendOwner: 'suspend-owner',
  commitRelease: 'commit-release',
  resumeOwner: 'resume-owner',
  rollback: 'rollback',
  verifyRollback: 'verify-rollback',
  incident: 'incident',
  report: 'report',
} as const;

/** What a step handler returns: its row's status and detail, and what happened that may change the run's course. */
export interface StepOutcome {
  status: Exclude<StepStatus, 'pending' | 'running'>;
  detail?: string;
  /** Absent: the step did its part; the run goes on. What comes next is decided in next-move.ts. */
  result?: StepResult;
}

export type StepResult =
  /**
   * A judgment of the new version (a monitoring window, a gate). `blocks`: a regression stops the
   * release whatever the plan says (the staging gate); `reason` names where, for the rollback.
   */
  | { kind: 'verdict'; decision: Decision; blocks?: boolean; reason?: string }
  /** Something went wrong: the run rolls back if it changed a cluster, else it fails. */
  | { kind: 'failed'; reason: string }
  /** A person decides (the release serves, but Git could not be written). */
  | { kind: 'ask'; decision: Decision }
  /** The report step: the run ends. */
  | { kind: 'finish' };

export const STAGE_PREFIX = 'stage:';

export function stageStepKey(stage: Stage): string {
  return `${STAGE_PREFIX}${stage.key}`;
}

export function isStageStep(key: string): boolean {
  return key.startsWith(STAGE_PREFIX);
}

/** Steps that have finished one way or another. */
const SETTLED: ReadonlySet<StepStatus> = new Set(['done', 'warning', 'skipped', 'failed']);

export function isSettled(step: StepView): boolean {
  return SETTLED.has(step.status);
}

/**
 * The steps of the seed flow for a plan, before the strategy's stages are known. A migration
 * runs before each environment's rollout: staging's before its deploy, the target's before prepare.
 */
export function initialSteps(
  plan: DeployPlan,
  hasStaging: boolean,
  migrations: { staging?: boolean; target?: boolean } = {},
  /** The run's environment is owned by a reconciler (`gitops`): its name, e.g. "Argo CD". */
  owner?: string,
  /** The service has checks to call before the release takes all the traffic. */
  prePromotion = false,
): StepView[] {
  const steps: Array<[string, string]> = [
    [STEP.confirm, 'Strategy confirmation'],
    [STEP.validate, 'Pre-deployment validation'],
  ];
  const env = plan.environment === 'production' ? 'Production' : 'Staging';
  if (plan.environment === 'production' && hasStaging) {
    if (migrations.staging) steps.push([STEP.stagingMigration, 'Staging migration']);
    steps.push([STEP.stagingDeploy, 'Staging deploy'], [STEP.stagingGate, 'Staging regression gate']);
  }
  if (owner) steps.push([STEP.suspendOwner, `Pause ${owner} sync`]);
  if (migrations.target) steps.push([STEP.migration, `${env} migration`]);
  steps.push(
    [STEP.prepare, `Prepare ${plan.strategy}`],
    [STEP.baseline, `${env} baseline`],
    // Placed before the stage that takes all the traffic once the stages are known (withStages).
    ...(prePromotion ? [[STEP.prePromotion, 'Pre-promotion checks'] as [string, string]] : []),
    [STEP.smoke, 'Smoke checks'],
    [STEP.gate, `${env} regression gate`],
    [STEP.promote, 'Promote new version'],
  );
  if (owner) steps.push([STEP.commitRelease, 'Commit the release to Git'], [STEP.resumeOwner, `Resume ${owner} sync`]);
  steps.push([STEP.report, 'Report']);
  return steps.map(([key, title]) => ({ key, title, status: 'pending' }));
}

/**
 * Inserts one step per rollout stage after the baseline (once the driver has said what they are),
 * and the pre-promotion checks before the first stage that takes all the traffic.
 */
export function withStages(steps: StepView[], stages: Stage[]): StepView[] {
  if (steps.some((s) => isStageStep(s.key))) return steps;
  const checks = steps.find((s) => s.key === STEP.prePromotion);
  const rest = steps.filter((s) => s !== checks);
  const at = rest.findIndex((s) => s.key === STEP.baseline);
  // A prepare abandoned by a Rollback still records its stages: they are never to run.
  const status = rest.some((s) => s.key === STEP.rollback) ? 'skipped' : 'pending';
  const stageSteps: StepView[] = stages.map((st) => ({ key: stageStepKey(st), title: st.title, status }));
  if (checks) {
    const all = stages.findIndex((st) => st.trafficPct >= 100);
    stageSteps.splice(all < 0 ? stageSteps.length : all, 0, checks);
  }
  return [...rest.slice(0, at + 1), ...stageSteps, ...rest.slice(at + 1)];
}

/** The first step that still has to run (or was interrupted while running). */
export function nextStep(steps: StepView[]): StepView | undefined {
  return steps.find((s) => !isSettled(s));
}

/**
 * On rollback: every forward step that has not started is skipped, and the rollback steps are
 * placed before the report. Calling it twice changes nothing.
 */
export function withRollbackSteps(steps: StepView[], reason: string): StepView[] {
  if (steps.some((s) => s.key === STEP.rollback)) return steps;
  // A paused reconciler is resumed after the rollback: Git still names the old version, so it holds.
  const resume = steps.find((s) => s.key === STEP.resumeOwner && !isSettled(s));
  const out = steps
    .filter((s) => s.key !== STEP.report && s !== resume)
    // A step that was running did part of its work (a canary step served its users): a warning, not "skipped".
    .map(
      (s): StepView =>
        isSettled(s)
          ? s
          : s.status === 'running'
            ? { ...s, status: 'warning', detail: `interrupted: ${reason}` }
            : { ...s, status: 'skipped' },
    );
  const report = steps.find((s) => s.key === STEP.report) ?? { key: STEP.report, title: 'Report', status: 'pending' };
  return [
    ...out,
    // "Rollback — requested by ivan", not "Rollback — rollback requested by ivan".
    { key: STEP.rollback, title: 'Rollback', status: 'pending', detail: reason.replace(/^rollback /i, '') },
    { key: STEP.verifyRollback, title: 'Rollback verification', status: 'pending' },
    { key: STEP.incident, title: 'Incident record', status: 'pending' },
    ...(resume ? [{ ...resume, status: 'pending' as const }] : []),
    { ...report, status: 'pending' },
  ];
}

/** Marks every unsettled step except the report as skipped (cancel before anything changed). */
export function skipRemaining(steps: StepView[], detail: string): StepView[] {
  return steps.map((s) => (isSettled(s) || s.key === STEP.report ? s : { ...s, status: 'skipped', detail }));
}

export function setStep(steps: StepView[], key: string, patch: Partial<StepView>): StepView[] {
  return steps.map((s) => (s.key === key ? { ...s, ...patch } : s));
}

/** The environment a step changes, if it changes one: prepare and the stages the run's own (`own`), the staging deploy staging's. */
export function changedEnvironment(key: string, own: Environment): Environment | undefined {
  if (key === STEP.prepare || isStageStep(key)) return own;
  return key === STEP.stagingDeploy ? 'staging' : undefined;
}

/** The path with `key`'s target marked touched, as its step starts (before the cluster is called). */
export function touching(targets: Targets, key: string, now: number): Targets {
  const env = changedEnvironment(key, targets.at(-1)!.environment);
  return targets.map((t) => (t.environment === env && t.touchedAt === undefined ? { ...t, touchedAt: now } : t));
}

/** Whether the cluster may already have been changed by this run (so cancelling means rolling back). */
export function clusterTouched(run: { targets: Targets }): boolean {
  return run.targets.some((t) => t.touchedAt !== undefined);
}

/** Whether the run's own environment (production, or staging for a staging release) may already serve the new version. */
export function ownTouched(run: { targets: Targets }): boolean {
  return run.targets.at(-1)!.touchedAt !== undefined;
}

/**
 * The target a rollback restores and Investigate looks at: the furthest along the path that
 * changed and has a rollout to restore (the run's own once it changed, else the rehearsal).
 */
export function rollbackTarget(run: { targets: Targets }): TargetData | undefined {
  return run.targets.findLast((t) => t.rollout && t.touchedAt !== undefined);
}
