// Blue-green end to end against the sandbox over HTTPS: the idle colour is deployed and
// smoke-checked through the preview Service without taking traffic, cutover and rollback are
// one selector patch each, the old colour is retired later, and every step can be repeated.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterApi } from '../../src/cluster/api.js';
import { retireIdleColour } from '../../src/cluster/bluegreen.js';
import type { DriverDeps } from '../../src/cluster/common.js';
import { StageFailedError } from '../../src/cluster/errors.js';
import { createDriver } from '../../src/cluster/index.js';
import type { RolloutDriver, RolloutState } from '../../src/cluster/types.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { planFor, refFor, sandbox, serving } from './sandbox.js';

let sb: Sandbox;
let deps: DriverDeps;
let driver: RolloutDriver;
const ref = refFor('checkout');
const preview = { ...ref, service: 'checkout-preview' };

beforeEach(async () => {
  ({ sb, deps } = await sandbox());
  driver = createDriver('blue-green', deps);
});
afterEach(() => sb.close());

async function deploy(version: string, through: 'prepare' | 'deploy-idle' | 'cutover'): Promise<RolloutState> {
  const plan = planFor('checkout', version, 'blue-green');
  let state = await driver.prepare(ref, plan);
  for (const s of driver.stages(plan, state)) {
    if (through === 'prepare') break;
    state = await driver.applyStage(ref, state, s);
    if (s.key === through) break;
  }
  return state;
}

async function replicas(name: string): Promise<number | undefined> {
  const d = await new ClusterApi(deps.kube).findDeployment('production', name);
  return d?.spec?.replicas;
}

describe('blue-green driver on the sandbox', () => {
  it('deploys the idle colour behind the preview, cuts over in one patch, keeps the old colour, retires it later', async () => {
    let state = await deploy('v1.3.0', 'deploy-idle');
    expect(state).toMatchObject({ liveDeployment: 'checkout', liveTrack: 'stable', idleDeployment: 'checkout-green', idleTrack: 'green' });
    // The new colour is up but takes no traffic yet; the preview reaches only it.
    expect(await serving(sb, ref)).toEqual({ byVersion: { 'v1.2.2': 100 }, selector: { app: 'checkout', track: 'stable' } });
    expect((await serving(sb, preview)).byVersion).toEqual({ 'v1.3.0': 100 });
    expect(driver.smokeBaseUrl(ref, state)).toBe(`${sb.url}/api/v1/namespaces/production/services/checkout-preview/proxy`);
    expect((await deps.kube.fetch(`${driver.smokeBaseUrl(ref, state)}/critical-path`)).status).toBe(200);

    state = await driver.applyStage(ref, state, driver.stages(planFor('checkout', 'v1.3.0', 'blue-green'), state)[1]!);
    expect(await serving(sb, ref)).toEqual({ byVersion: { 'v1.3.0': 100 }, selector: { app: 'checkout', track: 'green' } });
    state = await driver.promote(ref, state);
    expect(state.strategy === 'blue-green' && state.retireAt).toBeGreaterThan(deps.clock.now() + 86_000_000); // default 24 h
    expect(await replicas('checkout')).toBe(20); // instant rollback stays possible

    expect(await retireIdleColour(deps, ref)).toEqual(['checkout']);
    expect(await retireIdleColour(deps, ref)).toEqual([]); // idempotent
    expect(await replicas('checkout')).toBe(0);

    // The next deploy goes to the other colour.
    const next = await deploy('v1.4.0', 'cutover');
    expect(next).toMatchObject({
      liveDeployment: 'checkout-green',
      idleDeployment: 'checkout-blue',
      previousImage: 'registry.example.com/shop/checkout:v1.3.0',
    });
    expect(await serving(sb, ref)).toEqual({ byVersion: { 'v1.4.0': 100 }, selector: { app: 'checkout', track: 'blue' } });
  });

  it('rollback after cutover restores the old colour with one selector patch, before any verification', async () => {
    const state = await deploy('v1.3.0-errors', 'cutover');
    expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.3.0-errors': 100 });
    const after = await driver.rollback(ref, state);
    // Traffic is back the moment rollback() returns: nothing had to start.
    expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 100 });
    expect(await driver.verifyRollback(ref, after)).toMatchObject({ ok: true, oldTrafficPct: 100 });
    const again = await driver.rollback(ref, after);
    expect(again).toEqual(after);
    expect(await serving(sb, ref)).toEqual({ byVersion: { 'v1.2.2': 100 }, selector: { app: 'checkout', track: 'stable' } });
    expect(await replicas('checkout-green')).toBe(0);
  });

  it('rollback after the old colour was retired scales it back up before switching', async () => {
    let state = await deploy('v1.3.0', 'cutover');
    state = await driver.promote(ref, state);
    await retireIdleColour(deps, ref);
    const after = await driver.rollback(ref, state);
    expect(await driver.verifyRollback(ref, after)).toMatchObject({ ok: true, oldTrafficPct: 100 });
    expect(await replicas('checkout')).toBe(20);
  });

  it('repeating prepare and each stage changes nothing the second time', async () => {
    const plan = planFor('checkout', 'v1.3.0', 'blue-green');
    const first = await driver.prepare(ref, plan);
    expect(await driver.prepare(ref, plan)).toEqual(first);
    let state = first;
    for (const s of driver.stages(plan, first)) {
      state = await driver.applyStage(ref, state, s);
      const generation = (await new ClusterApi(deps.kube).getDeployment('production', 'checkout-green')).metadata!.generation;
      const again = await driver.applyStage(ref, state, s);
      expect(again).toEqual(state);
      expect((await new ClusterApi(deps.kube).getDeployment('production', 'checkout-green')).metadata!.generation).toBe(generation);
    }
    expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.3.0': 100 });
  });

  for (const [tag, kind] of [
    ['v1.3.0-crash', 'crash-loop'],
    ['v1.3.0-oom', 'oom-killed'],
    ['v1.3.0-missing', 'image-pull'],
  ] as const) {
    it(`${tag}: the idle colour fails with ${kind} and never takes traffic; rollback leaves v1.2.2 serving`, async () => {
      const err = await deploy(tag, 'cutover').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StageFailedError);
      expect((err as StageFailedError).signals.map((s) => s.kind)).toContain(kind);
      expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 100 });
      const state = await driver.prepare(ref, planFor('checkout', tag, 'blue-green'));
      // Sampled as the runner does: a crash-looping pod is between back-offs part of the time.
      await expect
        .poll(async () => (await driver.signals(ref, state)).map((s) => s.kind), { timeout: 10_000, interval: 20 })
        .toContain(kind);
      const after = await driver.rollback(ref, state);
      expect(await driver.verifyRollback(ref, after)).toMatchObject({ ok: true, oldTrafficPct: 100 });
      expect(await replicas('checkout-green')).toBe(0);
    });
  }

  for (const tag of ['v1.3.0-slow', 'v1.3.0-smokefail']) {
    it(`${tag}: the idle colour comes up; rollback before cutover leaves v1.2.2 serving`, async () => {
      const state = await deploy(tag, 'deploy-idle');
      expect(await driver.signals(ref, state)).toEqual([]);
      const critical = await deps.kube.fetch(`${driver.smokeBaseUrl(ref, state)}/critical-path`);
      expect(critical.status === 200).toBe(tag !== 'v1.3.0-smokefail');
      const after = await driver.rollback(ref, state);
      expect(await driver.verifyRollback(ref, after)).toMatchObject({ ok: true, oldTrafficPct: 100 });
      expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.2.2': 100 });
    });
  }
});
