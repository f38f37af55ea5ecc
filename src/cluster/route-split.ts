// Exact canary weights in a user's route, as pure functions over the route's JSON: which rules
// send traffic to the stable Service, the same rules with the canary Service beside it at a
// weight, and whether the gateway has accepted a generation. Two route types share one shape:
// a Gateway API HTTPRoute (`spec.rules[].backendRefs[]`) and an Istio VirtualService
// (`spec.http[].route[]`). The I/O is in traffic-router.ts.
//
// What Shipbot leaves behind: the route as its owner wrote it, plus the canary Service as a
// backend at weight 0 in each rule that routes to the stable Service. Leaving it (not removing
// it) makes rollback and release the same single write, and a later run finds it in place.

import { serviceOfHost } from '../domain/text.js';

export type RouterKind = 'HTTPRoute' | 'VirtualService';

/** How client-node and RBAC name each route type. */
export const ROUTE_RESOURCES: Record<RouterKind, { group: string; version: string; plural: string }> = {
  HTTPRoute: { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' },
  VirtualService: { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' },
};

/** The label a route carries while a Shipbot canary holds it (GitOps tools can ignore drift on it). */
export const HOLD_LABEL = 'shipbot/canary';

export interface SplitTarget {
  kind: RouterKind;
  namespace: string;
  /** The Service users reach now, and the canary's. */
  stable: string;
  canary: string;
  /** VirtualService only: the named http routes to split (default: every one that routes to the stable Service). */
  routes?: string[];
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

const ruleName = (r: Json) => (typeof r.name === 'string' ? r.name : undefined);

const SHAPES = {
  HTTPRoute: {
    rules: 'rules',
    backends: 'backendRefs',
    serviceOf: (b: Json, ns: string) =>
      (b.kind ?? 'Service') === 'Service' && (b.group ?? '') === '' && (!b.namespace || b.namespace === ns) && typeof b.name === 'string'
        ? b.name
        : undefined,
    // The CRD defaults weight to 1; Shipbot's canary copy keeps the stable's port and filters.
    canaryOf: (b: Json, canary: string): Json => ({ ...b, name: canary }),
    defaultWeight: () => 1,
  },
  VirtualService: {
    rules: 'http',
    backends: 'route',
    serviceOf: (b: Json, ns: string) => serviceOfHost(isObj(b.destination) ? b.destination.host : undefined, ns),
    // Same host form as the stable's (short or FQDN), no subset: the canary Service selects its pods.
    canaryOf: (b: Json, canary: string): Json => {
      const d = isObj(b.destination) ? b.destination : {};
      const host = String(d.host);
      const { subset: _subset, ...rest } = d;
      return { ...b, destination: { ...rest, host: `${canary}${host.slice(host.indexOf('.') === -1 ? host.length : host.indexOf('.'))}` } };
    },
    // Istio: a lone destination takes all traffic; beside others an unset weight is 0.
    defaultWeight: (backends: number) => (backends === 1 ? 100 : 0),
  },
} as const;

export interface SplitRule {
  index: number;
  /** The stable backend's weight as the route says now (type defaults applied). */
  stableWeight: number;
  canaryWeight: number;
}

export interface SplitPlan {
  rules: SplitRule[];
  /** Why this route cannot be split safely; empty when it can. */
  problems: string[];
}

function rulesOf(target: SplitTarget, spec: unknown): Json[] {
  const list = isObj(spec) ? spec[SHAPES[target.kind].rules] : undefined;
  return Array.isArray(list) ? list.filter(isObj) : [];
}

function backendsOf(target: SplitTarget, rule: Json): Json[] {
  const list = rule[SHAPES[target.kind].backends];
  return Array.isArray(list) ? list.filter(isObj) : [];
}

/** The rules of `spec` that route to the stable Service, and what stops Shipbot splitting them. */
export function splitPlan(target: SplitTarget, spec: unknown, routeName: string): SplitPlan {
  const shape = SHAPES[target.kind];
  const rules: SplitRule[] = [];
  const problems: string[] = [];
  const where = `${target.kind} ${routeName}`;
  rulesOf(target, spec).forEach((rule, index) => {
    if (target.routes?.length && !target.routes.includes(ruleName(rule) ?? '')) return;
    const backends = backendsOf(target, rule);
    const weight = (b: Json) => (typeof b.weight === 'number' ? b.weight : shape.defaultWeight(backends.length));
    const stable = backends.filter((b) => shape.serviceOf(b, target.namespace) === target.stable);
    if (stable.length === 0) return;
    const canary = backends.filter((b) => shape.serviceOf(b, target.namespace) === target.canary);
    const others = backends.filter((b) => !stable.includes(b) && !canary.includes(b) && weight(b) > 0);
    const label = ruleName(rule) ? `rule '${ruleName(rule)}'` : `rule ${index + 1}`;
    if (stable.length > 1 || canary.length > 1)
      problems.push(`${where}: ${label} names ${target.stable} or ${target.canary} more than once`);
    else if (others.length) {
      problems.push(
        `${where}: ${label} also sends traffic to ${others.map((b) => shape.serviceOf(b, target.namespace) ?? 'another backend').join(', ')}; Shipbot splits only rules that route to ${target.stable} alone`,
      );
    } else rules.push({ index, stableWeight: weight(stable[0]!), canaryWeight: canary[0] ? weight(canary[0]) : 0 });
  });
  if (rules.length === 0 && problems.length === 0) problems.push(`${where} has no rule that routes to Service ${target.stable}`);
  return { rules, problems };
}

/**
 * `spec` with the canary at `pct` percent in every split rule: weights (100 − pct, pct). At 0
 * the stable backend gets back `original[index]`, its weight as first found.
 */
export function withCanaryWeight(
  target: SplitTarget,
  spec: Json,
  routeName: string,
  pct: number,
  original: ReadonlyArray<number | null>,
): Json {
  const shape = SHAPES[target.kind];
  const plan = splitPlan(target, spec, routeName);
  if (plan.problems.length) throw new Error(plan.problems.join('; '));
  const p = Math.max(0, Math.min(100, Math.round(pct)));
  const rules = rulesOf(target, spec).map((rule, index) => {
    if (!plan.rules.some((r) => r.index === index)) return rule;
    const backends = backendsOf(target, rule);
    const stable = backends.find((b) => shape.serviceOf(b, target.namespace) === target.stable)!;
    // Released: the weight as first found (a weight of 0 there would leave nothing serving).
    const stableWeight = p === 0 ? Math.max(0, original[index] ?? 0) || 100 : 100 - p;
    const rest = backends.filter((b) => b !== stable && shape.serviceOf(b, target.namespace) !== target.canary);
    // Stable first, canary right after it, other (weight-0) backends as they were.
    return {
      ...rule,
      [shape.backends]: [{ ...stable, weight: stableWeight }, { ...shape.canaryOf(stable, target.canary), weight: p }, ...rest],
    };
  });
  return { ...spec, [shape.rules]: rules };
}

/** The stable weights as first found, per rule index (null where the rule is not split). */
export function originalWeights(target: SplitTarget, spec: unknown, routeName: string): Array<number | null> {
  const plan = splitPlan(target, spec, routeName);
  return rulesOf(target, spec).map((_, i) => plan.rules.find((r) => r.index === i)?.stableWeight ?? null);
}

export type Acceptance = { state: 'accepted' | 'pending' | 'unreported' } | { state: 'rejected'; detail: string };

/**
 * Whether the implementation has taken generation `generation` of a route. Gateway API
 * controllers write `status.parents[].conditions` (Accepted, ResolvedRefs) with the generation
 * they saw; Istio (with status enabled) writes `status.conditions` Reconciled. A route with no
 * status at all is from an implementation that does not report: there is nothing to wait for.
 */
export function acceptance(
  route: { metadata?: { generation?: number }; status?: unknown },
  generation = route.metadata?.generation ?? 0,
): Acceptance {
  const status = isObj(route.status) ? route.status : {};
  const parents = Array.isArray(status.parents) ? status.parents.filter(isObj) : [];
  const groups = parents.length
    ? parents.map((p) => ({
        who: isObj(p.parentRef) ? String(p.parentRef.name ?? 'parent') : 'parent',
        conditions: Array.isArray(p.conditions) ? p.conditions.filter(isObj) : [],
      }))
    : Array.isArray(status.conditions)
      ? [{ who: 'istiod', conditions: status.conditions.filter(isObj) }]
      : [];
  if (groups.length === 0) return { state: 'unreported' };
  for (const g of groups) {
    const current = g.conditions.filter((c) => typeof c.observedGeneration !== 'number' || c.observedGeneration >= generation);
    const accepted = current.find((c) => c.type === 'Accepted' || c.type === 'Reconciled');
    if (!accepted) return { state: 'pending' };
    const bad = current.find(
      (c) => (c.type === 'Accepted' || c.type === 'Reconciled' || c.type === 'ResolvedRefs') && c.status === 'False',
    );
    if (bad)
      return {
        state: 'rejected',
        detail: `${g.who}: ${String(bad.type)}=False (${String(bad.reason ?? '')}): ${String(bad.message ?? '')}`,
      };
    if (accepted.status !== 'True') return { state: 'pending' };
  }
  return { state: 'accepted' };
}
