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

export const COLOURS = ['blue', 'green'] as const;
export type Colour = (typeof COLOURS)[number];

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
      stable = await ensureDeployment(ctx, ref, stable, { image: containerImageOf(live, ref), replicas: live.spec?.replicas ?? 1, paused: false });
      stable = await awaitRollout(ctx, ref, ref.deployment);
    }
    // Stable alone first (by its track, or its ReplicaSet for pods without one); colours still have pods.
    const hash = stableTrack ? undefined : await servingTemplateHash(ctx, ref, stable);
    if (!stableTrack && !hash) throw new InvalidRolloutError(`${ref.deployment} in ${ref.namespace} did not settle on one ReplicaSet after taking over from the blue-green colour: check it with kubectl rollout status, then deploy again.`);
    const pin: Record<string, string> = stableTrack ? { [TRACK_LABEL]: stableTrack } : { [HASH_LABEL]: hash! };
    service = await ensureSelector(ctx, ref.namespace, service, { ...baseSelector(service.spec?.selector), ...pin });
  }
  for (const d of colours) await ensureDeployment(ctx, ref, d, { replicas: 0 });
  const selector = service.spec?.selector ?? {};
  if (selector[TRACK_LABEL] !== undefined || selector[HASH_LABEL] !== undefined) {
    service = await ensureSelector(ctx, ref.namespace, service, baseSelector(selector));
  }
  return { stable, service };
}
