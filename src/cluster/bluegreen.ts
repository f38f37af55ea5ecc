// Blue-green: two colours behind one Service whose selector pins the live one. The idle
// colour gets the new image and is smoke-checked through `<service>-preview`; cutover is one
// selector patch; the old colour stays at full size until retireIdleColour() (scheduler).
//
// First deploy of a service: the stable Deployment is treated as the live colour, and
// `<deployment>-green` is created from it. The Service is pinned to the live pods before the
// idle colour has any: by their `track` label when they carry one, otherwise (an ordinary
// workload labelled `app=<name>` only) by their ReplicaSet's `pod-template-hash`, as Argo
// Rollouts does, so the Service never selects zero pods. After cutover the Service selects
// `track=<colour>`; the colours alternate between `<deployment>-green` and `-blue`; the stable
// Deployment is retired like any old colour, and a later canary or rolling deploy moves the
// service back to it.
import type { V1Deployment } from '@kubernetes/client-node';
import type { DeployPlan, InfraSignal } from '../domain/types.js';
import {
  awaitRollout,
  baseSelector,
  containerImageOf,
  driverContext,
  ensureDeployment,
  ensureDerived,
  ensureSelector,
  ensureStandby,
  ensureSideService,
  HASH_LABEL,
  servingTemplateHash,
  trackOf,
  TRACK_LABEL,
  verifyServing,
  type DriverContext,
  type DriverDeps,
} from './common.js';
import { KubeDriver } from './driver-base.js';
import { colourDeployment } from './convert.js';
import type { Colour } from './rollout-state.js';
import { InvalidRolloutError } from './errors.js';
import { deploymentSignals, preflightChecks } from './health.js';
import { imageRef, imageTag, selectorText } from './rules.js';
import type { PreflightCheck, RollbackVerification, RolloutDriver, RolloutState, Stage, TrackRef, WorkloadRef } from './types.js';
import type { BlueGreenState } from './rollout-state.js';

export type { BlueGreenState } from './rollout-state.js';

function asBlueGreen(state: RolloutState): BlueGreenState {
  if (state.strategy !== 'blue-green' || typeof state.idleDeployment !== 'string') {
    throw new InvalidRolloutError(`This run's saved state is for ${state.strategy}, not blue-green: it cannot be continued as blue-green.`);
  }
  return state;
}

export function previewServiceName(ref: WorkloadRef): string {
  return `${ref.service}-preview`;
}

/** Which Deployment serves now (from the Service's `track` pin) and which colour is idle. */
export async function liveColour(
  ctx: DriverContext,
  ref: WorkloadRef,
): Promise<{ live: V1Deployment; idle: { name: string; track: Colour } }> {
  const service = await ctx.api.getService(ref.namespace, ref.service);
  const pinned = service.spec?.selector?.[TRACK_LABEL];
  if (pinned === 'blue' || pinned === 'green') {
    const live = await ctx.api.getDeployment(ref.namespace, colourDeployment(ref, pinned));
    const idle: Colour = pinned === 'blue' ? 'green' : 'blue';
    return { live, idle: { name: colourDeployment(ref, idle), track: idle } };
  }
  const stable = await ctx.api.getDeployment(ref.namespace, ref.deployment);
  if (pinned !== undefined && pinned !== trackOf(stable)) {
    throw new InvalidRolloutError(
      `Service ${ref.service} in ${ref.namespace} selects track=${pinned}, which is neither a colour nor ${ref.deployment}'s track: fix its selector before a blue-green deploy.`,
    );
  }
  return { live: stable, idle: { name: colourDeployment(ref, 'green'), track: 'green' } };
}

export class BlueGreenDriver extends KubeDriver implements RolloutDriver {
  readonly strategy = 'blue-green' as const;

  /** The old colour to 0 once its retirement delay has passed (the runner does it when the scheduler asks). */
  retireIdle(ref: WorkloadRef): Promise<string[]> {
    return retireIdle(this.ctx, ref);
  }

  override async preflight(ref: WorkloadRef, version: string): Promise<PreflightCheck[]> {
    let live = ref.deployment;
    try {
      live = (await liveColour(this.ctx, ref)).live.metadata?.name ?? live;
    } catch {
      // preflightChecks reports the missing workload or unreachable cluster itself.
    }
    return preflightChecks(this.ctx, ref, version, live);
  }

  async prepare(ref: WorkloadRef, plan: DeployPlan): Promise<BlueGreenState> {
    const newImage = imageRef(ref.imageRepo, plan.version);
    const { live, idle } = await liveColour(this.ctx, ref);
    const liveName = live.metadata!.name!;
    const liveTrack = trackOf(live);
    const hpa = await this.ctx.api.findHpaFor(ref.namespace, liveName);
    // The idle colour must carry the load the autoscaler asks for, not just today's spec.
    const replicas = Math.max(live.spec?.replicas ?? 1, hpa?.spec?.minReplicas ?? 0, hpa?.status?.desiredReplicas ?? 0);
    if (replicas < 1) {
      throw new InvalidRolloutError(`${liveName} in ${ref.namespace} is live but scaled to zero: scale it up before a blue-green deploy.`);
    }
    // Pin the Service to the live colour before the idle one has pods, so it never gets traffic early.
    const service = await this.ctx.api.getService(ref.namespace, ref.service);
    const base = baseSelector(service.spec?.selector);
    const livePin = await this.pinFor(ref, live, liveTrack, service.spec?.selector);
    const pinned = await ensureSelector(this.ctx, ref.namespace, service, { ...base, ...livePin });
    await ensureStandby(this.ctx, ref, live, idle.name, idle.track, newImage);
    await ensureSideService(this.ctx, ref, pinned, previewServiceName(ref), { ...base, [TRACK_LABEL]: idle.track });
    return {
      strategy: 'blue-green',
      previousImage: containerImageOf(live, ref),
      newImage,
      liveDeployment: liveName,
      liveTrack,
      idleDeployment: idle.name,
      idleTrack: idle.track,
      previewService: previewServiceName(ref),
      replicas,
      livePin,
      ...(hpa?.metadata?.name ? { hpa: hpa.metadata.name } : {}),
    };
  }

  /** Points the autoscaler at `deployment`, so it scales what serves (and not a retired colour back up). */
  private async retargetHpa(ref: WorkloadRef, s: BlueGreenState, deployment: string): Promise<void> {
    if (!s.hpa) return;
    await this.ctx.api.mergeHpa(ref.namespace, s.hpa, {
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment } },
    });
  }

  /** What pins the Service to `live`'s pods: their track label, else their ReplicaSet's hash. */
  private async pinFor(
    ref: WorkloadRef,
    live: V1Deployment,
    liveTrack: string,
    current: Record<string, string> | undefined,
  ): Promise<Record<string, string>> {
    if (liveTrack) return { [TRACK_LABEL]: liveTrack };
    // A resumed prepare: the pin it set before the crash still selects the live pods.
    const hash = current?.[HASH_LABEL] ?? (await servingTemplateHash(this.ctx, ref, live));
    if (!hash) {
      throw new InvalidRolloutError(
        `${live.metadata?.name} in ${ref.namespace} is in the middle of a rollout (or has no pods): wait until \`kubectl rollout status deployment/${live.metadata?.name} -n ${ref.namespace}\` says it finished, then deploy again.`,
      );
    }
    return { [HASH_LABEL]: hash };
  }

  stages(_plan?: DeployPlan, _state?: RolloutState): Stage[] {
    return [
      { key: 'deploy-idle', title: 'deploy idle colour', trafficPct: 0, monitor: false },
      { key: 'cutover', title: 'switch traffic', trafficPct: 100, monitor: true },
    ];
  }

  async applyStage(ref: WorkloadRef, state: RolloutState, stage: Stage, signal?: AbortSignal): Promise<BlueGreenState> {
    const s = asBlueGreen(state);
    const live = await this.ctx.api.getDeployment(ref.namespace, s.liveDeployment);
    await ensureDerived(this.ctx, ref, live, s.idleDeployment, s.idleTrack, s.newImage, s.replicas);
    await awaitRollout(this.ctx, ref, s.idleDeployment, signal);
    if (stage.trafficPct < 100) return s;
    await this.pointServiceAt(ref, { [TRACK_LABEL]: s.idleTrack });
    await this.retargetHpa(ref, s, s.idleDeployment);
    return { ...s, cutover: true };
  }

  /** The new colour already serves; the old one stays at full size until retireIdleColour(). */
  async promote(_ref: WorkloadRef, state: RolloutState): Promise<BlueGreenState> {
    const s = asBlueGreen(state);
    return { ...s, retireAt: s.retireAt ?? this.ctx.clock.now() + this.ctx.retireAfterSec * 1000 };
  }

  /** One selector patch back when the old colour is still up; otherwise scale it up first. */
  async rollback(ref: WorkloadRef, state: RolloutState): Promise<BlueGreenState> {
    const s = asBlueGreen(state);
    // Both reads at once: the selector patch is the one call between pressing Rollback and traffic back.
    const [old, service] = await Promise.all([
      this.ctx.api.getDeployment(ref.namespace, s.liveDeployment),
      this.ctx.api.getService(ref.namespace, ref.service),
    ]);
    if ((old.status?.availableReplicas ?? 0) > 0) {
      await ensureSelector(this.ctx, ref.namespace, service, { ...baseSelector(service.spec?.selector), ...livePinOf(s) });
      await ensureDeployment(this.ctx, ref, old, { replicas: s.replicas, paused: false });
    } else {
      this.ctx.log?.warn({ deployment: s.liveDeployment }, 'old colour has no available pods: scaling it up before switching back');
      await ensureDeployment(this.ctx, ref, old, { replicas: s.replicas, paused: false });
      await awaitRollout(this.ctx, ref, s.liveDeployment);
      await this.pointServiceAt(ref, livePinOf(s));
    }
    await this.retargetHpa(ref, s, s.liveDeployment);
    const idle = await this.ctx.api.findDeployment(ref.namespace, s.idleDeployment);
    if (idle) await ensureDeployment(this.ctx, ref, idle, { replicas: 0 });
    return { ...s, cutover: false, retireAt: undefined };
  }

  /**
   * Traffic back on the old colour; then a hash pin is lifted once the idle colour has no pods
   * left, so the team's next `kubectl set image` (a new ReplicaSet, a new hash) is not cut off.
   */
  async verifyRollback(ref: WorkloadRef, state: RolloutState): Promise<RollbackVerification> {
    const s = asBlueGreen(state);
    const v = await verifyServing(this.ctx, ref, s.liveDeployment, s.previousImage);
    if (v.ok && livePinOf(s)[HASH_LABEL]) await this.unpinHash(ref, s);
    return v;
  }

  private async unpinHash(ref: WorkloadRef, s: BlueGreenState): Promise<void> {
    const idle = await this.ctx.api.findDeployment(ref.namespace, s.idleDeployment);
    const idleSelector = idle?.spec?.selector?.matchLabels;
    const deadline = this.ctx.clock.now() + this.ctx.timeoutMs;
    for (;;) {
      const left = idleSelector ? await this.ctx.api.listPods(ref.namespace, selectorText(idleSelector)) : [];
      if (left.length === 0) break;
      if (this.ctx.clock.now() >= deadline) {
        this.ctx.log?.warn(
          { service: ref.service, pods: left.length },
          'idle colour pods still present: the Service stays pinned to the live ReplicaSet',
        );
        return;
      }
      await this.ctx.clock.sleep(this.ctx.pollMs);
    }
    const service = await this.ctx.api.getService(ref.namespace, ref.service);
    await ensureSelector(this.ctx, ref.namespace, service, baseSelector(service.spec?.selector));
  }

  signals(ref: WorkloadRef, state: RolloutState): Promise<InfraSignal[]> {
    return deploymentSignals(this.ctx, ref, asBlueGreen(state).idleDeployment);
  }

  tracks(ref: WorkloadRef, state: RolloutState): { candidate: TrackRef; baseline: TrackRef } {
    const s = asBlueGreen(state);
    const base = { namespace: ref.namespace, service: ref.serviceName };
    return {
      candidate: { ...base, track: s.idleTrack, version: imageTag(s.newImage) },
      baseline: { ...base, track: s.liveTrack, version: imageTag(s.previousImage) },
    };
  }

  smokeBaseUrl(ref: WorkloadRef, state: RolloutState): string {
    return this.ctx.api.serviceProxyUrl(ref.namespace, asBlueGreen(state).previewService);
  }

  /** One selector patch: the team's selector plus `pin` (a colour's track, or the live hash). */
  private async pointServiceAt(ref: WorkloadRef, pin: Record<string, string>): Promise<void> {
    const service = await this.ctx.api.getService(ref.namespace, ref.service);
    await ensureSelector(this.ctx, ref.namespace, service, { ...baseSelector(service.spec?.selector), ...pin });
  }
}

function livePinOf(s: BlueGreenState): Record<string, string> {
  return s.livePin ?? { [TRACK_LABEL]: s.liveTrack };
}

/**
 * Scales every Deployment of the service that the Service does not select to zero: the old
 * colour after the retirement delay. Idempotent; returns the Deployments it scaled down.
 */
export function retireIdleColour(deps: DriverDeps, ref: WorkloadRef): Promise<string[]> {
  return retireIdle(driverContext(deps), ref);
}

async function retireIdle(ctx: DriverContext, ref: WorkloadRef): Promise<string[]> {
  const service = await ctx.api.getService(ref.namespace, ref.service);
  const pinned = service.spec?.selector?.[TRACK_LABEL];
  if (!pinned) return []; // not in blue-green mode: every Deployment behind it serves
  const retired: string[] = [];
  for (const name of [ref.deployment, colourDeployment(ref, 'blue'), colourDeployment(ref, 'green')]) {
    const d = await ctx.api.findDeployment(ref.namespace, name);
    if (!d || trackOf(d) === pinned || (d.spec?.replicas ?? 0) === 0) continue;
    await ensureDeployment(ctx, ref, d, { replicas: 0 });
    retired.push(name);
  }
  return retired;
}
