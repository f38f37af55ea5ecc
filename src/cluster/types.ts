// The contract between the runner and the cluster executor. One driver per strategy
// (bluegreen.ts, canary.ts, rolling.ts) implements RolloutDriver. Every method "ensures" a
// state (read what is there, patch the difference), so calling it twice is harmless and a
// run resumed after a crash can call it again.
import type { DeployPlan, InfraSignal, Strategy } from '../domain/types.js';
import type { ServiceEnvironment } from '../config.js';

/** Where a service lives in one environment, and what image it runs. */
export interface WorkloadRef extends ServiceEnvironment {
  /** Catalogue name of the service (the `service` label on pods). */
  serviceName: string;
  /** Image repository without tag. */
  imageRepo: string;
}

import type { RolloutState } from './rollout-state.js';

/** Where a driver acts: a cluster (kubeconfig context) and the kind of workload (a Deployment unless said). */
export interface DriverTarget {
  context?: string | undefined;
  kind?: 'Deployment' | 'Rollout' | undefined;
}

/** What the driver learned at prepare() and needs later, per strategy (rollout-state.ts). */
export type { RolloutState } from './rollout-state.js';

/** One step of a strategy's rollout, e.g. canary 25%, blue-green cutover, rolling update. */
export interface Stage {
  /** Stable key, e.g. `canary-25`, `deploy-idle`, `cutover`, `rolling-update`. */
  key: string;
  title: string;
  /** Share of traffic the new version gets once this stage is reached (0..100). */
  trafficPct: number;
  /** Whether the runner monitors canary vs baseline for a window after this stage. */
  monitor: boolean;
  /**
   * The workload waits here for a person (an Argo Rollouts pause without a duration, a blue-green
   * Rollout without auto-promotion): the run asks, and Accept lets the next stage promote it.
   */
  waitsForAccept?: boolean;
}

export interface PreflightCheck {
  name: string;
  ok: boolean;
  /** `warning` checks do not block (e.g. no previous revision on a first deploy). */
  severity: 'error' | 'warning';
  detail: string;
}

export type { RollbackVerification } from '../domain/types.js';
import type { RollbackVerification } from '../domain/types.js';

/** Which pods to compare (domain/types.ts): the metric sources read it too. */
export type { TrackRef } from '../domain/types.js';
import type { TrackRef } from '../domain/types.js';

export interface RolloutDriver {
  readonly strategy: Strategy;
  /** Checks before anything changes: reachable, nodes Ready, workload healthy, revision to roll back to, tag valid (and, given the plan, what its steps will really serve). */
  preflight(ref: WorkloadRef, version: string, plan?: DeployPlan): Promise<PreflightCheck[]>;
  /** Ensures the objects the strategy needs exist (second colour, canary Deployment); returns the state to persist. */
  prepare(ref: WorkloadRef, plan: DeployPlan): Promise<RolloutState>;
  /** The stages this plan goes through, in order. */
  stages(plan: DeployPlan, state: RolloutState): Stage[];
  /** Ensures the cluster is at `stage` and waits until its pods are available (or a signal says they never will). */
  applyStage(ref: WorkloadRef, state: RolloutState, stage: Stage, signal?: AbortSignal): Promise<RolloutState>;
  /** Makes the new version the stable one (final image, canary to zero, keep old colour for retirement). */
  promote(ref: WorkloadRef, state: RolloutState): Promise<RolloutState>;
  /** Ensures the old version serves all traffic again. Reverts traffic first; never waits on analysis. */
  rollback(ref: WorkloadRef, state: RolloutState): Promise<RolloutState>;
  verifyRollback(ref: WorkloadRef, state: RolloutState): Promise<RollbackVerification>;
  /** Health signals of the new version's pods right now (restarts, OOM, image pull, readiness, deadline). */
  signals(ref: WorkloadRef, state: RolloutState): Promise<InfraSignal[]>;
  /** Tracks to compare while monitoring: the new version's pods and the baseline's. */
  tracks(ref: WorkloadRef, state: RolloutState): { candidate: TrackRef; baseline: TrackRef };
  /** The pods the Service serves right now (before prepare): the production reference for the staging gate. */
  liveTrack(ref: WorkloadRef): Promise<TrackRef>;
  /** The new version's running pods and the previous version's (names), for their resource use. */
  podsOf(ref: WorkloadRef, state: RolloutState): Promise<{ candidate: string[]; baseline: string[] }>;
  /** Base URL where smoke checks reach the new version (preview Service, canary, or the Service). */
  smokeBaseUrl(ref: WorkloadRef, state: RolloutState): string;
  /** Base URL of the Service users reach: smoke checks of what serves now, for the baseline. */
  liveBaseUrl(ref: WorkloadRef): string;
  /** The digest (`sha256:…`) a running pod of `image` pulled, as its kubelet reports it; undefined before one runs. */
  pulledDigest(ref: WorkloadRef, image: string): Promise<string | undefined>;
  /** A workload that carries its own strategy (an Argo Rollout): which one; undefined when it cannot be read. */
  ownStrategy?(ref: WorkloadRef): Promise<Strategy | undefined>;
  /** Blue-green only: scales the colour the Service does not select to 0; returns the Deployments scaled. */
  retireIdle?(ref: WorkloadRef): Promise<string[]>;
}
