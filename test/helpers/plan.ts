// A deploy plan as the tests that build run records by hand need one: checkout v1.2.3, a
// medium-risk canary 5% → 50% → 100% with short windows. Override what a test is about.
import type { DeployPlan } from '../../src/domain/types.js';

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
