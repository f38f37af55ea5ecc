// Traffic, metrics and health on the demo workload: canary share, blue-green cutover,
// Prometheus text from pods, the direct metrics API, overview and scrape targets.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricSample } from '../../src/domain/types.js';
import { startSandbox } from '../../src/sandbox/index.js';
import { resourceByKind } from '../../src/sandbox/resources.js';
import { PROM_BUCKETS_S } from '../../src/sandbox/stats.js';
import { kubeOf } from '../helpers/sandbox-access.js';
import { deployment, rolledOut, startFixture, waitFor, type Fixture } from './helpers.js';

let f: Fixture;

beforeAll(async () => {
  f = await startFixture({ demo: true });
  await waitFor('demo rolled out', async () => (await f.apps.listDeploymentForAllNamespaces()).items.every(rolledOut));
});
afterAll(async () => {
  await f?.sandbox.close();
});

const metrics = async (q: Record<string, string>): Promise<MetricSample> =>
  (await f.fetch(`${f.sandbox.url}/sandbox/v1/metrics?${new URLSearchParams(q)}`)).json() as Promise<MetricSample>;
/** Waits until `virtualMs` of sandbox time have passed. */
const elapse = async (virtualMs: number) => {
  const until = f.sandbox.clock.now() + virtualMs;
  await waitFor(`${virtualMs} ms of sandbox time`, () => f.sandbox.clock.now() >= until);
};
const merge = { ...setHeaderOptions('Content-Type', PatchStrategy.MergePatch) };

describe('demo workload', () => {
  it('runs checkout, payments and search at v1.2.2: 20 replicas in production, 4 in staging; and web and catalog, ordinary 3-replica workloads, catalog behind its HTTPRoute', async () => {
    const all = (await f.apps.listDeploymentForAllNamespaces()).items;
    const got = all
      .map(
        (d) =>
          `${d.metadata?.namespace}/${d.metadata?.name}=${d.spec?.replicas}:${d.spec?.template.spec?.containers[0]?.image?.split(':')[1]}`,
      )
      .sort();
    expect(got).toEqual(
      [
        ...['checkout', 'payments', 'search'].flatMap((s) => [`production/${s}=20:v1.2.2`, `staging/${s}=4:v1.2.2`]),
        'production/web=3:v1.2.2',
        'staging/web=2:v1.2.2',
        'production/catalog=3:v1.2.2',
        'staging/catalog=2:v1.2.2',
      ].sort(),
    );
    const route = (await f.kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: 'gateway.networking.k8s.io',
      version: 'v1',
      plural: 'httproutes',
      namespace: 'production',
      name: 'catalog',
    })) as {
      spec: { rules: Array<{ backendRefs: unknown[] }> };
    };
    expect(route.spec.rules[0]!.backendRefs).toEqual([{ group: '', kind: 'Service', name: 'catalog', port: 80, weight: 1 }]);
    const web = (await f.core.listNamespacedPod({ namespace: 'production', labelSelector: 'app=web' })).items[0]!;
    expect(Object.keys(web.metadata?.labels ?? {}).sort()).toEqual(['app', 'pod-template-hash']);
    const svc = await f.core.readNamespacedService({ name: 'checkout', namespace: 'production' });
    expect(svc.spec?.selector).toEqual({ app: 'checkout' });
    const pod = (await f.core.listNamespacedPod({ namespace: 'production', labelSelector: 'app=checkout' })).items[0]!;
    expect(pod.metadata?.labels).toMatchObject({ app: 'checkout', track: 'stable', version: 'v1.2.2' });
    expect(pod.metadata?.labels?.['pod-template-hash']).toBeTruthy();
  });

  it('serves about 200 req/s per service', async () => {
    await elapse(120_000);
    const m = await metrics({ namespace: 'production', service: 'payments', windowSec: '60' });
    expect(m.throughputRps).toBeGreaterThan(170);
    expect(m.throughputRps).toBeLessThan(230);
  });
});

describe('traffic shares', () => {
  it('gives 1 canary pod of 20 about 5% of the requests', async () => {
    // The canary strategy's shape: stable at 19, one canary pod selected by the same Service.
    await f.apps.patchNamespacedDeployment({ name: 'search', namespace: 'production', body: { spec: { replicas: 19 } } }, merge);
    const canary = deployment('search-canary', 'registry.example.com/shop/search:v1.2.3', 1);
    canary.spec!.selector = { matchLabels: { app: 'search', track: 'canary' } };
    canary.spec!.template.metadata!.labels = { app: 'search', track: 'canary', version: 'v1.2.3' };
    await f.apps.createNamespacedDeployment({ namespace: 'production', body: canary });
    await waitFor('canary ready', async () =>
      rolledOut(await f.apps.readNamespacedDeployment({ name: 'search-canary', namespace: 'production' })),
    );
    await waitFor(
      'stable at 19',
      async () => (await f.apps.readNamespacedDeployment({ name: 'search', namespace: 'production' })).status?.replicas === 19,
    );
    // Shipbot's preview Service for smoke checks reaches the canary pod but brings no users.
    await f.core.createNamespacedService({
      namespace: 'production',
      body: {
        metadata: { name: 'search-canary', labels: { app: 'search', 'shipbot/role': 'preview' } },
        spec: { selector: { app: 'search', track: 'canary' }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    await elapse(600_000);
    const c = await metrics({ namespace: 'production', service: 'search', track: 'canary', windowSec: '300' });
    const s = await metrics({ namespace: 'production', service: 'search', track: 'stable', windowSec: '300' });
    const share = c.requests / (c.requests + s.requests);
    expect(share).toBeGreaterThan(0.035);
    expect(share).toBeLessThan(0.065);
    const byVersion = await metrics({ namespace: 'production', service: 'search', version: 'v1.2.3', windowSec: '300' });
    expect(Math.abs(byVersion.requests - c.requests) / c.requests).toBeLessThan(0.2);
    const overview = await (await f.fetch(`${f.sandbox.url}/sandbox/v1/overview`)).json();
    const search = overview.services.find((x: { namespace: string; name: string }) => x.namespace === 'production' && x.name === 'search');
    expect(search.versions.find((v: { track: string }) => v.track === 'canary')).toMatchObject({
      version: 'v1.2.3',
      readyPods: 1,
      trafficPct: 5,
    });
  });

  it('moves all traffic at once on a blue-green cutover', async () => {
    for (const colour of ['blue', 'green']) {
      const d = deployment(`payments-${colour}`, `registry.example.com/shop/payments:${colour === 'blue' ? 'v1.2.2' : 'v1.2.3'}`, 4);
      d.spec!.selector = { matchLabels: { app: 'payments', track: colour } };
      d.spec!.template.metadata!.labels = { app: 'payments', track: colour };
      await f.apps.createNamespacedDeployment({ namespace: 'staging', body: d });
    }
    await f.core.patchNamespacedService(
      { name: 'payments', namespace: 'staging', body: { spec: { selector: { app: 'payments', track: 'blue' } } } },
      merge,
    );
    await waitFor('both colours ready', async () =>
      (await f.apps.listNamespacedDeployment({ namespace: 'staging' })).items
        .filter((d) => d.metadata?.name?.startsWith('payments-'))
        .every(rolledOut),
    );
    await elapse(60_000);
    const q = (track: string) => metrics({ namespace: 'staging', service: 'payments', track, windowSec: '30' });
    expect((await q('blue')).requests).toBeGreaterThan(1000);
    expect((await q('green')).requests).toBe(0);
    await f.core.patchNamespacedService(
      { name: 'payments', namespace: 'staging', body: { spec: { selector: { app: 'payments', track: 'green' } } } },
      merge,
    );
    await elapse(60_000);
    expect((await q('green')).requests).toBeGreaterThan(1000);
    expect((await q('blue')).requests).toBe(0);
  });
});

describe('metrics', () => {
  it('exposes Prometheus text metrics on every pod through the API proxy', async () => {
    const pod = (await f.core.listNamespacedPod({ namespace: 'production', labelSelector: 'app=checkout' })).items[0]!;
    const res = await f.fetch(`${f.sandbox.url}/api/v1/namespaces/production/pods/${pod.metadata!.name}/proxy/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await res.text();
    expect(text).toContain('# TYPE http_requests_total counter');
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    // The pod's template hash too, as a PodMonitor relabelling it would give it ({{podHash}} selects by it).
    const hash = pod.metadata!.labels!['pod-template-hash'];
    expect(hash).toMatch(/^[a-z0-9]+$/);
    const base = `service="checkout",namespace="production",version="v1.2.2",track="stable",pod_template_hash="${hash}"`;
    const value = (name: string) => {
      const line = text.split('\n').find((l) => l.startsWith(name + ' '));
      expect(line, `${name} in\n${text}`).toBeDefined();
      return Number(line!.split(' ').pop());
    };
    const ok = value(`http_requests_total{${base},code="200"}`);
    const errors = value(`http_requests_total{${base},code="500"}`);
    expect(ok).toBeGreaterThan(0);
    const count = value(`http_request_duration_seconds_count{${base}}`);
    expect(count).toBe(ok + errors);
    expect(value(`http_request_duration_seconds_bucket{${base},le="+Inf"}`)).toBe(count);
    // Buckets are cumulative: never decreasing with le.
    const buckets = text
      .split('\n')
      .filter((l) => l.startsWith('http_request_duration_seconds_bucket'))
      .map((l) => Number(l.split(' ').pop()));
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]).toBeGreaterThanOrEqual(buckets[i - 1]!);
    expect(value(`http_request_duration_seconds_sum{${base}}`)).toBeGreaterThan(0);
  });

  it('exports the business numbers per track (-convdropN lowers orders) and cAdvisor use per pod (-memleak grows memory)', async () => {
    const leaky = deployment('checkout-leaky', 'registry.example.com/shop/checkout:v9.0.0-convdrop25-memleak', 1);
    leaky.spec!.selector.matchLabels = { app: 'checkout', track: 'canary' };
    leaky.spec!.template.metadata!.labels = { app: 'checkout', track: 'canary' };
    await f.apps.createNamespacedDeployment({ namespace: 'production', body: leaky });
    await waitFor('the leaky pod ready', async () =>
      rolledOut(await f.apps.readNamespacedDeployment({ name: 'checkout-leaky', namespace: 'production' })),
    );
    await elapse(10 * 60_000);
    const pods = (await f.core.listNamespacedPod({ namespace: 'production', labelSelector: 'app=checkout' })).items;
    const exposed = async (pod: (typeof pods)[number]) =>
      (await f.fetch(`${f.sandbox.url}/api/v1/namespaces/production/pods/${pod.metadata!.name}/proxy/metrics`)).text();
    const value = (text: string, name: string) => Number(/ (\S+)$/.exec(text.split('\n').find((l) => l.startsWith(`${name}{`)) ?? '')?.[1]);
    const leakyPod = pods.find((p) => p.metadata!.labels!.track === 'canary')!;
    const stablePod = pods.find((p) => p.metadata!.labels!.track === 'stable')!;
    const ratio = (t: string) => value(t, 'shop_orders_total') / value(t, 'shop_checkouts_total');
    const [leakyText, stableText] = await Promise.all([exposed(leakyPod), exposed(stablePod)]);
    expect(ratio(stableText)).toBeCloseTo(0.3, 2);
    expect(ratio(leakyText)).toBeCloseTo(0.225, 2);
    expect(value(stableText, 'shop_active_users')).toBeGreaterThan(0);
    expect(stableText).toContain('# TYPE shop_active_users gauge');

    const cadvisor = await (await f.fetch(`${f.sandbox.url}/sandbox/v1/cadvisor`)).text();
    const memory = (pod: string) =>
      Number(
        / (\d+)$/.exec(
          cadvisor
            .split('\n')
            .find((l) => l.startsWith(`container_memory_working_set_bytes{namespace="production",pod="${pod}",container="app"`)) ?? '',
        )?.[1],
      ) /
      1024 /
      1024;
    expect(memory(stablePod.metadata!.name!)).toBeLessThan(140);
    // 10 sandbox minutes at 1 MiB a second.
    expect(memory(leakyPod.metadata!.name!)).toBeGreaterThan(600);
    expect(cadvisor).toMatch(
      new RegExp(
        `^container_cpu_usage_seconds_total\\{namespace="production",pod="${stablePod.metadata!.name}",container="app",image="[^"]+",cpu="total"\\} [\\d.]+$`,
        'm',
      ),
    );
    await f.apps.deleteNamespacedDeployment({ name: 'checkout-leaky', namespace: 'production' });
  });

  it('lists scrape targets in Prometheus HTTP SD format', async () => {
    const targets = await (await f.fetch(`${f.sandbox.url}/sandbox/v1/targets`)).json();
    expect(targets.length).toBeGreaterThanOrEqual(72);
    expect(targets[0]).toMatchObject({
      targets: [f.sandbox.url.replace('https://', '')],
      labels: { __metrics_path__: expect.stringMatching(/^\/api\/v1\/namespaces\/.+\/pods\/.+\/proxy\/metrics$/) },
    });
  });

  it('answers the direct metrics API with a MetricSample, and zero requests for nothing served', async () => {
    const m = await metrics({ namespace: 'production', service: 'checkout', track: 'stable', windowSec: '60' });
    expect(Object.keys(m).sort()).toEqual([
      'at',
      'errorRate',
      'p50Ms',
      'p95Ms',
      'p99Ms',
      'requests',
      'slowerThan',
      'throughputRps',
      'windowSec',
    ]);
    // Requests slower than each Prometheus bound (ms), falling; about 1% beyond the p99.
    const h = m.slowerThan as Array<[number, number]>;
    expect(h[0]).toEqual([5, expect.any(Number)]);
    expect(h.every(([, n], i) => n <= m.requests && (i === 0 || n <= h[i - 1]![1]))).toBe(true);
    const beyondP99 = h.find(([ms]) => ms >= m.p99Ms)!;
    expect(beyondP99[1] / m.requests).toBeLessThan(0.015);
    expect(m.windowSec).toBe(60);
    expect(m.at).toBeLessThanOrEqual(f.sandbox.clock.now());
    expect(m.requests).toBeGreaterThan(0);
    const none = await metrics({ namespace: 'production', service: 'nothing-here', windowSec: '60' });
    expect(none).toMatchObject({ requests: 0, errorRate: 0, throughputRps: 0 });
    const bad = await f.fetch(`${f.sandbox.url}/sandbox/v1/metrics?service=checkout`);
    expect(bad.status).toBe(400);
  });
});

describe('histograms of a quiet pod', () => {
  it('a pod with under one request per 50 ms tick still reports its whole latency distribution in its buckets', async () => {
    // A clock only the test moves, in the real loop's 50 ms ticks (a canary pod at 20 rps sees ~1 request a tick).
    let now = Date.parse('2026-01-01T00:00:00Z');
    const clock = { speed: 1, now: () => now, sleep: () => new Promise<void>(() => undefined) };
    const sb = await startSandbox({ clock, tickMs: 3_600_000, podStartMs: 0 });
    try {
      const kube = kubeOf(sb);
      await kube.apps.createNamespacedDeployment({ namespace: 'default', body: deployment('quiet', 'registry.example.com/quiet:v1', 1) });
      await kube.core.createNamespacedService({
        namespace: 'default',
        body: {
          metadata: { name: 'quiet', annotations: { 'sandbox.shipbot.dev/rps': '5' } },
          spec: { selector: { app: 'quiet' }, ports: [{ port: 80 }] },
        },
      });
      for (let i = 0; i < 20; i++) (now += 1000), sb.reconcile();
      for (let i = 0; i < 60_000; i++) (now += 50), sb.traffic.tick();
      const pod = sb.store.list(resourceByKind('Pod'), 'default')[0]!;
      const c = sb.traffic.podCounters(pod.metadata.uid!)!;
      const total = c.ok + c.errors;
      const buckets = [...c.buckets.map((n, i) => ({ le: PROM_BUCKETS_S[i]!, n }))];
      // histogram_quantile(0.99): linear inside the bucket that holds the 99th percentile.
      const i = buckets.findIndex((x) => x.n >= 0.99 * total);
      const [lo, hi] = [i > 0 ? buckets[i - 1]! : { le: 0, n: 0 }, buckets[i]!];
      const p99 = 1000 * (lo.le + ((hi.le - lo.le) * (0.99 * total - lo.n)) / (hi.n - lo.n));
      const direct = sb.traffic.sample({ namespace: 'default', service: 'quiet' }, 3000);
      expect(total).toBeGreaterThan(10_000);
      expect(Math.abs(p99 - direct.p99Ms) / direct.p99Ms, `bucket p99 ${p99.toFixed(0)} ms vs ${direct.p99Ms} ms`).toBeLessThan(0.25);
    } finally {
      await sb.close();
    }
  });
});

describe('health through the Service proxy', () => {
  it('answers /health and /critical-path as the pods behind the selector would', async () => {
    const base = `${f.sandbox.url}/api/v1/namespaces/production/services/checkout/proxy`;
    const health = await f.fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok');
    const critical = await f.fetch(`${base}/critical-path`);
    expect(critical.status).toBe(200);
    expect(await critical.json()).toMatchObject({ ok: true, version: 'v1.2.2' });
    // Through client-node's proxy call too (port-qualified names are accepted).
    const viaClient = await f.core.connectGetNamespacedServiceProxyWithPath({
      name: 'checkout:http',
      namespace: 'production',
      path: 'health',
    });
    expect(String(viaClient)).toBe('ok');
  });
});

describe('warm start', () => {
  it('starts the demo Ready with a history of traffic already in the metrics', async () => {
    const warm = await startFixture({ demo: true, warm: true, warmSec: 600 });
    try {
      // No waiting: everything is Ready and 10 minutes of traffic are in the window at once.
      const all = (await warm.apps.listDeploymentForAllNamespaces()).items;
      expect(all.filter(rolledOut).map((d) => d.metadata?.name)).toHaveLength(10);
      const m = (await (
        await warm.fetch(`${warm.sandbox.url}/sandbox/v1/metrics?namespace=production&service=checkout&windowSec=300`)
      ).json()) as MetricSample;
      expect(m.throughputRps).toBeGreaterThan(170);
      expect(m.throughputRps).toBeLessThan(230);
      expect(m.p50Ms).toBeGreaterThan(30);
    } finally {
      await warm.sandbox.close();
    }
  });
});
