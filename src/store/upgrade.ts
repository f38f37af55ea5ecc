// Rows an earlier Shipbot saved, upgraded on read: the one place that knows the old shapes.
// Today's row keeps the run's phase, targets and data in data_json (the main rollout in its own
// column); the status, outcome and report path columns are kept for queries and older readers.
import type { RolloutState } from '../cluster/types.js';
import {
  type EndStatus,
  FINAL_STATUSES,
  type LineStop,
  type RollbackFacts,
  type RunPhase,
  type RunStatus,
  type StepView,
} from '../domain/run.js';
import type { Decision, Environment, MetricSample } from '../domain/types.js';
import type { DecisionRecord, RunData, RunRecord, SmokeRecord, TargetData, Targets } from './records.js';

/** data_json as saved today: the run's data, its targets (the main rollout has its own column), its phase and restarts. */
export type StoredData = RunData & { targets: Targets; phase: RunPhase; restarts: RunRecord['restarts'] };

/** The columns an old row kept its phase (and its own environment) in. */
interface PhaseColumns {
  environment: string;
  status: string;
  outcome: string | null;
  report_path: string | null;
}

/** The stored facts of a row, in today's shape whatever Shipbot saved them. */
export function upgradeRow(
  stored: StoredData | (RunData & OldData),
  columns: PhaseColumns,
  rollout: RolloutState | undefined,
  steps: StepView[],
): Pick<RunRecord, 'targets' | 'data' | 'phase' | 'restarts'> {
  if ('phase' in stored && stored.phase) {
    const { targets, phase, restarts, ...data } = stored as StoredData;
    return { targets: withOwnRollout(targets, rollout), data, phase, restarts };
  }
  const {
    pendingDecision,
    rollback,
    keptLock,
    incidentPath,
    lineStop,
    restarts,
    summary: _s,
    pausedAt: _p,
    issues: _i,
    targets,
    ...rest
  } = stored as RunData & OldData;
  const facts = targets
    ? { targets: { ...targets, main: { ...targets.main, ...(rollout ? { rollout } : {}) } }, data: rest }
    : fromLoose(rest, rollout);
  const upgraded = withEarlierFacts(facts, steps);
  return {
    data: upgraded.data,
    targets: toPath(upgraded.targets, columns.environment as Environment, steps),
    phase: oldPhase(columns, { pendingDecision, rollback, keptLock, incidentPath, lineStop }),
    restarts: restarts ?? [],
  };
}

/** A target as rows before the promotion path kept it: one per name, without its environment. */
type OldTarget = Omit<TargetData, 'environment'>;
interface OldTargets {
  main: OldTarget;
  staging?: OldTarget;
}

/** The old main/staging pair as the path: staging first where the run rehearsed there, its own environment last. */
function toPath(old: OldTargets, environment: Environment, steps: StepView[]): Targets {
  const rehearsed = old.staging !== undefined || steps.some((s) => s.key === 'staging-deploy');
  return [...(rehearsed ? [{ ...old.staging, environment: 'staging' as const }] : []), { ...old.main, environment }];
}

/** What rows before the run's phase existed kept in data_json beside today's data. */
interface OldData extends LooseData {
  targets?: OldTargets;
  pendingDecision?: Decision;
  rollback?: RollbackFacts;
  keptLock?: string;
  incidentPath?: string;
  lineStop?: LineStop;
  restarts?: RunRecord['restarts'];
  summary?: string;
  pausedAt?: number;
  issues?: string[];
}

function oldPhase(c: PhaseColumns, o: Pick<OldData, 'pendingDecision' | 'rollback' | 'keptLock' | 'incidentPath' | 'lineStop'>): RunPhase {
  const status = c.status as RunStatus;
  if (FINAL_STATUSES.has(status))
    return {
      status: status as EndStatus,
      outcome: c.outcome ?? '',
      ...(o.rollback ? { rollback: o.rollback } : {}),
      ...(o.keptLock ? { keptLock: o.keptLock } : {}),
      ...(c.report_path ? { report: { path: c.report_path, ...(o.incidentPath ? { incident: o.incidentPath } : {}) } } : {}),
    };
  switch (status) {
    case 'awaiting-decision':
      return { status, decision: o.pendingDecision ?? { verdict: 'INCONCLUSIVE', explanation: 'a person decides', findings: [] } };
    case 'rolling-back':
      return { status, rollback: o.rollback ?? { reason: 'rolling back', by: 'shipbot', at: 0, automatic: true } };
    case 'paused':
      return { status, by: o.lineStop?.by ?? 'a person', ...(o.lineStop ? { lineStop: o.lineStop } : {}) };
    case 'queued':
      return { status, behind: 'the lock holder' };
    default:
      return { status: status as 'running' | 'pending-approval' };
  }
}

/** The run's own target with its rollout, which has a column of its own. */
function withOwnRollout(targets: Targets, rollout: RolloutState | undefined): Targets {
  return rollout ? targets.map((t, i) => (i === targets.length - 1 ? { ...t, rollout } : t)) : targets;
}

/**
 * Facts an earlier Shipbot kept elsewhere, moved to their target: decisions were one list per
 * run (the staging gate's belong to staging), and whether a target was changed was read from
 * its steps (the keys below are those it saved: prepare and stages for the main target, the
 * staging deploy for staging).
 */
function withEarlierFacts(
  { targets, data }: { targets: OldTargets; data: RunData },
  steps: StepView[],
): { targets: OldTargets; data: RunData } {
  const { decisions, ...rest } = data as RunData & LooseData;
  const out: OldTargets = { ...targets, main: { ...targets.main } };
  if (decisions?.length) {
    const staging = decisions.filter((d) => d.step === 'staging-gate');
    out.main.decisions = [...(out.main.decisions ?? []), ...decisions.filter((d) => d.step !== 'staging-gate')];
    if (staging.length) out.staging = { ...out.staging, decisions: [...(out.staging?.decisions ?? []), ...staging] };
  }
  const startedAt = (mine: (key: string) => boolean) =>
    steps.find((s) => mine(s.key) && s.status !== 'pending' && s.status !== 'skipped')?.startedAt;
  const mainAt = startedAt((k) => k === 'prepare' || k.startsWith('stage:'));
  if (out.main.touchedAt === undefined && mainAt !== undefined) out.main.touchedAt = mainAt;
  const stagingAt = startedAt((k) => k === 'staging-deploy');
  if (out.staging?.touchedAt === undefined && stagingAt !== undefined) out.staging = { ...out.staging, touchedAt: stagingAt };
  return { targets: out, data: rest };
}

/** A run saved before targets existed (its samples and staging state loose in data): the same facts, in targets. */
interface LooseData {
  decisions?: DecisionRecord[];
  baseline?: MetricSample;
  baselineSamples?: MetricSample[];
  baselineSmoke?: SmokeRecord[];
  after?: MetricSample;
  afterSamples?: MetricSample[];
  smoke?: SmokeRecord[];
  stagingRolloutState?: RolloutState;
  stagingBaseline?: MetricSample;
  stagingBaselineSamples?: MetricSample[];
  productionReferenceSamples?: MetricSample[];
  productionReferenceSmoke?: SmokeRecord[];
}

function fromLoose(data: RunData & LooseData, rollout: RolloutState | undefined): { targets: OldTargets; data: RunData } {
  const {
    baseline,
    baselineSamples,
    baselineSmoke,
    after,
    afterSamples,
    smoke,
    stagingRolloutState,
    stagingBaseline,
    stagingBaselineSamples,
    productionReferenceSamples,
    productionReferenceSmoke,
    ...rest
  } = data;
  const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  const main = defined({ rollout, baseline, baselineSamples, baselineSmoke, after, afterSamples, smoke }) as OldTarget;
  const staging = defined({
    rollout: stagingRolloutState,
    baseline: stagingBaseline,
    baselineSamples: stagingBaselineSamples,
    ...(productionReferenceSamples ? { reference: defined({ samples: productionReferenceSamples, smoke: productionReferenceSmoke }) } : {}),
  }) as OldTarget;
  return { targets: { main, ...(Object.keys(staging).length ? { staging } : {}) }, data: rest };
}
