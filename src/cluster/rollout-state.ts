// What a driver learned at prepare() and needs later, one shape per strategy, told apart by
// `strategy`. JSON-serialisable: the runner persists it with the run so a restart can resume;
// a driver handed another strategy's state refuses it (InvalidRolloutError), never guesses.
import type { RouterKind } from './route-split.js';

/** The two Deployments of a blue-green service. */
export const COLOURS = ['blue', 'green'] as const;
export type Colour = (typeof COLOURS)[number];

interface RolloutBase {
  previousImage: string;
  newImage: string;
}

/** What a run keeps about the route it holds (persisted with the canary's state). */
export interface RouterState {
  kind: RouterKind;
  name: string;
  routes?: string[];
  /** The stable backend's weight per rule as first found, restored at release. */
  original: Array<number | null>;
}

export interface CanaryState extends RolloutBase {
  strategy: 'canary';
  canaryDeployment: string;
  canaryService: string;
  stableTrack: string;
  /** Replicas of the stable Deployment; the canary is sized against it. */
  stableReplicas: number;
  /** The last stage applied, percent of traffic asked for. */
  stagePct?: number;
  /** The share (0..100) the canary really serves after that stage: its ready pods over all ready pods selected. */
  servedPct?: number;
  promoted?: boolean;
  /** Set when a route splits the traffic (from trafficRouting at prepare). */
  router?: RouterState;
}

export interface BlueGreenState extends RolloutBase {
  strategy: 'blue-green';
  liveDeployment: string;
  liveTrack: string;
  idleDeployment: string;
  idleTrack: Colour;
  previewService: string;
  /** Size of the live colour; the idle colour is brought to the same size. */
  replicas: number;
  /**
   * The selector labels that pick the live colour's pods: `{ track }`, or `{ pod-template-hash }`
   * for pods without a track label. Absent in states saved before it existed: `{ track: liveTrack }`.
   */
  livePin?: Record<string, string>;
  /** The HorizontalPodAutoscaler that scales the live colour: it follows the serving colour. */
  hpa?: string;
  cutover?: boolean;
  /** Clock ms after which the old colour may be scaled down (set by promote). */
  retireAt?: number;
}

export interface RollingState extends RolloutBase {
  strategy: 'rolling';
  /** Revision (annotation) and pod-template-hash of the ReplicaSet to roll back to. */
  previousRevision?: string;
  previousTemplateHash?: string;
  track: string;
  paused?: boolean;
}

/** One step of an Argo Rollouts canary, as its spec writes it. */
export interface ArgoStep {
  setWeight?: number;
  pause?: { duration?: string | number };
  analysis?: { templates?: Array<{ templateName?: string }> };
  [other: string]: unknown;
}

/** An Argo Rollouts Rollout the run drives through its controller (argo-rollout.ts). */
export interface ArgoRolloutState extends RolloutBase {
  strategy: 'argo-rollout';
  rollout: string;
  kind: 'canary' | 'blue-green';
  /** The Rollout's stable ReplicaSet hash when the run began: what a rollback goes back to. */
  stableHash: string;
  /** The new template's hash, once the controller reported it. */
  newHash?: string;
  /** The Rollout's canary steps when the run began: the run's rows follow them. */
  steps: ArgoStep[];
  /** Blue-green: false when the Rollout waits for promote before its cutover. */
  autoPromotion?: boolean;
  /** The Service smoke checks reach the new version through (the preview or canary Service, else the team's). */
  smokeService: string;
  /** Shipbot holds the Rollout (`spec.paused`) in this pause step, after a weight, until the weight's window has its verdict. */
  heldAt?: number;
  /** Share (0..100) of the ready pods behind the Service that run the new version, after the last weight. */
  servedPct?: number;
  promoted?: boolean;
  /** The controller's phase and message when the last stage was reached, e.g. "Paused: CanaryPauseStep". */
  controller?: string;
  /** The controller waits for a person where the Rollout's spec did not say so (an inconclusive analysis): why. */
  waiting?: string;
}

export type RolloutState = CanaryState | BlueGreenState | RollingState | ArgoRolloutState;
