// The sandbox treats HTTPRoutes and VirtualServices as a cluster with Gateway API and Istio
// would: CRD defaults and validation, the gateway's status per parentRef, and users reaching a
// Service through its routes, split by weight whatever the replica counts.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetricSample } from '../../src/domain/types.js';
import { deployment, startFixture, statusOf, waitFor, type Fixture } from './helpers.js';

let f: Fixture;
let custom: CustomObjectsApi;
const HTTPROUTES = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' };
const VIRTUALSERVICES = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' };
const namespace = 'default';

beforeEach(async () => {
  f = await startFixture();
  custom = f.kc.makeApiClient(CustomObjectsApi);
  // Two versions of one app, 3 pods each, each behind its own Service: replica counts would give 50/50.
  for (const [name, track] of [
    ['shop', 'stable'],
    ['shop-canary', 'canary'],
  ] as const) {
    const d = deployment(name, `registry.example.com/shop:${track === 'stable' ? 'v1' : 'v2'}`, 3);
    d.spec!.selector = { matchLabels: { app: 'shop', track } };
    d.spec!.template.metadata = { labels: { app: 'shop', track } };
    await f.apps.createNamespacedDeployment({ namespace, body: d });
    await f.core.createNamespacedService({
      namespace,
      body: {
        metadata: { name, ...(track === 'canary' ? { labels: { 'shipbot/role': 'preview' } } : {}) },
        spec: { selector: { app: 'shop', track }, ports: [{ port: 80 }] },
      },
    });
  }
});
afterEach(() => f.sandbox.close());

const httpRoute = (weights: [number, number], extraRules: unknown[] = []) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'shop' },
  spec: {
    parentRefs: [{ name: 'gw-a' }, { name: 'gw-b', sectionName: 'https' }],
    rules: [
      {
        backendRefs: [
          { name: 'shop', port: 80, weight: weights[0] },
          { name: 'shop-canary', port: 80, weight: weights[1] },
        ],
      },
      ...extraRules,
    ],
  },
});

async function canaryShareOverMinute(): Promise<number> {
  await waitFor(
    'pods ready',
    async () =>
      (await f.core.listNamespacedPod({ namespace })).items.filter((p) =>
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      ).length === 6,
  );
  const start = f.sandbox.clock.now();
  await f.sandbox.clock.sleep(120_000);
  const windowSec = Math.floor((f.sandbox.clock.now() - start) / 1000) - 5;
  const get = async (track: string) =>
    (await (
      await f.fetch(`${f.sandbox.url}/sandbox/v1/metrics?namespace=${namespace}&service=shop&track=${track}&windowSec=${windowSec}`)
    ).json()) as MetricSample;
  const [canary, stable] = [await get('canary'), await get('stable')];
  return (100 * canary.requests) / (canary.requests + stable.requests);
}

describe('routes in the sandbox', () => {
  it('an HTTPRoute at 95/5 sends about 5% of the users to the canary, though it has as many pods', async () => {
    await custom.createNamespacedCustomObject({ ...HTTPROUTES, namespace, body: httpRoute([95, 5]) });
    expect(Math.abs((await canaryShareOverMinute()) - 5)).toBeLessThan(1.5);
    // The overview: the Service's users through the route; the preview Service only its own pods.
    const o = (await (await f.fetch(`${f.sandbox.url}/sandbox/v1/overview`)).json()) as {
      services: Array<{
        name: string;
        routes: Array<{ backends: Array<{ service: string; pct: number }> }>;
        versions: Array<{ version: string; trafficPct: number }>;
      }>;
    };
    const shop = o.services.find((x) => x.name === 'shop')!;
    expect(shop.routes[0]!.backends.map((b) => [b.service, b.pct])).toEqual([
      ['shop', 95],
      ['shop-canary', 5],
    ]);
    // (sorted by track: canary, then stable)
    expect(shop.versions.map((v) => [v.version, v.trafficPct])).toEqual([
      ['v2', 5],
      ['v1', 95],
    ]);
    const preview = o.services.find((x) => x.name === 'shop-canary')!;
    expect(preview.routes).toEqual([]);
    expect(preview.versions.map((v) => [v.version, v.trafficPct])).toEqual([['v2', 100]]);
  });

  it("a VirtualService splits by its destinations' weights; a rule matching a header carries no users", async () => {
    await custom.createNamespacedCustomObject({
      ...VIRTUALSERVICES,
      namespace,
      body: {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'shop' },
        spec: {
          hosts: ['shop'],
          http: [
            { name: 'smoke', match: [{ headers: { 'x-canary': { exact: '1' } } }], route: [{ destination: { host: 'shop-canary' } }] },
            {
              name: 'primary',
              route: [
                { destination: { host: 'shop.default.svc.cluster.local' }, weight: 80 },
                { destination: { host: 'shop-canary' }, weight: 20 },
              ],
            },
          ],
        },
      },
    });
    expect(Math.abs((await canaryShareOverMinute()) - 20)).toBeLessThan(1.5);
  });

  it('without a route, the Service spreads its users over its own pods', async () => {
    expect(await canaryShareOverMinute()).toBe(0);
  });

  it('applies the CRD defaults, refuses bad weights, and writes Accepted per parentRef at the current generation', async () => {
    const created = (await custom.createNamespacedCustomObject({
      ...HTTPROUTES,
      namespace,
      body: { ...httpRoute([1, 0]), spec: { parentRefs: [{ name: 'gw-a' }], rules: [{ backendRefs: [{ name: 'shop', port: 80 }] }] } },
    })) as {
      spec: { parentRefs: unknown[]; rules: unknown[] };
    };
    expect(created.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw-a' }]);
    expect(created.spec.rules).toEqual([
      {
        matches: [{ path: { type: 'PathPrefix', value: '/' } }],
        backendRefs: [{ group: '', kind: 'Service', name: 'shop', port: 80, weight: 1 }],
      },
    ]);
    const bad = await statusOf(
      custom.createNamespacedCustomObject({ ...HTTPROUTES, namespace, body: { ...httpRoute([-1, 0]), metadata: { name: 'bad' } } }),
    );
    expect(bad).toMatchObject({ code: 422, reason: 'Invalid', message: expect.stringContaining('spec.rules[0].backendRefs[0].weight') });
    const noPort = await statusOf(
      custom.createNamespacedCustomObject({
        ...HTTPROUTES,
        namespace,
        body: { ...httpRoute([1, 0]), metadata: { name: 'noport' }, spec: { rules: [{ backendRefs: [{ name: 'shop' }] }] } },
      }),
    );
    expect(noPort.message).toContain('Must have port for Service reference');

    await custom.replaceNamespacedCustomObject({
      ...HTTPROUTES,
      namespace,
      name: 'shop',
      body: { ...(await custom.getNamespacedCustomObject({ ...HTTPROUTES, namespace, name: 'shop' })), spec: httpRoute([90, 10]).spec },
    });
    const route = await waitFor('status at generation 2', async () => {
      const r = (await custom.getNamespacedCustomObject({ ...HTTPROUTES, namespace, name: 'shop' })) as {
        metadata: { generation: number };
        status?: {
          parents?: Array<{
            parentRef: { name: string };
            controllerName: string;
            conditions: Array<{ type: string; status: string; observedGeneration: number }>;
          }>;
        };
      };
      return r.status?.parents?.length === 2 && r.status.parents.every((p) => p.conditions[0]?.observedGeneration === 2) ? r : undefined;
    });
    expect(route.metadata.generation).toBe(2);
    expect(
      route.status!.parents!.map((p) => [p.parentRef.name, p.controllerName, p.conditions.map((c) => `${c.type}=${c.status}`).join(',')]),
    ).toEqual([
      ['gw-a', 'sandbox.shipbot.dev/gateway-controller', 'Accepted=True,ResolvedRefs=True'],
      ['gw-b', 'sandbox.shipbot.dev/gateway-controller', 'Accepted=True,ResolvedRefs=True'],
    ]);
    // Strategic merge patch is for built-in types only.
    const smp = await fetchPatch('application/strategic-merge-patch+json');
    expect(smp.status).toBe(415);
    expect((await fetchPatch('application/merge-patch+json')).status).toBe(200);
  });
});

function fetchPatch(type: string): Promise<Response> {
  return f.fetch(`${f.sandbox.url}/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/httproutes/shop`, {
    method: 'PATCH',
    headers: { 'content-type': type },
    body: JSON.stringify({ metadata: { labels: { a: 'b' } } }),
  });
}
