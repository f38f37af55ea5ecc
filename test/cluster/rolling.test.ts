// Rolling end to end against the sandbox over HTTPS: the image update follows the rollout,
// a fault pauses it with a typed signal, and rollback works like `kubectl rollout undo` to
// the ReplicaSet recorded at prepare — from the end, from the middle, and when pressed twice.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterApi } from '../../src/cluster/api.js';
import type { DriverDeps } from '../../src/cluster/common.js';
import { StageFailedError } from '../../src/cluster/errors.js';
import { RollingDriver } from '../../src/cluster/index.js';
import type { RolloutState } from '../../src/cluster/types.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { planFor, refFor, sandbox, serving } from './sandbox.js';

let sb: Sandbox;
let deps: DriverDeps;
let driver: RollingDriver;
const ref = refFor('payments');

beforeEach(async () => {
  ({ sb, deps } = await sandbox());
  driver = new RollingDriver(deps);
});
afterEach(() => sb.close());

async function deployment() {
  const d = await new ClusterApi(deps.kube).getDeployment('production', 'payments');
  return {
    image: d.spec!.template.spec!.containers[0]!.image,
    paused: Boolean(d.spec!.paused),
    revision: d.metadata!.annotations?.['deployment.kubernetes.io/revision'],
    generation: d.metadata!.generation,
  };
}

async function update(version: string): Promise<RolloutState> {
  const plan = planFor('payments', version, 'rolling');
  const state = await driver.prepare(ref, plan);
  return driver.applyStage(ref, state, driver.stages(plan, state)[0]!);
}

describe('rolling driver on the sandbox', () => {
  it('updates the image, then rollback undoes to the recorded ReplicaSet; pressing it twice changes nothing', async () => {
    const plan = planFor('payments', 'v1.3.0', 'rolling');
    let state = await driver.prepare(ref, plan);
    expect(state).toMatchObject({ previousImage: 'registry.example.com/shop/payments:v1.2.2', previousRevision: '1' });
    expect(typeof state.previousTemplateHash).toBe('string');
    expect(driver.stages(plan, state).map((s) => s.key)).toEqual(['rolling-update']);
    state = await driver.applyStage(ref, state, driver.stages(plan, state)[0]!);
    expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.3.0': 100 });
    expect(await deployment()).toMatchObject({ revision: '2', paused: false });

    state = await driver.rollback(ref, state);
    expect(await driver.verifyRollback(ref, state)).toMatchObject({ ok: true, oldTrafficPct: 100 });
    const undone = await deployment();
    // As with kubectl: the old ReplicaSet comes back under a new revision number.
    expect(undone).toMatchObject({ image: 'registry.example.com/shop/payments:v1.2.2', revision: '3' });
    const rs = await new ClusterApi(deps.kube).listReplicaSets('production', 'app=payments,track=stable');
    const live = rs.filter((r) => (r.spec?.replicas ?? 0) > 0);
    expect(live.map((r) => r.metadata?.labels?.['pod-template-hash'])).toEqual([state.previousTemplateHash]);

    await driver.rollback(ref, state); // `kubectl rollout undo` twice would flip back to v1.3.0
    expect(await deployment()).toEqual(undone);
    expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 100 });
  });

  it('repeating the stage after it finished sends no patch', async () => {
    const state = await update('v1.3.0');
    const before = await deployment();
    await driver.applyStage(ref, state, driver.stages(planFor('payments', 'v1.3.0', 'rolling'), state)[0]!);
    expect(await deployment()).toEqual(before);
  });

  for (const [tag, kind] of [
    ['v1.3.0-crash', 'crash-loop'],
    ['v1.3.0-oom', 'oom-killed'],
    ['v1.3.0-missing', 'image-pull'],
  ] as const) {
    it(`${tag}: the rollout stops with ${kind}, is paused, and rollback resumes it at v1.2.2`, async () => {
      const err = await update(tag).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StageFailedError);
      expect((err as StageFailedError).signals.map((s) => s.kind)).toContain(kind);
      expect(await deployment()).toMatchObject({ paused: true, image: `registry.example.com/shop/payments:${tag}` });
      // Only ready pods get traffic: the old version still serves all of it, with fewer pods.
      expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 100 });

      const state = await driver.prepare(ref, planFor('payments', tag, 'rolling')); // resumed run
      expect(state.previousImage).toBe('registry.example.com/shop/payments:v1.2.2');
      // Sampled as the runner does: a crash-looping pod is between back-offs part of the time.
      await expect
        .poll(async () => (await driver.signals(ref, state)).map((s) => s.kind), { timeout: 10_000, interval: 20 })
        .toContain(kind);
      const after = await driver.rollback(ref, state);
      expect(await driver.verifyRollback(ref, after)).toMatchObject({ ok: true, oldTrafficPct: 100 });
      expect(await deployment()).toMatchObject({ paused: false, image: 'registry.example.com/shop/payments:v1.2.2' });
    });
  }

  for (const tag of ['v1.3.0-errors', 'v1.3.0-slow', 'v1.3.0-smokefail']) {
    it(`${tag}: healthy to Kubernetes, so the update completes; rollback restores v1.2.2`, async () => {
      const state = await update(tag);
      expect(await driver.signals(ref, state)).toEqual([]);
      const critical = await deps.kube.fetch(`${driver.smokeBaseUrl(ref)}/critical-path`);
      expect(critical.status === 200).toBe(tag !== 'v1.3.0-smokefail');
      const after = await driver.rollback(ref, state);
      expect(await driver.verifyRollback(ref, after)).toMatchObject({ ok: true, oldTrafficPct: 100 });
      expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 100 });
    });
  }

  it('rollback mid-rollout: paused with both versions serving, then back to v1.2.2 only', async () => {
    // A slower clock keeps the rollout in flight for seconds of real time, so even a busy machine
    // catches it midway instead of after it finished.
    await sb.close();
    ({ sb, deps } = await sandbox(5));
    driver = new RollingDriver(deps);
    const plan = planFor('payments', 'v1.3.0', 'rolling');
    const state = await driver.prepare(ref, plan);
    const abort = new AbortController();
    const applying = driver.applyStage(ref, state, driver.stages(plan, state)[0]!, abort.signal).catch((e: unknown) => e);
    // Stop it as soon as some new pods serve, as a failing check would.
    for (let i = 0; i < 500; i++) {
      const share = (await serving(sb, ref)).byVersion['v1.3.0'] ?? 0;
      if (share > 0 && share < 100) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    await driver.pause(ref);
    abort.abort();
    expect(((await applying) as Error).name).toBe('AbortError');
    const mid = await serving(sb, ref);
    expect(Object.keys(mid.byVersion).sort()).toEqual(['v1.2.2', 'v1.3.0']);

    const after = await driver.rollback(ref, state);
    expect(await driver.verifyRollback(ref, after)).toMatchObject({ ok: true, oldTrafficPct: 100 });
    expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 100 });
    expect(await deployment()).toMatchObject({ paused: false, image: 'registry.example.com/shop/payments:v1.2.2' });
  });
});
