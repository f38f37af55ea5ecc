// Traffic routes as a cluster with Gateway API and Istio installed treats them: which Services
// a Service's users really reach (split by the route's backend weights), and the status a
// gateway controller writes on an HTTPRoute. Users send no special headers, so rules that
// match on a header carry none of their traffic.
import { serviceOfHost } from '../domain/text.js';
import { isPlainObject, type KObject } from './objects.js';
import { resourceByKind } from './resources.js';
import type { ObjectStore } from './store.js';

export const HTTP_ROUTES = resourceByKind('HTTPRoute');
export const VIRTUAL_SERVICES = resourceByKind('VirtualService');
/** What the sandbox's gateway calls itself in `status.parents[].controllerName`. */
export const GATEWAY_CONTROLLER = 'sandbox.shipbot.dev/gateway-controller';

/** One backend of a route rule: a Service in the route's namespace and its weight. */
export interface RouteBackend {
  service: string;
  weight: number;
}

/** A rule (HTTPRoute) or http route (VirtualService) that ordinary users' requests take. */
export interface UserRule {
  route: string;
  kind: 'HTTPRoute' | 'VirtualService';
  backends: RouteBackend[];
}

const hasHeaderMatch = (matches: unknown): boolean =>
  Array.isArray(matches) &&
  matches.length > 0 &&
  matches.every((m) => isPlainObject(m) && Array.isArray(m.headers) && m.headers.length > 0);

type Json = Record<string, unknown>;

/** A rule's backendRefs that name a Service in the route's own namespace (no ReferenceGrants here). */
function serviceRefs(rule: Json, namespace: string): RouteBackend[] {
  return ((rule.backendRefs as unknown[]) ?? [])
    .filter(
      (b): b is Json =>
        isPlainObject(b) && (b.kind ?? 'Service') === 'Service' && (b.group ?? '') === '' && (!b.namespace || b.namespace === namespace),
    )
    .map((b) => ({ service: String(b.name), weight: typeof b.weight === 'number' ? b.weight : 1 }));
}

const rulesOf = (route: KObject): Json[] => ((route.spec?.rules ?? []) as unknown[]).filter(isPlainObject);

function httpRouteRules(route: KObject, namespace: string): UserRule[] {
  return rulesOf(route)
    .filter((r) => !hasHeaderMatch(r.matches))
    .map((r) => ({ route: route.metadata.name!, kind: 'HTTPRoute' as const, backends: serviceRefs(r, namespace) }));
}

function virtualServiceRules(vs: KObject, namespace: string): UserRule[] {
  const http: unknown[] = vs.spec?.http ?? [];
  return http
    .filter((r): r is Json => isPlainObject(r) && !hasHeaderMatch(r.match))
    .map((r) => {
      const dests = ((r.route as unknown[]) ?? []).filter(isPlainObject);
      return {
        route: vs.metadata.name!,
        kind: 'VirtualService' as const,
        backends: dests
          .map((d) => ({
            service: serviceOfHost((d.destination as Json | undefined)?.host, namespace),
            weight: dests.length === 1 ? 100 : typeof d.weight === 'number' ? d.weight : 0,
          }))
          .filter((b): b is RouteBackend => b.service !== undefined),
      };
    });
}

/** The user rules in `namespace` that send traffic to Service `service`, routes in name order. */
export function userRulesTo(store: ObjectStore, namespace: string, service: string): UserRule[] {
  const rules = [
    ...store.list(HTTP_ROUTES, namespace).flatMap((r) => httpRouteRules(r, namespace)),
    ...store.list(VIRTUAL_SERVICES, namespace).flatMap((v) => virtualServiceRules(v, namespace)),
  ];
  return rules.filter((r) => r.backends.some((b) => b.service === service));
}

/**
 * Where the users of Service `service` go: each backend Service with its fraction of their
 * requests. Without a route, the Service itself. Several rules share the users evenly; a rule
 * whose weights are all 0 serves nothing (a gateway answers 500 there).
 */
export function userSplit(store: ObjectStore, namespace: string, service: string): Array<{ service: string; fraction: number }> {
  const rules = userRulesTo(store, namespace, service);
  if (rules.length === 0) return [{ service, fraction: 1 }];
  const out = new Map<string, number>();
  for (const r of rules) {
    const total = r.backends.reduce((n, b) => n + Math.max(0, b.weight), 0);
    if (total <= 0) continue;
    for (const b of r.backends) out.set(b.service, (out.get(b.service) ?? 0) + Math.max(0, b.weight) / total / rules.length);
  }
  return [...out].map(([s, fraction]) => ({ service: s, fraction }));
}

/**
 * The gateway controller: every HTTPRoute's `status.parents` says, per parentRef, that the
 * route is Accepted at its current generation, and whether its backends resolve.
 */
export function syncRouteStatus(store: ObjectStore, now: number): void {
  const services = resourceByKind('Service');
  for (const route of store.list(HTTP_ROUTES)) {
    const ns = route.metadata.namespace!;
    const generation = route.metadata.generation ?? 1;
    const missing = [...new Set(rulesOf(route).flatMap((r) => serviceRefs(r, ns).map((b) => b.service)))].filter(
      (s) => !store.peek(services, ns, s),
    );
    const previous: Json[] = route.status?.parents ?? [];
    const stamp = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'); // RFC 3339 in seconds, as the API server writes it
    const condition = (type: string, ok: boolean, reason: string, message: string) => {
      const before = previous.flatMap((p) => (p.conditions as Json[]) ?? []).find((c) => c.type === type);
      const status = ok ? 'True' : 'False';
      return {
        type,
        status,
        reason,
        message,
        observedGeneration: generation,
        lastTransitionTime: before?.status === status ? before.lastTransitionTime : stamp,
      };
    };
    const parents = ((route.spec?.parentRefs ?? []) as unknown[]).filter(isPlainObject).map((parentRef) => ({
      parentRef,
      controllerName: GATEWAY_CONTROLLER,
      conditions: [
        condition('Accepted', true, 'Accepted', 'Route is accepted'),
        missing.length
          ? condition('ResolvedRefs', false, 'BackendNotFound', `backend Service not found: ${missing.map((s) => `${ns}/${s}`).join(', ')}`)
          : condition('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved'),
      ],
    }));
    if (JSON.stringify(parents) === JSON.stringify(previous)) continue;
    store.update(HTTP_ROUTES, { ...route, status: { parents } });
  }
}
