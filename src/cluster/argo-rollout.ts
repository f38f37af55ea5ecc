import type { DeployPlan, InfraSignal, Strategy } from '../domain/types.js';
import { readRollout, rolloutPreflight, stableReplicaSet } from './argo-preflight.js';
import {
  ABORT,
  imageIn,
  ANALYSIS_RUNS,
  type AnalysisRunObject,
  analysisLine,
  controllerLine,
  fullyPromoted,
  kindOf,
  observed,
  PAUSE,
  pauseCondition,
  promoteFullPatches,
  promotePatches,
  type PromotePatches,
  RETRY,
  ROLLOUT_HASH,
  ROLLOUTS,
  type RolloutObject,
  type RolloutStage,
  rolloutStages,
  sameTemplate,
  stepIndex,
  UNPAUSE,
  undoPatch,
} from './argo-rules.js';
import type { CustomObject } from './api.js';
import { serviceShare } from './common.js';
import { KubeDriver } from './driver-base.js';
import { ClusterError, InvalidRolloutError, isNotFound, StageFailedError } from './errors.js';
import type { ArgoRolloutState } from './rollout-state.js';
import { describeSignals, fatalSignals, imageRef, imageTag, podSignals, selectorText } from './rules.js';
import type { PreflightCheck, RollbackVerification, RolloutDriver, RolloutState, Stage, TrackRef, WorkloadRef } from './types.js';

function asArgo(state: RolloutState): ArgoRolloutState {
  if (state.strategy !== 'argo-rollout') {
    throw new InvalidRolloutError(`This run's saved state is for ${state.strategy}, not an Argo Rollout: it cannot be continued as one.`);
  }
  return state;
}

export class ArgoRolloutDriver extends KubeDriver implements RolloutDriver {
  constructor(
    deps: ConstructorParameters<typeof KubeDriver>[0],
    /** The plan's strategy: preflight refuses a plan whose strategy is not the Rollout's own. */
    readonly strategy: Strategy,
  ) {
    super(deps);
  }

  private read(ref: WorkloadRef): Promise<RolloutObject> {
    return readRollout(this.ctx, ref);
  }

  async ownStrategy(ref: WorkloadRef): Promise<Strategy | undefined> {
    return kindOf(await this.read(ref).catch(() => ({ spec: {} }) as RolloutObject));
  }

  override preflight(ref: WorkloadRef, version: string, plan?: DeployPlan): Promise<PreflightCheck[]> {
    return rolloutPreflight(this.ctx, ref, version, plan);
  }

  /** Reads the Rollout and what it runs; changes nothing (the image is set by the first stage, after the baseline). */
  async prepare(ref: WorkloadRef, plan: DeployPlan): Promise<ArgoRolloutState> {
    const ro = await this.read(ref);
    const kind = kindOf(ro);
    if (!kind) throw new InvalidRolloutError(`Rollout ${ref.deployment} has no canary or blueGreen strategy.`);
    const stableHash = ro.status?.stableRS;
    const stable = await stableReplicaSet(this.ctx, ref, stableHash);
    const previousImage = stable && imageIn(stable, ref.container);
    if (!stableHash || !previousImage)
      throw new InvalidRolloutError(`Rollout ${ref.deployment} has no stable ReplicaSet to roll back to (${controllerLine(ro)}).`);
    const bg = ro.spec.strategy?.blueGreen;
    const canary = ro.spec.strategy?.canary;
    return {
      strategy: 'argo-rollout',
      rollout: ref.deployment,
      kind,
      previousImage,
      newImage: imageRef(ref.imageRepo, plan.version),
      stableHash,
      steps: canary?.steps ?? [],
      ...(bg ? { autoPromotion: bg.autoPromotionEnabled !== false } : {}),
      smokeService: bg?.previewService ?? canary?.canaryService ?? ref.service,
    };
  }

  stages(_plan: DeployPlan, state: RolloutState): Stage[] {
    const s = asArgo(state);
    return rolloutStages(s.kind, s.steps, s.autoPromotion);
  }

  /**
   * Brings the Rollout to this row: the image set (the first time), a pause a person accepted
   * promoted, Shipbot's own hold released, then waits until the controller is there. After a
   * weight followed by a timed pause, holds the Rollout in that pause so the judge's window at the
   * weight completes before the next weight.
   */
  async applyStage(ref: WorkloadRef, state: RolloutState, stage: Stage, signal?: AbortSignal): Promise<ArgoRolloutState> {
    const { waiting: _asked, ...was } = asArgo(state);
    let s: ArgoRolloutState = was;
    const row = stage as RolloutStage;
    if (!('at' in row)) throw new InvalidRolloutError(`stage ${stage.key} is not a Rollout's`);
    // The same version an aborted update names, before this run saw any of its own: the plugin's retry.
    const before = await this.read(ref);
    if (
      !s.newHash &&
      before.status?.abort &&
      imageIn(before, ref.container) === s.newImage &&
      before.status.currentPodHash !== s.stableHash
    )
      await this.patchStatus(ref, RETRY);
    let ro = await this.setImage(ref, s);
    const deadline = this.ctx.clock.now() + this.ctx.timeoutMs;
    for (;;) {
      signal?.throwIfAborted();
      // A status the controller wrote before it saw our last write is stale (observedGeneration): not yet an abort.
      if (observed(ro) && ro.status?.abort)
        throw new StageFailedError(`the Rollout was aborted: ${await this.whyAborted(ref, ro, s)}`, 'signal', []);
      if (observed(ro) && ro.status?.currentPodHash && ro.status.currentPodHash !== s.stableHash)
        s = { ...s, newHash: ro.status.currentPodHash };
      const fatal = fatalSignals(await this.newPodSignals(ref, s));
      if (fatal.length) throw new StageFailedError(`the new pods will not become available: ${describeSignals(fatal)}`, 'signal', fatal);
      const acted = await this.advance(ref, ro, s, row);
      s = acted.state;
      if (acted.sent) {
        ro = await this.read(ref);
        continue;
      }
      if (observed(ro) && this.reached(ro, s, row)) break;
      if (this.ctx.clock.now() >= deadline)
        throw new StageFailedError(`Rollout ${ref.deployment} did not reach "${row.title}" in time (${controllerLine(ro)})`, 'timeout', []);
      await this.ctx.clock.sleep(this.ctx.pollMs, signal);
      ro = await this.read(ref);
    }
    s = { ...s, controller: controllerLine(ro) };
    if ('step' in row.at && row.at.kind === 'analysis' && pauseCondition(ro, 'InconclusiveAnalysisRun'))
      s = { ...s, waiting: `Argo's analysis was inconclusive: ${await this.analysisOf(ref, s, row.at.step)}` };
    if ('step' in row.at && row.at.kind === 'weight') {
      s = await this.holdAfterWeight(ref, s, row.at.step);
      // Routed: the weight the controller set on the route; else the share of ready pods behind the Service.
      const routed = ro.status?.canary?.weights?.canary?.weight;
      const servedPct =
        routed ?? Math.round(10 * (await serviceShare(this.ctx, ref.namespace, ref.service, ref.container, s.newImage))) / 10;
      return { ...s, servedPct };
    }
    return s;
  }

  /** The health signals of the new template's pods (none before the controller named its hash). */
  private async newPodSignals(ref: WorkloadRef, s: ArgoRolloutState): Promise<InfraSignal[]> {
    if (!s.newHash) return [];
    return podSignals(await this.ctx.api.listPods(ref.namespace, selectorText({ [ROLLOUT_HASH]: s.newHash })), this.ctx.clock.now());
  }

  /** Why the controller aborted: its message, and the failed AnalysisRun's metric and value when one failed. */
  private async whyAborted(ref: WorkloadRef, ro: RolloutObject, s: ArgoRolloutState): Promise<string> {
    if (!s.newHash) return controllerLine(ro);
    const runs = await this.analysisRuns(ref, s.newHash);
    const failed = runs.find((r) => r.status?.phase === 'Failed' || r.status?.phase === 'Error');
    return failed ? `Argo analysis ${analysisLine(failed)}` : controllerLine(ro);
  }

  /** The AnalysisRun of step `i`, in a line. */
  private async analysisOf(ref: WorkloadRef, s: ArgoRolloutState, i: number): Promise<string> {
    const run = (await this.analysisRuns(ref, s.newHash ?? '')).find((r) => r.metadata.labels?.['step-index'] === String(i));
    return run ? analysisLine(run) : 'no AnalysisRun found';
  }

  /** The step AnalysisRuns the controller made for the new template. */
  private async analysisRuns(ref: WorkloadRef, hash: string): Promise<AnalysisRunObject[]> {
    const selector = `${ROLLOUT_HASH}=${hash},rollout-type=Step`;
    return (await this.ctx.api.listCustom(ANALYSIS_RUNS, ref.namespace, selector)) as unknown as AnalysisRunObject[];
  }

  /** The row's state is reached (the controller passed the step, or waits where the row waits). */
  private reached(ro: RolloutObject, s: ArgoRolloutState, row: RolloutStage): boolean {
    const st = ro.status ?? {};
    const isNew = st.currentPodHash === s.newHash && Boolean(s.newHash);
    if ('end' in row.at) return isNew && fullyPromoted(ro);
    if ('bg' in row.at) {
      const active = st.blueGreen?.activeSelector === st.currentPodHash && isNew;
      if (row.at.bg === 'cutover') return active;
      if (row.at.bg === 'accept') return active || Boolean(pauseCondition(ro, 'BlueGreenPause'));
      const previewReady = (st.updatedReplicas ?? 0) >= (ro.spec.replicas ?? 1) && (st.availableReplicas ?? 0) >= (ro.spec.replicas ?? 1);
      return isNew && (active || previewReady);
    }
    const i = stepIndex(ro);
    if (!isNew) return false;
    if (row.at.kind === 'open-pause') return i > row.at.step || (i === row.at.step && Boolean(pauseCondition(ro, 'CanaryPauseStep')));
    if (row.at.kind === 'analysis') return i > row.at.step || (i === row.at.step && Boolean(pauseCondition(ro, 'InconclusiveAnalysisRun')));
    return i > row.at.step || fullyPromoted(ro);
  }

  /** What Shipbot sends on the way to a row, at most one call per read of the Rollout. */
  private async advance(
    ref: WorkloadRef,
    ro: RolloutObject,
    s: ArgoRolloutState,
    row: RolloutStage,
  ): Promise<{ state: ArgoRolloutState; sent: boolean }> {
    // Shipbot's hold comes off once the judge is done with the weight: at any later row (the
    // weight's own row again, after a restart, keeps it).
    const holdsFor = s.heldAt === undefined ? undefined : s.heldAt - 1;
    if (holdsFor !== undefined && !('step' in row.at && row.at.step === holdsFor)) {
      const { heldAt: _released, ...rest } = s;
      if (ro.spec.paused) await this.patchSpec(ref, UNPAUSE);
      return { state: rest, sent: Boolean(ro.spec.paused) };
    }
    // Reaching a row past a pause waiting for a person means the person accepted it: promote.
    const waitsBefore = 'end' in row.at || ('step' in row.at && stepIndex(ro) < row.at.step) || ('bg' in row.at && row.at.bg === 'cutover');
    // promotePatches itself refuses a Rollout with no pause condition to clear.
    if (waitsBefore && this.waitsForPerson(ro, s) && ro.status?.currentPodHash === s.newHash) {
      const p = promotePatches(ro);
      if (p) {
        await this.send(ref, p);
        return { state: s, sent: true };
      }
    }
    return { state: s, sent: false };
  }

  /** Whether the controller waits for a person (an open canary pause, a blue-green pause without auto-promotion), not for a timer. */
  private waitsForPerson(ro: RolloutObject, s: ArgoRolloutState): boolean {
    if (s.kind === 'blue-green') return s.autoPromotion === false && Boolean(pauseCondition(ro, 'BlueGreenPause'));
    if (pauseCondition(ro, 'InconclusiveAnalysisRun')) return true;
    const step = s.steps[stepIndex(ro)];
    return Boolean(step?.pause) && step!.pause!.duration === undefined;
  }

  /** After weight `i`: when a timed pause follows and the controller is in it, hold it there (the plugin's pause). */
  private async holdAfterWeight(ref: WorkloadRef, s: ArgoRolloutState, i: number): Promise<ArgoRolloutState> {
    const next = s.steps[i + 1];
    if (!next?.pause || next.pause.duration === undefined) return s;
    const ro = await this.read(ref);
    if (stepIndex(ro) !== i + 1 || !pauseCondition(ro, 'CanaryPauseStep')) return s;
    if (!ro.spec.paused) await this.patchSpec(ref, PAUSE);
    return { ...s, heldAt: i + 1 };
  }

  /**
   * `set image`: GET, then a full update of the Rollout with the container's image changed;
   * nothing when it already runs it. The update carries the resourceVersion it read, so a write
   * in between (the controller's status) is a 409: read again and retry, never overwrite.
   */
  private async setImage(ref: WorkloadRef, s: ArgoRolloutState): Promise<RolloutObject> {
    for (let attempt = 1; ; attempt++) {
      const ro = await this.read(ref);
      if (imageIn(ro, ref.container) === s.newImage) return ro;
      const containers = ro.spec.template?.spec?.containers ?? [];
      if (!containers.some((c) => c.name === ref.container))
        throw new InvalidRolloutError(`Rollout ${ref.deployment} has no container ${ref.container}: check data/shipbot.yml.`);
      for (const c of containers) if (c.name === ref.container) c.image = s.newImage;
      try {
        return (await this.ctx.api.replaceCustom(
          ROLLOUTS,
          ref.namespace,
          ref.deployment,
          ro as unknown as CustomObject,
        )) as unknown as RolloutObject;
      } catch (err) {
        if (!(err instanceof ClusterError && err.status === 409) || attempt >= 5) throw err;
      }
    }
  }

  private patchSpec(ref: WorkloadRef, body: object): Promise<CustomObject> {
    return this.ctx.api.mergeCustom(ROLLOUTS, ref.namespace, ref.deployment, body);
  }

  /** A status patch through the subresource (on NotFound, the same on the object itself), as the plugin's abort and retry do. */
  private async patchStatus(ref: WorkloadRef, body: object): Promise<void> {
    try {
      await this.ctx.api.mergeCustomStatus(ROLLOUTS, ref.namespace, ref.deployment, body);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.patchSpec(ref, body);
    }
  }

  /** The plugin's promote: the status patch first (the unified one on the object when the subresource is missing), then the spec patch. */
  private async send(ref: WorkloadRef, p: PromotePatches): Promise<void> {
    let spec = p.spec;
    if (p.status) {
      try {
        await this.ctx.api.mergeCustomStatus(ROLLOUTS, ref.namespace, ref.deployment, p.status);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        spec = p.unified;
      }
    }
    if (spec) await this.patchSpec(ref, spec);
  }

  /** Waits for the controller to make the new version stable (every step done, Healthy). */
  async promote(ref: WorkloadRef, state: RolloutState, signal?: AbortSignal): Promise<ArgoRolloutState> {
    const s = asArgo(state);
    const last = rolloutStages(s.kind, s.steps, s.autoPromotion).at(-1)!;
    const done = await this.applyStage(ref, s, last, signal);
    return { ...done, promoted: true, servedPct: 100 };
  }

  /**
   * Traffic back first: abort (the controller puts the weight to 0 and the stable ReplicaSet in
   * front). Then undo to the stable template, so leaving the aborted state does not start the
   * release again; if the new version had already become stable, the undo is a new update, and
   * `promote --full` takes it through without walking the steps. Each call only when still needed.
   */
  async rollback(ref: WorkloadRef, state: RolloutState): Promise<ArgoRolloutState> {
    const s = asArgo(state);
    let ro = await this.read(ref);
    const st = ro.status ?? {};
    const midUpdate = st.currentPodHash !== st.stableRS;
    if (midUpdate && !st.abort && st.currentPodHash !== s.stableHash) {
      await this.patchStatus(ref, ABORT);
      ro = await this.read(ref);
    }
    const stable = await stableReplicaSet(this.ctx, ref, s.stableHash);
    if (!stable?.spec?.template)
      throw new StageFailedError(
        `the stable ReplicaSet (${s.stableHash}) of Rollout ${ref.deployment} is gone: restore ${s.previousImage} by hand`,
        'signal',
        [],
      );
    if (!sameTemplate(ro.spec.template, stable.spec.template)) {
      await this.ctx.api.jsonPatchCustom(ROLLOUTS, ref.namespace, ref.deployment, undoPatch(stable.spec.template));
      ro = await this.read(ref);
    }
    if (s.heldAt !== undefined && ro.spec.paused) await this.patchSpec(ref, UNPAUSE);
    // After a full promotion the old template is a new update: take it through at once.
    ro = await this.read(ref);
    if (observed(ro) && ro.status?.stableRS !== s.stableHash && !ro.status?.promoteFull) await this.send(ref, promoteFullPatches(ro));
    const { heldAt: _released, ...rest } = s;
    return { ...rest, promoted: false, servedPct: 0 };
  }

  /** Bounded: the stable template is the current one, the controller says Healthy, and the Service's ready pods all run the old image. */
  async verifyRollback(ref: WorkloadRef, state: RolloutState): Promise<RollbackVerification> {
    const s = asArgo(state);
    const deadline = this.ctx.clock.now() + this.ctx.timeoutMs;
    let ro = await this.read(ref);
    let share = 0;
    for (;;) {
      share = await serviceShare(this.ctx, ref.namespace, ref.service, ref.container, s.previousImage);
      const back = ro.status?.currentPodHash === s.stableHash && fullyPromoted(ro);
      if ((back && share >= 100) || this.ctx.clock.now() >= deadline) break;
      await this.ctx.clock.sleep(this.ctx.pollMs);
      ro = await this.read(ref);
    }
    const ok = ro.status?.currentPodHash === s.stableHash && fullyPromoted(ro) && share >= 100;
    const where = `${ref.service} in ${ref.namespace}`;
    const version = imageTag(s.previousImage);
    return ok
      ? { ok, oldTrafficPct: share, detail: `${version} serves 100% of ${where}; Rollout ${ref.deployment} ${controllerLine(ro)}` }
      : {
          ok,
          oldTrafficPct: share,
          detail: `${version} serves ${share}% of ${where}; Rollout ${ref.deployment} ${controllerLine(ro)}. Check it with Investigate.`,
        };
  }

  /** The new pods' health, and an abort by the controller (its own analysis failed, or someone aborted it) while the judge watches. */
  async signals(ref: WorkloadRef, state: RolloutState): Promise<InfraSignal[]> {
    const s = asArgo(state);
    if (!s.newHash) return [];
    const out = await this.newPodSignals(ref, s);
    const ro = await this.read(ref);
    if (ro.status?.abort && ro.status.currentPodHash === s.newHash && !s.promoted)
      out.push({ kind: 'controller-aborted', workload: `Rollout ${ref.deployment}`, message: await this.whyAborted(ref, ro, s) });
    return out;
  }

  /** The Rollout's pods carry no track of ours: the version (the running image) or the ReplicaSet's hash tells stable from canary. */
  tracks(ref: WorkloadRef, state: RolloutState): { candidate: TrackRef; baseline: TrackRef } {
    const s = asArgo(state);
    const base = { namespace: ref.namespace, service: ref.serviceName, track: '' };
    return {
      candidate: { ...base, version: imageTag(s.newImage), ...(s.newHash ? { podHash: s.newHash } : {}) },
      baseline: { ...base, version: imageTag(s.previousImage), podHash: s.stableHash },
    };
  }

  override async liveTrack(ref: WorkloadRef): Promise<TrackRef> {
    return { namespace: ref.namespace, service: ref.serviceName, track: '' };
  }

  smokeBaseUrl(ref: WorkloadRef, state: RolloutState): string {
    const s = asArgo(state);
    return this.ctx.api.serviceProxyUrl(ref.namespace, s.promoted ? ref.service : s.smokeService);
  }
}
