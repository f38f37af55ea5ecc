// Rolling: update the Deployment's image and follow its rollout; pause it (`spec.paused`)
// when a check fails; roll back the way `kubectl rollout undo` does, by copying the previous
// ReplicaSet's pod template back with a JSON Patch.
import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import type { DeployPlan, InfraSignal } from '../domain/types.js';
import type { JsonPatchOp } from './api.js';
import { awaitRollout, containerImageOf, ensureDeployment, trackOf, verifyServing, type DriverContext } from './common.js';
import { KubeDriver } from './driver-base.js';
import { ensureStableServing } from './convert.js';
import { InvalidRolloutError, StageFailedError } from './errors.js';
import { deploymentSignals } from './health.js';
import { imageRef, imageTag, REVISION_ANNOTATION, selectorText, undoPatch } from './rules.js';
import type { RollbackVerification, RolloutDriver, RolloutState, Stage, TrackRef, WorkloadRef } from './types.js';
import type { RollingState } from './rollout-state.js';

export type { RollingState } from './rollout-state.js';
import { templateImage } from './wait.js';

function asRolling(state: RolloutState): RollingState {
  if (state.strategy !== 'rolling') {
    throw new InvalidRolloutError(
      `This run's saved state is for ${state.strategy}, not rolling: it cannot be continued as a rolling update.`,
    );
  }
  return state;
}

function revisionOf(o: { metadata?: { annotations?: Record<string, string> } }): number {
  return Number(o.metadata?.annotations?.[REVISION_ANNOTATION] ?? 0) || 0;
}

/** ReplicaSets the Deployment owns, newest revision first (as kubectl lists them). */
async function ownedReplicaSets(ctx: DriverContext, ref: WorkloadRef, d: V1Deployment): Promise<V1ReplicaSet[]> {
  const sets = await ctx.api.listReplicaSets(ref.namespace, selectorText(d.spec?.selector.matchLabels ?? {}));
  const uid = d.metadata?.uid;
  return sets
    .filter((rs) => !uid || rs.metadata?.ownerReferences?.some((o) => o.uid === uid && o.controller))
    .sort((a, b) => revisionOf(b) - revisionOf(a));
}

function rsImage(rs: V1ReplicaSet, container: string): string | undefined {
  return rs.spec?.template?.spec?.containers.find((c) => c.name === container)?.image;
}

export class RollingDriver extends KubeDriver implements RolloutDriver {
  readonly strategy = 'rolling' as const;
  async prepare(ref: WorkloadRef, plan: DeployPlan): Promise<RollingState> {
    const newImage = imageRef(ref.imageRepo, plan.version);
    const { stable } = await ensureStableServing(this.ctx, ref);
    const current = containerImageOf(stable, ref);
    const sets = await ownedReplicaSets(this.ctx, ref, stable);
    // Re-run after the update began: the rollback target is the newest revision with another image.
    const target =
      current === newImage
        ? sets.find((rs) => rsImage(rs, ref.container) !== newImage)
        : (sets.find((rs) => revisionOf(rs) === revisionOf(stable)) ?? sets.find((rs) => rsImage(rs, ref.container) === current));
    const previousImage = current === newImage && target ? (rsImage(target, ref.container) ?? current) : current;
    return {
      strategy: 'rolling',
      previousImage,
      newImage,
      previousRevision: target?.metadata?.annotations?.[REVISION_ANNOTATION],
      previousTemplateHash: target?.metadata?.labels?.['pod-template-hash'],
      track: trackOf(stable),
    };
  }

  stages(_plan?: DeployPlan, _state?: RolloutState): Stage[] {
    return [{ key: 'rolling-update', title: 'rolling update', trafficPct: 100, monitor: true }];
  }

  async applyStage(ref: WorkloadRef, state: RolloutState, _stage: Stage, signal?: AbortSignal): Promise<RollingState> {
    const s = asRolling(state);
    const d = await this.ctx.api.getDeployment(ref.namespace, ref.deployment);
    await ensureDeployment(this.ctx, ref, d, { image: s.newImage, paused: false });
    try {
      await awaitRollout(this.ctx, ref, ref.deployment, signal);
    } catch (err) {
      // Stop the rollout where it is: the old pods that remain keep serving.
      if (err instanceof StageFailedError) await this.pause(ref);
      throw err;
    }
    return { ...s, paused: false };
  }

  /** `kubectl rollout pause`: the controller stops replacing pods until resumed or rolled back. */
  async pause(ref: WorkloadRef): Promise<void> {
    const d = await this.ctx.api.getDeployment(ref.namespace, ref.deployment);
    await ensureDeployment(this.ctx, ref, d, { paused: true });
  }

  async promote(_ref: WorkloadRef, state: RolloutState): Promise<RollingState> {
    return asRolling(state); // the update itself made the new version the stable one
  }

  /**
   * `kubectl rollout undo` to the ReplicaSet recorded at prepare(), found by its
   * pod-template-hash (its revision number changes on every undo), and resumed in the same
   * patch. Pressing it twice finds the template already there and changes nothing.
   */
  async rollback(ref: WorkloadRef, state: RolloutState): Promise<RollingState> {
    const s = asRolling(state);
    const d = await this.ctx.api.getDeployment(ref.namespace, ref.deployment);
    if (templateImage(d, ref.container) === s.previousImage) {
      await ensureDeployment(this.ctx, ref, d, { paused: false });
      return { ...s, paused: false };
    }
    const sets = await ownedReplicaSets(this.ctx, ref, d);
    const target =
      (s.previousTemplateHash && sets.find((rs) => rs.metadata?.labels?.['pod-template-hash'] === s.previousTemplateHash)) ||
      sets.find((rs) => rsImage(rs, ref.container) === s.previousImage);
    if (!target) {
      this.ctx.log?.warn({ deployment: ref.deployment }, 'previous ReplicaSet not found: setting the previous image instead');
      await ensureDeployment(this.ctx, ref, d, { image: s.previousImage, paused: false });
      return { ...s, paused: false };
    }
    // `add` sets /spec/paused whether or not it is there: resume in the same patch.
    const patch: JsonPatchOp[] = [...undoPatch(d, target), { op: 'add', path: '/spec/paused', value: false }];
    await this.ctx.api.jsonPatchDeployment(ref.namespace, ref.deployment, patch);
    return { ...s, paused: false };
  }

  verifyRollback(ref: WorkloadRef, state: RolloutState): Promise<RollbackVerification> {
    return verifyServing(this.ctx, ref, ref.deployment, asRolling(state).previousImage);
  }

  signals(ref: WorkloadRef, state: RolloutState): Promise<InfraSignal[]> {
    return deploymentSignals(this.ctx, ref, ref.deployment, asRolling(state).newImage);
  }

  tracks(ref: WorkloadRef, state: RolloutState): { candidate: TrackRef; baseline: TrackRef } {
    const s = asRolling(state);
    const base = { namespace: ref.namespace, service: ref.serviceName, track: s.track };
    return { candidate: { ...base, version: imageTag(s.newImage) }, baseline: { ...base, version: imageTag(s.previousImage) } };
  }

  /** A rolling update replaces the pods behind the Service itself. */
  smokeBaseUrl(ref: WorkloadRef, _state?: RolloutState): string {
    return this.liveBaseUrl(ref);
  }
}
