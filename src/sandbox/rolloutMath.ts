// The Deployment controller's arithmetic, as in kubernetes/pkg/controller/deployment/util:
// how many pods a rolling update may add and remove at each step; and Argo Rollouts' canary
// counts. Pure.

/** `25%` of `total`, rounded up (surge) or down (unavailable); plain numbers pass through. */
export function resolveIntOrPercent(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+%$/.test(v)) {
    const x = (parseInt(v, 10) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  if (typeof v === 'string' && /^\d+$/.test(v)) return parseInt(v, 10);
  return 0;
}

/** maxSurge and maxUnavailable; when both resolve to 0, one pod may be unavailable. */
export function surgeAndUnavailable(rollingUpdate: { maxSurge?: unknown; maxUnavailable?: unknown } | undefined, replicas: number) {
  const surge = resolveIntOrPercent(rollingUpdate?.maxSurge ?? '25%', replicas, true);
  let unavailable = resolveIntOrPercent(rollingUpdate?.maxUnavailable ?? '25%', replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable: Math.min(unavailable, replicas) };
}

export interface RsCounts {
  name: string;
  /** spec.replicas */
  desired: number;
  /** status.availableReplicas */
  available: number;
}

/** Target size of the new ReplicaSet this step (scale up within maxSurge). */
export function newReplicaSetTarget(replicas: number, surge: number, newRs: RsCounts, all: RsCounts[]): number {
  if (newRs.desired > replicas) return replicas;
  if (newRs.desired === replicas) return replicas;
  const current = all.reduce((s, r) => s + r.desired, 0);
  const maxTotal = replicas + surge;
  if (current >= maxTotal) return newRs.desired;
  return newRs.desired + Math.min(maxTotal - current, replicas - newRs.desired);
}

/**
 * New sizes of the old ReplicaSets this step: first drop their unavailable pods, then scale
 * down oldest-first while keeping `replicas - maxUnavailable` pods available in total.
 */
export function oldReplicaSetTargets(replicas: number, unavailable: number, newRs: RsCounts, old: RsCounts[]): Map<string, number> {
  const out = new Map(old.map((r) => [r.name, r.desired]));
  const oldPods = old.reduce((s, r) => s + r.desired, 0);
  if (oldPods === 0) return out;
  const allPods = oldPods + newRs.desired;
  const minAvailable = replicas - unavailable;
  const newUnavailable = Math.max(0, newRs.desired - newRs.available);
  let maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return out;
  // Unhealthy old pods can go at once: they serve nothing.
  for (const r of old) {
    if (maxScaledDown <= 0) break;
    const unhealthy = Math.max(0, r.desired - r.available);
    const n = Math.min(maxScaledDown, unhealthy);
    if (n > 0) {
      out.set(r.name, r.desired - n);
      maxScaledDown -= n;
    }
  }
  const availableTotal = newRs.available + old.reduce((s, r) => s + Math.min(r.available, out.get(r.name)!), 0);
  let budget = availableTotal - minAvailable;
  for (const r of old) {
    if (budget <= 0) break;
    const cur = out.get(r.name)!;
    if (cur === 0) continue;
    const n = Math.min(cur, budget);
    out.set(r.name, cur - n);
    budget -= n;
  }
  return out;
}

// Argo Rollouts' (utils/replicaset/canary.go)
/** `approximateWeightedCanaryStableReplicaCounts` without surge: [canary, stable] for a weight. */
export function basicCanaryCounts(replicas: number, weight: number): [number, number] {
  if (replicas === 0) return [0, 0];
  const exact = (replicas * weight) / 100;
  const ceil = Math.ceil(exact);
  const floor = Math.floor(exact);
  const zeroAllowed = weight === 100 || weight === 0 || replicas === 1;
  const tied = Math.abs(exact - floor - 0.5) < 1e-9;
  const options: number[] = [];
  if (ceil < replicas || zeroAllowed) options.push(ceil);
  if (!tied && (floor !== 0 || zeroAllowed)) options.push(floor);
  if (!options.length) return [0, replicas];
  const delta = (c: number) => Math.abs(c / replicas - weight / 100);
  const best = options.reduce((b, c) => (delta(c) < delta(b) ? c : b));
  return [best, replicas - best];
}

/** With traffic routing: the canary sized for its weight (at least one pod while it has any), stable whole. */
export function routedCanaryCounts(replicas: number, weight: number): [number, number] {
  return [weight > 0 ? Math.max(1, Math.ceil((replicas * weight) / 100)) : 0, replicas];
}
