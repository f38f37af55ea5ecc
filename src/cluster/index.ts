// The cluster executor: one RolloutDriver per strategy, plus what the runner and scheduler
// call outside a rollout (retiring the old blue-green colour, Investigate's diagnostics).
import type { Strategy } from '../domain/types.js';
import { ArgoRolloutDriver } from './argo-rollout.js';
import { BlueGreenDriver } from './bluegreen.js';
import { CanaryDriver } from './canary.js';
import type { DriverDeps } from './common.js';
import { RollingDriver } from './rolling.js';
import type { DriverTarget, RolloutDriver } from './types.js';

/** The driver of `strategy`; for an Argo Rollouts Rollout, the one that drives it through its controller, whatever the strategy. */
export function createDriver(strategy: Strategy, deps: DriverDeps, kind: DriverTarget['kind'] = 'Deployment'): RolloutDriver {
  if (kind === 'Rollout') return new ArgoRolloutDriver(deps, strategy);
  switch (strategy) {
    case 'blue-green':
      return new BlueGreenDriver(deps);
    case 'canary':
      return new CanaryDriver(deps);
    case 'rolling':
      return new RollingDriver(deps);
  }
}

export { BlueGreenDriver, retireIdleColour, previewServiceName } from './bluegreen.js';
export { CanaryDriver, canaryNames } from './canary.js';
export { RollingDriver } from './rolling.js';
export { ArgoRolloutDriver } from './argo-rollout.js';
export { diagnose, type ClusterDiagnostics } from './diagnose.js';
export { runMigration, type MigrationResult, type MigrationTarget } from './migration.js';
export { ClusterError, StageFailedError, InvalidRolloutError, explainKubeError } from './errors.js';
export { kubeFromEnv, kubeFromKubeconfig, type Kube } from './kube.js';
export { createClusters, kubeconfigClusters, singleCluster, type Clusters } from './clusters.js';
export { guardWrites, type Leadership, NotLeading } from './write-guard.js';
export type { DriverDeps } from './common.js';
export type * from './types.js';
