// Where a Rollout's traffic goes as the controller arranges it: a Service pinned to one
// ReplicaSet by hash (blue-green's active and preview, a routed canary's stable and canary), and
// traffic routing, which weights the team's route between the canary and stable Services: Istio
// (argo-rollouts rollout/trafficrouting/istio: the VirtualService's named http routes) or the
// Gateway API plugin (argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi: the HTTPRoute's
// rules whose backendRefs name those Services).
import { clone, deepEqual, type KObject } from './objects.js';
import { resourceByKind } from './resources.js';
import { ROLLOUT_HASH, type Status } from './rolloutShapes.js';
import type { ObjectStore } from './store.js';

const SERVICES = resourceByKind('Service');
const VIRTUAL_SERVICES = resourceByKind('VirtualService');
const HTTP_ROUTES = resourceByKind('HTTPRoute');
const GATEWAY_PLUGIN = 'argoproj-labs/gatewayAPI';

export interface CanaryRouting {
  canaryService: string;
  stableService: string;
  /** The route the controller weights: an Istio VirtualService (its named http routes, all when none) or an HTTPRoute. */
  route: { kind: 'VirtualService'; name: string; routes: string[] } | { kind: 'HTTPRoute'; name: string };
  scaleDownDelaySeconds: number;
  abortScaleDownDelaySeconds: number;
}

interface CanarySpec {
  canaryService?: string;
  stableService?: string;
  scaleDownDelaySeconds?: number;
  abortScaleDownDelaySeconds?: number;
  trafficRouting?: {
    istio?: { virtualService?: { name?: string; routes?: string[] } };
    plugins?: Record<string, { httpRoute?: string }>;
  };
}

/** A canary's traffic routing, when its spec has one the sandbox serves (with both Services, as Argo requires). */
export function canaryRouting(canary: CanarySpec | undefined): CanaryRouting | undefined {
  const vs = canary?.trafficRouting?.istio?.virtualService;
  const httpRoute = canary?.trafficRouting?.plugins?.[GATEWAY_PLUGIN]?.httpRoute;
  if (!(vs?.name || httpRoute) || !canary?.canaryService || !canary?.stableService) return undefined;
  return {
    canaryService: canary.canaryService,
    stableService: canary.stableService,
    route: vs?.name ? { kind: 'VirtualService', name: vs.name, routes: vs.routes ?? [] } : { kind: 'HTTPRoute', name: httpRoute! },
    scaleDownDelaySeconds: canary.scaleDownDelaySeconds ?? 30,
    abortScaleDownDelaySeconds: canary.abortScaleDownDelaySeconds ?? 30,
  };
}

/**
 * The stable and canary Services pinned to their ReplicaSets by hash, and on the route the canary
 * Service's backend gets `weight`, the stable Service's the rest; `status.canary.weights` says so.
 */
export function routeCanary(store: ObjectStore, r: KObject, s: Status, routing: CanaryRouting, weight: number): void {
  pinService(store, r, routing.stableService, s.stableRS);
  pinService(store, r, routing.canaryService, s.currentPodHash);
  const def = routing.route.kind === 'VirtualService' ? VIRTUAL_SERVICES : HTTP_ROUTES;
  const route = store.peek(def, r.metadata.namespace, routing.route.name);
  if (route) {
    const next = clone(route);
    const set = (service: string | undefined, w: { weight?: number }) => {
      if (service === routing.canaryService) w.weight = weight;
      else if (service === routing.stableService) w.weight = 100 - weight;
    };
    if (routing.route.kind === 'VirtualService') {
      const named = routing.route.routes;
      for (const h of (next.spec?.http ?? []) as Array<{
        name?: string;
        route?: Array<{ destination?: { host?: string }; weight?: number }>;
      }>)
        if (!named.length || named.includes(h.name ?? '')) for (const d of h.route ?? []) set(d.destination?.host?.split('.')[0], d);
    } else {
      for (const rule of (next.spec?.rules ?? []) as Array<{ backendRefs?: Array<{ name?: string; weight?: number }> }>)
        for (const b of rule.backendRefs ?? []) set(b.name, b);
    }
    if (!deepEqual(next.spec, route.spec)) store.update(def, next);
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
