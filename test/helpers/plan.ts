// A deploy plan as the tests that build run records by hand need one: checkout v1.2.3, a
// medium-risk canary 5% → 50% → 100% with short windows. Override what a test is about.
import type { RolloutState } from '../../src/cluster/types.js';
import type { RunPhase, RunStatus } from '../../src/domain/run.js';
import type { DeployPlan, DeployRequest } from '../../src/domain/types.js';
import { initialSteps } from '../../src/runner/model/steps.js';
import type { RunRecord } from '../../src/store/records.js';

export function planFor(over: Partial<DeployPlan> = {}): DeployPlan {
  return {
    service: 'checkout',
    version: 'v1.2.3',
    environment: 'production',
    strategy: 'canary',
    risk: 'medium',
    slo: { errorRatePct: 1, p99Ms: 400, availabilityPct: 99.9 },
    dbMigration: false,
    rollbackTolerance: 'minutes',
    observationSec: 60,
    stageWindowSec: 60,
    monitoringIntervalSec: 10,
    canarySteps: [5, 50, 100],
    regressionThresholdPct: 2,
    rollbackOnRegression: true,
    guidance: '',
    focus: [],
    rationale: '',
    ...over,
  };
}

/** A saved rollout state of checkout from v1.2.2 to v1.2.3, as each driver's prepare() leaves it. */
export function rolloutStateFor(
  strategy: DeployPlan['strategy'],
  images = { previousImage: 'x:v1.2.2', newImage: 'x:v1.2.3' },
): RolloutState {
  switch (strategy) {
    case 'canary':
      return {
        strategy,
        ...images,
        canaryDeployment: 'checkout-canary',
        canaryService: 'checkout-canary',
        stableTrack: 'stable',
        stableReplicas: 3,
      };
    case 'blue-green':
      return {
        strategy,
        ...images,
        liveDeployment: 'checkout',
        liveTrack: 'blue',
        idleDeployment: 'checkout-green',
        idleTrack: 'green',
        previewService: 'checkout-preview',
        replicas: 3,
      };
    case 'rolling':
      return { strategy, ...images, track: 'stable' };
  }
}

/** The parsed `deploy <service> <version>` request behind `plan`. */
export function deployRequestFor(plan: Pick<DeployPlan, 'service' | 'version' | 'environment'>): DeployRequest {
  return {
    intent: 'deploy',
    service: plan.service,
    version: plan.version,
    environment: plan.environment,
    focus: [],
    missing: [],
    suggestions: [],
    notes: [],
  };
}

/** The phase of a run in `status` with the facts that phase needs, plain ones (a rollback by Shipbot, an empty outcome). */
export function phaseFor(status: RunStatus): RunPhase {
  const rollback = { reason: 'errors', by: 'shipbot', at: 5, automatic: true };
  switch (status) {
    case 'awaiting-decision':
      return { status, decision: { verdict: 'INCONCLUSIVE', explanation: 'unclear', findings: [] } };
    case 'rolling-back':
      return { status, rollback };
    case 'paused':
      return { status, by: 'dev (U1)' };
    case 'queued':
      return { status, behind: 'r0' };
    case 'running':
    case 'pending-approval':
      return { status };
    case 'rolled-back':
      return { status, outcome: rollback.reason, rollback };
    default:
      return { status, outcome: '' };
  }
}

/** A run record of `plan` as the runner admits it (steps from the plan, with staging), status `status`. */
export function runRecordFor(plan: DeployPlan, status: RunStatus, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'r1',
    service: plan.service,
    environment: plan.environment,
    version: plan.version,
    strategy: plan.strategy,
    plan,
    request: { intent: 'deploy', environment: plan.environment, focus: [], missing: [], suggestions: [], notes: [] },
    phase: phaseFor(status),
    restarts: [],
    requester: { userId: 'U1' },
    origin: { kind: 'terminal' },
    steps: initialSteps(plan, true),
    // Its promotion path, as admission makes it: staging's rehearsal first for production.
    targets: [...(plan.environment === 'production' ? [{ environment: 'staging' as const }] : []), { environment: plan.environment }],
    data: {},
    createdAt: 0,
    updatedAt: 0,
    ...over,
  };
}
