// A stand-in for the Argo Rollouts controller, as far as Shipbot meets it, behaving as
// argoproj/argo-rollouts says (`rollout/canary.go`, `rollout/bluegreen.go`, `rollout/pause.go`,
// `utils/replicaset/canary.go`, `utils/rollout/rolloututil.go`):
// - ReplicaSets named `<rollout>-<hash>` carry `rollouts-pod-template-hash` and the revision
//   annotation `rollout.argoproj.io/revision`; a template equal to an older ReplicaSet's re-uses it.
// - A new template resets the steps (index 0, pause conditions and abort cleared); a template equal
//   to `status.stableRS` is a rollback to stable: every step skipped at once.
// - Canary without traffic routing: a setWeight step scales the ReplicaSets to the weight by
//   replica ratio (`approximateWeightedCanaryStableReplicaCounts`) and completes once they are
//   available; a pause adds the CanaryPauseStep condition (controllerPause) and completes when its
//   duration has passed or a person cleared it (promote). `spec.paused` completes no step.
//   After the last step the new ReplicaSet becomes stable and the old one goes to 0.
// - Abort (`status.abort`): the weight goes to 0, the stable ReplicaSet serves everything; the
//   phase is Degraded "RolloutAborted". `promoteFull` skips every remaining step and pause.
// - Blue-green: the new ReplicaSet comes up in full behind the preview Service; with
//   `autoPromotionEnabled: false` a BlueGreenPause waits for promote; then the active Service's
//   selector moves to the new hash, and the old ReplicaSet scales down after
//   `scaleDownDelaySeconds` (30). On abort the preview Service goes back to stable and the new
//   ReplicaSet scales down after `abortScaleDownDelaySeconds` (30); the active never moved.
// - The phase and message are the controller's (`CalculateRolloutPhase`).
// - An analysis step creates the AnalysisRun `<rollout>-<hash>-<revision>-<step>` from its
//   templates (args substituted, `podTemplateHashValue` Stable / Latest resolved); Successful
//   completes the step, Failed or Error aborts the update ("Step-based analysis phase
//   error/failed: …"), Inconclusive pauses it (InconclusiveAnalysisRun) until promote.
// Not simulated: traffic routing plugins, experiments, background and blue-green analysis (a
// Rollout with an experiment is Degraded "InvalidSpec", never silently passed).
import type { Clock } from '../clock.js';
import { analysisRunFor } from './rolloutAnalysis.js';
import { type BlueGreen, ownedBy, ROLLOUT_HASH, ROLLOUT_REVISION, type Status, type Step } from './rolloutShapes.js';
import { canaryRouting, pinService, routeCanary } from './rolloutRouting.js';
import { basicCanaryCounts, routedCanaryCounts } from './rolloutMath.js';
import { goDurationSeconds } from '../domain/go-duration.js';
import { admit, defaultedTemplate } from './admission.js';
import { podTemplateHash } from './deploymentController.js';
import type { EventRecorder } from './events.js';
import { clone, controllerOf, deepEqual, isoSeconds, type KObject } from './objects.js';
import { resourceByKind } from './resources.js';
import type { ObjectStore } from './store.js';

const SCALE_DOWN_DEADLINE = 'argo-rollouts.argoproj.io/scale-down-deadline';

const ROLLOUTS = resourceByKind('Rollout');
const REPLICASETS = resourceByKind('ReplicaSet');
const _SERVICES = resourceByKind('Service');

const ANALYSISRUNS = resourceByKind('AnalysisRun');
const ANALYSIS_TEMPLATES = resourceByKind('AnalysisTemplate');

export class RolloutController {
  constructor(
    private readonly store: ObjectStore,
    private readonly events: EventRecorder,
    private readonly clock: Clock,
  ) {}

  syncAll(): void {
    const byOwner = new Map<string, KObject[]>();
    for (const rs of this.store.list(REPLICASETS)) {
      const owner = controllerOf(rs);
      if (owner?.kind !== 'Rollout') continue;
      byOwner.set(owner.uid, [...(byOwner.get(owner.uid) ?? []), rs]);
    }
    for (const r of this.store.list(ROLLOUTS)) this.sync(r, byOwner.get(r.metadata.uid!) ?? []);
  }

  private sync(r: KObject, owned: KObject[]): void {
    const now = this.clock.now();
    const replicas: number = r.spec?.replicas ?? 1;
    const hash = podTemplateHash(defaultedTemplate(r.spec?.template));
    const s: Status = clone(r.status ?? {});
    const canary = r.spec?.strategy?.canary;
    const bg = r.spec?.strategy?.blueGreen;
    const steps: Step[] = canary?.steps ?? [];
    const newRs = this.ensureReplicaSet(r, owned, hash);
    const all = [...owned.filter((x) => x.metadata.uid !== newRs.metadata.uid), newRs];
    const byHash = (h: string | undefined) => all.find((x) => x.metadata.labels?.[ROLLOUT_HASH] === h);

    if (s.currentPodHash !== hash) {
      // A new template: the steps start over (rollout/canary.go resetRolloutStatus).
      s.currentPodHash = hash;
      delete s.pauseConditions;
      delete s.abortedAt;
      s.abort = false;
      s.controllerPause = false;
      s.promoteFull = false;
      delete s.conditions;
      if (!s.stableRS) s.stableRS = hash;
      if (canary) s.currentStepIndex = s.stableRS === hash ? steps.length : 0;
      if (s.stableRS === hash) this.events.record(r, 'Normal', 'SkipSteps', 'Rollback to stable ReplicaSets', 'rollouts-controller');
    }
    if (steps.some((st) => st.experiment)) {
      this.writeStatus(r, s, all, 'Degraded', 'InvalidSpec: the sandbox does not simulate experiment steps');
      return;
    }
    const stable = byHash(s.stableRS);
    const others = all.filter((x) => x !== newRs && x !== stable);
    if (s.promoteFull) {
      delete s.pauseConditions;
      s.abort = false;
      s.controllerPause = false;
      if (canary) s.currentStepIndex = steps.length;
    }

    if (canary) this.syncCanary(r, s, steps, replicas, newRs, stable, others);
    else if (bg) this.syncBlueGreen(r, s, bg, replicas, newRs, stable, others, now);
    this.writeStatus(r, s, this.owned(r), ...this.phase(r, s, replicas));
  }

  private syncCanary(
    r: KObject,
    s: Status,
    steps: Step[],
    replicas: number,
    newRs: KObject,
    stable: KObject | undefined,
    others: KObject[],
  ): void {
    const routing = canaryRouting(r.spec.strategy.canary);
    // With traffic routing the old ReplicaSets keep serving until the route moved off them (scaleDownDelaySeconds).
    for (const o of others) routing ? this.scaleDownLater(r, o, routing.scaleDownDelaySeconds) : this.scale(r, o, 0);
    const route = (w: number) => routing && routeCanary(this.store, r, s, routing, w);
    if (!stable || stable === newRs) {
      this.scale(r, newRs, replicas);
      route(0);
      return;
    }
    if (s.abort) {
      // Aborted: weight 0, and the steps start over (syncRolloutStatusCanary: index 0).
      s.abortedAt ??= isoSeconds(this.clock.now());
      if (steps.length) s.currentStepIndex = 0;
      delete s.canary?.currentStepAnalysisRunStatus;
      this.scale(r, stable, replicas);
      route(0);
      if (routing) this.scaleDownLater(r, newRs, routing.abortScaleDownDelaySeconds);
      else this.scale(r, newRs, 0);
      return;
    }
    const index: number = s.currentStepIndex ?? 0;
    if (index >= steps.length) {
      // Every step done: the new ReplicaSet takes all, then becomes stable.
      this.scale(r, newRs, replicas);
      if (available(this.fresh(newRs)) >= replicas) {
        s.stableRS = s.currentPodHash;
        route(0);
        if (routing) this.scaleDownLater(r, stable, routing.scaleDownDelaySeconds);
        else this.scale(r, stable, 0);
      } else route(100);
      return;
    }
    const weight = steps
      .slice(0, index + 1)
      .reverse()
      .find((st) => st.setWeight !== undefined)?.setWeight as number | undefined;
    // Routed: the canary is sized for its weight and stable stays whole; else replica ratio.
    const [want, keep] = routing ? routedCanaryCounts(replicas, weight ?? 0) : basicCanaryCounts(replicas, weight ?? 0);
    this.scale(r, newRs, want);
    this.scale(r, stable, keep);
    if (r.spec?.paused) return;
    const step = steps[index]!;
    let done = false;
    if (step.setWeight !== undefined) {
      const ready =
        available(this.fresh(newRs)) >= want && available(this.fresh(stable)) >= keep && (this.fresh(newRs).spec.replicas ?? 0) === want;
      // The weight moves once the canary's pods are ready for it (trafficrouting.go).
      if (ready) route(weight ?? 0);
      done = ready;
    } else if (step.pause) {
      const cond = s.pauseConditions?.find((c) => c.reason === 'CanaryPauseStep');
      const secs = goDurationSeconds(step.pause.duration);
      if (s.controllerPause && !cond) done = true;
      else if (cond && secs !== undefined) done = this.clock.now() > Date.parse(cond.startTime) + secs * 1000;
      else if (!cond) {
        s.pauseConditions = [...(s.pauseConditions ?? []), { reason: 'CanaryPauseStep', startTime: isoSeconds(this.clock.now()) }];
        s.controllerPause = true;
      }
    } else if (step.analysis) {
      done = this.stepAnalysis(r, s, index, newRs, stable);
    } else done = true;
    if (!step.analysis && s.canary?.currentStepAnalysisRunStatus) delete s.canary.currentStepAnalysisRunStatus;
    if (done) {
      s.currentStepIndex = index + 1;
      s.pauseConditions = s.pauseConditions?.filter((c) => c.reason !== 'CanaryPauseStep');
      if (!s.pauseConditions?.length) {
        delete s.pauseConditions;
        s.controllerPause = false;
      }
      this.events.record(
        r,
        'Normal',
        'RolloutStepCompleted',
        `Rollout step ${index + 1}/${steps.length} completed (${stepString(step)})`,
        'rollouts-controller',
      );
    }
  }

  private syncBlueGreen(
    r: KObject,
    s: Status,
    bg: BlueGreen,
    replicas: number,
    newRs: KObject,
    stable: KObject | undefined,
    others: KObject[],
    now: number,
  ): void {
    s.blueGreen ??= {};
    const activeHash = stable?.metadata.labels?.[ROLLOUT_HASH];
    const scaleDownLater = (rs: KObject, delaySec: number) => this.scaleDownLater(r, rs, delaySec);
    for (const o of others) scaleDownLater(o, bg.scaleDownDelaySeconds ?? 30);
    if (!stable || stable === newRs) {
      this.scale(r, newRs, replicas);
      pinService(this.store, r, bg.activeService, s.currentPodHash);
      if (bg.previewService) pinService(this.store, r, bg.previewService, s.currentPodHash);
      s.blueGreen = { activeSelector: s.currentPodHash, ...(bg.previewService ? { previewSelector: s.currentPodHash } : {}) };
      return;
    }
    if (s.abort) {
      s.abortedAt ??= isoSeconds(now);
      this.scale(r, stable, replicas);
      if (bg.previewService) pinService(this.store, r, bg.previewService, activeHash!);
      s.blueGreen = { activeSelector: activeHash, ...(bg.previewService ? { previewSelector: activeHash } : {}) };
      scaleDownLater(newRs, bg.abortScaleDownDelaySeconds ?? 30);
      return;
    }
    this.unannotate(newRs, SCALE_DOWN_DEADLINE);
    this.scale(r, newRs, replicas);
    if (bg.previewService) pinService(this.store, r, bg.previewService, s.currentPodHash);
    s.blueGreen = { activeSelector: activeHash, ...(bg.previewService ? { previewSelector: s.currentPodHash } : {}) };
    if (available(this.fresh(newRs)) < replicas || r.spec?.paused) return;
    const cond = s.pauseConditions?.find((c) => c.reason === 'BlueGreenPause');
    if (bg.autoPromotionEnabled === false && !s.promoteFull) {
      // CompletedBlueGreenPause: a person cleared the condition the controller added.
      if (!s.controllerPause && !cond) {
        s.pauseConditions = [...(s.pauseConditions ?? []), { reason: 'BlueGreenPause', startTime: isoSeconds(now) }];
        s.controllerPause = true;
        return;
      }
      if (cond) return;
    }
    pinService(this.store, r, bg.activeService, s.currentPodHash);
    s.blueGreen.activeSelector = s.currentPodHash;
    s.stableRS = s.currentPodHash;
    s.controllerPause = false;
    delete s.pauseConditions;
    scaleDownLater(stable, bg.scaleDownDelaySeconds ?? 30);
  }

  /**
   * An analysis step (rollout/analysis.go reconcileStepBasedAnalysisRun): its AnalysisRun created
   * once; Successful completes the step, Failed / Error aborts, Inconclusive pauses.
   */
  private stepAnalysis(r: KObject, s: Status, index: number, newRs: KObject, stable: KObject): boolean {
    if (s.pauseConditions?.length || s.abort) return false;
    const revision = newRs.metadata.annotations?.[ROLLOUT_REVISION] ?? '1';
    const name = `${r.metadata.name}-${s.currentPodHash}-${revision}-${index}`;
    const ns = r.metadata.namespace;
    const run =
      this.store.peek(ANALYSISRUNS, ns, name) ??
      this.store.create(
        ANALYSISRUNS,
        analysisRunFor(r, name, index, s.currentPodHash!, stable, (t) => this.store.peek(ANALYSIS_TEMPLATES, r.metadata.namespace, t)),
      );
    const phase: string = run.status?.phase ?? 'Pending';
    const message: string | undefined = run.status?.message;
    s.canary = { ...s.canary, currentStepAnalysisRunStatus: { name, status: phase, ...(message ? { message } : {}) } };
    if (phase === 'Successful') return true;
    if (phase === 'Inconclusive') {
      s.pauseConditions = [...(s.pauseConditions ?? []), { reason: 'InconclusiveAnalysisRun', startTime: isoSeconds(this.clock.now()) }];
      s.controllerPause = true;
    } else if (phase === 'Failed' || phase === 'Error') {
      s.abort = true;
      const why = `Rollout aborted update to revision ${revision}: Step-based analysis phase error/failed${message ? `: ${message}` : ''}`;
      const at = isoSeconds(this.clock.now());
      s.conditions = [
        { type: 'Progressing', status: 'False', reason: 'RolloutAborted', message: why, lastUpdateTime: at, lastTransitionTime: at },
      ];
    }
    return false;
  }

  /** The controller's phase and message (`CalculateRolloutPhase`). */
  private phase(r: KObject, s: Status, replicas: number): [string, string] {
    const newRs = this.owned(r).find((x) => x.metadata.labels?.[ROLLOUT_HASH] === s.currentPodHash);
    const aborted = s.conditions?.find((c) => c.reason === 'RolloutAborted')?.message;
    if (s.abort)
      return [
        'Degraded',
        `RolloutAborted: ${aborted ?? `Rollout aborted update to revision ${newRs?.metadata.annotations?.[ROLLOUT_REVISION] ?? '?'}`}`,
      ];
    if (r.spec?.paused) return ['Paused', 'manually paused'];
    const cond = s.pauseConditions?.[0];
    if (cond) return ['Paused', cond.reason];
    const updated = newRs?.status?.replicas ?? 0;
    if (updated < replicas) return ['Progressing', 'more replicas need to be updated'];
    if (available(newRs) < updated) return ['Progressing', 'updated replicas are still becoming available'];
    if (r.spec?.strategy?.blueGreen) {
      if (s.blueGreen?.activeSelector !== s.currentPodHash) return ['Progressing', 'active service cutover pending'];
    } else {
      const total = this.owned(r).reduce((n, x) => n + (x.status?.replicas ?? 0), 0);
      if (total > updated) return ['Progressing', 'old replicas are pending termination'];
      if (s.stableRS !== s.currentPodHash) return ['Progressing', 'waiting for all steps to complete'];
    }
    return ['Healthy', ''];
  }

  private writeStatus(r: KObject, s: Status, all: KObject[], phase: string, message: string): void {
    const sum = (f: (x: KObject) => number) => all.reduce((n, x) => n + f(x), 0);
    const newRs = all.find((x) => x.metadata.labels?.[ROLLOUT_HASH] === s.currentPodHash);
    const status = {
      ...s,
      observedGeneration: String(r.metadata.generation ?? 1),
      replicas: sum((x) => x.status?.replicas ?? 0),
      updatedReplicas: newRs?.status?.replicas ?? 0,
      readyReplicas: sum((x) => x.status?.readyReplicas ?? 0),
      availableReplicas: sum((x) => x.status?.availableReplicas ?? 0),
      selector: Object.entries(r.spec?.selector?.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
      phase,
      message,
    };
    if (deepEqual(status, r.status ?? {})) return;
    this.store.update(ROLLOUTS, { ...r, status }, undefined, true);
  }

  private owned(r: KObject): KObject[] {
    return this.store.list(REPLICASETS, r.metadata.namespace).filter((x) => controllerOf(x)?.uid === r.metadata.uid);
  }

  private fresh(rs: KObject): KObject {
    return this.store.peek(REPLICASETS, rs.metadata.namespace, rs.metadata.name!) ?? rs;
  }

  private ensureReplicaSet(r: KObject, owned: KObject[], hash: string): KObject {
    const revision = (x: KObject) => Number(x.metadata.annotations?.[ROLLOUT_REVISION] ?? 0);
    const max = owned.reduce((m, x) => Math.max(m, revision(x)), 0);
    const found = owned.find((x) => x.metadata.labels?.[ROLLOUT_HASH] === hash);
    if (found) {
      if (revision(found) >= max) return found;
      return this.store.update(REPLICASETS, {
        ...found,
        metadata: { ...found.metadata, annotations: { ...found.metadata.annotations, [ROLLOUT_REVISION]: String(max + 1) } },
      });
    }
    const template = defaultedTemplate(r.spec.template);
    template.metadata.labels = { ...template.metadata.labels, [ROLLOUT_HASH]: hash };
    const selector = clone(r.spec.selector ?? {});
    selector.matchLabels = { ...selector.matchLabels, [ROLLOUT_HASH]: hash };
    const created = this.store.create(
      REPLICASETS,
      admit(REPLICASETS, {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${r.metadata.name}-${hash}`,
          namespace: r.metadata.namespace,
          labels: { ...template.metadata.labels },
          annotations: { [ROLLOUT_REVISION]: String(max + 1) },
          ownerReferences: [ownedBy(r)],
        },
        spec: { replicas: 0, selector, template },
        status: { replicas: 0 },
      }),
    );
    this.events.record(
      r,
      'Normal',
      'NewReplicaSetCreated',
      `Created ReplicaSet ${created.metadata.name} (revision ${max + 1})`,
      'rollouts-controller',
    );
    return created;
  }

  private scale(r: KObject, rsIn: KObject, to: number): void {
    const rs = this.fresh(rsIn);
    const from = rs.spec.replicas ?? 0;
    if (from === to) return;
    this.store.update(REPLICASETS, { ...rs, spec: { ...rs.spec, replicas: to } });
    this.events.record(
      r,
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${to > from ? 'up' : 'down'} ReplicaSet ${rs.metadata.name} (revision ${rs.metadata.annotations?.[ROLLOUT_REVISION]}) from ${from} to ${to}`,
      'rollouts-controller',
    );
  }

  /** Scales a ReplicaSet to 0 once its scale-down deadline (set now + delay, the first time) has passed. */
  private scaleDownLater(r: KObject, rsIn: KObject, delaySec: number): void {
    const rs = this.fresh(rsIn);
    if ((rs.spec.replicas ?? 0) === 0) return;
    const now = this.clock.now();
    const deadline = rs.metadata.annotations?.[SCALE_DOWN_DEADLINE];
    if (!deadline) this.annotate(rs, SCALE_DOWN_DEADLINE, new Date(now + delaySec * 1000).toISOString());
    else if (now >= Date.parse(deadline)) this.scale(r, rs, 0);
  }

  private annotate(rsIn: KObject, key: string, value: string): void {
    const rs = this.fresh(rsIn);
    this.store.update(REPLICASETS, { ...rs, metadata: { ...rs.metadata, annotations: { ...rs.metadata.annotations, [key]: value } } });
  }

  private unannotate(rsIn: KObject, key: string): void {
    const rs = this.fresh(rsIn);
    if (!rs.metadata.annotations?.[key]) return;
    const annotations = { ...rs.metadata.annotations };
    delete annotations[key];
    this.store.update(REPLICASETS, { ...rs, metadata: { ...rs.metadata, annotations } });
  }
}

function available(rs: KObject | undefined): number {
  return rs?.status?.availableReplicas ?? 0;
}

/** `rolloututil.CanaryStepString`. */
function stepString(step: Step): string {
  if (step.setWeight !== undefined) return `setWeight: ${step.setWeight}`;
  if (step.pause) return step.pause.duration !== undefined ? `pause: ${step.pause.duration}` : 'pause';
  return Object.keys(step)[0] ?? '';
}
