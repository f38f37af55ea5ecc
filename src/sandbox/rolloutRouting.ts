// Where a Rollout's traffic goes as the controller arranges it: a Service pinned to one
// ReplicaSet by hash (blue-green's active and preview, a routed canary's stable and canary), and
// Istio traffic routing (argo-rollouts rollout/trafficrouting/istio): the VirtualService's named
// http routes weighted between the canary and stable Services.
import { clone, deepEqual, type KObject } from './objects.js';
import { resourceByKind } from './resources.js';
import { ROLLOUT_HASH, type Status } from './rolloutShapes.js';
import type { ObjectStore } from './store.js';

const SERVICES = resourceByKind('Service');
const VIRTUAL_SERVICES = resourceByKind('VirtualService');

export interface IstioRouting {
  canaryService: string;
  stableService: string;
  virtualService: string;
  routes: string[];
  scaleDownDelaySeconds: number;
  abortScaleDownDelaySeconds: number;
}

interface CanarySpec {
  canaryService?: string;
  stableService?: string;
  scaleDownDelaySeconds?: number;
  abortScaleDownDelaySeconds?: number;
  trafficRouting?: { istio?: { virtualService?: { name?: string; routes?: string[] } } };
}

/** A canary's Istio traffic routing, when its spec has one (with both Services, as Argo requires). */
export function istioRouting(canary: CanarySpec | undefined): IstioRouting | undefined {
  const vs = canary?.trafficRouting?.istio?.virtualService;
  if (!vs?.name || !canary?.canaryService || !canary?.stableService) return undefined;
  return {
    canaryService: canary.canaryService,
    stableService: canary.stableService,
    virtualService: vs.name,
    routes: vs.routes ?? [],
    scaleDownDelaySeconds: canary.scaleDownDelaySeconds ?? 30,
    abortScaleDownDelaySeconds: canary.abortScaleDownDelaySeconds ?? 30,
  };
}

/**
 * Istio traffic routing (rollout/trafficrouting/istio): the stable and canary Services pinned to
 * their ReplicaSets by hash, and in the VirtualService's named http routes the canary Service's
 * destination gets `weight`, the stable Service's the rest; `status.canary.weights` says so.
 */
export function routeIstio(store: ObjectStore, r: KObject, s: Status, routing: IstioRouting, weight: number): void {
  pinService(store, r, routing.stableService, s.stableRS);
  pinService(store, r, routing.canaryService, s.currentPodHash);
  const ns = r.metadata.namespace;
  const vs = store.peek(VIRTUAL_SERVICES, ns, routing.virtualService);
  if (vs) {
    const next = clone(vs);
    for (const h of (next.spec?.http ?? []) as Array<{
      name?: string;
      route?: Array<{ destination?: { host?: string }; weight?: number }>;
    }>) {
      if (routing.routes.length && !routing.routes.includes(h.name ?? '')) continue;
      for (const d of h.route ?? []) {
        const host = d.destination?.host?.split('.')[0];
        if (host === routing.canaryService) d.weight = weight;
        else if (host === routing.stableService) d.weight = 100 - weight;
      }
    }
    if (!deepEqual(next.spec, vs.spec)) store.update(VIRTUAL_SERVICES, next);
  }
  s.canary = {
    ...s.canary,
    weights: {
      canary: { weight, podTemplateHash: s.currentPodHash!, serviceName: routing.canaryService },
      stable: { weight: 100 - weight, podTemplateHash: s.stableRS!, serviceName: routing.stableService },
    },
  };
}

/** Points a Service at one ReplicaSet by its hash, as the controller does for active/preview. */
export function pinService(store: ObjectStore, r: KObject, name: string | undefined, hash: string | undefined): void {
  if (!name || !hash) return;
  const svc = store.peek(SERVICES, r.metadata.namespace, name);
  if (!svc || svc.spec?.selector?.[ROLLOUT_HASH] === hash) return;
  store.update(SERVICES, { ...svc, spec: { ...svc.spec, selector: { ...svc.spec.selector, [ROLLOUT_HASH]: hash } } });
}
