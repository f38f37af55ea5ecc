// Exact canary weights through a route, for both routers, on `web` (3 replicas, `app=web` only),
// against the sandbox over HTTPS: the share each step really serves (measured from the sandbox's
// metrics) is the weight, rollback is one route write, every call is idempotent, and the route
// is left as documented (src/cluster/route-split.ts): as written plus the canary at weight 0.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDriver } from '../../src/cluster/index.js';
import type { DriverDeps } from '../../src/cluster/common.js';
import { ROUTE_RESOURCES, type RouterKind } from '../../src/cluster/route-split.js';
import type { RolloutDriver, RolloutState, WorkloadRef } from '../../src/cluster/types.js';
import type { MetricSample } from '../../src/domain/types.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { resourceByKind } from '../../src/sandbox/resources.js';
import { HTTP_ROUTES, VIRTUAL_SERVICES, userSplit } from '../../src/sandbox/routes.js';
import { kubeOf, sandboxFetch } from '../helpers/sandbox-access.js';
import { planFor, refFor, sandbox, serving } from './sandbox.js';

const NS = 'production';
const mergeOptions = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const ROUTERS: Record<
  RouterKind,
  { routing: WorkloadRef['trafficRouting']; body: Record<string, unknown>; backends: (spec: Record<string, unknown>) => unknown[] }
> = {
  HTTPRoute: {
    routing: { gatewayAPI: { httpRoute: 'web' } },
    body: {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'web', namespace: NS, labels: { team: 'storefront' } },
      spec: {
        parentRefs: [{ name: 'shop-gateway' }],
        hostnames: ['shop.example.com'],
        rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
      },
    },
    backends: (spec) => (spec.rules as Array<{ backendRefs: unknown[] }>)[0]!.backendRefs,
  },
  VirtualService: {
    routing: { istio: { virtualService: 'web', routes: ['primary'] } },
    body: {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'web', namespace: NS, labels: { team: 'storefront' } },
      spec: {
        hosts: ['web'],
        http: [{ name: 'primary', route: [{ destination: { host: 'web.production.svc.cluster.local', port: { number: 80 } } }] }],
      },
    },
    backends: (spec) => (spec.http as Array<{ route: unknown[] }>)[0]!.route,
  },
};

/** The route after a run, success or rollback, as route-split.ts documents it. */
const LEFT_AS: Record<RouterKind, unknown[]> = {
  HTTPRoute: [
    { group: '', kind: 'Service', name: 'web', port: 80, weight: 1 },
    { group: '', kind: 'Service', name: 'web-canary', port: 80, weight: 0 },
  ],
  VirtualService: [
    { destination: { host: 'web.production.svc.cluster.local', port: { number: 80 } }, weight: 100 },
    { destination: { host: 'web-canary.production.svc.cluster.local', port: { number: 80 } }, weight: 0 },
  ],
};

describe.each(['HTTPRoute', 'VirtualService'] as const)('canary through a %s on a 3-replica workload', (kind) => {
  let sb: Sandbox;
  let deps: DriverDeps;
  let driver: RolloutDriver;
  const router = ROUTERS[kind];
  const ref: WorkloadRef = { ...refFor('web'), trafficRouting: router.routing };
  const def = kind === 'HTTPRoute' ? HTTP_ROUTES : VIRTUAL_SERVICES;
  /** Writes that changed the route's spec (status updates excluded). */
  let routeWrites: Array<{ canaryFraction: number; stableImages: string[] }>;

  beforeEach(async () => {
    ({ sb, deps } = await sandbox());
    driver = createDriver('canary', deps);
    await kubeOf(sb).custom.createNamespacedCustomObject({ ...ROUTE_RESOURCES[kind], namespace: NS, body: router.body });
    routeWrites = [];
    sb.store.onChange((c) => {
      if (c.def !== def || c.type !== 'MODIFIED' || c.previous?.metadata.generation === c.object.metadata.generation) return;
      // What users get the instant the write lands: the canary's fraction and the stable Service's pods.
      const canaryFraction = userSplit(sb.store, NS, 'web').find((b) => b.service === 'web-canary')?.fraction ?? 0;
      const svc = sb.store.peek(resourceByKind('Service'), NS, 'web');
      const pods = sb.store
        .list(resourceByKind('Pod'), NS)
        .filter((p) => Object.entries(svc?.spec?.selector ?? {}).every(([k, v]) => p.metadata.labels?.[k] === v));
      routeWrites.push({ canaryFraction, stableImages: [...new Set(pods.map((p) => String(p.spec?.containers?.[0]?.image)))] });
    });
  });
  afterEach(() => sb.close());

  const readRoute = async () =>
    (await kubeOf(sb).custom.getNamespacedCustomObject({ ...ROUTE_RESOURCES[kind], namespace: NS, name: 'web' })) as {
      metadata: { labels?: Record<string, string> };
      spec: Record<string, unknown>;
    };

  async function metrics(track?: string): Promise<MetricSample> {
    const q = new URLSearchParams({ namespace: NS, service: 'web', windowSec: '55', ...(track !== undefined ? { track } : {}) });
    return (await (await sandboxFetch(sb)(`/sandbox/v1/metrics?${q}`)).json()) as MetricSample;
  }

  it('serves each step at its weight (±1.5 points of requests), with the canary sized for its share, then ends on the new version', async () => {
    const plan = { ...planFor('web', 'v2.0.0', 'canary'), canarySteps: [5, 10, 25, 50, 100] };
    const checks = await driver.preflight(ref, plan.version, plan);
    expect(checks.find((c) => c.name === 'traffic routing')).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/^.+ web splits 1 rule to web: exact weights at every step \(5% is 95\/5\)$/),
    });
    let state: RolloutState = await driver.prepare(ref, plan);
    expect((await readRoute()).metadata.labels).toEqual({ team: 'storefront', 'shipbot/canary': 'v2.0.0' });
    for (const stage of driver.stages(plan, state).slice(0, 4)) {
      state = await driver.applyStage(ref, state, stage);
      expect(state).toMatchObject({ strategy: 'canary', servedPct: stage.trafficPct });
      await deps.clock.sleep(60_000);
      const [canary, all] = [await metrics('canary'), await metrics()];
      const share = (100 * canary.requests) / all.requests;
      expect(Math.abs(share - stage.trafficPct), `${stage.key}: ${canary.requests} of ${all.requests} requests`).toBeLessThanOrEqual(1.5);
      const d = await kubeOf(sb).apps.readNamespacedDeployment({ name: 'web-canary', namespace: NS });
      expect(d.spec?.replicas, stage.key).toBe(Math.max(1, Math.ceil((3 * stage.trafficPct) / 100)));
    }
    expect(router.backends((await readRoute()).spec)).toHaveLength(2);
    state = await driver.applyStage(ref, state, driver.stages(plan, state).at(-1)!);
    const after = await readRoute();
    expect(router.backends(after.spec)).toEqual(LEFT_AS[kind]);
    expect(after.metadata.labels).toEqual({ team: 'storefront' });
    // All traffic to Services whose pods run the new version, the stable Service unpinned.
    expect((await serving(sb, ref)).byVersion).toEqual({ 'v2.0.0': 100 });
    expect((await serving(sb, ref)).selector).toEqual({ app: 'web' });
  });

  it.each([5, 25, 50])('rollback from the %i percent step restores all traffic to stable in one route write', async (pct) => {
    const plan = { ...planFor('web', 'v2.0.0-errors', 'canary'), canarySteps: [pct, 100] };
    let state = await driver.prepare(ref, plan);
    state = await driver.applyStage(ref, state, driver.stages(plan, state)[0]!);
    const before = routeWrites.length;
    state = await driver.rollback(ref, state);
    const writes = routeWrites.slice(before);
    expect(writes).toEqual([{ canaryFraction: 0, stableImages: ['registry.example.com/shop/web:v1.2.2'] }]);
    expect(await driver.verifyRollback(ref, state)).toMatchObject({ ok: true, oldTrafficPct: 100 });
    expect(router.backends((await readRoute()).spec)).toEqual(LEFT_AS[kind]);
    expect((await readRoute()).metadata.labels).toEqual({ team: 'storefront' });
    expect((await serving(sb, ref)).selector).toEqual({ app: 'web' });
  });

  it('every call is idempotent: repeated, it writes nothing more', async () => {
    const plan = { ...planFor('web', 'v2.0.0', 'canary'), canarySteps: [10, 100] };
    const first = await driver.prepare(ref, plan);
    expect(await driver.prepare(ref, plan)).toEqual(first);
    const stage = driver.stages(plan, first)[0]!;
    let state = await driver.applyStage(ref, first, stage);
    const writes = routeWrites.length;
    expect(await driver.applyStage(ref, state, stage)).toEqual(state);
    expect(routeWrites.length).toBe(writes);
    state = await driver.rollback(ref, state);
    expect(await driver.rollback(ref, state)).toEqual(state);
    expect(routeWrites.length).toBe(writes + 1);
  });

  it('preflight refuses a route it cannot split, and a missing one, saying why', async () => {
    const plan = planFor('web', 'v2.0.0', 'canary');
    const spec = structuredClone(router.body.spec) as Record<string, unknown>;
    const list = router.backends(spec) as Array<Record<string, unknown>>;
    list.push(kind === 'HTTPRoute' ? { name: 'legacy-web', port: 80, weight: 1 } : { destination: { host: 'legacy-web' }, weight: 50 });
    if (kind === 'VirtualService') list[0]!.weight = 50;
    await kubeOf(sb).custom.patchNamespacedCustomObject(
      { ...ROUTE_RESOURCES[kind], namespace: NS, name: 'web', body: { spec } },
      mergeOptions,
    );
    const shared = (await driver.preflight(ref, plan.version, plan)).find((c) => c.name === 'traffic routing');
    expect(shared).toMatchObject({
      ok: false,
      severity: 'error',
      detail: expect.stringMatching(/also sends traffic to legacy-web; Shipbot splits only rules that route to web alone/),
    });
    const missing = (
      await driver.preflight(
        { ...ref, trafficRouting: kind === 'HTTPRoute' ? { gatewayAPI: { httpRoute: 'nope' } } : { istio: { virtualService: 'nope' } } },
        plan.version,
        plan,
      )
    ).find((c) => c.name === 'traffic routing');
    expect(missing).toMatchObject({ ok: false, detail: expect.stringMatching(/^(HTTPRoute|VirtualService) nope not found in production/) });
  });
});
