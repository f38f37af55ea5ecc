// What the Rollout stand-ins share: the labels and annotation Argo Rollouts puts on what it
// makes, a canary step as a Rollout's spec writes it, and the controller reference. Pure.
import type { KObject } from './objects.js';

export const ROLLOUT_HASH = 'rollouts-pod-template-hash';
export const ROLLOUT_REVISION = 'rollout.argoproj.io/revision';

export interface Step {
  setWeight?: number;
  pause?: { duration?: string | number };
  analysis?: unknown;
  experiment?: unknown;
}

/** The controller reference a Rollout's ReplicaSets and AnalysisRuns carry. */
export function ownedBy(r: KObject) {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    name: r.metadata.name!,
    uid: r.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export interface PauseCondition {
  reason: 'CanaryPauseStep' | 'BlueGreenPause' | 'InconclusiveAnalysisRun';
  startTime: string;
}

export interface BlueGreen {
  activeService?: string;
  previewService?: string;
  autoPromotionEnabled?: boolean;
  scaleDownDelaySeconds?: number;
  abortScaleDownDelaySeconds?: number;
}

/** The status fields the controller keeps between reconciles. */
export interface Status {
  currentPodHash?: string;
  stableRS?: string;
  currentStepIndex?: number;
  pauseConditions?: PauseCondition[];
  controllerPause?: boolean;
  abort?: boolean;
  abortedAt?: string;
  promoteFull?: boolean;
  blueGreen?: { activeSelector?: string | undefined; previewSelector?: string | undefined };
  canary?: {
    currentStepAnalysisRunStatus?: { name: string; status: string; message?: string };
    weights?: Record<'canary' | 'stable', { weight: number; podTemplateHash: string; serviceName: string }>;
  };
  conditions?: Array<{ type: string; status: string; reason: string; message: string; lastUpdateTime: string; lastTransitionTime: string }>;
  [other: string]: unknown;
}
