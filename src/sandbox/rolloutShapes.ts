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
