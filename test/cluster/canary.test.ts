// Canary end to end against the sandbox over HTTPS: stages size the canary so the traffic
// share follows the plan, faults stop a stage with a typed signal, rollback from every stage
// restores the old version to 100%, and every step can be repeated without changing anything.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterApi } from '../../src/cluster/api.js';
import { StageFailedError } from '../../src/cluster/errors.js';
import { createDriver } from '../../src/cluster/index.js';
import type { RolloutDriver, RolloutState, Stage } from '../../src/cluster/types.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { planFor, refFor, sandbox, serving } from './sandbox.js';
import type { DriverDeps } from '../../src/cluster/common.js';

let sb: Sandbox;
let deps: DriverDeps;
let driver: RolloutDriver;
const ref = refFor('checkout');

beforeEach(async () => {
  ({ sb, deps } = await sandbox());
  driver = createDriver('canary', deps);
});
afterEach(() => sb.close());

async function runTo(version: string, untilKey: string | null): Promise<{ state: RolloutState; stages: Stage[] }> {
  const plan = planFor('checkout', version, 'canary');
  let state = await driver.prepare(ref, plan);
  const stages = driver.stages(plan, state);
  for (const s of stages) {
    state = await driver.applyStage(ref, state, s);
    if (s.key === untilKey) break;
  }
  return { state, stages };
}

async function deployments() {
  const api = new ClusterApi(deps.kube);
  const stable = await api.getDeployment('production', 'checkout');
  const canary = await api.getDeployment('production', 'checkout-canary');
  return {
    stable: {
      image: stable.spec!.template.spec!.containers[0]!.image,
      replicas: stable.spec!.replicas,
      generation: stable.metadata!.generation,
    },
    canary: {
      image: canary.spec!.template.spec!.containers[0]!.image,
      replicas: canary.spec!.replicas,
      generation: canary.metadata!.generation,
    },
  };
}

describe('canary driver on the sandbox', () => {
  it('follows 5 → 25 → 50 → 100 with the traffic share of ready replicas, then promotes', async () => {
    const plan = planFor('checkout', 'v1.3.0', 'canary');
    let state = await driver.prepare(ref, plan);
    expect(state.previousImage).toBe('registry.example.com/shop/checkout:v1.2.2');
    const stages = driver.stages(plan, state);
    expect(stages.map((s) => s.key)).toEqual(['canary-5', 'canary-25', 'canary-50', 'canary-100']);
    const seen: number[] = [];
    for (const s of stages.slice(0, 3)) {
      state = await driver.applyStage(ref, state, s);
      seen.push((await serving(sb, ref)).byVersion['v1.3.0'] ?? 0);
    }
    // 20 stable replicas: 1, 7 and 20 canaries → 4.8%, 25.9%, 50%.
    expect(seen).toEqual([4.8, 25.9, 50]);
    expect(driver.tracks(ref, state)).toEqual({
      candidate: { namespace: 'production', service: 'checkout', track: 'canary', version: 'v1.3.0' },
      baseline: { namespace: 'production', service: 'checkout', track: 'stable', version: 'v1.2.2' },
    });
    state = await driver.applyStage(ref, state, stages[3]!);
    state = await driver.promote(ref, state);
    expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.3.0': 100 });
    expect(await deployments()).toMatchObject({
      stable: { image: 'registry.example.com/shop/checkout:v1.3.0', replicas: 20 },
      canary: { replicas: 0 },
    });
    expect(await driver.signals(ref, state)).toEqual([]);
  });

  it('repeating prepare, a stage, promote and rollback changes nothing the second time', async () => {
    const plan = planFor('checkout', 'v1.3.0', 'canary');
    const first = await driver.prepare(ref, plan);
    expect(await driver.prepare(ref, plan)).toEqual(first);
    const stage = driver.stages(plan, first)[1]!;
    let state = await driver.applyStage(ref, first, stage);
    const before = await deployments();
    state = await driver.applyStage(ref, state, stage);
    expect(await deployments()).toEqual(before); // same generation: no patch was sent

    state = await driver.rollback(ref, state);
    const rolledBack = await deployments();
    state = await driver.rollback(ref, state);
    expect(await deployments()).toEqual(rolledBack);
    expect((await driver.verifyRollback(ref, state)).ok).toBe(true);
  });

  for (const [tag, kind] of [
    ['v1.3.0-crash', 'crash-loop'],
    ['v1.3.0-oom', 'oom-killed'],
    ['v1.3.0-missing', 'image-pull'],
  ] as const) {
    it(`${tag}: the first stage fails with a ${kind} signal and rollback restores v1.2.2`, async () => {
      const err = await runTo(tag, null).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StageFailedError);
      const failed = err as StageFailedError;
      expect(failed.reason).toBe('signal');
      expect(failed.signals.map((s) => s.kind)).toContain(kind);
      expect(failed.message).toMatch(/checkout-canary in production will not become available/);

      const plan = planFor('checkout', tag, 'canary');
      const state = await driver.prepare(ref, plan); // the run resumes with its saved state
      // Sampled as the runner does: a crash-looping pod is between back-offs part of the time.
      await expect
        .poll(async () => (await driver.signals(ref, state)).map((s) => s.kind), { timeout: 10_000, interval: 20 })
        .toContain(kind);
      const after = await driver.rollback(ref, state);
      const verified = await driver.verifyRollback(ref, after);
      expect(verified).toMatchObject({ ok: true, oldTrafficPct: 100 });
      expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 100 });
    });
  }

  for (const tag of ['v1.3.0-errors', 'v1.3.0-slow', 'v1.3.0-smokefail']) {
    it(`${tag}: healthy to Kubernetes, so the stage completes; rollback mid-canary restores v1.2.2`, async () => {
      const { state } = await runTo(tag, 'canary-25');
      expect(await driver.signals(ref, state)).toEqual([]);
      expect((await serving(sb, ref)).byVersion[tag]).toBe(25.9);
      const after = await driver.rollback(ref, state);
      expect(await driver.verifyRollback(ref, after)).toMatchObject({ ok: true, oldTrafficPct: 100 });
      expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 100 });
    });
  }

  it('tracks() name the pods the metrics compare: -errors shows on the canary, not on stable', async () => {
    const { state } = await runTo('v1.3.0-errors', 'canary-50');
    const { candidate, baseline } = driver.tracks(ref, state);
    await deps.clock.sleep(90_000); // let the sandbox serve a minute and a half of traffic
    const sample = async (t: typeof candidate) => {
      const q = new URLSearchParams({
        namespace: t.namespace,
        service: t.service,
        track: t.track,
        version: t.version ?? '',
        windowSec: '60',
      });
      return (await (await deps.kube.fetch(`${sb.url}/sandbox/v1/metrics?${q}`)).json()) as { requests: number; errorRate: number };
    };
    const [c, b] = [await sample(candidate), await sample(baseline)];
    expect(c.requests).toBeGreaterThan(50);
    expect(b.requests).toBeGreaterThan(50);
    expect(c.errorRate).toBeGreaterThan(0.04); // about 8%
    expect(b.errorRate).toBeLessThan(0.02);
  });

  it('smoke checks reach only the canary through its Service proxy', async () => {
    const { state } = await runTo('v1.3.0-smokefail', 'canary-5');
    const base = driver.smokeBaseUrl(ref, state);
    expect(base).toBe(`${sb.url}/api/v1/namespaces/production/services/checkout-canary/proxy`);
    expect((await deps.kube.fetch(`${base}/health`)).status).toBe(200);
    expect((await deps.kube.fetch(`${base}/critical-path`)).status).toBeGreaterThanOrEqual(500);
  });

  for (const key of ['canary-5', 'canary-25', 'canary-50', 'canary-100']) {
    it(`rollback from ${key} restores v1.2.2 to 100% of traffic`, async () => {
      const { state } = await runTo('v1.3.0', key);
      const after = await driver.rollback(ref, state);
      expect(await driver.verifyRollback(ref, after)).toMatchObject({ ok: true, oldTrafficPct: 100 });
      expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 100 });
      expect(await deployments()).toMatchObject({
        stable: { image: 'registry.example.com/shop/checkout:v1.2.2', replicas: 20 },
        canary: { replicas: 0 },
      });
    });
  }
});

describe('canary stage rows', () => {
  it('name the share replica counts will really serve (issue 30: 3 replicas and 10% is 25%)', () => {
    const plan = { ...planFor('web', 'v1.3.0', 'canary'), canarySteps: [10, 50, 100] };
    const base = {
      strategy: 'canary' as const,
      previousImage: 'registry.example.com/shop/web:v1.2.2',
      newImage: 'registry.example.com/shop/web:v1.3.0',
      canaryDeployment: 'web-canary',
      canaryService: 'web-canary',
      stableTrack: 'stable',
    };
    const titles = (state: RolloutState) => driver.stages(plan, state).map((st) => [st.key, st.title, st.trafficPct]);
    expect(titles({ ...base, stableReplicas: 3 })).toEqual([
      ['canary-10', 'canary 25%', 10],
      ['canary-50', 'canary 50%', 50],
      ['canary-100', 'promote to 100%', 100],
    ]);
    // 20 replicas serve 5% within a point: the asked share stays the name; a router serves it exactly.
    expect(titles({ ...base, stableReplicas: 20 })[0]).toEqual(['canary-10', 'canary 10%', 10]);
  });
});
