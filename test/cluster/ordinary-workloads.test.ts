// Shipbot on an ordinary workload, as a platform team has it: `web`, a Deployment and a Service
// labelled `app=web` only, 3 replicas, no `track` label. A watcher inside the sandbox checks,
// after every single change to the cluster, that the Service still selects at least one ready
// pod: through every strategy, on the happy path and on rollback from every stage.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterApi } from '../../src/cluster/api.js';
import type { DriverDeps } from '../../src/cluster/common.js';
import { createDriver } from '../../src/cluster/index.js';
import type { RolloutDriver, RolloutState } from '../../src/cluster/types.js';
import type { Strategy } from '../../src/domain/types.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import type { KObject } from '../../src/sandbox/objects.js';
import { isPodReady } from '../../src/sandbox/replicaSetController.js';
import { resourceByKind } from '../../src/sandbox/resources.js';
import { matchesMap } from '../../src/sandbox/selectors.js';
import { metricsOf } from '../helpers/sandbox-access.js';
import { planFor, refFor, sandbox, serving } from './sandbox.js';

const PODS = resourceByKind('Pod');
const SERVICES = resourceByKind('Service');
const ref = refFor('web');

let sb: Sandbox;
let deps: DriverDeps;

/** The fewest ready pods the Service `web` selected at any moment since start(), and when. */
function endpointWatcher(s: Sandbox) {
  let min = Infinity;
  let worst = '';
  const readyEndpoints = () => {
    const svc = s.store.peek(SERVICES, 'production', 'web');
    const selector = (svc?.spec?.selector ?? {}) as Record<string, string>;
    const pods = s.store
      .list(PODS, 'production')
      .filter((p: KObject) => matchesMap(selector, p.metadata.labels) && isPodReady(p) && !p.metadata.deletionTimestamp);
    return { n: pods.length, selector };
  };
  const check = (why: string) => {
    const { n, selector } = readyEndpoints();
    if (n < min) {
      min = n;
      worst = `${n} ready endpoints after ${why} (selector ${JSON.stringify(selector)})`;
    }
  };
  check('start');
  const stop = s.store.onChange((c) => check(`${c.type} ${c.def.kind} ${c.object?.metadata?.name ?? ''}`));
  return { stop, min: () => min, worst: () => worst };
}

beforeEach(async () => {
  ({ sb, deps } = await sandbox());
});
afterEach(() => sb.close());

async function apply(driver: RolloutDriver, strategy: Strategy, version: string, until?: string): Promise<RolloutState> {
  const plan = planFor('web', version, strategy);
  let state = await driver.prepare(ref, plan);
  for (const s of driver.stages(plan, state)) {
    state = await driver.applyStage(ref, state, s);
    if (s.key === until) return state;
  }
  return driver.promote(ref, state);
}

const STAGES: Record<Strategy, string[]> = {
  'blue-green': ['deploy-idle', 'cutover'],
  canary: ['canary-5', 'canary-25', 'canary-50', 'canary-100'],
  rolling: ['rolling-update'],
};

describe('an ordinary workload (app=web, 3 replicas, no track label)', () => {
  it('is seeded as a team writes it', async () => {
    const api = new ClusterApi(deps.kube);
    const d = await api.getDeployment('production', 'web');
    expect(d.spec?.replicas).toBe(3);
    expect(d.spec?.selector.matchLabels).toEqual({ app: 'web' });
    expect(d.spec?.template.metadata?.labels).toEqual({ app: 'web' });
    expect((await api.getService('production', 'web')).spec?.selector).toEqual({ app: 'web' });
  });

  for (const strategy of ['blue-green', 'canary', 'rolling'] as const) {
    it(`${strategy}: the Service never selects zero ready pods, and the new version ends at 100%`, async () => {
      const watch = endpointWatcher(sb);
      const driver = createDriver(strategy, deps);
      expect((await driver.preflight(ref, 'v1.3.0')).filter((c) => !c.ok && c.severity === 'error')).toEqual([]);
      await apply(driver, strategy, 'v1.3.0');
      watch.stop();
      expect(watch.min(), watch.worst()).toBeGreaterThanOrEqual(1);
      expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.3.0': 100 });
    });

    for (const stage of STAGES[strategy]) {
      it(`${strategy}: rollback from ${stage} never leaves the Service without a ready pod and restores v1.2.2`, async () => {
        const watch = endpointWatcher(sb);
        const driver = createDriver(strategy, deps);
        const state = await apply(driver, strategy, 'v1.3.0', stage);
        const after = await driver.rollback(ref, state);
        expect(await driver.verifyRollback(ref, after)).toMatchObject({ ok: true, oldTrafficPct: 100 });
        watch.stop();
        expect(watch.min(), watch.worst()).toBeGreaterThanOrEqual(1);
        expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 100 });
      });
    }
  }

  it('blue-green pins the Service to the live ReplicaSet, cuts over to the colour, and lifts the pin after a rollback', async () => {
    const api = new ClusterApi(deps.kube);
    const driver = createDriver('blue-green', deps);
    const state = await apply(driver, 'blue-green', 'v1.3.0', 'deploy-idle');
    const pinned = (await api.getService('production', 'web')).spec?.selector ?? {};
    expect(Object.keys(pinned).sort()).toEqual(['app', 'pod-template-hash']);
    expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 100 });
    const cut = await driver.applyStage(ref, state, { key: 'cutover', title: 'switch traffic', trafficPct: 100, monitor: true });
    expect((await api.getService('production', 'web')).spec?.selector).toEqual({ app: 'web', track: 'green' });
    const back = await driver.rollback(ref, cut);
    expect((await driver.verifyRollback(ref, back)).ok).toBe(true);
    // Unpinned again: the team's next `kubectl set image` (a new ReplicaSet) keeps serving.
    expect((await api.getService('production', 'web')).spec?.selector).toEqual({ app: 'web' });
  });

  it('the baseline is the pods without a track label, and the metrics find them', async () => {
    const driver = createDriver('canary', deps);
    const state = await apply(driver, 'canary', 'v1.3.0', 'canary-25');
    const { candidate, baseline } = driver.tracks(ref, state);
    expect(baseline.track).toBe('');
    expect(candidate.track).toBe('canary');
    await deps.clock.sleep(60_000);
    const source = metricsOf(sb);
    const [c, b] = [await source.sample(candidate, 60), await source.sample(baseline, 60)];
    expect(c.ok && b.ok, JSON.stringify({ c, b })).toBe(true);
    if (c.ok && b.ok) {
      expect(b.sample.requests).toBeGreaterThan(c.sample.requests);
      expect(c.sample.requests).toBeGreaterThan(0);
    }
  });
});

describe('honest canary shares without a router', () => {
  it('preflight says what 3 replicas can reach, and each stage records the share really served', async () => {
    const driver = createDriver('canary', deps);
    const plan = planFor('web', 'v1.3.0', 'canary');
    const shares = (await driver.preflight(ref, 'v1.3.0', plan)).find((c) => c.name === 'canary shares');
    expect(shares).toMatchObject({ ok: false, severity: 'warning' });
    expect(shares!.detail).toBe(
      '3 replicas: the smallest step is 25% (5% → 25%, 25% → 25%, 50% → 50%); configure trafficRouting for exact weights',
    );
    const at5 = await apply(driver, 'canary', 'v1.3.0', 'canary-5');
    expect(at5).toMatchObject({ strategy: 'canary', servedPct: 25 });
    expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 75, 'v1.3.0': 25 });
  });

  it('20 replicas reach every step, and preflight says so', async () => {
    const driver = createDriver('canary', deps);
    const checkout = refFor('checkout');
    const shares = (await driver.preflight(checkout, 'v1.3.0', planFor('checkout', 'v1.3.0', 'canary'))).find(
      (c) => c.name === 'canary shares',
    );
    expect(shares).toMatchObject({ ok: true, detail: '20 replicas reach every step within a point' });
  });
});

describe('a HorizontalPodAutoscaler on the Deployment', () => {
  const hpa = (min: number) => ({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'production' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: min,
      maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    },
  });
  const target = async () =>
    (await deps.kube.autoscaling.readNamespacedHorizontalPodAutoscaler({ name: 'web', namespace: 'production' })).spec?.scaleTargetRef.name;

  it('is stored and served as autoscaling/v2', async () => {
    await deps.kube.autoscaling.createNamespacedHorizontalPodAutoscaler({ namespace: 'production', body: hpa(2) });
    const list = await deps.kube.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: 'production' });
    expect(list.items.map((h) => `${h.apiVersion}/${h.metadata?.name}`)).toEqual(['autoscaling/v2/web']);
  });

  it('blue-green sizes the new colour from it, points it at the serving colour after cutover, and back on rollback', async () => {
    await deps.kube.autoscaling.createNamespacedHorizontalPodAutoscaler({ namespace: 'production', body: hpa(5) });
    const driver = createDriver('blue-green', deps);
    const idle = await apply(driver, 'blue-green', 'v1.3.0', 'deploy-idle');
    expect(idle).toMatchObject({ hpa: 'web', replicas: 5 });
    expect((await new ClusterApi(deps.kube).getDeployment('production', 'web-green')).spec?.replicas).toBe(5);
    expect(await target()).toBe('web');
    const cut = await driver.applyStage(ref, idle, { key: 'cutover', title: 'switch traffic', trafficPct: 100, monitor: true });
    expect(await target()).toBe('web-green');
    await driver.rollback(ref, cut);
    expect(await target()).toBe('web');
  });
});

describe('label values a real API server accepts', () => {
  it('versionLabel keeps a valid tag and shortens an OCI tag no label may hold', async () => {
    const { versionLabel, LABEL_VALUE } = await import('../../src/cluster/rules.js');
    expect(versionLabel('v1.3.0')).toBe('v1.3.0');
    const long = `v1.3.0-${'a'.repeat(100)}`;
    for (const tag of [long, 'v1.3.0-', 'v1.3.0.', `${'b'.repeat(63)}-`]) {
      const label = versionLabel(tag);
      expect(LABEL_VALUE.test(label), `${tag} → ${label}`).toBe(true);
      expect(label.length).toBeLessThanOrEqual(63);
    }
    expect(versionLabel(`${long}x`)).not.toBe(versionLabel(`${long}y`));
  });

  it('the sandbox refuses an invalid label value as the API server does, and a canary of a tag ending in "-" still deploys', async () => {
    const api = new ClusterApi(deps.kube);
    const web = await api.getDeployment('production', 'web');
    const bad = structuredClone(web);
    bad.metadata = { name: 'web-bad', namespace: 'production', labels: { app: 'web', version: 'v1.3.0-' } };
    await expect(api.createDeployment('production', bad)).rejects.toThrow(/422|Invalid value: "v1.3.0-" for label version/);
    const driver = createDriver('canary', deps);
    const state = await apply(driver, 'canary', 'v1.3.0-', 'canary-25');
    expect(state.newImage).toBe('registry.example.com/shop/web:v1.3.0-');
    const canary = await api.getDeployment('production', 'web-canary');
    expect(canary.spec?.template.metadata?.labels?.version).toMatch(/^v1\.3\.0-[0-9a-f]{8}$/);
  });
});
