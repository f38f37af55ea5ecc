// Every fault tag of DESIGN.md, observed as a client would: pod status and Events through
// client-node, error rate and latency through the direct metrics API, smoke endpoints through
// the Service proxy.
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricSample } from '../../src/domain/types.js';
import { backoffMs } from '../../src/sandbox/podLifecycle.js';
import { createNamespace, deployment, startFixture, waitFor, type Fixture } from './helpers.js';

let f: Fixture;
const NS = 't-faults';

beforeAll(async () => {
  f = await startFixture();
  await createNamespace(f.core, NS);
  // One Deployment and Service per tag; the Services send 1000 req/s so rates settle quickly.
  for (const [name, tag] of [
    ['healthy', 'v1.3.0'],
    ['errors', 'v1.3.0-errors'],
    ['slow', 'v1.3.0-slow'],
    ['crash', 'v1.3.0-crash'],
    ['oom', 'v1.3.0-oom'],
    ['missing', 'v1.3.0-missing'],
    ['smokefail', 'v1.3.0-smokefail'],
  ] as const) {
    await f.apps.createNamespacedDeployment({ namespace: NS, body: deployment(name, `registry.example.com/${name}:${tag}`, 2) });
    await f.core.createNamespacedService({
      namespace: NS,
      body: {
        metadata: { name, annotations: { 'sandbox.shipbot.dev/rps': '1000' } },
        spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
  }
});
afterAll(async () => {
  await f?.sandbox.close();
});

const pods = async (app: string) => (await f.core.listNamespacedPod({ namespace: NS, labelSelector: `app=${app}` })).items;
const container = (p: V1Pod) => p.status!.containerStatuses![0]!;
const events = async (app: string) =>
  (await f.core.listNamespacedEvent({ namespace: NS })).items.filter((e) => e.involvedObject.name?.startsWith(`${app}-`));
const metrics = async (service: string, windowSec = 120): Promise<MetricSample> =>
  (
    await f.fetch(`${f.sandbox.url}/sandbox/v1/metrics?namespace=${NS}&service=${service}&windowSec=${windowSec}`)
  ).json() as Promise<MetricSample>;
/** A full window of traffic: waits until the service has served for `windowSec` of sandbox time. */
const settled = (service: string, windowSec = 120) =>
  waitFor(`${windowSec}s of ${service} traffic`, async () =>
    ((m) => (m.throughputRps > 900 ? m : undefined))(await metrics(service, windowSec)),
  );

describe('-crash', () => {
  it('goes to CrashLoopBackOff with climbing restart counts and BackOff events', async () => {
    const p = await waitFor('3 restarts', async () =>
      (await pods('crash')).find((x) => (x.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 3),
    );
    const first = container(p).restartCount;
    expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    const later = await waitFor('another restart', async () =>
      (await pods('crash')).find((x) => x.metadata?.name === p.metadata?.name && container(x).restartCount > first),
    );
    expect(container(later).restartCount).toBeGreaterThan(first);
    const waiting = await waitFor('CrashLoopBackOff', async () =>
      (await pods('crash')).find((x) => container(x).state?.waiting?.reason === 'CrashLoopBackOff'),
    );
    expect(container(waiting).state?.waiting?.message).toMatch(/back-off \d+s restarting failed container=app/);
    expect(container(waiting).lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    const ev = await events('crash');
    const backoff = ev.find((e) => e.reason === 'BackOff');
    expect(backoff?.message).toContain('Back-off restarting failed container app');
    expect(backoff?.type).toBe('Warning');
    expect(backoff?.count).toBeGreaterThanOrEqual(2); // repeats aggregate into one Event
    expect(ev.map((e) => e.reason)).toEqual(expect.arrayContaining(['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started', 'BackOff']));
  });

  it('shows the panic in kubectl logs, and a readable 400 for a pod whose image never pulled', async () => {
    const crashing = (await pods('crash'))[0]!;
    const log = await f.core.readNamespacedPodLog({ name: crashing.metadata!.name!, namespace: NS });
    expect(String(log)).toContain('panic: runtime error');
    const missing = (await pods('missing'))[0]!;
    const res = await f.fetch(`${f.sandbox.url}/api/v1/namespaces/${NS}/pods/${missing.metadata!.name}/log`);
    expect(res.status).toBe(400);
    expect((await res.json()).message).toContain('is waiting to start');
  });

  it('backs off like the kubelet: 10 s doubling to 5 minutes', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(backoffMs)).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });
});

describe('-oom', () => {
  it('shows OOMKilled as the last terminated state', async () => {
    const p = await waitFor('an OOM kill', async () =>
      (await pods('oom')).find((x) => x.status?.containerStatuses?.[0]?.lastState?.terminated),
    );
    expect(container(p).lastState?.terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
    expect(container(p).ready).toBe(false);
  });
});

describe('-missing', () => {
  it('shows ImagePullBackOff, never becomes Ready, and records pull failures', async () => {
    const p = await waitFor('ImagePullBackOff', async () =>
      (await pods('missing')).find((x) => x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff'),
    );
    expect(p.status?.phase).toBe('Pending');
    expect(container(p).ready).toBe(false);
    const ev = await events('missing');
    expect(
      ev.some((e) => e.reason === 'Failed' && e.message?.startsWith('Failed to pull image "registry.example.com/missing:v1.3.0-missing"')),
    ).toBe(true);
    expect(ev.some((e) => e.reason === 'Failed' && e.message === 'Error: ErrImagePull')).toBe(true);
    const d = await f.apps.readNamespacedDeployment({ name: 'missing', namespace: NS });
    expect(d.status?.readyReplicas ?? 0).toBe(0);
  });
});

describe('traffic behaviour by tag', () => {
  it('a plain tag serves at the baseline: ~0.2% errors, p50 ~40 ms, p99 ~120 ms', async () => {
    const m = await settled('healthy');
    expect(m.errorRate).toBeGreaterThan(0.0005);
    expect(m.errorRate).toBeLessThan(0.005);
    expect(m.p50Ms).toBeGreaterThan(34);
    expect(m.p50Ms).toBeLessThan(46);
    expect(m.p99Ms).toBeGreaterThan(100);
    expect(m.p99Ms).toBeLessThan(145);
    expect(m.p95Ms).toBeGreaterThan(m.p50Ms);
    expect(m.p99Ms).toBeGreaterThan(m.p95Ms);
  });

  it('-errors fails about 8% of requests with 5xx', async () => {
    const m = await settled('errors');
    expect(m.errorRate).toBeGreaterThan(0.065);
    expect(m.errorRate).toBeLessThan(0.095);
  });

  it('-slow has about twice the baseline p99', async () => {
    const [slow, base] = [await settled('slow'), await settled('healthy')];
    const ratio = slow.p99Ms / base.p99Ms;
    expect(ratio).toBeGreaterThan(1.7);
    expect(ratio).toBeLessThan(2.3);
    expect(slow.errorRate).toBeLessThan(0.005);
  });

  it('crashing and unpullable versions serve nothing', async () => {
    await settled('healthy');
    expect((await metrics('crash')).requests).toBe(0);
    expect((await metrics('missing')).requests).toBe(0);
  });
});

describe('-smokefail', () => {
  it('passes /health but fails /critical-path through the Service proxy', async () => {
    const base = `${f.sandbox.url}/api/v1/namespaces/${NS}/services`;
    await waitFor('smokefail ready', async () => (await f.fetch(`${base}/smokefail/proxy/health`)).status === 200);
    const health = await f.fetch(`${base}/smokefail/proxy/health`);
    expect(await health.text()).toBe('ok');
    const critical = await f.fetch(`${base}/smokefail/proxy/critical-path`);
    expect(critical.status).toBe(500);
    const good = await f.fetch(`${base}/healthy/proxy/critical-path`);
    expect(good.status).toBe(200);
  });

  it('answers 503 when no pod behind the Service is Ready', async () => {
    const res = await f.fetch(`${f.sandbox.url}/api/v1/namespaces/${NS}/services/missing/proxy/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ kind: 'Status', code: 503, reason: 'ServiceUnavailable' });
  });
});
