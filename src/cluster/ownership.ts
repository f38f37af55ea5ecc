// Who else writes the objects a deploy changes (the Deployment, its Service, the route, the HPA):
// their marks, and their owner's policy read from the owner's own object. The decision is
// domain/gitops-owner.ts's; this reads.
import {
  ARGO_INSTANCE_LABEL,
  argoPolicy,
  describeOwner,
  fluxPolicy,
  type ObjectMarks,
  type Owner,
  type OwnerPolicy,
  ownedRefusal,
  ownerOf,
} from '../domain/gitops-owner.js';
import { APPLICATIONS, HELMRELEASES, KUSTOMIZATIONS, ownerRefOf } from './owner-control.js';
import type { DriverContext } from './common.js';
import { ClusterError } from './errors.js';
import { ROUTE_RESOURCES } from './route-split.js';
import { configuredRoute } from './traffic-router.js';
import type { PreflightCheck, WorkloadRef } from './types.js';

/** Where Argo CD keeps its Applications unless told otherwise. */
const ARGO_NAMESPACE = 'argocd';

type Meta = { labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: unknown[] };

/** The workload a deploy changes: a Deployment, or an Argo Rollout, with its metadata. */
export interface Workload {
  kind: 'Deployment' | 'Rollout';
  metadata?: Meta | undefined;
}

/** The objects a deploy of `ref` changes, with their marks. */
async function changedObjects(ctx: DriverContext, ref: WorkloadRef, w: Workload): Promise<ObjectMarks[]> {
  const marks = (kind: string, group: string, name: string, m: Meta | undefined): ObjectMarks => ({
    kind,
    group,
    namespace: ref.namespace,
    name,
    ...m,
  });
  const out = [marks(w.kind, w.kind === 'Rollout' ? 'argoproj.io' : 'apps', ref.deployment, w.metadata)];
  const svc = await ctx.api.findService(ref.namespace, ref.service);
  if (svc) out.push(marks('Service', '', ref.service, svc.metadata as Meta));
  const hpa = await ctx.api.findHpaFor(ref.namespace, ref.deployment);
  if (hpa?.metadata?.name) out.push(marks('HorizontalPodAutoscaler', 'autoscaling', hpa.metadata.name, hpa.metadata as Meta));
  const route = configuredRoute(ref);
  if (route) {
    const r = await ctx.api.findCustom(ROUTE_RESOURCES[route.kind], ref.namespace, route.name);
    if (r) out.push(marks(route.kind, ROUTE_RESOURCES[route.kind].group, route.name, r.metadata as Meta));
  }
  return out;
}

/** The owner's policy, from its own object; what could not be read is said, never assumed kind. */
async function policyOf(ctx: DriverContext, owner: Owner): Promise<OwnerPolicy | 'absent'> {
  const [res, ns, name] =
    owner.tool === 'argocd'
      ? [APPLICATIONS, ARGO_NAMESPACE, owner.application]
      : [owner.kind === 'Kustomization' ? KUSTOMIZATIONS : HELMRELEASES, owner.namespace, owner.name];
  try {
    const obj = await ctx.api.findCustom(res, ns, name);
    if (!obj) return 'absent';
    return owner.tool === 'argocd'
      ? argoPolicy(obj as Parameters<typeof argoPolicy>[0])
      : fluxPolicy(obj as Parameters<typeof fluxPolicy>[0]);
  } catch (err) {
    const why =
      err instanceof ClusterError && err.status === 403
        ? `no permission to get ${res.plural}.${res.group} in ${ns}`
        : (err as Error).message;
    return { found: false, reverts: true, prunes: true, detail: why };
  }
}

/**
 * The "other writers" check of validation: an error naming the owner when a reconciler owns what
 * the deploy would change; passing with what was looked at otherwise.
 */
export async function ownershipCheck(ctx: DriverContext, ref: WorkloadRef, w: Workload): Promise<PreflightCheck> {
  const owned: Array<{ object: string; owner: Owner; policy: OwnerPolicy }> = [];
  const notes: string[] = [];
  for (const o of await changedObjects(ctx, ref, w)) {
    const owner = ownerOf(o);
    if (!owner) continue;
    const policy = await policyOf(ctx, owner);
    if (policy === 'absent') {
      // `app.kubernetes.io/instance` is also every Helm chart's label: without that Application it is not Argo CD's.
      if (owner.tool === 'argocd' && owner.tracking === 'label') {
        notes.push(`${o.kind} ${o.name} has ${ARGO_INSTANCE_LABEL}=${owner.application} but no such Argo CD Application exists`);
        continue;
      }
      owned.push({
        object: `${o.kind} ${o.name}`,
        owner,
        policy: { found: false, reverts: true, prunes: true, detail: `${describeOwner(owner)} was not found` },
      });
      continue;
    }
    owned.push({ object: `${o.kind} ${o.name}`, owner, policy });
  }
  // The owner the config names is cooperated with (paused, Git updated, resumed); any other is refused.
  const configured = ref.gitops && ownerRefOf(ref.gitops);
  const isConfigured = (o: Owner) =>
    configured !== undefined &&
    (o.tool === 'argocd'
      ? configured.tool === 'argocd' && configured.name === o.application
      : configured.tool === 'flux' && configured.name === o.name && configured.namespace === o.namespace);
  const others = owned.filter((o) => !isConfigured(o.owner));
  if (others.length)
    return {
      name: 'other writers',
      ok: false,
      severity: 'error',
      detail: ownedRefusal(`${ref.serviceName} in namespace ${ref.namespace}`, others),
    };
  if (owned.length)
    return {
      name: 'other writers',
      ok: true,
      severity: 'error',
      detail: `${describeOwner(owned[0]!.owner)} owns ${owned.map((o) => o.object).join(', ')}: it is paused during the deploy, the release is committed to Git, then it is resumed`,
    };
  return {
    name: 'other writers',
    ok: true,
    severity: 'error',
    detail: notes.length ? `none (${notes.join('; ')})` : 'no Argo CD or Flux owner on the objects this deploy changes',
  };
}
