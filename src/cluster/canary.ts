// Canary: the stable Deployment and `<deployment>-canary`. Stages follow the plan
// (5 → 25 → 50 → 100); 100 promotes. Two ways to split traffic:
// - replica ratio (no router): one Service selects both, so the canary's share is its share of
//   ready replicas. A small Deployment cannot reach small shares (1 canary pod beside 3 is
//   25%): preflight says so, and each stage records the share really served.
// - a route (trafficRouting): the stable Service is pinned to the stable pods, the route sends
//   exactly pct% to `<service>-canary` (traffic-router.ts), and the canary is sized for its
//   share. Rollback is the route's one write to weight 0; the canary scales down after it.
import type { DeployPlan, InfraSignal } from '../domain/types.js';
import {
  awaitNoPods,
  awaitRollout,
  baseSelector,
  containerImageOf,
  ensureDeployment,
  ensureStandby,
  ensureSideService,
  serviceShare,
  trackOf,
  verifyServing,
} from './common.js';
import { KubeDriver } from './driver-base.js';
import { ensureStableServing, pinToStable, unpin } from './convert.js';
import { InvalidRolloutError } from './errors.js';
import { deploymentSignals } from './health.js';
import { canaryReplicas, imageRef, imageTag, replicaRatioShare, replicaRatioWarning, routedCanaryReplicas, selectorText } from './rules.js';
import { configuredRoute, TrafficRouter } from './traffic-router.js';
import type { CanaryState, RouterState } from './rollout-state.js';
import type { PreflightCheck, RollbackVerification, RolloutDriver, RolloutState, Stage, TrackRef, WorkloadRef } from './types.js';

function asCanary(state: RolloutState): CanaryState {
  if (state.strategy !== 'canary' || typeof state.canaryDeployment !== 'string') {
    throw new InvalidRolloutError(`This run's saved state is for ${state.strategy}, not canary: it cannot be continued as a canary.`);
  }
  return state;
}

export type { CanaryState } from './rollout-state.js';

export const CANARY_TRACK = 'canary';

export function canaryNames(ref: WorkloadRef): { deployment: string; service: string } {
  return { deployment: `${ref.deployment}-canary`, service: `${ref.service}-canary` };
}

export class CanaryDriver extends KubeDriver implements RolloutDriver {
  readonly strategy = 'canary' as const;

  override async preflight(ref: WorkloadRef, version: string, plan?: DeployPlan): Promise<PreflightCheck[]> {
    const checks = await super.preflight(ref, version);
    if (!plan) return checks;
    const route = configuredRoute(ref);
    if (route) {
      checks.push(await new TrafficRouter(this.ctx, ref, route, canaryNames(ref).service).check(plan.canarySteps));
      return checks;
    }
    const stable = await this.ctx.api.findDeployment(ref.namespace, ref.deployment).catch(() => undefined);
    const replicas = stable?.spec?.replicas;
    if (!replicas) return checks;
    const warning = replicaRatioWarning(replicas, plan.canarySteps);
    checks.push({
      name: 'canary shares',
      ok: !warning,
      severity: 'warning',
      detail: warning ?? `${replicas} replicas reach every step within a point`,
    });
    return checks;
  }

  private router(ref: WorkloadRef, s: CanaryState): TrafficRouter | undefined {
    return s.router && new TrafficRouter(this.ctx, ref, s.router, s.canaryService);
  }

  async prepare(ref: WorkloadRef, plan: DeployPlan): Promise<CanaryState> {
    const newImage = imageRef(ref.imageRepo, plan.version);
    const { stable, service } = await ensureStableServing(this.ctx, ref);
    const names = canaryNames(ref);
    const stableTrack = trackOf(stable);
    const stableReplicas = stable.spec?.replicas ?? 1;
    // Created at zero replicas: it receives traffic only once a stage scales it up.
    const canary = await ensureStandby(this.ctx, ref, stable, names.deployment, CANARY_TRACK, newImage);
    const canaryLabels = canary.spec?.template.metadata?.labels ?? {};
    const selector = { ...baseSelector(service.spec?.selector), track: canaryLabels.track ?? CANARY_TRACK };
    await ensureSideService(this.ctx, ref, service, names.service, selector);
    const route = configuredRoute(ref);
    let router: RouterState | undefined;
    if (route) {
      // Through a route, the stable Service must not reach the canary's pods as well.
      await pinToStable(this.ctx, ref, stable, service, 'before the canary');
      router = await new TrafficRouter(this.ctx, ref, route, names.service).hold(plan.version);
    }
    return {
      strategy: 'canary',
      previousImage: containerImageOf(stable, ref),
      newImage,
      canaryDeployment: names.deployment,
      canaryService: names.service,
      stableTrack,
      stableReplicas,
      ...(router ? { router } : {}),
    };
  }

  stages(plan: DeployPlan, state?: RolloutState): Stage[] {
    // Without a router, replica counts decide the share: a row names what will really be served.
    const s = state?.strategy === 'canary' ? state : undefined;
    const served = (pct: number) => (s && !s.router ? replicaRatioShare(s.stableReplicas, pct) : pct);
    return plan.canarySteps.map((pct) =>
      pct >= 100
        ? { key: 'canary-100', title: 'promote to 100%', trafficPct: 100, monitor: false }
        : { key: `canary-${pct}`, title: `canary ${Math.abs(served(pct) - pct) > 1 ? served(pct) : pct}%`, trafficPct: pct, monitor: true },
    );
  }

  async applyStage(ref: WorkloadRef, state: RolloutState, stage: Stage, signal?: AbortSignal): Promise<CanaryState> {
    const s = asCanary(state);
    if (stage.trafficPct >= 100) return this.promote(ref, s, signal);
    const router = this.router(ref, s);
    const replicas = router ? routedCanaryReplicas(s.stableReplicas, stage.trafficPct) : canaryReplicas(s.stableReplicas, stage.trafficPct);
    const canary = await this.ctx.api.getDeployment(ref.namespace, s.canaryDeployment);
    await ensureDeployment(this.ctx, ref, canary, { image: s.newImage, replicas, paused: false });
    await awaitRollout(this.ctx, ref, s.canaryDeployment, signal);
    if (router) {
      // Its pods are ready: now the route sends it exactly its share.
      await router.setWeight(s.router!, stage.trafficPct, imageTag(s.newImage));
      return { ...s, stagePct: stage.trafficPct, servedPct: stage.trafficPct };
    }
    const servedPct = Math.round(10 * (await serviceShare(this.ctx, ref.namespace, ref.service, ref.container, s.newImage))) / 10;
    return { ...s, stagePct: stage.trafficPct, servedPct };
  }

  /**
   * Stable runs the new image (a rolling update), then the canary goes to zero. Through a
   * route: the stable Service's pin to the old ReplicaSet comes off first (the new pods get a
   * new pod-template-hash), and the route goes back to the stable Service alone once they are ready.
   */
  async promote(ref: WorkloadRef, state: RolloutState, signal?: AbortSignal): Promise<CanaryState> {
    const s = asCanary(state);
    const router = this.router(ref, s);
    if (router && !s.stableTrack) await unpin(this.ctx, ref);
    const stable = await this.ctx.api.getDeployment(ref.namespace, ref.deployment);
    await ensureDeployment(this.ctx, ref, stable, { image: s.newImage, paused: false });
    await awaitRollout(this.ctx, ref, ref.deployment, signal);
    if (router) await router.release(s.router!);
    const canary = await this.ctx.api.findDeployment(ref.namespace, s.canaryDeployment);
    if (canary) await ensureDeployment(this.ctx, ref, canary, { replicas: 0 });
    if (router) await unpin(this.ctx, ref);
    return { ...s, stagePct: 100, servedPct: 100, promoted: true };
  }

  /**
   * Traffic back first: through a route that is its one write (canary weight 0); otherwise the
   * canary goes to zero (stable is still serving). Then, if promotion had begun, stable back.
   */
  async rollback(ref: WorkloadRef, state: RolloutState): Promise<CanaryState> {
    const s = asCanary(state);
    const router = this.router(ref, s);
    if (router) await router.release(s.router!);
    const canary = await this.ctx.api.findDeployment(ref.namespace, s.canaryDeployment);
    if (canary) await ensureDeployment(this.ctx, ref, canary, { replicas: 0 });
    const stable = await this.ctx.api.getDeployment(ref.namespace, ref.deployment);
    await ensureDeployment(this.ctx, ref, stable, { image: s.previousImage, paused: false });
    if (router) {
      // The pin comes off only once no canary pod is left for the team's selector to find.
      const canaryService = await this.ctx.api.getService(ref.namespace, s.canaryService);
      await awaitNoPods(this.ctx, ref.namespace, selectorText(canaryService.spec?.selector ?? {}));
      await unpin(this.ctx, ref);
    }
    return { ...s, stagePct: 0, servedPct: 0, promoted: false };
  }

  verifyRollback(ref: WorkloadRef, state: RolloutState): Promise<RollbackVerification> {
    return verifyServing(this.ctx, ref, ref.deployment, asCanary(state).previousImage);
  }

  async signals(ref: WorkloadRef, state: RolloutState): Promise<InfraSignal[]> {
    const s = asCanary(state);
    // After promotion the new version is the stable Deployment.
    return s.promoted ? deploymentSignals(this.ctx, ref, ref.deployment, s.newImage) : deploymentSignals(this.ctx, ref, s.canaryDeployment);
  }

  tracks(ref: WorkloadRef, state: RolloutState): { candidate: TrackRef; baseline: TrackRef } {
    const s = asCanary(state);
    const base = { namespace: ref.namespace, service: ref.serviceName };
    return {
      candidate: { ...base, track: s.promoted ? s.stableTrack : CANARY_TRACK, version: imageTag(s.newImage) },
      baseline: { ...base, track: s.stableTrack, version: imageTag(s.previousImage) },
    };
  }

  smokeBaseUrl(ref: WorkloadRef, state: RolloutState): string {
    const s = asCanary(state);
    return this.ctx.api.serviceProxyUrl(ref.namespace, s.promoted ? ref.service : s.canaryService);
  }
}
