// Moving a service between strategies. Canary and rolling need the stable Deployment serving
// behind a Service that selects all of the app's pods; blue-green leaves the Service pinned
// to a colour. This brings a blue-green service back to that shape, keeping what serves.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import {
  awaitRollout,
  baseSelector,
  containerImageOf,
  ensureDeployment,
  ensureSelector,
  HASH_LABEL,
  servingTemplateHash,
  trackOf,
  TRACK_LABEL,
  type DriverContext,
} from './common.js';
import { InvalidRolloutError } from './errors.js';
import type { WorkloadRef } from './types.js';
import { COLOURS, type Colour } from './rollout-state.js';

export function colourDeployment(ref: WorkloadRef, colour: Colour): string {
  return `${ref.deployment}-${colour}`;
}

/**
 * Ensures the stable Deployment runs what the Service serves and the Service selects the app
 * without a track. When a blue-green colour is live, the stable Deployment first takes over
 * its image and size (and must be ready) before the selector moves; the colours go to zero.
 */
export async function ensureStableServing(ctx: DriverContext, ref: WorkloadRef): Promise<{ stable: V1Deployment; service: V1Service }> {
  let stable = await ctx.api.getDeployment(ref.namespace, ref.deployment);
  let service = await ctx.api.getService(ref.namespace, ref.service);
  const stableTrack = trackOf(stable);
  const pinned = service.spec?.selector?.[TRACK_LABEL];
  const colours: V1Deployment[] = [];
  for (const c of COLOURS) {
    const d = await ctx.api.findDeployment(ref.namespace, colourDeployment(ref, c));
    if (d) colours.push(d);
  }
  if (pinned && pinned !== stableTrack) {
    const live = colours.find((d) => trackOf(d) === pinned);
    if (live && (live.spec?.replicas ?? 0) > 0) {
      ctx.log?.info({ from: live.metadata?.name, to: ref.deployment }, 'moving the live blue-green colour back to the stable deployment');
      stable = await ensureDeployment(ctx, ref, stable, {
        image: containerImageOf(live, ref),
        replicas: live.spec?.replicas ?? 1,
        paused: false,
      });
      stable = await awaitRollout(ctx, ref, ref.deployment);
    }
    // Stable alone first (by its track, or its ReplicaSet for pods without one); colours still have pods.
    service = await pinToStable(ctx, ref, stable, service, 'after taking over from the blue-green colour');
  }
  for (const d of colours) await ensureDeployment(ctx, ref, d, { replicas: 0 });
  const selector = service.spec?.selector ?? {};
  if (selector[TRACK_LABEL] !== undefined || selector[HASH_LABEL] !== undefined) {
    service = await ensureSelector(ctx, ref.namespace, service, baseSelector(selector));
  }
  return { stable, service };
}

/**
 * Pins Service `service` to the stable Deployment's pods alone: by their `track` label, or by
 * their ReplicaSet's pod-template-hash when they carry none (as Argo Rollouts pins its stable
 * Service). Other pods that match the team's selector (a canary, a colour) drop out of it.
 */
export async function pinToStable(
  ctx: DriverContext,
  ref: WorkloadRef,
  stable: V1Deployment,
  service: V1Service,
  when: string,
): Promise<V1Service> {
  const stableTrack = trackOf(stable);
  const hash = stableTrack ? undefined : await servingTemplateHash(ctx, ref, stable);
  if (!stableTrack && !hash)
    throw new InvalidRolloutError(
      `${ref.deployment} in ${ref.namespace} did not settle on one ReplicaSet ${when}: check it with kubectl rollout status, then deploy again.`,
    );
  const pin: Record<string, string> = stableTrack ? { [TRACK_LABEL]: stableTrack } : { [HASH_LABEL]: hash! };
  return ensureSelector(ctx, ref.namespace, service, { ...baseSelector(service.spec?.selector), ...pin });
}

/** The Service back on the team's own selector (no track or pod-template-hash pin). */
export async function unpin(ctx: DriverContext, ref: WorkloadRef): Promise<V1Service> {
  const service = await ctx.api.getService(ref.namespace, ref.service);
  return ensureSelector(ctx, ref.namespace, service, baseSelector(service.spec?.selector));
}
